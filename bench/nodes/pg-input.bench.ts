// pg-input alone: one stream of 64-byte IPv4/UDP frames (VPP's anchor packet), maxframe =
// the vector size, no limit. Each call allocates the vector, copies the template into
// every buffer, stamps rx/tx and the next, counts rx; the bench then frees the vector (in
// VPP the tx node frees), so "alloc + free" alone is measured too for the difference.
// Target at vector 256: ≤ 22 ns/packet, 2x VPP's 28.6 clocks (11 ns) on this machine kind.

import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { inputCall, VECTOR_SIZES } from '../node-bench.ts';
import { l2Engine, vppNs } from './l2-bench-setup.ts';

const VPP_PG_INPUT_NS = vppNs(28.6);

vectorBench(() =>
  VECTOR_SIZES.flatMap((vector): BenchCase[] => {
    const vm = l2Engine();
    vm.cli(`packet-generator new { name anchor maxframe ${vector} size 64-64 data { IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.10.1.2 -> 48.0.0.1 UDP: 1234 -> 5678 incrementing 0 } }`);
    vm.cli('packet-generator enable');
    const input = inputCall(vm.node('pg-input')!);
    const pool = vm.pool;
    const buffers = input.buffers;
    return [
      {
        name: 'pg-input, 64 B frames (incl. free)',
        vector,
        packets: vector,
        run: () => {
          const m = input.call();
          pool.free(input.buffers, 0, m);
          return m;
        },
        note: (ns) => (vector === 256 ? `target <= 22 ns; VPP 11.0 ns: ${(ns / VPP_PG_INPUT_NS).toFixed(2)}x VPP` : ''),
      },
      {
        name: 'pg-input baseline: pool alloc + free only',
        vector,
        packets: vector,
        run: () => {
          const m = pool.alloc(buffers, 0, vector);
          pool.free(buffers, 0, m);
          return m;
        },
        note: 'subtract from the row above for the node alone',
      },
    ];
  }),
);

await runIfMain(import.meta.url);
