// Shared by the L2 node benches (pg-input, ethernet-input, arp-input, loopback-input,
// interface-output, the device input nodes): an engine with two pg interfaces as the
// whole-path benches use. Frames and calls come from the bench template (bench/node-bench.ts).

import { createEngine, type Engine } from '../../src/index.ts';


/** pg0 (10.10.1.1/24) and pg1 (10.10.2.1/24), both up, as in VPP's forwarding anchor. */
export function l2Engine(): Engine {
  const vm = createEngine({ buffers: 8192, mode: 'polling' });
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'set interface state pg0 up',
    'set interface state pg1 up',
    'set interface ip address pg0 10.10.1.1/24',
    'set interface ip address pg1 10.10.2.1/24',
  ]) vm.cli(line);
  vm.seal();
  return vm;
}

/** VPP's per-packet figure on this machine kind for a node, in ns (clocks at 2.6 GHz). */
export function vppNs(clocks: number): number {
  return clocks / 2.6;
}
