// tcp4-output on segments as the session layer's sink leaves them: the IPv4 header pushed in
// front and the TCP checksum left to the way out (pseudo-header sum in the field, marked for
// offload: `<if>-output` finishes it, or the veth pair carries it unfinished). Two sizes: a
// pure ACK (20 bytes) and a full 1460-byte data segment — the same cost now that no pass over
// the payload is made here (it was ~300 ns/packet with the checksum summed in this node).
// The buffers' current/length are put back before each call (the node moves them by 20).

import { BufferFlag, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { OPAQUE_FIB_INDEX } from '../../src/vnet/ip4-opaque.ts';
import { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE } from '../../src/session/host-stack.ts';
import { emitTcpHeader, newTcpOptions } from '../../src/wire/tcp.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess } from '../node-bench.ts';
import { tcpBenchEngine } from './tcp-bench-setup.ts';

for (const payload of [0, 1460]) {
  vectorBench(() => {
    const { vm } = tcpBenchEngine();
    const rt = vm.node('tcp4-output')!;
    const process = rt.definition.process!;
    const pool = vm.pool;
    return [1, 32, 256].map((vector): BenchCase => {
      const buffers = new Uint32Array(FRAME_SIZE);
      const nexts = new Uint16Array(FRAME_SIZE);
      pool.alloc(buffers, 0, vector);
      const starts = new Uint32Array(vector);
      const length = 20 + payload;
      for (let i = 0; i < vector; i++) {
        const bi = buffers[i];
        starts[i] = pool.dataStart(bi);
        emitTcpHeader({ srcPort: 80, dstPort: 40000, sequenceNumber: i, acknowledgmentNumber: 1, flags: 0x10, window: 512, checksum: 0, urgentPointer: 0, options: newTcpOptions() }, pool.bytes, starts[i]);
        pool.opaque[bi * OPAQUE_WORDS + OPAQUE_TCP_LOCAL] = 0x0a0a0101;
        pool.opaque[bi * OPAQUE_WORDS + OPAQUE_TCP_REMOTE] = 0x0a0a0102;
        pool.opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX] = 0;
      }
      return {
        name: `tcp4-output (${payload === 0 ? 'pure ACK' : '1460 B data'})`,
        vector,
        packets: vector,
        run: () => {
          for (let i = 0; i < vector; i++) {
            const bi = buffers[i];
            pool.current[bi] = starts[i];
            pool.length[bi] = length;
            pool.flags[bi] = BufferFlag.LOCALLY_ORIGINATED;
            pool.bytes[starts[i] + 16] = 0;
            pool.bytes[starts[i] + 17] = 0;
          }
          rt.singleNext = -1;
          return callProcess(process, rt, buffers, vector, nexts);
        },
      };
    });
  });
}

await runIfMain(import.meta.url);
