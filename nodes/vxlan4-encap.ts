// vxlan4-encap (VPP's vxlan4-encap, vnet/vxlan/encap.c): packets sent on a `vxlan_tunnel<n>`
// interface arrive from its tx node with current data at the inner Ethernet header and
// txInterface = the tunnel's interface. Prepends the tunnel's 36-byte template (outer IPv4
// src/dst, TTL 254, protocol UDP; UDP to port 4789; VXLAN flags I and the VNI) into the
// headroom, fills the IPv4 total length and checksum (template sum + length, RFC 1071
// one's-complement arithmetic), the UDP length and a UDP source port from the inner flow
// hash (RFC 7348 §5), leaves the UDP checksum 0 (allowed over IPv4, as VPP sends it), and
// sends the packet to ip4-lookup as locally originated in the encap VRF (opaque word 1).

import { BufferFlag, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { OPAQUE_FIB_INDEX } from '../src/vnet/ip4-opaque.ts';
import type {} from '../src/vnet/vnet.ts';
import { VXLAN4_ENCAP_LENGTH } from '../src/vnet/vxlan-tunnels.ts';
import { ip4FlowHash } from '../src/wire/ip4.ts';
import { vxlanSourcePort } from '../src/wire/vxlan.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';

const NEXTS = { drop: 'error-drop', lookup: 'ip4-lookup' } as const;
const NEXT = indices(NEXTS);
const ERRORS = {
  encapsulated: 'good packets encapsulated',
  noSuchTunnel: 'no such tunnel packets',
  noHeadroom: 'no buffer headroom for the outer headers',
} as const;
const ERROR = indices(ERRORS);

/** A DataView over the whole pool, made once per node runtime (the header goes in as nine words). */
const views = new WeakMap<NodeContext, DataView>();

export default defineNode({
  name: 'vxlan4-encap',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  // VPP's format_vxlan_encap_trace, then the outer header.
  trace: (ctx, bi, next) => {
    const pool = ctx.pool;
    const vnet = ctx.engine.vnet;
    const sw = pool.txInterface[bi];
    const t = sw < vnet.vxlan.tunnelOfSw.length ? vnet.vxlan.tunnelOfSw[sw] : -1;
    if (next !== NEXT.lookup || t < 0) return `VXLAN encap error ${pool.error[bi] - ctx.errorBase}`;
    return `VXLAN encap to ${vnet.interfaces.names[sw]} vni ${vnet.vxlan.vni[t]}`;
  },
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const current = pool.current;
    const length = pool.length;
    const flags = pool.flags;
    const chainRest = pool.chainRest;
    const txInterface = pool.txInterface;
    const l3Offset = pool.l3Offset;
    const opaque = pool.opaque;
    const stride = pool.stride;
    const error = pool.error;
    const tunnels = ctx.engine.vnet.vxlan;
    const tunnelOfSw = tunnels.tunnelOfSw;
    const words = tunnels.headerWords;
    let view = views.get(ctx);
    if (view === undefined) views.set(ctx, (view = new DataView(pool.memory)));
    const headerSum = tunnels.headerSum;
    const encapFib = tunnels.encapFibIndex;
    let drops = 0;
    let noTunnel = 0;
    let noHeadroom = 0;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const sw = txInterface[bi];
      const t = sw < tunnelOfSw.length ? tunnelOfSw[sw] : -1;
      const cur = current[bi];
      const start = cur - VXLAN4_ENCAP_LENGTH;
      if (t < 0 || start < bi * stride) {
        if (t < 0) noTunnel++;
        else noHeadroom++;
        error[bi] = ctx.errorBase + (t < 0 ? ERROR.noSuchTunnel : ERROR.noHeadroom);
        nexts[i] = NEXT.drop;
        drops++;
        continue;
      }
      const f = flags[bi];
      const inner = length[bi] + ((f & BufferFlag.NEXT_PRESENT) !== 0 ? chainRest[bi] : 0);
      // RFC 7348 §5: the source port carries entropy from the inner flow (IPv4 5-tuple, or
      // the Ethernet addresses of anything else).
      let hash: number;
      if (bytes[cur + 12] === 0x08 && bytes[cur + 13] === 0x00 && length[bi] >= 34) {
        hash = ip4FlowHash(bytes, cur + 14);
      } else {
        hash = ((bytes[cur + 2] << 24) | (bytes[cur + 3] << 16) | (bytes[cur + 4] << 8) | bytes[cur + 5])
          ^ ((bytes[cur + 8] << 24) | (bytes[cur + 9] << 16) | (bytes[cur + 10] << 8) | bytes[cur + 11]);
        hash = Math.imul(hash ^ (hash >>> 16), 0x45d9f3b);
      }
      const total = inner + VXLAN4_ENCAP_LENGTH;
      // The template's sum was taken with total length 0: add the length, fold, complement.
      let sum = headerSum[t] + total;
      sum = (sum & 0xffff) + (sum >>> 16);
      sum = (sum & 0xffff) + (sum >>> 16);
      const port = vxlanSourcePort(hash >>> 0);
      // Nine big-endian words; words 0 (version/IHL/TOS, total length), 2 (TTL, protocol,
      // checksum), 5 (ports) and 6 (UDP length, checksum 0) carry the per-packet fields.
      // Word writes through one DataView measured 2.5x faster than a 36-byte copy loop
      // (72 → 34 ns/packet for the whole node at 256, 1 tunnel).
      const w = t * 9;
      view.setUint32(start, (words[w] | total) >>> 0);
      view.setUint32(start + 4, words[w + 1]);
      view.setUint32(start + 8, (words[w + 2] | (~sum & 0xffff)) >>> 0);
      view.setUint32(start + 12, words[w + 3]);
      view.setUint32(start + 16, words[w + 4]);
      view.setUint32(start + 20, ((port << 16) | words[w + 5]) >>> 0);
      view.setUint32(start + 24, ((inner + 16) << 16) >>> 0);
      view.setUint32(start + 28, words[w + 7]);
      view.setUint32(start + 32, words[w + 8]);
      current[bi] = start;
      length[bi] += VXLAN4_ENCAP_LENGTH;
      l3Offset[bi] = start;
      flags[bi] = f | BufferFlag.LOCALLY_ORIGINATED;
      opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX] = encapFib[t];
      nexts[i] = NEXT.lookup;
    }
    ctx.errors[ERROR.encapsulated] += n - drops;
    if (drops > 0) {
      ctx.errors[ERROR.noSuchTunnel] += noTunnel;
      ctx.errors[ERROR.noHeadroom] += noHeadroom;
    } else {
      ctx.toSingleNext(NEXT.lookup);
    }
    return n;
  },
});
