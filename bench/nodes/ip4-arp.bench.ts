// ip4-arp on packets to an unresolved next hop (50.0.0.0/8 via 10.10.2.9): in steady state
// the throttle has seen the target and every packet is a counted drop ("throttled"); and with
// the throttle forgotten each run, one request built and sent per frame (freed after). The
// shared body is src/vnet/arp-request.ts (ip4-glean's bench covers a request per packet).
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { arpThrottleOf } from '../../src/vnet/arp-request.ts';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, freeingAppended, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine(['ip route add 50.0.0.0/8 via 10.10.2.9']);
  const rt = vm.node('ip4-arp')!;
  const adj = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, 0x32000001))[0];
  const throttle = arpThrottleOf(vm);
  const frame = (vector: number, send: boolean) => {
    const bufs = prepare(vm, [datagram({ dst: 0x32000001 })], vector);
    for (const bi of bufs) vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY] = adj;
    return freeingAppended(vm, prepareFrame(rt, bufs, { restoreMetadata: [], resetState: send ? () => throttle.reset() : undefined }));
  };
  return [
    ...nodeCases('ip4-arp', (vector) => frame(vector, false), 'ip4-arp (throttled)'),
    ...nodeCases('ip4-arp', (vector) => frame(vector, true), 'ip4-arp (one request a frame)'),
  ];
});

await runIfMain(import.meta.url);
