// ip4-input on the anchor's 64-byte frames (IHL 5, valid checksum): its common case, the
// header checks and the whole-frame hand-over. Nothing to reset: the node only writes
// l3Offset and the rx counter.
import { runIfMain, vectorBench } from '../harness.ts';
import { anchorEngine, caller, datagram, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  return nodeCases('ip4-input', (vector) => caller(vm.node('ip4-input')!, prepare(vm, [datagram()], vector)));
});

await runIfMain(import.meta.url);
