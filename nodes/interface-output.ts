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
//
// Checksum offload (VPP's vnet_interface_output_node calling vnet_calc_checksums_inline): a
// packet marked L4_CHECKSUM_OFFLOAD (tcp4-output leaves the pseudo-header sum in the TCP
// checksum field) gets its checksum finished here, from l3Offset, unless the device says it
// offloads it (`txChecksumOffload` on its device class: the veth pair, which hands the mark to
// the peer). It is finished for every device while a pcap tx capture of the interface still
// records (captures show the checksum a wire would carry) and before an output feature (a
// feature sees a whole packet).

import { BufferFlag, NONE, type BufferPool } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { InterfaceCounter, Interfaces, MAX_INTERFACES } from '../src/vnet/interface.ts';
import type {} from '../src/vnet/vnet.ts';
import { checksumFold, checksumSum } from '../src/wire/checksum.ts';
import { IpProtocol } from '../src/wire/ip4.ts';

const NEXTS = { drop: 'error-drop' } as const;
const NEXT = indices(NEXTS);
const COUNTERS = Interfaces.countersPerInterface;
const NEXT_PRESENT = BufferFlag.NEXT_PRESENT;
const OFFLOAD = BufferFlag.L4_CHECKSUM_OFFLOAD;

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
  const pcap = vnet.pcapTrace;
  const arc = outputArc(ctx);
  const featuresOn = arc >= 0 && ctx.engine.features.isEnabled(arc, sw);
  const device = ifs.devices[sw];
  const capturing = pcap.txEnabled && pcap.captured < pcap.max && pcap.matches(sw);
  const software = featuresOn || capturing || device === undefined || device.txChecksumOffload !== true;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const bi = buffers[i];
    const f = flags[bi];
    if ((f & OFFLOAD) !== 0 && software) finishL4Checksum(pool, bi);
    // A chained packet adds the rest of its chain.
    bytes += length[bi] + ((f & NEXT_PRESENT) !== 0 ? chainRest[bi] : 0);
  }
  const counters = ifs.counters;
  counters[sw * COUNTERS + InterfaceCounter.TX_PACKETS] += n;
  counters[sw * COUNTERS + InterfaceCounter.TX_BYTES] += bytes;
  if (pcap.txEnabled) pcap.captureFrame(pool, buffers, n, sw);
  if (featuresOn) {
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

/**
 * Finishes an offloaded TCP or UDP checksum in software and clears L4_CHECKSUM_OFFLOAD: the
 * field holds the pseudo-header sum, so the sum from the L4 header to the end of the datagram
 * (across a chain) is the whole checksum (RFC 1071), complemented. A packet whose IPv4 header
 * is not where l3Offset says, or whose datagram runs past its buffers, is left as it is (only
 * the mark goes): nothing here throws.
 */
export function finishL4Checksum(pool: BufferPool, bi: number): void {
  const flags = pool.flags;
  flags[bi] &= ~OFFLOAD;
  const bytes = pool.bytes;
  const cur = pool.current[bi];
  const end = cur + pool.length[bi];
  const ip = pool.l3Offset[bi];
  if (ip < cur || ip + 20 > end || end > bytes.length) return;
  const ihl = (bytes[ip] & 0xf) << 2;
  const l4Length = ((bytes[ip + 2] << 8) | bytes[ip + 3]) - ihl;
  const protocol = bytes[ip + 9];
  const l4 = ip + ihl;
  const field = protocol === IpProtocol.TCP ? 16 : protocol === IpProtocol.UDP ? 6 : -1;
  if (ihl < 20 || field < 0 || l4Length < field + 2 || l4 + field + 2 > end) return;
  let sum: number;
  if (l4 + l4Length <= end) {
    sum = checksumSum(bytes, l4, l4Length, 0);
  } else {
    sum = chainSum(pool, bi, l4, end, l4Length);
    if (sum < 0) return;
  }
  let checksum = ~sum & 0xffff;
  // RFC 768: a UDP checksum that computes to zero is sent as all ones (zero means "none").
  if (checksum === 0 && protocol === IpProtocol.UDP) checksum = 0xffff;
  bytes[l4 + field] = checksum >>> 8;
  bytes[l4 + field + 1] = checksum & 0xff;
}

/** The folded sum of `count` bytes from `at` (in buffer bi, which ends at `end`) on through its chain; −1 when the chain is short. */
function chainSum(pool: BufferPool, bi: number, at: number, end: number, count: number): number {
  const bytes = pool.bytes;
  let sum = 0;
  // A piece that starts at an odd byte of the datagram sums its words shifted by one byte:
  // swapping the folded piece sum's bytes puts it back in line (RFC 1071 §2(B)).
  let odd = false;
  for (;;) {
    const take = end - at < count ? end - at : count;
    let part = checksumSum(bytes, at, take, 0);
    if (odd) part = ((part & 0xff) << 8) | (part >>> 8);
    sum = checksumFold(sum + part);
    if ((take & 1) !== 0) odd = !odd;
    count -= take;
    if (count === 0) return sum;
    if ((pool.flags[bi] & NEXT_PRESENT) === 0) return -1;
    bi = pool.nextBuffer[bi];
    at = pool.current[bi];
    end = at + pool.length[bi];
    if (end > bytes.length) return -1;
  }
}
