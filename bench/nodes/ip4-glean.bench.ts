// ip4-glean on packets to hosts of a connected subnet without neighbors (10.10.1.0/24 on
// pg0): the worst case, every packet a different host and a request each (throttle forgotten
// each run, requests freed after); and the steady state, all throttled.
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { arpThrottleOf } from '../../src/vnet/arp-request.ts';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, freeingAppended, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  const rt = vm.node('ip4-glean')!;
  const adj = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, 0x0a0a0105))[0];
  const throttle = arpThrottleOf(vm);
  const hosts = Array.from({ length: 250 }, (_, i) => datagram({ dst: 0x0a0a0103 + i }));
  const frame = (vector: number, send: boolean) => {
    const bufs = prepare(vm, hosts, vector);
    for (const bi of bufs) vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY] = adj;
    return freeingAppended(vm, prepareFrame(rt, bufs, { restoreMetadata: [], resetState: send ? () => throttle.reset() : undefined }));
  };
  return [
    ...nodeCases('ip4-glean', (vector) => frame(vector, false), 'ip4-glean (throttled)'),
    ...nodeCases('ip4-glean', (vector) => frame(vector, true), 'ip4-glean (a request per packet)'),
  ];
});

await runIfMain(import.meta.url);
