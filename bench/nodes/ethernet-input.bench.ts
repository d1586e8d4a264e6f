// ethernet-input alone: 64-byte IPv4/UDP frames for pg0's MAC (VPP's anchor packet), as
// pg-input hands them on. Each call restores current/length of the frame (the node moves
// them past the Ethernet header) and calls the node's process directly; it writes no
// packet bytes. VPP: 5.4 clocks/packet at 256 per frame (2.1 ns) on this machine kind.

import { runIfMain, vectorBench } from '../harness.ts';
import { frameCases, prepareFrame, preparePackets, VECTOR_SIZES } from '../node-bench.ts';
import { l2Engine, vppNs } from './l2-bench-setup.ts';
import { pgFrames } from '../../test/nodes/l2-helpers.ts';

const VPP_NS = vppNs(5.4);

vectorBench(() => {
  const vm = l2Engine();
  const rt = vm.node('ethernet-input')!;
  const pg0 = vm.vnet.interfaces.find('pg0');
  const frame = pgFrames('IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.10.1.2 -> 48.0.0.1 UDP: 1234 -> 5678 incrementing 0', 64, 64)[0];
  return frameCases(
    'ethernet-input, 64 B IPv4 frames',
    VECTOR_SIZES,
    (vector) => prepareFrame(rt, preparePackets(vm, [frame], vector, { rxInterface: pg0 }), { restoreMetadata: ['current'] }),
    (ns, _reset, vector) => (vector === 256 ? `VPP ${VPP_NS.toFixed(1)} ns: ${(ns / VPP_NS).toFixed(2)}x` : ''),
  );
});

await runIfMain(import.meta.url);
