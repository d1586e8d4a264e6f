// tcp4-output (VPP's tcp4-output + ip4 header push, vnet/tcp/tcp_output.c): segments the TCP
// core wrote into pool buffers (the session layer's segment sink: TCP header at current,
// `length` bytes of header and payload, local and remote address in opaque words 3 and 4,
// the connection's fib index in opaque word 1) become IPv4 packets: the TCP checksum over
// pseudo-header and segment (RFC 9293 §3.1), then a 20-byte IPv4 header prepended into the
// headroom (current −= 20): DF set and identification 0 as VPP sends TCP, TTL 64, header
// checksum. Every packet is locally originated and goes to ip4-lookup, which looks it up in
// the fib of opaque word 1. Resets for closed ports (tcp4-reset in VPP) take the same path.
// Writes: current, length, l3, flags LOCALLY_ORIGINATED. A segment that does not fit (no
// headroom, bad length) is dropped, counted.

import { BufferFlag, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE } from '../src/session/host-stack.ts';
import { checksumFold, checksumSum, ip4PseudoHeaderSum } from '../src/wire/checksum.ts';
import { IpProtocol } from '../src/wire/ip4.ts';
import { formatIp4Packet } from '../src/wire/format.ts';

const NEXTS = { drop: 'error-drop', lookup: 'ip4-lookup' } as const;
const NEXT = indices(NEXTS);

const ERRORS = {
  segments: 'segments sent',
  malformed: 'bad segment from the tcp core',
} as const;
const ERROR = indices(ERRORS);

const TTL = 64;
const IP4_HEADER = 20;

export default defineNode({
  name: 'tcp4-output',
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
      const tcp = current[bi];
      const len = length[bi];
      // The IPv4 header goes into the headroom; the segment must lie in this buffer's data.
      if (tcp - IP4_HEADER < bi * stride || len < 20 || len > 65515 || tcp + len > (bi + 1) * stride) {
        nexts[i] = NEXT.drop;
        pool.error[bi] = ctx.errorBase + ERROR.malformed;
        bad++;
        continue;
      }
      const base = bi * OPAQUE_WORDS;
      const src = opaque[base + OPAQUE_TCP_LOCAL];
      const dst = opaque[base + OPAQUE_TCP_REMOTE];
      // RFC 9293 §3.1: the checksum field is zero while the sum is taken (the core left it so).
      const sum = checksumSum(bytes, tcp, len, ip4PseudoHeaderSum(src, dst, IpProtocol.TCP, len));
      const checksum = ~sum & 0xffff;
      bytes[tcp + 16] = checksum >>> 8;
      bytes[tcp + 17] = checksum;
      const ip = tcp - IP4_HEADER;
      const total = len + IP4_HEADER;
      bytes[ip] = 0x45;
      bytes[ip + 1] = 0;
      bytes[ip + 2] = total >>> 8;
      bytes[ip + 3] = total;
      bytes[ip + 4] = 0;
      bytes[ip + 5] = 0;
      bytes[ip + 6] = 0x40; // DF
      bytes[ip + 7] = 0;
      bytes[ip + 8] = TTL;
      bytes[ip + 9] = IpProtocol.TCP;
      bytes[ip + 12] = src >>> 24;
      bytes[ip + 13] = src >>> 16;
      bytes[ip + 14] = src >>> 8;
      bytes[ip + 15] = src;
      bytes[ip + 16] = dst >>> 24;
      bytes[ip + 17] = dst >>> 16;
      bytes[ip + 18] = dst >>> 8;
      bytes[ip + 19] = dst;
      // Header checksum from the words just written (RFC 791), without a pass over the bytes.
      const headerSum = 0x4500 + total + 0x4000 + ((TTL << 8) | IpProtocol.TCP)
        + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
      const headerChecksum = ~checksumFold(headerSum) & 0xffff;
      bytes[ip + 10] = headerChecksum >>> 8;
      bytes[ip + 11] = headerChecksum;
      current[bi] = ip;
      length[bi] = total;
      l3Offset[bi] = ip;
      flags[bi] |= BufferFlag.LOCALLY_ORIGINATED;
      nexts[i] = NEXT.lookup;
    }
    ctx.errors[ERROR.segments] += n - bad;
    if (bad === 0) ctx.toSingleNext(NEXT.lookup);
    else ctx.errors[ERROR.malformed] += bad;
    return n;
  },
});
