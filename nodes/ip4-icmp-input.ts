// ip4-icmp-input (VPP's ip4-icmp-input and ip4-icmp-echo-request, vnet/ip/icmp4.c): ICMP
// messages for one of our addresses, from ip4-local; current data points at the IPv4 header.
// An echo request becomes its echo reply in the same buffer (RFC 792): type 0, identifier,
// sequence and data unchanged, the ICMP checksum patched (RFC 1624) rather than summed
// again; source and destination swapped — the reply comes from the address that was pinged
// — which leaves the header checksum as it was (a sum does not depend on word order), and
// TTL 64 with the checksum patched. The reply is marked locally originated with the rx
// interface's fib index in opaque word 1, keeps its rxInterface, and goes to ip4-lookup.
// Every other type is counted ("unknown type") and dropped, as VPP does when no node has
// registered for it.

import { BufferFlag, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { OPAQUE_FIB_INDEX } from '../src/vnet/ip4-opaque.ts';
import type {} from '../src/vnet/vnet.ts';
import { checksumUpdate16 } from '../src/wire/checksum.ts';
import { formatIp4Packet } from '../src/wire/format.ts';
import { ICMP4_HEADER_LENGTH, icmp4EchoRequestToReply, Icmp4Type } from '../src/wire/icmp4.ts';

const NEXTS = { drop: 'error-drop', lookup: 'ip4-lookup' } as const;
const NEXT = indices(NEXTS);

// VPP's icmp4.h texts.
const ERRORS = {
  unknownType: 'unknown type',
  tooSmall: 'payload length too small for type',
  echoRepliesSent: 'echo replies sent',
} as const;
const ERROR = indices(ERRORS);

/** RFC 1700's default TTL, which VPP's echo replies carry. */
const REPLY_TTL = 64;

export default defineNode({
  name: 'ip4-icmp-input',
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
    const fibIndex = ctx.engine.vnet.interfaces.fibIndex;
    const rxInterface = pool.rxInterface;
    const errorBase = ctx.errorBase;
    let replies = 0;
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const cur = current[bi];
      const len = length[bi];
      let k = -1;
      if (len < 20 || cur + len > bytes.length) {
        k = ERROR.tooSmall;
      } else {
        const headerLength = (bytes[cur] & 0xf) << 2;
        const total = (bytes[cur + 2] << 8) | bytes[cur + 3];
        const icmp = cur + headerLength;
        // The ICMP header must be in this buffer and inside the datagram.
        if (headerLength < 20 || total < headerLength + ICMP4_HEADER_LENGTH || headerLength + ICMP4_HEADER_LENGTH > len) {
          k = ERROR.tooSmall;
        } else if (bytes[icmp] !== Icmp4Type.ECHO_REQUEST) {
          k = ERROR.unknownType;
        } else {
          icmp4EchoRequestToReply(bytes, icmp);
          // Swap the addresses: the reply is from the address that was pinged.
          for (let j = 12; j < 16; j++) {
            const t = bytes[cur + j];
            bytes[cur + j] = bytes[cur + j + 4];
            bytes[cur + j + 4] = t;
          }
          const protocol = bytes[cur + 9];
          const checksum = checksumUpdate16((bytes[cur + 10] << 8) | bytes[cur + 11], (bytes[cur + 8] << 8) | protocol, (REPLY_TTL << 8) | protocol);
          bytes[cur + 8] = REPLY_TTL;
          bytes[cur + 10] = checksum >>> 8;
          bytes[cur + 11] = checksum;
          flags[bi] |= BufferFlag.LOCALLY_ORIGINATED;
          opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX] = fibIndex[rxInterface[bi]];
          pool.l3Offset[bi] = cur;
          replies++;
          nexts[i] = NEXT.lookup;
          continue;
        }
      }
      ctx.errors[k]++;
      pool.error[bi] = errorBase + k;
      dropped++;
      nexts[i] = NEXT.drop;
    }
    ctx.errors[ERROR.echoRepliesSent] += replies;
    if (dropped === 0) ctx.toSingleNext(NEXT.lookup);
    else if (replies === 0) ctx.toSingleNext(NEXT.drop);
    return n;
  },
});
