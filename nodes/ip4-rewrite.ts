// ip4-rewrite (VPP's ip4-rewrite, vnet/ip/ip4_forward.c): the last IPv4 node of the
// forwarding path. For the adjacency in opaque word 0 it decrements the TTL with an RFC 1624
// incremental checksum update (not for locally originated packets), checks the egress
// interface's MTU, writes the adjacency's precomputed Ethernet header in front of the IPv4
// header (current moves back by its length), sets txInterface and counts the adjacency's
// packets; l2Offset is left as it is, as VPP leaves l2_hdr_offset. The next is the
// adjacency's rewriteNext (`<if>-output`), or the first feature of the `ip4-output` arc
// when one is enabled on the egress interface. A TTL that reaches 0 goes to ip4-icmp-error
// (time exceeded); a packet over the MTU with DF set goes to ip4-icmp-error (fragmentation
// needed, with the MTU, RFC 1191); without DF VPP fragments it — vecnet does not fragment
// yet, so that packet is dropped and counted.

import { BufferFlag, NONE, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { AdjacencyKind, REWRITE_BYTES } from '../src/vnet/fib/adjacency.ts';
import { icmpErrorWord, OPAQUE_ADJACENCY, OPAQUE_ICMP_ERROR } from '../src/vnet/ip4-opaque.ts';
import type {} from '../src/vnet/vnet.ts';
import { ip4DecrementTtlUpdateChecksum } from '../src/wire/checksum.ts';
import { Icmp4TimeExceededCode, Icmp4Type, Icmp4UnreachableCode } from '../src/wire/icmp4.ts';
import { packetFlowHash } from './ip4-lookup.ts';

const NEXTS = { drop: 'error-drop', icmpError: 'ip4-icmp-error' } as const;
const NEXT = indices(NEXTS);

const ERRORS = {
  timeExpired: 'ip4 ttl <= 1',
  mtuExceeded: 'ip4 MTU exceeded and DF set',
  mtuExceededNoFragmentation: 'ip4 MTU exceeded (fragmentation not supported)',
  notRewrite: 'adjacency not resolved',
  noHeadroom: 'no headroom for the rewrite',
} as const;
const ERROR = indices(ERRORS);

const TIME_EXCEEDED = icmpErrorWord(Icmp4Type.TIME_EXCEEDED, Icmp4TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT);

/** The fast path reads and writes headers as little-endian words; a big-endian host takes the byte path. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface State {
  readonly arc: number;
  /**
   * The pool's bytes as 16- and 32-bit words (host order). The 32-bit views are signed: the
   * rewrite's words pass through locals, and a u32 above 2^31 in a value V8 compiled as
   * int32 would deoptimize the node ("lost precision") — which adjacency MAC does it would
   * decide which code the node ran (measured: 6.9 against 10.7 ns/packet).
   */
  readonly words: Uint16Array;
  readonly quads: Int32Array;
  /** The adjacencies' rewrite bytes as 16- and 32-bit words, and the array they view (replaced when it grows). */
  rewriteOf: Uint8Array;
  rewriteWords: Uint16Array;
  rewriteQuads: Int32Array;
}
const states = new WeakMap<NodeContext, State>();
// The last engine's state, checked before the WeakMap (one compare per frame, not a hash lookup).
let lastCtx: NodeContext | null = null;
let lastState: State | null = null;

function stateOf(ctx: NodeContext): State {
  let s = ctx === lastCtx ? lastState : states.get(ctx);
  if (s === undefined || s === null) {
    const memory = ctx.pool.memory;
    s = {
      arc: ctx.engine.features.arcIndex('ip4-output'),
      words: new Uint16Array(memory, 0, memory.byteLength >>> 1),
      quads: new Int32Array(memory, 0, memory.byteLength >>> 2),
      rewriteOf: new Uint8Array(0),
      rewriteWords: new Uint16Array(0),
      rewriteQuads: new Int32Array(0),
    };
    states.set(ctx, s);
  }
  lastCtx = ctx;
  lastState = s;
  const rewrite = ctx.engine.vnet.adjacencies.rewrite;
  if (s.rewriteOf !== rewrite) {
    // REWRITE_BYTES (16) per adjacency from offset 0: every rewrite starts 4-byte aligned.
    s.rewriteOf = rewrite;
    s.rewriteWords = new Uint16Array(rewrite.buffer, rewrite.byteOffset, rewrite.length >>> 1);
    s.rewriteQuads = new Int32Array(rewrite.buffer, rewrite.byteOffset, rewrite.length >>> 2);
  }
  return s;
}

/** Undoes the TTL decrement (VPP's ip4_ttl_inc) so an ICMP error quotes the header as it came. */
function restoreTtl(bytes: Uint8Array, cur: number): void {
  const ttl = bytes[cur + 8];
  bytes[cur + 8] = ttl + 1;
  // RFC 1624 eqn. 3 the other way: m' - m = +0x0100, so HC' = ~(~HC + 0x0100).
  let sum = (~((bytes[cur + 10] << 8) | bytes[cur + 11]) & 0xffff) + 0x0100;
  sum = (sum & 0xffff) + (sum >>> 16);
  const updated = ~sum & 0xffff;
  bytes[cur + 10] = updated >>> 8;
  bytes[cur + 11] = updated;
}

/**
 * Packets that do not take the adjacency's rewrite: MTU exceeded, TTL expired, an adjacency
 * that is no longer a rewrite, no headroom. Returns the next and counts the error.
 */
function exceptionPath(ctx: NodeContext, bi: number, adj: number, ttlExpired: boolean, decremented: boolean): number {
  const pool = ctx.pool;
  const bytes = pool.bytes;
  const cur = pool.current[bi];
  const vnet = ctx.engine.vnet;
  const adjs = vnet.adjacencies;
  const locallyOriginated = (pool.flags[bi] & BufferFlag.LOCALLY_ORIGINATED) !== 0;
  let k: number;
  if (adjs.kind[adj] !== AdjacencyKind.REWRITE) {
    k = ERROR.notRewrite;
  } else {
    const mtu = vnet.interfaces.mtu[adjs.swIfIndex[adj]];
    const total = (bytes[cur + 2] << 8) | bytes[cur + 3];
    if (total > mtu) {
      // As VPP's ip4_mtu_check: the MTU error wins over TTL expiry, and the TTL is restored.
      if (decremented) restoreTtl(bytes, cur);
      if ((bytes[cur + 6] & 0x40) !== 0 && !locallyOriginated) {
        ctx.errors[ERROR.mtuExceeded]++;
        pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ICMP_ERROR] = icmpErrorWord(
          Icmp4Type.DESTINATION_UNREACHABLE, Icmp4UnreachableCode.FRAGMENTATION_NEEDED, mtu);
        pool.txInterface[bi] = NONE;
        return NEXT.icmpError;
      }
      // No DF: VPP fragments (ip4-frag). vecnet has no fragmentation yet: drop, counted. A
      // locally originated packet is dropped too rather than answered to ourselves.
      k = (bytes[cur + 6] & 0x40) !== 0 ? ERROR.mtuExceeded : ERROR.mtuExceededNoFragmentation;
    } else if (ttlExpired) {
      // VPP's ip4_ttl_and_checksum_check: the decremented header goes to ip4-icmp-error.
      ctx.errors[ERROR.timeExpired]++;
      pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ICMP_ERROR] = TIME_EXCEEDED;
      pool.txInterface[bi] = NONE;
      return NEXT.icmpError;
    } else {
      k = ERROR.noHeadroom;
    }
  }
  ctx.errors[k]++;
  pool.error[bi] = ctx.errorBase + k;
  return NEXT.drop;
}

function hex2(value: number): string {
  return (value < 16 ? '0' : '') + value.toString(16);
}

/** VPP's format_hex_bytes over at most 60 bytes (the size of ip4-rewrite's trace data), 32 per line. */
function formatPacketData(bytes: Uint8Array, start: number, length: number): string {
  const take = Math.max(0, Math.min(60, length, bytes.length - start));
  const lines: string[] = [];
  for (let line = 0; line < take; line += 32) {
    let text = `${line.toString(16).padStart(8, '0')}: `;
    for (let i = line; i < Math.min(take, line + 32); i++) text += hex2(bytes[start + i]);
    lines.push(text);
  }
  return lines.join('\n');
}

export default defineNode({
  name: 'ip4-rewrite',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  trace: (ctx, bi) => {
    const pool = ctx.pool;
    const adj = pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY];
    const adjs = ctx.engine.vnet.adjacencies;
    const tx = adj < adjs.count ? adjs.swIfIndex[adj] : NONE;
    // The flow hash of the lookup, found again from the (unchanged) addresses and ports.
    const flowHash = packetFlowHash(ctx, bi, pool.l3Offset[bi]);
    return `tx_sw_if_index ${tx} dpo-idx ${adj} : ${adj < adjs.count ? ctx.engine.vnet.fib.formatAdjacency(adj) : 'no adjacency'} flow hash: 0x${flowHash.toString(16).padStart(8, '0')}\n`
      + formatPacketData(pool.bytes, pool.current[bi], pool.length[bi]);
  },
  process(ctx, buffers, n, nexts) {
    const state = stateOf(ctx);
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const words = state.words;
    const quads = state.quads;
    const current = pool.current;
    const length = pool.length;
    const flags = pool.flags;
    const opaque = pool.opaque;
    const txInterface = pool.txInterface;
    const stride = pool.stride;
    const vnet = ctx.engine.vnet;
    const mtu = vnet.interfaces.mtu;
    const adjs = vnet.adjacencies;
    const kind = adjs.kind;
    const adjSw = adjs.swIfIndex;
    const rewrite = adjs.rewrite;
    const rewriteWords = state.rewriteWords;
    const rewriteQuads = state.rewriteQuads;
    const rewriteLength = adjs.rewriteLength;
    const rewriteNext = adjs.rewriteNext;
    const adjPackets = adjs.packets;
    const features = ctx.engine.features;
    const arc = state.arc;
    const LOCALLY_ORIGINATED = BufferFlag.LOCALLY_ORIGINATED;
    const REWRITE = AdjacencyKind.REWRITE;
    // The adjacency of the previous packet, and what the pair path needs of it when it is a
    // 14-byte Ethernet rewrite with no output feature: the header as three 32-bit words and
    // one 16-bit word, the egress interface, its MTU, the next. -1: no pair path for it.
    let runAdj = -1;
    let runPackets = 0;
    let pairAdj = -1;
    let pairSw = 0;
    let pairMtu = 0;
    let pairNext = 0;
    let r0 = 0;
    let r1 = 0;
    let r2 = 0;
    let r3 = 0;
    // The same header for a start ≡ 2 (mod 4): bytes 0-1 as a 16-bit word, 2-13 as three 32-bit words.
    let u0 = 0;
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    // nexts[] is written only once the frame's packets part ways: until then every packet
    // took `firstNext` and the frame is handed over whole (nexts[0, i) filled on the split).
    let firstNext = -1;
    let mixed = false;
    let i = 0;
    while (i < n) {
      // Four packets per iteration in the common case: V8 checks the map and reloads the data
      // pointer and length of every typed array once per loop iteration, so a quad pays that
      // once for four packets (VPP's quad loop, for a JIT's reason). Measured, 256 packets:
      // pairs 7.9 ns/packet, quads 6.6.
      if (i + 3 < n) {
        const b0 = buffers[i];
        const b1 = buffers[i + 1];
        const b2 = buffers[i + 2];
        const b3 = buffers[i + 3];
        const c0 = current[b0];
        const c1 = current[b1];
        const c2 = current[b2];
        const c3 = current[b3];
        const s0 = c0 - 14;
        const s1 = c1 - 14;
        const s2 = c2 - 14;
        const s3 = c3 - 14;
        if (opaque[b0 * OPAQUE_WORDS + OPAQUE_ADJACENCY] === pairAdj && opaque[b1 * OPAQUE_WORDS + OPAQUE_ADJACENCY] === pairAdj && opaque[b2 * OPAQUE_WORDS + OPAQUE_ADJACENCY] === pairAdj && opaque[b3 * OPAQUE_WORDS + OPAQUE_ADJACENCY] === pairAdj
          && ((flags[b0] | flags[b1] | flags[b2] | flags[b3]) & LOCALLY_ORIGINATED) === 0 && ((s0 | s1 | s2 | s3) & 1) === 0
          && s0 >= b0 * stride && s1 >= b1 * stride && s2 >= b2 * stride && s3 >= b3 * stride) {
          const w0 = c0 >>> 1;
          const w1 = c1 >>> 1;
          const w2 = c2 >>> 1;
          const w3 = c3 >>> 1;
          const ttl0 = words[w0 + 4];
          const ttl1 = words[w1 + 4];
          const ttl2 = words[w2 + 4];
          const ttl3 = words[w3 + 4];
          const t0 = words[w0 + 1];
          const t1 = words[w1 + 1];
          const t2 = words[w2 + 1];
          const t3 = words[w3 + 1];
          if ((ttl0 & 0xff) > 1 && (ttl1 & 0xff) > 1 && (ttl2 & 0xff) > 1 && (ttl3 & 0xff) > 1
            && (((t0 & 0xff) << 8) | (t0 >>> 8)) <= pairMtu && (((t1 & 0xff) << 8) | (t1 >>> 8)) <= pairMtu && (((t2 & 0xff) << 8) | (t2 >>> 8)) <= pairMtu && (((t3 & 0xff) << 8) | (t3 >>> 8)) <= pairMtu) {
            // RFC 1812 §5.3.1, RFC 1624 eqn. 3: TTL is the high byte of its big-endian word,
            // so the word drops by 0x0100 and HC' = ~(~HC + 0xfeff) (see
            // ip4DecrementTtlUpdateChecksum). Read little-endian, both words are byte-swapped
            // and one's complement sums do not care about byte order (RFC 1071 §2(B)):
            // HC'le = ~(~HCle + 0xfffe), the same bits the wire helper writes (checked for
            // every checksum value in the tests).
            words[w0 + 4] = ttl0 - 1;
            words[w1 + 4] = ttl1 - 1;
            words[w2 + 4] = ttl2 - 1;
            words[w3 + 4] = ttl3 - 1;
            let x0 = (~words[w0 + 5] & 0xffff) + 0xfffe;
            let x1 = (~words[w1 + 5] & 0xffff) + 0xfffe;
            let x2 = (~words[w2 + 5] & 0xffff) + 0xfffe;
            let x3 = (~words[w3 + 5] & 0xffff) + 0xfffe;
            x0 = (x0 & 0xffff) + (x0 >>> 16);
            x1 = (x1 & 0xffff) + (x1 >>> 16);
            x2 = (x2 & 0xffff) + (x2 >>> 16);
            x3 = (x3 & 0xffff) + (x3 >>> 16);
            words[w0 + 5] = ~x0;
            words[w1 + 5] = ~x1;
            words[w2 + 5] = ~x2;
            words[w3 + 5] = ~x3;
            // The Ethernet header, 14 bytes: at a 4-byte aligned start (a plain frame) three
            // 32-bit words and one 16-bit word; at start ≡ 2 (mod 4) one 16-bit word and three
            // 32-bit words. The second case is every decapsulated VXLAN packet: the inner IPv4
            // header sits 50 bytes past the outer Ethernet header, so its rewrite starts 2
            // bytes off. When only the aligned case took this path those packets all went
            // through the one-packet loop. Measured, vxlan-decap-forward at 256: ip4-rewrite
            // on the inner packet 31.0 → 6.8 ns/packet (plain forward, same run: 7.0).
            if ((s0 & 2) === 0) {
              const q0 = s0 >>> 2;
              quads[q0] = r0;
              quads[q0 + 1] = r1;
              quads[q0 + 2] = r2;
              words[(s0 >>> 1) + 6] = r3;
            } else {
              const q0 = (s0 + 2) >>> 2;
              words[s0 >>> 1] = u0;
              quads[q0] = p0;
              quads[q0 + 1] = p1;
              quads[q0 + 2] = p2;
            }
            if ((s1 & 2) === 0) {
              const q1 = s1 >>> 2;
              quads[q1] = r0;
              quads[q1 + 1] = r1;
              quads[q1 + 2] = r2;
              words[(s1 >>> 1) + 6] = r3;
            } else {
              const q1 = (s1 + 2) >>> 2;
              words[s1 >>> 1] = u0;
              quads[q1] = p0;
              quads[q1 + 1] = p1;
              quads[q1 + 2] = p2;
            }
            if ((s2 & 2) === 0) {
              const q2 = s2 >>> 2;
              quads[q2] = r0;
              quads[q2 + 1] = r1;
              quads[q2 + 2] = r2;
              words[(s2 >>> 1) + 6] = r3;
            } else {
              const q2 = (s2 + 2) >>> 2;
              words[s2 >>> 1] = u0;
              quads[q2] = p0;
              quads[q2 + 1] = p1;
              quads[q2 + 2] = p2;
            }
            if ((s3 & 2) === 0) {
              const q3 = s3 >>> 2;
              quads[q3] = r0;
              quads[q3 + 1] = r1;
              quads[q3 + 2] = r2;
              words[(s3 >>> 1) + 6] = r3;
            } else {
              const q3 = (s3 + 2) >>> 2;
              words[s3 >>> 1] = u0;
              quads[q3] = p0;
              quads[q3 + 1] = p1;
              quads[q3 + 2] = p2;
            }
            current[b0] = s0;
            current[b1] = s1;
            current[b2] = s2;
            current[b3] = s3;
            length[b0] += 14;
            length[b1] += 14;
            length[b2] += 14;
            length[b3] += 14;
            txInterface[b0] = pairSw;
            txInterface[b1] = pairSw;
            txInterface[b2] = pairSw;
            txInterface[b3] = pairSw;
            if (mixed) {
              nexts[i] = pairNext;
              nexts[i + 1] = pairNext;
              nexts[i + 2] = pairNext;
              nexts[i + 3] = pairNext;
            }
            runPackets += 4;
            i += 4;
            continue;
          }
        }
      }
      // One packet, any case.
      const bi = buffers[i];
      const cur = current[bi];
      const adj = opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY];
      const sw = adjSw[adj];
      let next: number;
      let ttlExpired = false;
      let decremented = false;
      if ((flags[bi] & LOCALLY_ORIGINATED) === 0) {
        // RFC 1812 §5.3.1 with RFC 1624's incremental checksum (derivation in the helper).
        // ip4-input dropped TTL 0, so a TTL of 1 here becomes 0: time exceeded.
        ttlExpired = ip4DecrementTtlUpdateChecksum(bytes, cur) === 0;
        decremented = true;
      }
      const total = (bytes[cur + 2] << 8) | bytes[cur + 3];
      const rwLen = rewriteLength[adj];
      const start = cur - rwLen;
      if (!ttlExpired && total <= mtu[sw] && kind[adj] === REWRITE && start >= bi * stride) {
        // Copy the precomputed L2 header in front of the IP header.
        const from = adj * REWRITE_BYTES;
        for (let j = 0; j < rwLen; j++) bytes[start + j] = rewrite[from + j];
        current[bi] = start;
        length[bi] += rwLen;
        txInterface[bi] = sw;
        next = rewriteNext[adj];
        if (adj !== runAdj) {
          if (runPackets > 0) adjPackets[runAdj] += runPackets;
          runAdj = adj;
          runPackets = 0;
          // Set the pair path up for this adjacency: Ethernet rewrites on interfaces
          // without an output feature, on a little-endian host.
          const arcOn = arc >= 0 && features.isEnabled(arc, sw);
          if (rwLen === 14 && !arcOn && LITTLE_ENDIAN) {
            pairAdj = adj;
            pairSw = sw;
            pairMtu = mtu[sw];
            pairNext = next;
            r0 = rewriteQuads[from >>> 2];
            r1 = rewriteQuads[(from >>> 2) + 1];
            r2 = rewriteQuads[(from >>> 2) + 2];
            r3 = rewriteWords[(from >>> 1) + 6];
            // Little-endian 32-bit words composed from the bytes; `|` keeps them signed int32.
            u0 = rewriteWords[from >>> 1];
            p0 = rewrite[from + 2] | (rewrite[from + 3] << 8) | (rewrite[from + 4] << 16) | (rewrite[from + 5] << 24);
            p1 = rewrite[from + 6] | (rewrite[from + 7] << 8) | (rewrite[from + 8] << 16) | (rewrite[from + 9] << 24);
            p2 = rewrite[from + 10] | (rewrite[from + 11] << 8) | (rewrite[from + 12] << 16) | (rewrite[from + 13] << 24);
          } else {
            pairAdj = -1;
          }
        }
        if (pairAdj !== adj && arc >= 0 && features.isEnabled(arc, sw)) {
          const first = features.start(arc, 'ip4-rewrite', sw, bi);
          if (first >= 0) next = first;
        }
        runPackets++;
      } else {
        next = exceptionPath(ctx, bi, adj, ttlExpired, decremented);
      }
      if (!mixed) {
        if (firstNext < 0) firstNext = next;
        if (next !== firstNext) {
          mixed = true;
          for (let j = 0; j < i; j++) nexts[j] = firstNext;
        }
      }
      if (mixed) nexts[i] = next;
      i++;
    }
    if (runPackets > 0) adjPackets[runAdj] += runPackets;
    // Pairs take the next of the single packet that set them up, so while the frame is not
    // mixed they took `firstNext` too.
    if (!mixed && n > 0) ctx.toSingleNext(firstNext);
    return n;
  },
});
