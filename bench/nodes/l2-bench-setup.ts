// Shared by the L2 node benches (pg-input, ethernet-input, arp-input, loopback-input,
// interface-output): an engine with two pg interfaces as the whole-path benches use, and
// a call site that has already seen many process functions, as the engine's dispatch has
// (a call site that only ever saw the node under test would let V8 inline it and flatter it).

import { createEngine, type Engine } from '../../src/index.ts';
import type { ProcessFunction } from '../../src/vlib/node.ts';
import type { NodeContext } from '../../src/vlib/node-runtime.ts';

export function callProcess(process: ProcessFunction, ctx: NodeContext, buffers: Uint32Array, n: number, nexts: Uint16Array): number {
  return process(ctx, buffers, n, nexts);
}
{
  const ctx = {} as NodeContext;
  const scratch = new Uint32Array(1);
  const nexts = new Uint16Array(1);
  const dummies: ProcessFunction[] = [() => 0, () => 1, () => 2, () => 3, () => 4, () => 5];
  for (let round = 0; round < 2000; round++) for (const dummy of dummies) callProcess(dummy, ctx, scratch, 0, nexts);
}

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
