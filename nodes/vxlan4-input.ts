// vxlan4-input (VPP's vxlan4-input, vnet/vxlan/decap.c): VXLAN over IPv4 arriving on UDP
// port 4789 for one of our addresses. ip4-udp-lookup hands the packet on with current
// data at the VXLAN header (the outer IPv4 header stays at l3Offset). The tunnel is found
// by (outer destination, outer source, VNI, fib index of the outer rx interface) — the
// tunnel's src, dst, VNI and encap VRF — with a one-entry cache for runs of one tunnel.
// A decapsulated packet has current data at the inner Ethernet header, rxInterface = the
// tunnel's interface (whose VRF then routes it), rx counters on that interface, and goes
// to ethernet-input. Short packets, flags other than exactly I (0x08, as VPP checks) and
// unknown tunnels are dropped and counted.

import { BufferFlag } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { InterfaceCounter, Interfaces } from '../src/vnet/interface.ts';
import type {} from '../src/vnet/vnet.ts';
import { VXLAN_HEADER_LENGTH, VxlanFlags } from '../src/wire/vxlan.ts';

const NEXTS = { drop: 'error-drop', ethernet: 'ethernet-input' } as const;
const NEXT = indices(NEXTS);
// VPP's vxlan_error.def texts (plus one for what VPP's UDP layer would have refused).
const ERRORS = {
  decapsulated: 'good packets decapsulated',
  noSuchTunnel: 'no such tunnel packets',
  badFlags: 'packets with bad flags field in vxlan header',
  tooShort: 'packets too short for vxlan',
} as const;
const ERROR = indices(ERRORS);
const COUNTERS = Interfaces.countersPerInterface;
/** The VXLAN header and at least an Ethernet header behind it. */
const MIN_LENGTH = VXLAN_HEADER_LENGTH + 14;
/** Flags the inner packet does not inherit from the outer one. */
const KEEP_FLAGS = BufferFlag.NEXT_PRESENT | BufferFlag.TRACED;

export default defineNode({
  name: 'vxlan4-input',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  // VPP's format_vxlan_rx_trace.
  trace: (ctx, bi, next) => {
    const pool = ctx.pool;
    const vnet = ctx.engine.vnet;
    const at = next === NEXT.ethernet ? pool.current[bi] - VXLAN_HEADER_LENGTH : pool.current[bi];
    const b = pool.bytes;
    const vni = at >= 0 && at + 8 <= b.length ? ((b[at + 4] << 16) | (b[at + 5] << 8) | b[at + 6]) : 0;
    if (next !== NEXT.ethernet) return `VXLAN decap error: vni ${vni} next ${next} error ${pool.error[bi] - ctx.errorBase}`;
    return `VXLAN decap from ${vnet.interfaces.names[pool.rxInterface[bi]]} vni ${vni} next ${next} error 0`;
  },
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const current = pool.current;
    const length = pool.length;
    const flags = pool.flags;
    const rxInterface = pool.rxInterface;
    const l3Offset = pool.l3Offset;
    const error = pool.error;
    const vnet = ctx.engine.vnet;
    const fibIndex = vnet.interfaces.fibIndex;
    const counters = vnet.interfaces.counters;
    const tunnels = vnet.vxlan;
    const tunnelSw = tunnels.swIfIndex;
    // One-entry cache of the last key (VPP keeps the same: runs of one tunnel are the rule).
    let lastLocal = -1;
    let lastRemote = -1;
    let lastVni = -1;
    let lastFib = -1;
    let lastTunnel = -1;
    let runSw = -1;
    let runPackets = 0;
    let runBytes = 0;
    let good = 0;
    let drops = 0;
    let noTunnel = 0;
    let badFlags = 0;
    let short = 0;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const cur = current[bi];
      const len = length[bi];
      if (len < MIN_LENGTH || cur + MIN_LENGTH > bytes.length) {
        short++;
        error[bi] = ctx.errorBase + ERROR.tooShort;
        nexts[i] = NEXT.drop;
        drops++;
        continue;
      }
      if (bytes[cur] !== VxlanFlags.I) {
        badFlags++;
        error[bi] = ctx.errorBase + ERROR.badFlags;
        nexts[i] = NEXT.drop;
        drops++;
        continue;
      }
      const l3 = l3Offset[bi];
      const vni = (bytes[cur + 4] << 16) | (bytes[cur + 5] << 8) | bytes[cur + 6];
      const remote = ((bytes[l3 + 12] << 24) | (bytes[l3 + 13] << 16) | (bytes[l3 + 14] << 8) | bytes[l3 + 15]) >>> 0;
      const local = ((bytes[l3 + 16] << 24) | (bytes[l3 + 17] << 16) | (bytes[l3 + 18] << 8) | bytes[l3 + 19]) >>> 0;
      const fib = fibIndex[rxInterface[bi]];
      let t = lastTunnel;
      if (local !== lastLocal || remote !== lastRemote || vni !== lastVni || fib !== lastFib) {
        t = tunnels.lookup(local, remote, vni, fib);
        lastLocal = local;
        lastRemote = remote;
        lastVni = vni;
        lastFib = fib;
        lastTunnel = t;
      }
      if (t < 0) {
        noTunnel++;
        error[bi] = ctx.errorBase + ERROR.noSuchTunnel;
        nexts[i] = NEXT.drop;
        drops++;
        continue;
      }
      const sw = tunnelSw[t];
      const inner = len - VXLAN_HEADER_LENGTH;
      current[bi] = cur + VXLAN_HEADER_LENGTH;
      length[bi] = inner;
      rxInterface[bi] = sw;
      flags[bi] &= KEEP_FLAGS;
      if (sw !== runSw) {
        if (runPackets > 0) {
          counters[runSw * COUNTERS + InterfaceCounter.RX_PACKETS] += runPackets;
          counters[runSw * COUNTERS + InterfaceCounter.RX_BYTES] += runBytes;
        }
        runSw = sw;
        runPackets = 0;
        runBytes = 0;
      }
      runPackets++;
      runBytes += inner;
      good++;
      nexts[i] = NEXT.ethernet;
    }
    if (runPackets > 0) {
      counters[runSw * COUNTERS + InterfaceCounter.RX_PACKETS] += runPackets;
      counters[runSw * COUNTERS + InterfaceCounter.RX_BYTES] += runBytes;
    }
    ctx.errors[ERROR.decapsulated] += good;
    if (drops > 0) {
      ctx.errors[ERROR.noSuchTunnel] += noTunnel;
      ctx.errors[ERROR.badFlags] += badFlags;
      ctx.errors[ERROR.tooShort] += short;
    } else {
      ctx.toSingleNext(NEXT.ethernet);
    }
    return n;
  },
});
