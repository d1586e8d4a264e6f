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
    for (let i = 0; i < n; i++) {
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
    }
    ctx.errors[ERROR.noListener] += noListener;
    if (!mixed && n > 0) ctx.toSingleNext(firstNext);
    return n;
  },
});
