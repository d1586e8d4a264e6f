// vxlan4-encap alone: inner 64-byte UDP frames as a tunnel's tx node hands them on
// (current data at the inner Ethernet header, txInterface the tunnel), one tunnel and 256
// tunnels round-robin. Each call restores current/length/flags and calls the node's process
// directly; the node rewrites the 36 bytes before the frame every time, which needs no
// restoring.

import { runIfMain, vectorBench } from '../harness.ts';
import { frameCases, prepareFrame, preparePackets, VECTOR_SIZES } from '../node-bench.ts';
import { innerFrame, vxlanEngine } from './vxlan-bench-setup.ts';

for (const tunnels of [1, 256]) {
  vectorBench(() => {
    const vm = vxlanEngine(tunnels);
    const rt = vm.node('vxlan4-encap')!;
    return frameCases(`vxlan4-encap, ${tunnels} tunnel${tunnels > 1 ? 's' : ''}`, VECTOR_SIZES, (vector) => {
      const prepared = preparePackets(vm, Array.from({ length: vector }, (_, i) => innerFrame(vm, i % tunnels, i)), vector);
      prepared.forEach((bi, i) => (vm.pool.txInterface[bi] = vm.vnet.interfaces.find(`vxlan_tunnel${i % tunnels}`)));
      return prepareFrame(rt, prepared, { restoreMetadata: ['current', 'flags'] });
    });
  });
}

await runIfMain(import.meta.url);
