// The nsim plugin: VPP's network delay simulator as an output feature, for testing a TCP
// stack (or anything) over a bad link without leaving the engine. `set nsim` configures a
// one-way delay, an optional link bandwidth (pacing), and fractions of packets to lose,
// reorder and duplicate, drawn from a seeded random source so a failing run can be
// replayed; `nsim output-feature enable-disable <if>` puts the node `nsim-output-feature`
// on the interface's `interface-output` arc; `nsim-wheel` sends held packets on when
// their time comes; `show nsim` prints the configuration, the rings and the counters.
// nsim-state.ts holds the state and the actions the CLI calls.

import { CliError, definePlugin, type CliCommand, type CliInput, type Engine } from '../../src/index.ts';
import nsimNode, { NSIM_ERROR, NSIM_ERRORS } from './nsim-node.ts';
import nsimWheel from './nsim-wheel.ts';
import { readFraction, readRate, readTime } from './nsim-parse.ts';
import { NSIM_ARC, NSIM_NODE, NSIM_WHEEL_NODE, nsimMain, type NsimSettings } from './nsim-state.ts';

export { nsimMain, NsimMain, NsimError, HeldRing, ringSlots, NSIM_NODE, NSIM_WHEEL_NODE, NSIM_ARC, DEFAULT_RING_SLOTS, type NsimConfig, type NsimSettings } from './nsim-state.ts';
export { parseTime, parseRate, parseFraction, formatTime, formatRate } from './nsim-parse.ts';
export { Random, U31_RANGE } from './random.ts';
export { NSIM_ERRORS } from './nsim-node.ts';

const SET_USAGE =
  'set nsim delay <time> [bandwidth <rate>] [packet-size <n>] [drop-fraction <f>] [reorder-fraction <f>] [duplicate-fraction <f>] ' +
  '[packets-per-drop <n>] [packets-per-reorder <n>] [seed <n>]';

/** `packets-per-drop <n>` (VPP): one packet in n, 0 for none. */
function perPackets(input: CliInput, what: string): number {
  const n = input.expectNumber(what, { min: 0, max: 0xffffffff });
  return n === 0 ? 0 : 1 / n;
}

/** Parses every word of `set nsim` before anything changes. */
function parseSetNsim(input: CliInput): NsimSettings {
  let delayNs: number | undefined;
  const s: { -readonly [K in keyof NsimSettings]?: NsimSettings[K] } = {};
  while (!input.atEnd()) {
    if (input.keyword('delay')) delayNs = readTime(input, 'delay');
    else if (input.keyword('bandwidth')) s.bandwidthBps = readRate(input, 'bandwidth');
    else if (input.keyword('packet-size')) s.packetSize = input.expectNumber('packet-size', { min: 64, max: 9000 });
    else if (input.keyword('drop-fraction')) s.dropFraction = readFraction(input, 'drop-fraction');
    else if (input.keyword('reorder-fraction')) s.reorderFraction = readFraction(input, 'reorder-fraction');
    else if (input.keyword('duplicate-fraction')) s.duplicateFraction = readFraction(input, 'duplicate-fraction');
    else if (input.keyword('packets-per-drop')) s.dropFraction = perPackets(input, 'packets-per-drop');
    else if (input.keyword('packets-per-reorder')) s.reorderFraction = perPackets(input, 'packets-per-reorder');
    else if (input.keyword('seed')) s.seed = input.expectNumber('seed', { min: 0, max: 0xffffffff });
    else input.fail();
  }
  if (delayNs === undefined) throw new CliError(`missing delay (expected: ${SET_USAGE})`);
  return { ...s, delayNs };
}

function counters(vm: Engine): Record<keyof typeof NSIM_ERRORS | 'transmitted', number> {
  const node = vm.node(NSIM_NODE);
  const wheel = vm.node(NSIM_WHEEL_NODE);
  const get = (k: number): number => node?.errors[k] ?? 0;
  return {
    buffered: get(NSIM_ERROR.buffered),
    transmitted: wheel?.errors[0] ?? 0,
    loss: get(NSIM_ERROR.loss),
    full: get(NSIM_ERROR.full),
    reordered: get(NSIM_ERROR.reordered),
    duplicated: get(NSIM_ERROR.duplicated),
    noBuffer: get(NSIM_ERROR.noBuffer),
  };
}

const commands: CliCommand<Engine>[] = [
  {
    path: 'set nsim',
    short: 'Configure the network delay simulator',
    usage: SET_USAGE,
    json: true,
    action(vm, input, out) {
      const settings = parseSetNsim(input);
      const main = nsimMain(vm);
      const config = main.configure(settings);
      out.json({ ...config, ringSlots: main.slots });
      for (const line of main.formatConfig()) out.print(line);
    },
  },
  {
    path: 'nsim output-feature enable-disable',
    short: 'Enable or disable the network delay simulator on an interface\'s output',
    usage: 'nsim output-feature enable-disable <interface> [disable]',
    action(vm, input) {
      let name: string | undefined;
      let enable = true;
      while (!input.atEnd()) {
        if (input.keyword('disable')) enable = false;
        else if (name === undefined) name = input.expectWord('interface name');
        else input.fail();
      }
      if (name === undefined) throw new CliError('Please specify one interface (expected: nsim output-feature enable-disable <interface> [disable])');
      nsimMain(vm).enableDisable(vm.vnet.interfaces.expect(name), enable);
    },
  },
  {
    path: 'show nsim',
    short: 'Show the network delay simulator: configuration, interfaces, counters',
    usage: 'show nsim',
    json: true,
    action(vm, input, out) {
      input.expectEnd();
      const main = nsimMain(vm);
      if (main.config === null) throw new CliError('Network simulator not configured', 'ENOTCONN');
      const ifs = vm.vnet.interfaces;
      const rings = main.ringList().map((ring) => ({
        swIfIndex: ring.swIfIndex,
        name: ifs.names[ring.swIfIndex] ?? String(ring.swIfIndex),
        enabled: ring.enabled && vm.features.enabledOn(NSIM_ARC, ring.swIfIndex).includes(NSIM_NODE),
        held: ring.count,
        size: ring.size,
        highWater: ring.highWater,
      }));
      const c = counters(vm);
      out.json({ config: main.config, settings: main.formatSettings(), ringSlots: main.slots, interfaces: rings, counters: c });
      for (const line of main.formatConfig()) out.print(line);
      const enabled = rings.filter((r) => r.enabled);
      if (enabled.length === 0) out.print(' nsim not enabled');
      else {
        out.print('output feature arcs to:');
        for (const r of enabled) out.print(` ${r.name} ${r.swIfIndex}: held ${r.held} of ${r.size}, at most ${r.highWater}`);
      }
      for (const r of rings.filter((x) => !x.enabled && x.held > 0)) out.print(` ${r.name} ${r.swIfIndex} (disabled): held ${r.held} of ${r.size}`);
      out.print('counters');
      out.print(` buffered: ${c.buffered}`);
      out.print(` transmitted: ${c.transmitted}`);
      out.print(` dropped, simulated loss: ${c.loss}`);
      out.print(` dropped, ring full: ${c.full}`);
      out.print(` reordered: ${c.reordered}`);
      out.print(` duplicated: ${c.duplicated}`);
      out.print(` not duplicated, no buffer: ${c.noBuffer}`);
    },
  },
];

export default definePlugin({
  name: 'nsim',
  description: 'Network delay simulator: delay, pacing, loss, reordering and duplication on interface output',
  // The feature node first: nsim-wheel is its sibling and shares its next arcs.
  nodes: [nsimNode, nsimWheel],
  features: [{ arc: NSIM_ARC, node: NSIM_NODE }],
  commands,
});
