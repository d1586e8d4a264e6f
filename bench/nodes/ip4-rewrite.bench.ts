// ip4-rewrite on the anchor's packets, adjacency 10.10.2.2 on pg1. Between runs current and
// length go back (the rewrite moved them by 14) and, every 200 runs, TTL and checksum (it
// decrements TTL from 255). The reset's own cost is measured alone and taken off in the note.
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { anchorEngine, caller, datagram, nodeCases, prepare, quickNs, VECTORS } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  const rt = vm.node('ip4-rewrite')!;
  const adj = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, 0x30000001))[0];
  const pool = vm.pool;
  const make = (vector: number, rewrite: boolean) => {
    const bufs = prepare(vm, [datagram({ ttl: 255 })], vector);
    const current0 = Uint32Array.from(bufs, (bi) => pool.current[bi]);
    const length0 = Uint32Array.from(bufs, (bi) => pool.length[bi]);
    const header = Uint8Array.from(pool.bytes.subarray(current0[0], current0[0] + 20));
    for (const bi of bufs) pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY] = adj;
    const call = caller(rt, bufs);
    const current = pool.current;
    const length = pool.length;
    const bytes = pool.bytes;
    let runs = 0;
    return () => {
      for (let i = 0; i < vector; i++) {
        current[bufs[i]] = current0[i];
        length[bufs[i]] = length0[i];
      }
      if (++runs === 200) {
        runs = 0;
        for (let i = 0; i < vector; i++) bytes.set(header, current0[i]);
      }
      return rewrite ? call() : 0;
    };
  };
  const resetNs = new Map<number, number>();
  for (const vector of VECTORS) resetNs.set(vector, quickNs(make(vector, false), vector));
  return nodeCases('ip4-rewrite', (vector) => make(vector, true), { overhead: (vector) => resetNs.get(vector) ?? 0 });
});

await runIfMain(import.meta.url);
