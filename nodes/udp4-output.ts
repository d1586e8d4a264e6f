// udp4-output (VPP's udp4-output: udp_push_header and the IPv4 header): datagrams the session
// layer took from UDP sessions' tx FIFOs, one per buffer with the payload at current data,
// local and remote address in opaque words 3 and 4, local port << 16 | remote port in
// opaque word 5 and the session's fib in opaque word 1. Prepends into the headroom the
// 8-byte UDP header and a 20-byte IPv4 header (TTL 64, no DF: the engine does not fragment,
// so an oversized datagram is dropped at ip4-rewrite, counted). The UDP checksum is
// offloaded as tcp4-output's is: the field holds the pseudo-header sum and the buffer is
// marked, and `<if>-output` finishes it (RFC 768: a computed 0 goes as 0xffff) unless the
// device offloads it. Every datagram is locally originated and goes to ip4-lookup. Writes:
// current, length, l3, flags. A datagram that does not fit (no headroom, too long) is
// dropped, counted.

import { BufferFlag, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE, OPAQUE_UDP_PORTS } from '../src/session/host-stack.ts';
import { ip4PseudoHeaderSum } from '../src/wire/checksum.ts';
import { IpProtocol, writeIp4Header } from '../src/wire/ip4.ts';
import { formatIp4Packet } from '../src/wire/format.ts';

const NEXTS = { drop: 'error-drop', lookup: 'ip4-lookup' } as const;
const NEXT = indices(NEXTS);

const ERRORS = {
  datagrams: 'datagrams sent',
  malformed: 'datagram does not fit its buffer',
} as const;
const ERROR = indices(ERRORS);

const TTL = 64;
const HEADERS = 28;
const OUT_FLAGS = BufferFlag.LOCALLY_ORIGINATED | BufferFlag.L4_CHECKSUM_OFFLOAD | BufferFlag.L4_CHECKSUM_CORRECT;

export default defineNode({
  name: 'udp4-output',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  trace: (ctx, bi) => formatIp4Packet(ctx.pool.bytes, ctx.pool.current[bi], ctx.pool.length[bi]),
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const current = pool.current;
    const length = pool.length;
    const flags = pool.flags;
    const opaque = pool.opaque;
    const l3Offset = pool.l3Offset;
    const stride = pool.stride;
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const payload = current[bi];
      const len = length[bi];
      const ip = payload - HEADERS;
      if (ip < bi * stride || len > 65507 || payload + len > (bi + 1) * stride) {
        nexts[i] = NEXT.drop;
        pool.error[bi] = ctx.errorBase + ERROR.malformed;
        bad++;
        continue;
      }
      const base = bi * OPAQUE_WORDS;
      const src = opaque[base + OPAQUE_TCP_LOCAL];
      const dst = opaque[base + OPAQUE_TCP_REMOTE];
      const ports = opaque[base + OPAQUE_UDP_PORTS];
      const udp = ip + 20;
      const udpLength = len + 8;
      bytes[udp] = ports >>> 24;
      bytes[udp + 1] = ports >>> 16;
      bytes[udp + 2] = ports >>> 8;
      bytes[udp + 3] = ports;
      bytes[udp + 4] = udpLength >>> 8;
      bytes[udp + 5] = udpLength;
      const pseudo = ip4PseudoHeaderSum(src, dst, IpProtocol.UDP, udpLength);
      bytes[udp + 6] = pseudo >>> 8;
      bytes[udp + 7] = pseudo;
      writeIp4Header(bytes, ip, udpLength + 20, IpProtocol.UDP, TTL, src, dst, false);
      current[bi] = ip;
      length[bi] = udpLength + 20;
      l3Offset[bi] = ip;
      flags[bi] |= OUT_FLAGS;
      nexts[i] = NEXT.lookup;
    }
    ctx.errors[ERROR.datagrams] += n - bad;
    if (bad === 0) ctx.toSingleNext(NEXT.lookup);
    else ctx.errors[ERROR.malformed] += bad;
    return n;
  },
});
