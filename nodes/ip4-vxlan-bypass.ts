// ip4-vxlan-bypass (VPP's ip4-vxlan-bypass, vnet/vxlan/decap.c): a feature on the
// `ip4-unicast` arc, switched on per interface by `set interface ip vxlan-bypass <if> [del]`.
// An unfragmented IPv4 (20-byte header) UDP datagram to port 4789 whose destination is a local
// VTEP (the src of a tunnel in the rx interface's fib: vnet.vxlan.isLocalEndpoint) has its UDP
// length and non-zero checksum checked as ip4-local would (sets L4_CHECKSUM_CORRECT), is
// advanced past the IPv4 and UDP headers exactly as ip4-udp-lookup does (current at the VXLAN
// header, length = UDP payload; l3Offset stays at the outer IPv4 header) and goes straight to
// vxlan4-input, skipping ip4-lookup, ip4-local and ip4-udp-lookup. As in VPP, the source checks
// of ip4-local are not made. Every other packet — and chained ones — goes on along the arc
// (ctx.featureNext). Bad checksums and lengths are dropped, counted with ip4-local's texts.

import { BufferFlag } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import type {} from '../src/vnet/vnet.ts';
import { checksumSum, ip4PseudoHeaderSum } from '../src/wire/checksum.ts';
import { IpProtocol } from '../src/wire/ip4.ts';
import { UDP_HEADER_LENGTH } from '../src/wire/udp.ts';
import { VXLAN_UDP_PORT } from '../src/wire/vxlan.ts';

const NEXTS = { drop: 'error-drop', vxlan: 'vxlan4-input' } as const;
const NEXT = indices(NEXTS);
// ip4-local's texts for the same checks (VPP counts them as ip4 errors in this node).
const ERRORS = {
  udpChecksum: 'bad udp checksum',
  udpLength: 'inconsistent udp/ip lengths',
} as const;
const ERROR = indices(ERRORS);
/** IPv4 (no options) + UDP: what the bypass advances. */
const HEADERS = 20 + UDP_HEADER_LENGTH;
const PORT_HIGH = VXLAN_UDP_PORT >>> 8;
const PORT_LOW = VXLAN_UDP_PORT & 0xff;

export default defineNode({
  name: 'ip4-vxlan-bypass',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  trace: (ctx, bi, next) => {
    if (next === NEXT.vxlan) return `IP4_VXLAN_BYPASS: to vxlan4-input, vxlan header at ${ctx.pool.current[bi]}`;
    if (next === NEXT.drop) return `IP4_VXLAN_BYPASS: dropped, error ${ctx.pool.error[bi] - ctx.errorBase}`;
    return 'IP4_VXLAN_BYPASS: not bypassed';
  },
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const current = pool.current;
    const length = pool.length;
    const flags = pool.flags;
    const rxInterface = pool.rxInterface;
    const vnet = ctx.engine.vnet;
    const fibIndex = vnet.interfaces.fibIndex;
    const tunnels = vnet.vxlan;
    const end = bytes.length;
    const NEXT_PRESENT = BufferFlag.NEXT_PRESENT;
    const CHECKSUM_CORRECT = BufferFlag.L4_CHECKSUM_CORRECT;
    const UDP = IpProtocol.UDP;
    const VXLAN = NEXT.vxlan;
    // One-entry cache of the VTEP check (VPP's vtep4_cache), for this frame only: tunnels
    // may change between frames. lastFib = -1 marks it empty.
    let lastDst = 0;
    let lastFib = -1;
    let lastLocal = false;
    let firstNext = -1;
    let mixed = false;
    let badChecksum = 0;
    let badLength = 0;
    let i = 0;
    while (i < n) {
      // Four datagrams per iteration when all four are bypassed on the cached VTEP with no
      // checksum to compute (zero, as VXLAN senders use, or already verified): V8 reloads every
      // typed array's data pointer and length once per loop iteration, and a quad pays that once
      // for four packets (as in ip4-udp-lookup).
      if (i + 3 < n && lastLocal) {
        const b0 = buffers[i];
        const b1 = buffers[i + 1];
        const b2 = buffers[i + 2];
        const b3 = buffers[i + 3];
        const c0 = current[b0];
        const c1 = current[b1];
        const c2 = current[b2];
        const c3 = current[b3];
        const n0 = length[b0];
        const n1 = length[b1];
        const n2 = length[b2];
        const n3 = length[b3];
        if (n0 >= HEADERS && n1 >= HEADERS && n2 >= HEADERS && n3 >= HEADERS
          && c0 + n0 <= end && c1 + n1 <= end && c2 + n2 <= end && c3 + n3 <= end
          && ((flags[b0] | flags[b1] | flags[b2] | flags[b3]) & NEXT_PRESENT) === 0
          && bytes[c0] === 0x45 && bytes[c0 + 9] === UDP && bytes[c0 + 22] === PORT_HIGH && bytes[c0 + 23] === PORT_LOW
          && (bytes[c0 + 6] & 0x3f) === 0 && bytes[c0 + 7] === 0 && (bytes[c0 + 26] | bytes[c0 + 27]) === 0
          && ((bytes[c0 + 24] << 8) | bytes[c0 + 25]) >= UDP_HEADER_LENGTH && ((bytes[c0 + 24] << 8) | bytes[c0 + 25]) + 20 <= ((bytes[c0 + 2] << 8) | bytes[c0 + 3])
          && ((bytes[c0 + 16] << 24) | (bytes[c0 + 17] << 16) | (bytes[c0 + 18] << 8) | bytes[c0 + 19]) === lastDst
          && fibIndex[rxInterface[b0]] === lastFib
          && bytes[c1] === 0x45 && bytes[c1 + 9] === UDP && bytes[c1 + 22] === PORT_HIGH && bytes[c1 + 23] === PORT_LOW
          && (bytes[c1 + 6] & 0x3f) === 0 && bytes[c1 + 7] === 0 && (bytes[c1 + 26] | bytes[c1 + 27]) === 0
          && ((bytes[c1 + 24] << 8) | bytes[c1 + 25]) >= UDP_HEADER_LENGTH && ((bytes[c1 + 24] << 8) | bytes[c1 + 25]) + 20 <= ((bytes[c1 + 2] << 8) | bytes[c1 + 3])
          && ((bytes[c1 + 16] << 24) | (bytes[c1 + 17] << 16) | (bytes[c1 + 18] << 8) | bytes[c1 + 19]) === lastDst
          && fibIndex[rxInterface[b1]] === lastFib
          && bytes[c2] === 0x45 && bytes[c2 + 9] === UDP && bytes[c2 + 22] === PORT_HIGH && bytes[c2 + 23] === PORT_LOW
          && (bytes[c2 + 6] & 0x3f) === 0 && bytes[c2 + 7] === 0 && (bytes[c2 + 26] | bytes[c2 + 27]) === 0
          && ((bytes[c2 + 24] << 8) | bytes[c2 + 25]) >= UDP_HEADER_LENGTH && ((bytes[c2 + 24] << 8) | bytes[c2 + 25]) + 20 <= ((bytes[c2 + 2] << 8) | bytes[c2 + 3])
          && ((bytes[c2 + 16] << 24) | (bytes[c2 + 17] << 16) | (bytes[c2 + 18] << 8) | bytes[c2 + 19]) === lastDst
          && fibIndex[rxInterface[b2]] === lastFib
          && bytes[c3] === 0x45 && bytes[c3 + 9] === UDP && bytes[c3 + 22] === PORT_HIGH && bytes[c3 + 23] === PORT_LOW
          && (bytes[c3 + 6] & 0x3f) === 0 && bytes[c3 + 7] === 0 && (bytes[c3 + 26] | bytes[c3 + 27]) === 0
          && ((bytes[c3 + 24] << 8) | bytes[c3 + 25]) >= UDP_HEADER_LENGTH && ((bytes[c3 + 24] << 8) | bytes[c3 + 25]) + 20 <= ((bytes[c3 + 2] << 8) | bytes[c3 + 3])
          && ((bytes[c3 + 16] << 24) | (bytes[c3 + 17] << 16) | (bytes[c3 + 18] << 8) | bytes[c3 + 19]) === lastDst
          && fibIndex[rxInterface[b3]] === lastFib
          && ((bytes[c0 + 2] << 8) | bytes[c0 + 3]) <= n0 && ((bytes[c1 + 2] << 8) | bytes[c1 + 3]) <= n1
          && ((bytes[c2 + 2] << 8) | bytes[c2 + 3]) <= n2 && ((bytes[c3 + 2] << 8) | bytes[c3 + 3]) <= n3) {
          // The UDP payload (UDP length, bytes 24-25, minus 8), within the datagram (checked above).
          const p0 = ((bytes[c0 + 24] << 8) | bytes[c0 + 25]) - UDP_HEADER_LENGTH;
          const p1 = ((bytes[c1 + 24] << 8) | bytes[c1 + 25]) - UDP_HEADER_LENGTH;
          const p2 = ((bytes[c2 + 24] << 8) | bytes[c2 + 25]) - UDP_HEADER_LENGTH;
          const p3 = ((bytes[c3 + 24] << 8) | bytes[c3 + 25]) - UDP_HEADER_LENGTH;
          current[b0] = c0 + HEADERS;
          current[b1] = c1 + HEADERS;
          current[b2] = c2 + HEADERS;
          current[b3] = c3 + HEADERS;
          length[b0] = p0;
          length[b1] = p1;
          length[b2] = p2;
          length[b3] = p3;
          nexts[i] = VXLAN;
          nexts[i + 1] = VXLAN;
          nexts[i + 2] = VXLAN;
          nexts[i + 3] = VXLAN;
          if (firstNext < 0) firstNext = VXLAN;
          else if (firstNext !== VXLAN) mixed = true;
          i += 4;
          continue;
        }
      }
      // One packet, any case.
      const bi = buffers[i];
      const cur = current[bi];
      const len = length[bi];
      const f = flags[bi];
      let next = -1;
      if (len >= HEADERS && cur + len <= end && (f & NEXT_PRESENT) === 0
        && bytes[cur] === 0x45 && bytes[cur + 9] === UDP && bytes[cur + 22] === PORT_HIGH && bytes[cur + 23] === PORT_LOW
        && (((bytes[cur + 6] << 8) | bytes[cur + 7]) & 0x3fff) === 0) {
        const dst = (bytes[cur + 16] << 24) | (bytes[cur + 17] << 16) | (bytes[cur + 18] << 8) | bytes[cur + 19];
        const fib = fibIndex[rxInterface[bi]];
        if (dst !== lastDst || fib !== lastFib) {
          lastDst = dst;
          lastFib = fib;
          lastLocal = tunnels.isLocalEndpoint(dst >>> 0, fib);
        }
        const total = (bytes[cur + 2] << 8) | bytes[cur + 3];
        // A total length beyond the buffer is ip4-input's business: leave it to the arc.
        if (lastLocal && total <= len) {
          const udpLength = (bytes[cur + 24] << 8) | bytes[cur + 25];
          if (udpLength < UDP_HEADER_LENGTH || udpLength + 20 > total) {
            badLength++;
            pool.error[bi] = ctx.errorBase + ERROR.udpLength;
            next = NEXT.drop;
          } else if ((bytes[cur + 26] | bytes[cur + 27]) !== 0 && (f & CHECKSUM_CORRECT) === 0) {
            // RFC 768: the sum over pseudo-header, header and data, checksum included, is all ones.
            const src = ((bytes[cur + 12] << 24) | (bytes[cur + 13] << 16) | (bytes[cur + 14] << 8) | bytes[cur + 15]) >>> 0;
            if (checksumSum(bytes, cur + 20, udpLength, ip4PseudoHeaderSum(src, dst >>> 0, UDP, udpLength)) !== 0xffff) {
              badChecksum++;
              pool.error[bi] = ctx.errorBase + ERROR.udpChecksum;
              next = NEXT.drop;
            } else {
              flags[bi] = f | CHECKSUM_CORRECT;
              next = VXLAN;
            }
          } else {
            next = VXLAN;
          }
          if (next === VXLAN) {
            current[bi] = cur + HEADERS;
            length[bi] = udpLength - UDP_HEADER_LENGTH;
          }
        }
      }
      if (next < 0) next = ctx.featureNext(bi);
      if (next !== firstNext) {
        if (firstNext < 0) firstNext = next;
        else mixed = true;
      }
      nexts[i] = next;
      i++;
    }
    ctx.errors[ERROR.udpChecksum] += badChecksum;
    ctx.errors[ERROR.udpLength] += badLength;
    if (!mixed && n > 0) ctx.toSingleNext(firstNext);
    return n;
  },
});
