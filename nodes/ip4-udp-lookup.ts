// ip4-udp-lookup (VPP's ip4-udp-lookup, vnet/udp/udp_local.c): UDP datagrams for one of our
// addresses, from ip4-local (which checked the UDP length and checksum); current data points
// at the IPv4 header. The destination port picks the next from vnet.udpLocal.nextFor (see
// src/vnet/udp-local.ts: VXLAN's 4789 → vxlan4-input, the host stack's ports). As in VPP the
// buffer is advanced past the IPv4 and UDP headers before it is handed on, so the next node
// sees the UDP payload at current data (and its length, trimmed to the UDP length); the
// IPv4 header stays at l3Offset and the UDP header is the 8 bytes before current. A port
// nobody registered gets ICMP port unreachable (RFC 1122 §4.1.3.1) through ip4-icmp-error,
// counted "No listener for dst port", with the buffer left at the IPv4 header for the quote.

import { OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { icmpErrorWord, OPAQUE_ICMP_ERROR } from '../src/vnet/ip4-opaque.ts';
import type {} from '../src/vnet/vnet.ts';
import { Icmp4Type, Icmp4UnreachableCode } from '../src/wire/icmp4.ts';
import { UDP_HEADER_LENGTH } from '../src/wire/udp.ts';

const NEXTS = { drop: 'error-drop', icmpError: 'ip4-icmp-error' } as const;
const NEXT = indices(NEXTS);

// VPP's udp_error.def texts.
const ERRORS = {
  noListener: 'No listener for dst port',
  length: 'Packets with length errors',
} as const;
const ERROR = indices(ERRORS);

const PORT_UNREACHABLE = icmpErrorWord(Icmp4Type.DESTINATION_UNREACHABLE, Icmp4UnreachableCode.PORT_UNREACHABLE);

export default defineNode({
  name: 'ip4-udp-lookup',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  // VPP's format_udp_rx_trace. The trace runs after the node: a handed-on packet's UDP header is
  // the 8 bytes before current; an unanswered one is still at its IPv4 header.
  trace: (ctx, bi, next) => {
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const udp = next === NEXT.icmpError || next === NEXT.drop
      ? pool.current[bi] + ((bytes[pool.current[bi]] & 0xf) << 2)
      : pool.current[bi] - UDP_HEADER_LENGTH;
    if (udp < 0 || udp + 4 > bytes.length) return 'UDP: header truncated';
    const src = (bytes[udp] << 8) | bytes[udp + 1];
    const dst = (bytes[udp + 2] << 8) | bytes[udp + 3];
    return `UDP: src-port ${src} dst-port ${dst}${next === NEXT.icmpError ? ' (no listener)' : ''}`;
  },
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const current = pool.current;
    const length = pool.length;
    const opaque = pool.opaque;
    const nextFor = ctx.engine.vnet.udpLocal.nextFor;
    let noListener = 0;
    let firstNext = -1;
    let mixed = false;
    const end = bytes.length;
    let i = 0;
    while (i < n) {
      // Four datagrams per iteration when all four have a 20-byte IPv4 header, fit the
      // buffer and go to the same registered port's node (V8 reloads every typed array's
      // data pointer and length once per loop iteration; a quad pays that once for four
      // packets, as in ip4-input). Measured, vxlan-decap-forward at 256: one at a time
      // 6.8 ns/packet, quads 4.3; reading the header as 16-bit words instead of bytes: 4.2,
      // within the noise, so the bytes stay.
      if (i + 3 < n) {
        const b0 = buffers[i];
        const b1 = buffers[i + 1];
        const b2 = buffers[i + 2];
        const b3 = buffers[i + 3];
        const c0 = current[b0];
        const n0 = length[b0];
        const c1 = current[b1];
        const n1 = length[b1];
        const c2 = current[b2];
        const n2 = length[b2];
        const c3 = current[b3];
        const n3 = length[b3];
        const q = nextFor[(bytes[c0 + 22] << 8) | bytes[c0 + 23]];
        if (q !== 0 && n0 >= 28 && n1 >= 28 && n2 >= 28 && n3 >= 28
          && c0 + n0 <= end && c1 + n1 <= end && c2 + n2 <= end && c3 + n3 <= end
          && bytes[c0] === 0x45 && bytes[c1] === 0x45 && bytes[c2] === 0x45 && bytes[c3] === 0x45
          && nextFor[(bytes[c1 + 22] << 8) | bytes[c1 + 23]] === q && nextFor[(bytes[c2 + 22] << 8) | bytes[c2 + 23]] === q
          && nextFor[(bytes[c3 + 22] << 8) | bytes[c3 + 23]] === q) {
          // Past the IPv4 and UDP headers (28 bytes), no further than the UDP length.
          const p0 = ((bytes[c0 + 24] << 8) | bytes[c0 + 25]) - UDP_HEADER_LENGTH;
          const p1 = ((bytes[c1 + 24] << 8) | bytes[c1 + 25]) - UDP_HEADER_LENGTH;
          const p2 = ((bytes[c2 + 24] << 8) | bytes[c2 + 25]) - UDP_HEADER_LENGTH;
          const p3 = ((bytes[c3 + 24] << 8) | bytes[c3 + 25]) - UDP_HEADER_LENGTH;
          current[b0] = c0 + 28;
          current[b1] = c1 + 28;
          current[b2] = c2 + 28;
          current[b3] = c3 + 28;
          length[b0] = p0 >= 0 && p0 < n0 - 28 ? p0 : n0 - 28;
          length[b1] = p1 >= 0 && p1 < n1 - 28 ? p1 : n1 - 28;
          length[b2] = p2 >= 0 && p2 < n2 - 28 ? p2 : n2 - 28;
          length[b3] = p3 >= 0 && p3 < n3 - 28 ? p3 : n3 - 28;
          nexts[i] = q;
          nexts[i + 1] = q;
          nexts[i + 2] = q;
          nexts[i + 3] = q;
          if (firstNext < 0) firstNext = q;
          else if (firstNext !== q) mixed = true;
          i += 4;
          continue;
        }
      }
      // One packet, any case.
      const bi = buffers[i];
      const cur = current[bi];
      const len = length[bi];
      const headerLength = (bytes[cur] & 0xf) << 2;
      const udp = cur + headerLength;
      let next: number;
      if (len < 20 || headerLength < 20 || headerLength + UDP_HEADER_LENGTH > len || cur + len > bytes.length) {
        ctx.errors[ERROR.length]++;
        pool.error[bi] = ctx.errorBase + ERROR.length;
        next = NEXT.drop;
      } else {
        next = nextFor[(bytes[udp + 2] << 8) | bytes[udp + 3]];
        if (next === 0) {
          noListener++;
          opaque[bi * OPAQUE_WORDS + OPAQUE_ICMP_ERROR] = PORT_UNREACHABLE;
          next = NEXT.icmpError;
        } else {
          // Past the IPv4 and UDP headers, and no further than the UDP length (ip4-local
          // checked it is within the datagram).
          const payload = ((bytes[udp + 4] << 8) | bytes[udp + 5]) - UDP_HEADER_LENGTH;
          const advance = headerLength + UDP_HEADER_LENGTH;
          current[bi] = cur + advance;
          length[bi] = payload >= 0 && payload < len - advance ? payload : len - advance;
        }
      }
      if (next !== firstNext) {
        if (firstNext < 0) firstNext = next;
        else mixed = true;
      }
      nexts[i] = next;
      i++;
    }
    ctx.errors[ERROR.noListener] += noListener;
    if (!mixed && n > 0) ctx.toSingleNext(firstNext);
    return n;
  },
});
