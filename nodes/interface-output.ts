// interface-output and the per-interface `<if>-output` nodes (VPP's interface-output and
// vnet_interface_output_node).
//
// interface-output (default export) takes packets whose txInterface is set but whose
// output node the sender does not know (arp-input's replies, ip4-arp's requests, the
// ip4-output arc's end) and sends each to `<if>-output` for its txInterface. The next
// index per sw_if_index is added on first use (vm.addNext) and cached in an Int32Array.
// An index that names no interface is dropped, counted.
//
// `interfaceOutputTemplate` is the definition every `<if>-output` node is made from when
// an interface is created (Interfaces.create gives it the name and interfaceIndex, and adds
// `<if>-tx` as next 1). Per frame: an admin-down interface drops the frame ("interface is
// down"); otherwise tx packets/bytes are counted, pcap tx capture records it, and it goes to
// `<if>-tx` — through the interface-output feature arc when a feature is on for it.

import { BufferFlag, NONE } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { InterfaceCounter, Interfaces, MAX_INTERFACES } from '../src/vnet/interface.ts';
import type {} from '../src/vnet/vnet.ts';

const NEXTS = { drop: 'error-drop' } as const;
const NEXT = indices(NEXTS);
const COUNTERS = Interfaces.countersPerInterface;
const NEXT_PRESENT = BufferFlag.NEXT_PRESENT;

// ---------------------------------------------------------------------- interface-output

const ROUTE_ERRORS = { noInterface: 'no such tx interface' } as const;

/** Per engine (node runtime): next index towards `<if>-output` by sw_if_index, 0 = not yet known. */
const routes = new WeakMap<NodeContext, Int32Array>();

/** Resolves (and caches) the next towards `<if>-output`; NEXT.drop for no such interface. */
function resolve(ctx: NodeContext, table: Int32Array, sw: number): number {
  const ifs = ctx.engine.vnet.interfaces;
  if (sw >= ifs.count || ifs.exists[sw] !== 1 || ifs.outputNode[sw] < 0) return NEXT.drop;
  const k = ctx.addNext(`${ifs.names[sw]}-output`);
  table[sw] = k;
  return k;
}

function route(ctx: NodeContext, buffers: Uint32Array, n: number, nexts: Uint16Array): number {
  let table = routes.get(ctx);
  if (table === undefined) routes.set(ctx, (table = new Int32Array(MAX_INTERFACES)));
  const tx = ctx.pool.txInterface;
  const error = ctx.pool.error;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const bi = buffers[i];
    const sw = tx[bi];
    let k = sw < MAX_INTERFACES ? table[sw] : NEXT.drop;
    if (k === 0) k = resolve(ctx, table, sw);
    if (k === NEXT.drop) {
      error[bi] = ctx.errorBase;
      bad++;
    }
    nexts[i] = k;
  }
  if (bad !== 0) ctx.errors[0] += bad;
  return n;
}

export default defineNode({
  name: 'interface-output',
  type: 'internal',
  nexts: NEXTS,
  errors: ROUTE_ERRORS,
  trace: (ctx, bi) => {
    const sw = ctx.pool.txInterface[bi];
    const name = sw === NONE ? 'none' : ctx.engine.vnet.interfaces.names[sw] ?? String(sw);
    return `${name}\n${ctx.engine.vnet.formatPacket(ctx.pool, bi, ctx.pool.current[bi])}`;
  },
  process: route,
});

// ---------------------------------------------------------------------- <if>-output

const OUTPUT_ERRORS = { down: 'interface is down' } as const;
/** Interfaces.create adds `<if>-tx` right after the template's nexts. */
const NEXT_TX = Object.keys(NEXTS).length;

/** The interface-output arc's index per engine (arcs are registered after nodes). */
const outputArcs = new WeakMap<object, number>();

function outputArc(ctx: NodeContext): number {
  const features = ctx.engine.features;
  let arc = outputArcs.get(features);
  if (arc === undefined || arc < 0) outputArcs.set(features, (arc = features.arcIndex('interface-output')));
  return arc;
}

function output(ctx: NodeContext, buffers: Uint32Array, n: number, nexts: Uint16Array): number {
  const sw = ctx.interfaceIndex;
  const vnet = ctx.engine.vnet;
  const ifs = vnet.interfaces;
  const pool = ctx.pool;
  if (ifs.adminUp[sw] !== 1) {
    const error = pool.error;
    const code = ctx.errorBase;
    for (let i = 0; i < n; i++) error[buffers[i]] = code;
    ctx.errors[0] += n;
    ctx.toSingleNext(NEXT.drop);
    return n;
  }
  const length = pool.length;
  const flags = pool.flags;
  const chainRest = pool.chainRest;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const bi = buffers[i];
    // A chained packet adds the rest of its chain.
    bytes += length[bi] + ((flags[bi] & NEXT_PRESENT) !== 0 ? chainRest[bi] : 0);
  }
  const counters = ifs.counters;
  counters[sw * COUNTERS + InterfaceCounter.TX_PACKETS] += n;
  counters[sw * COUNTERS + InterfaceCounter.TX_BYTES] += bytes;
  const pcap = vnet.pcapTrace;
  if (pcap.txEnabled) pcap.captureFrame(pool, buffers, n, sw);
  const arc = outputArc(ctx);
  if (arc >= 0 && ctx.engine.features.isEnabled(arc, sw)) {
    const features = ctx.engine.features;
    for (let i = 0; i < n; i++) {
      const k = features.start(arc, ctx.name, sw, buffers[i]);
      nexts[i] = k >= 0 ? k : NEXT_TX;
    }
    return n;
  }
  ctx.toSingleNext(NEXT_TX);
  return n;
}

/** The definition each `<if>-output` node is made from (name and interfaceIndex set per interface). */
export const interfaceOutputTemplate = defineNode({
  name: 'interface-output-template',
  type: 'internal',
  nexts: NEXTS,
  errors: OUTPUT_ERRORS,
  trace: (ctx, bi) => {
    const name = ctx.engine.vnet.interfaces.names[ctx.interfaceIndex] ?? String(ctx.interfaceIndex);
    return `${name} flags 0x${ctx.pool.flags[bi].toString(16).padStart(8, '0')}\n${ctx.engine.vnet.formatPacket(ctx.pool, bi, ctx.pool.current[bi])}`;
  },
  process: output,
});
