// ip4-drop on packets with no route (the default route's drop adjacency): count, mark the
// reason, hand the frame to error-drop whole. Nothing to reset.
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  const rt = vm.node('ip4-drop')!;
  const drop = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, 0x63000001))[0];
  return nodeCases('ip4-drop', (vector) => {
    const bufs = prepare(vm, [datagram({ dst: 0x63000001 })], vector);
    for (const bi of bufs) vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY] = drop;
    return prepareFrame(rt, bufs, { restoreMetadata: [] });
  });
});

await runIfMain(import.meta.url);
