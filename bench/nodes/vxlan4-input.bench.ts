// vxlan4-input alone: frames as ip4-udp-lookup hands them on (current data at the VXLAN
// header, l3Offset at the outer IPv4 header, rxInterface the underlay), one tunnel (the
// one-entry cache hits) and 256 tunnels round-robin (every packet a table lookup). Each
// call restores current/length/rxInterface/flags of the frame and calls the node's
// process directly; the node writes no packet bytes.

import { runIfMain, vectorBench } from '../harness.ts';
import { frameCases, prepareFrame, preparePackets, VECTOR_SIZES } from '../node-bench.ts';
import { innerFrame, outerFrame, vxlanEngine } from './vxlan-bench-setup.ts';

const OUTER_HEADERS = 14 + 20 + 8;

for (const tunnels of [1, 256]) {
  vectorBench(() => {
    const vm = vxlanEngine(tunnels);
    const rt = vm.node('vxlan4-input')!;
    const pg0 = vm.vnet.interfaces.find('pg0');
    return frameCases(`vxlan4-input, ${tunnels} tunnel${tunnels > 1 ? 's' : ''}`, VECTOR_SIZES, (vector) => {
      const frames = Array.from({ length: vector }, (_, i) => outerFrame(vm, i % tunnels, innerFrame(vm, i % tunnels, i)));
      const prepared = preparePackets(vm, frames, vector, { rxInterface: pg0, advance: OUTER_HEADERS });
      for (const bi of prepared) vm.pool.l3Offset[bi] = vm.pool.l2Offset[bi] + 14;
      return prepareFrame(rt, prepared, { restoreMetadata: ['current', 'rxInterface', 'flags'] });
    });
  });
}

await runIfMain(import.meta.url);
