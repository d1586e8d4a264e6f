// tcp4-input on in-order 1460-byte data segments of an established connection (checksum
// already verified by ip4-local, as in the graph): session lookup, the TCP core's receive
// path with its ACK every second segment, the copy into the rx FIFO and the app draining it.
// Each call makes its buffers afresh (pool alloc + a copy of the 1500-byte datagram, a share
// of the figure) because the node consumes them. ns/packet at vectors 1, 32, 256. Next to it,
// what the veth pair hands over when it coalesces: segments of 44 × 1460 bytes chained over
// 44 buffers (the payload goes from the chain into the rx FIFO, one ACK per segment), 1 and
// 4 per vector, in ns per 1460 bytes ("packets" counts the pieces).

import { BufferFlag } from '../../src/vlib/buffer-pool.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { TcpFlags } from '../../src/wire/tcp.ts';
import { tcpDatagram } from '../../test/nodes/tcp-helpers.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess } from '../node-bench.ts';
import { tcpBenchEngine } from './tcp-bench-setup.ts';

vectorBench(() => {
  const { vm, ourSeq, pg0 } = tcpBenchEngine();
  const rt = vm.node('tcp4-input')!;
  const process = rt.definition.process!;
  const pool = vm.pool;
  const template = tcpDatagram({ flags: TcpFlags.ACK | TcpFlags.PSH, seq: 1000, ack: ourSeq, window: 4096, payload: new Uint8Array(1460).fill(0x5a) });
  let seq = 1000;
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  const PIECES = 44;
  const chained = (segments: number): BenchCase => ({
    name: 'tcp4-input (coalesced: 44 × 1460 B chained)',
    vector: segments,
    packets: segments * PIECES,
    run: () => {
      const bytes = pool.bytes;
      for (let k = 0; k < segments; k++) {
        const first = pool.allocOne();
        const at = pool.current[first];
        bytes.set(template, at);
        const total = template.length + (PIECES - 1) * 1460;
        bytes[at + 2] = total >>> 8;
        bytes[at + 3] = total;
        bytes[at + 24] = seq >>> 24;
        bytes[at + 25] = seq >>> 16;
        bytes[at + 26] = seq >>> 8;
        bytes[at + 27] = seq;
        seq = (seq + PIECES * 1460) >>> 0;
        pool.length[first] = template.length;
        let last = first;
        for (let p = 1; p < PIECES; p++) {
          const bi = pool.allocOne();
          pool.length[bi] = 1460;
          pool.appendBuffer(first, last, bi);
          last = bi;
        }
        pool.rxInterface[first] = pg0;
        pool.flags[first] |= BufferFlag.L4_CHECKSUM_CORRECT;
        buffers[k] = first;
      }
      return callProcess(process, rt, buffers, segments, nexts);
    },
  });
  return [...[1, 32, 256].map((vector): BenchCase => ({
    name: 'tcp4-input (in-order data, 1460 B)',
    vector,
    packets: vector,
    run: () => {
      pool.alloc(buffers, 0, vector);
      const bytes = pool.bytes;
      for (let i = 0; i < vector; i++) {
        const bi = buffers[i];
        const at = pool.current[bi];
        bytes.set(template, at);
        bytes[at + 24] = seq >>> 24;
        bytes[at + 25] = seq >>> 16;
        bytes[at + 26] = seq >>> 8;
        bytes[at + 27] = seq;
        seq = (seq + 1460) >>> 0;
        pool.length[bi] = template.length;
        pool.rxInterface[bi] = pg0;
        pool.flags[bi] = BufferFlag.L4_CHECKSUM_CORRECT;
      }
      return callProcess(process, rt, buffers, vector, nexts);
    },
  })), chained(1), chained(4)];
});

await runIfMain(import.meta.url);
