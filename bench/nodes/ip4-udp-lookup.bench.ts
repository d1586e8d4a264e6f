// ip4-udp-lookup on datagrams to a registered port (5678): the port table read and the
// advance to the payload. Between runs current and length go back; that reset is measured
// alone and taken off in the note.
import { runIfMain, vectorBench } from '../harness.ts';
import { anchorEngine, caller, datagram, nodeCases, prepare, quickNs, VECTORS } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  vm.registerNode({ name: 'bench-udp-sink', process: () => 0 });
  vm.vnet.udpLocal.register(5678, 'bench-udp-sink');
  const rt = vm.node('ip4-udp-lookup')!;
  const make = (vector: number, process: boolean) => {
    const bufs = prepare(vm, [datagram({ dst: 0x0a0a0101 })], vector);
    const current0 = Uint32Array.from(bufs, (bi) => vm.pool.current[bi]);
    const length0 = Uint32Array.from(bufs, (bi) => vm.pool.length[bi]);
    const call = caller(rt, bufs);
    const { current, length } = vm.pool;
    return () => {
      for (let i = 0; i < vector; i++) {
        current[bufs[i]] = current0[i];
        length[bufs[i]] = length0[i];
      }
      return process ? call() : 0;
    };
  };
  const resetNs = new Map<number, number>(VECTORS.map((v) => [v, quickNs(make(v, false), v)]));
  return nodeCases('ip4-udp-lookup', (vector) => make(vector, true), { overhead: (v) => resetNs.get(v) ?? 0 });
});

await runIfMain(import.meta.url);
