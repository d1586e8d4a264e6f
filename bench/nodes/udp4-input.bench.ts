// udp4-input on 1400-byte datagrams for an unconnected listener, as ip4-udp-lookup hands
// them on (current at the payload, the IPv4 header at l3): the session lookup, the copy
// into the listener's rx FIFO behind its datagram header, and the rx event. The listener's
// FIFO is emptied after each call (the app's read, outside the figure). Each call makes its
// buffers afresh (pool alloc + a copy of the 1428-byte datagram, a share of the figure)
// because the node consumes them. ns/packet at vectors 1, 32, 256.

import { createEngine } from '../../src/index.ts';
import { hostStackOf } from '../../src/host-stack.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { ip4, udp } from '../../test/nodes/ip4-helpers.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess } from '../node-bench.ts';

const PAYLOAD = 1400;

vectorBench(() => {
  const vm = createEngine({ buffers: 4096 });
  for (const line of ['create packet-generator interface pg0', 'set interface state pg0 up', 'set interface ip address pg0 10.10.1.1/24', 'session enable']) vm.cli(line);
  const pg0 = vm.vnet.interfaces.find('pg0');
  const host = hostStackOf(vm);
  const app = host.attach({ name: 'sink', rxFifoSize: 4 << 20, callbacks: {} });
  const listener = host.listen(app, 0, 5000, 'udp');
  const rt = vm.node('udp4-input')!;
  const process = rt.definition.process!;
  const pool = vm.pool;
  const template = ip4({ src: '10.10.1.2', dst: '10.10.1.1', protocol: 17, payload: udp({ src: '10.10.1.2', dst: '10.10.1.1', srcPort: 40000, dstPort: 5000, data: new Uint8Array(PAYLOAD).fill(0x5a), checksum: 'good' }) });
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  return [1, 32, 256].map((vector): BenchCase => ({
    name: 'udp4-input (1400 B to a listener)',
    vector,
    packets: vector,
    run: () => {
      pool.alloc(buffers, 0, vector);
      const bytes = pool.bytes;
      for (let i = 0; i < vector; i++) {
        const bi = buffers[i];
        const at = pool.current[bi];
        bytes.set(template, at);
        pool.l3Offset[bi] = at;
        pool.current[bi] = at + 28;
        pool.length[bi] = PAYLOAD;
        pool.rxInterface[bi] = pg0;
        pool.flags[bi] = 0;
      }
      const n = callProcess(process, rt, buffers, vector, nexts);
      listener.rxFifo!.drop(listener.rxFifo!.maxDequeue());
      return n;
    },
  }));
});

await runIfMain(import.meta.url);
