// tcp4-output (VPP's tcp4-output + ip4 header push, vnet/tcp/tcp_output.c): segments the TCP
// core wrote into pool buffers (the session layer's segment sink: TCP header at current,
// `length` bytes of header and payload, local and remote address in opaque words 3 and 4,
// the connection's fib index in opaque word 1) become IPv4 packets: a 20-byte IPv4 header
// prepended into the headroom (current −= 20): DF set and identification 0 as VPP sends TCP,
// TTL 64, header checksum. The TCP checksum is left to the way out, as VPP leaves it to the
// NIC: the checksum field gets the pseudo-header sum (RFC 9293 §3.1) and the buffer is marked
// L4_CHECKSUM_OFFLOAD — `<if>-output` finishes it in software for a device that does not
// offload (everything but the veth pair), from l3Offset — and L4_CHECKSUM_CORRECT, so a
// segment to one of our own addresses (ip4-local, tcp4-input) is not checked against a sum
// nobody computed. Every packet is locally originated and goes to ip4-lookup, which looks it
// up in the fib of opaque word 1. Resets for closed ports leave through tcp4-reset, which is
// this node under its own name and counter (nodes/tcp4-reset.ts). Writes: current, length, l3, flags LOCALLY_ORIGINATED | L4_CHECKSUM_OFFLOAD |
// L4_CHECKSUM_CORRECT. A segment that does not fit (no headroom, bad length) is dropped,
// counted.

import { BufferFlag, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE } from '../src/session/host-stack.ts';
import { ip4PseudoHeaderSum } from '../src/wire/checksum.ts';
import { IpProtocol, writeIp4Header } from '../src/wire/ip4.ts';
import { formatIp4Packet } from '../src/wire/format.ts';

const NEXTS = { drop: 'error-drop', lookup: 'ip4-lookup' } as const;
const NEXT = indices(NEXTS);

/** tcp4-reset keeps these two counters in this order under its own texts (one process for both). */
export const TCP_OUTPUT_ERRORS = {
  segments: 'segments sent',
  malformed: 'bad segment from the tcp core',
} as const;
const ERRORS = TCP_OUTPUT_ERRORS;
const ERROR = indices(ERRORS);

const TTL = 64;
const IP4_HEADER = 20;
const OUT_FLAGS = BufferFlag.LOCALLY_ORIGINATED | BufferFlag.L4_CHECKSUM_OFFLOAD | BufferFlag.L4_CHECKSUM_CORRECT;

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
      // Checksum offload (VPP: VNET_BUFFER_OFFLOAD_F_TCP_CKSUM): the field holds the folded
      // pseudo-header sum (RFC 9293 §3.1), so whoever finishes it sums header and payload from
      // the TCP header on and complements. Summing 1448 bytes cost ~330 ns per segment here.
      const pseudo = ip4PseudoHeaderSum(src, dst, IpProtocol.TCP, len);
      bytes[tcp + 16] = pseudo >>> 8;
      bytes[tcp + 17] = pseudo;
      const ip = tcp - IP4_HEADER;
      const total = len + IP4_HEADER;
      // DF and identification 0, as VPP sends TCP.
      writeIp4Header(bytes, ip, total, IpProtocol.TCP, TTL, src, dst, true);
      current[bi] = ip;
      length[bi] = total;
      l3Offset[bi] = ip;
      flags[bi] |= OUT_FLAGS;
      nexts[i] = NEXT.lookup;
    }
    ctx.errors[ERROR.segments] += n - bad;
    if (bad === 0) ctx.toSingleNext(NEXT.lookup);
    else ctx.errors[ERROR.malformed] += bad;
    return n;
  },
});
