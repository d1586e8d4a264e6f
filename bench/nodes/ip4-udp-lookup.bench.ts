// ip4-udp-lookup on datagrams to a registered port (5678): the port table read and the
// advance to the payload. Between runs current and length go back; that reset is measured
// alone and taken off in the note.
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  vm.registerNode({ name: 'bench-udp-sink', process: () => 0 });
  vm.vnet.udpLocal.register(5678, 'bench-udp-sink');
  const rt = vm.node('ip4-udp-lookup')!;
  return nodeCases('ip4-udp-lookup', (vector) => prepareFrame(rt, prepare(vm, [datagram({ dst: 0x0a0a0101 })], vector), { restoreMetadata: ['current'] }));
});

await runIfMain(import.meta.url);
