// ip4-vxlan-bypass alone: outer VXLAN frames as ip4-input hands them on (current data and
// l3Offset at the outer IPv4 header, rxInterface the underlay pg0 with the bypass on), one
// local VTEP (the node's one-entry VTEP cache hits). Each call restores current/length/
// rxInterface/flags and calls the node's process directly; the node writes no packet bytes.

import { runIfMain, vectorBench } from '../harness.ts';
import { frameCases, prepareFrame, preparePackets, VECTOR_SIZES } from '../node-bench.ts';
import { innerFrame, outerFrame, vxlanEngine } from './vxlan-bench-setup.ts';

vectorBench(() => {
  const vm = vxlanEngine(1);
  vm.cli('set interface ip vxlan-bypass pg0');
  const rt = vm.node('ip4-vxlan-bypass')!;
  const pg0 = vm.vnet.interfaces.find('pg0');
  return frameCases('ip4-vxlan-bypass', VECTOR_SIZES, (vector) => {
    const frames = Array.from({ length: vector }, (_, i) => outerFrame(vm, 0, innerFrame(vm, 0, i)));
    const prepared = preparePackets(vm, frames, vector, { rxInterface: pg0, advance: 14 });
    return prepareFrame(rt, prepared, { restoreMetadata: ['current', 'rxInterface', 'flags'] });
  });
});

await runIfMain(import.meta.url);
