// ip4-input on the anchor's 64-byte frames (IHL 5, valid checksum): its common case, the
// header checks and the whole-frame hand-over. Nothing to reset: the node only writes
// l3Offset and the rx counter.
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  const rt = vm.node('ip4-input')!;
  return nodeCases('ip4-input', (vector) => prepareFrame(rt, prepare(vm, [datagram()], vector), { restoreMetadata: [] }));
});

await runIfMain(import.meta.url);
