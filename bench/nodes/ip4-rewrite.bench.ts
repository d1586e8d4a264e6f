// ip4-rewrite on the anchor's packets, adjacency 10.10.2.2 on pg1. Between runs current and
// length go back (the rewrite moved them by 14) and, every 200 runs, the L2 and IPv4 headers
// (it decrements TTL from 255). The reset's own cost is measured alone and taken off in the note.
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  const rt = vm.node('ip4-rewrite')!;
  const adj = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, 0x30000001))[0];
  return nodeCases('ip4-rewrite', (vector) => {
    const bufs = prepare(vm, [datagram({ ttl: 255 })], vector);
    for (const bi of bufs) vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY] = adj;
    return prepareFrame(rt, bufs, { restoreMetadata: ['current'], restoreBytes: 14 + 20, restoreBytesEvery: 200 });
  });
});

await runIfMain(import.meta.url);
