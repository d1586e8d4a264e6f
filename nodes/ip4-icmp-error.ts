// ip4-icmp-error (VPP's ip4-icmp-error, vnet/ip/icmp4.c): turns the packet in front of it
// into the ICMP error about it, in the same buffer. Current data points at the offending
// packet's IPv4 header; opaque word 2 holds data << 16 | type << 8 | code (ip4-opaque.ts).
// The new IPv4 and ICMP headers (28 bytes) are written into the headroom in front of it, so
// the quote — the original header and as much of its data as fits in 576 bytes, as VPP
// sends (RFC 1812 §4.3.2.3; RFC 792's minimum is the header plus 8 bytes) — is already in
// place. Source: the rx interface's address on the sender's subnet
// (vnet.sourceAddressFor); destination: the original source; TTL 64 (VPP sends 255; the
// brief and Linux use 64). The result is locally originated, looked up in the rx
// interface's fib (opaque word 1) by ip4-lookup. No error is sent about an ICMP error, a
// non-initial fragment, a broadcast or multicast destination (also a directed broadcast
// of the rx interface's subnets) or a source that names no single host (RFC 1812
// §4.3.2.7); and at most a token bucket's worth per engine (VPP throttles with a per-thread
// bitmap reseeded every few microseconds; here 100 000 per second, bursts of 256), beyond
// which errors are counted "ICMP error rate limited" and dropped.

import { BufferFlag, NONE, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { OPAQUE_FIB_INDEX, OPAQUE_ICMP_ERROR } from '../src/vnet/ip4-opaque.ts';
import type {} from '../src/vnet/vnet.ts';
import { internetChecksum } from '../src/wire/checksum.ts';
import { formatIp4Packet } from '../src/wire/format.ts';
import { ICMP4_ERROR_TTL, ICMP4_HEADER_LENGTH, icmp4ErrorAllowed, Icmp4Type } from '../src/wire/icmp4.ts';
import { IP4_HEADER_LENGTH, IpProtocol } from '../src/wire/ip4.ts';

const NEXTS = { drop: 'error-drop', lookup: 'ip4-lookup' } as const;
const NEXT = indices(NEXTS);

// VPP's icmp4.h texts for what was sent, then vecnet's reasons for not sending.
const ERRORS = {
  destinationUnreachableSent: 'destination unreachable response sent',
  timeExceededSent: 'hop limit exceeded response sent',
  parameterProblemSent: 'parameter problem response sent',
  dropped: 'error message dropped',
  notAllowed: 'no ICMP error for this packet (RFC 1812 4.3.2.7)',
  rateLimited: 'ICMP error rate limited',
  noSourceAddress: 'no source address for ICMP error',
} as const;
const ERROR = indices(ERRORS);

/** RFC 1812 §4.3.2.3: the whole error datagram fits in 576 bytes. */
const MAX_ERROR_DATAGRAM = 576;
const NEW_HEADERS = IP4_HEADER_LENGTH + ICMP4_HEADER_LENGTH;

/** Token bucket: sustained errors per second and the burst it allows. */
export const ICMP_ERROR_RATE_PER_SECOND = 100_000;
export const ICMP_ERROR_BURST = 256;

interface State {
  tokens: number;
  lastNs: number;
}
const states = new WeakMap<NodeContext, State>();

/** The bucket of one engine's ip4-icmp-error (exported for tests: refill or drain it). */
export function icmpErrorBucket(ctx: NodeContext): State {
  let s = states.get(ctx);
  if (s === undefined) {
    s = { tokens: ICMP_ERROR_BURST, lastNs: ctx.engine.nowNs() };
    states.set(ctx, s);
  }
  return s;
}

/** True when `address` is the broadcast address of one of the interface's subnets (a directed broadcast). */
function isSubnetBroadcast(ctx: NodeContext, sw: number, address: number): boolean {
  const list = ctx.engine.vnet.interfaces.ip4Addresses[sw];
  if (list === undefined) return false;
  for (const a of list) {
    if (a.length >= 31) continue;
    const host = (0xffffffff >>> a.length) >>> 0;
    if (((a.address ^ address) & ~host) === 0 && ((address & host) >>> 0) === host) return true;
  }
  return false;
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** Builds the error in place; returns the next and counts what happened. */
function buildError(ctx: NodeContext, bucket: State, bi: number): number {
  const pool = ctx.pool;
  const bytes = pool.bytes;
  const vnet = ctx.engine.vnet;
  const cur = pool.current[bi];
  const len = pool.length[bi];
  const word = pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ICMP_ERROR];
  const type = (word >>> 8) & 0xff;
  const code = word & 0xff;
  const sw = pool.rxInterface[bi];
  let k = -1;
  const headerLength = (bytes[cur] & 0xf) << 2;
  if (len < IP4_HEADER_LENGTH || cur + len > bytes.length || bytes[cur] >>> 4 !== 4 || headerLength < IP4_HEADER_LENGTH || headerLength > len) {
    k = ERROR.dropped;
  } else if (type !== Icmp4Type.DESTINATION_UNREACHABLE && type !== Icmp4Type.TIME_EXCEEDED && type !== Icmp4Type.PARAMETER_PROBLEM) {
    k = ERROR.dropped;
  } else if (!icmp4ErrorAllowed(bytes, cur, len) || isSubnetBroadcast(ctx, sw, readU32(bytes, cur + 16))) {
    k = ERROR.notAllowed;
  } else if (cur - NEW_HEADERS < bi * pool.stride) {
    k = ERROR.dropped;
  } else if (bucket.tokens < 1) {
    k = ERROR.rateLimited;
  } else {
    const originalSource = readU32(bytes, cur + 12);
    const src = sw < vnet.interfaces.count ? vnet.sourceAddressFor(sw, originalSource) : -1;
    if (src < 0) {
      k = ERROR.noSourceAddress;
    } else {
      bucket.tokens -= 1;
      // Only the first buffer is quoted (VPP: vlib_buffer_copy_no_chain); the rest goes.
      if ((pool.flags[bi] & BufferFlag.NEXT_PRESENT) !== 0) {
        pool.freeChain(pool.nextBuffer[bi]);
        pool.flags[bi] &= ~BufferFlag.NEXT_PRESENT;
        pool.chainRest[bi] = 0;
      }
      const total = (bytes[cur + 2] << 8) | bytes[cur + 3];
      let quote = Math.min(len, MAX_ERROR_DATAGRAM - NEW_HEADERS);
      if (total >= headerLength && total < quote) quote = total;
      const out = cur - NEW_HEADERS;
      // RFC 791 header: no options, no fragmentation, TTL 64, protocol ICMP.
      bytes[out] = 0x45;
      bytes[out + 1] = 0;
      bytes[out + 2] = (NEW_HEADERS + quote) >>> 8;
      bytes[out + 3] = NEW_HEADERS + quote;
      bytes[out + 4] = 0;
      bytes[out + 5] = 0;
      bytes[out + 6] = 0;
      bytes[out + 7] = 0;
      bytes[out + 8] = ICMP4_ERROR_TTL;
      bytes[out + 9] = IpProtocol.ICMP;
      bytes[out + 10] = 0;
      bytes[out + 11] = 0;
      writeU32(bytes, out + 12, src);
      writeU32(bytes, out + 16, originalSource);
      const ipChecksum = internetChecksum(bytes, out, IP4_HEADER_LENGTH);
      bytes[out + 10] = ipChecksum >>> 8;
      bytes[out + 11] = ipChecksum;
      // RFC 792 header; the rest-of-header word carries e.g. RFC 1191's next-hop MTU.
      const icmp = out + IP4_HEADER_LENGTH;
      bytes[icmp] = type;
      bytes[icmp + 1] = code;
      bytes[icmp + 2] = 0;
      bytes[icmp + 3] = 0;
      writeU32(bytes, icmp + 4, word >>> 16);
      const icmpChecksum = internetChecksum(bytes, icmp, ICMP4_HEADER_LENGTH + quote);
      bytes[icmp + 2] = icmpChecksum >>> 8;
      bytes[icmp + 3] = icmpChecksum;
      pool.current[bi] = out;
      pool.length[bi] = NEW_HEADERS + quote;
      pool.l3Offset[bi] = out;
      pool.flags[bi] = (pool.flags[bi] & BufferFlag.TRACED) | BufferFlag.LOCALLY_ORIGINATED;
      pool.opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX] = vnet.interfaces.fibIndex[sw] ?? 0;
      pool.txInterface[bi] = NONE;
      ctx.errors[type === Icmp4Type.DESTINATION_UNREACHABLE ? ERROR.destinationUnreachableSent
        : type === Icmp4Type.TIME_EXCEEDED ? ERROR.timeExceededSent : ERROR.parameterProblemSent]++;
      return NEXT.lookup;
    }
  }
  ctx.errors[k]++;
  pool.error[bi] = ctx.errorBase + k;
  return NEXT.drop;
}

export default defineNode({
  name: 'ip4-icmp-error',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  trace: (ctx, bi) => formatIp4Packet(ctx.pool.bytes, ctx.pool.current[bi], ctx.pool.length[bi]),
  process(ctx, buffers, n, nexts) {
    if (n === 0) return 0;
    const bucket = icmpErrorBucket(ctx);
    const now = ctx.engine.nowNs();
    const elapsed = now > bucket.lastNs ? now - bucket.lastNs : 0;
    bucket.tokens = Math.min(ICMP_ERROR_BURST, bucket.tokens + (elapsed * ICMP_ERROR_RATE_PER_SECOND) / 1e9);
    bucket.lastNs = now;
    for (let i = 0; i < n; i++) nexts[i] = buildError(ctx, bucket, buffers[i]);
    return n;
  },
});
