// ip4-lookup (VPP's ip4-lookup, vnet/ip/ip4_forward.h): longest-prefix match of the
// destination in the packet's table, then a load-balance bucket, then an adjacency. The
// table is the rx interface's (interfaces.fibIndex), or for a locally originated packet
// (BufferFlag.LOCALLY_ORIGINATED) the fib index in opaque word 1. The mtrie leaf is a
// load-balance; a single-bucket one is taken as it is, a multi-bucket one is indexed by the
// 5-tuple flow hash (ECMP: one flow, one path). Writes the adjacency to opaque word 0
// (OPAQUE_ADJACENCY) and counts the load-balance's packets and bytes. The next index is the
// adjacency's kind: the nexts are declared in AdjacencyKind order (drop, local, glean,
// incomplete, rewrite), so no table maps one to the other. A packet that goes where the
// previous one went (same table and destination, or another destination of the same
// single-bucket load-balance) reuses its result: the FIB does not change during a call.

import { BufferFlag, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { AdjacencyKind } from '../src/vnet/fib/adjacency.ts';
import type { Ip4Mtrie } from '../src/vnet/fib/ip4-mtrie.ts';
import { OPAQUE_ADJACENCY, OPAQUE_FIB_INDEX } from '../src/vnet/ip4-opaque.ts';
import type {} from '../src/vnet/vnet.ts';
import { formatIp4Packet } from '../src/wire/format.ts';
import { ip4FlowHash } from '../src/wire/ip4.ts';

const NEXTS = { drop: 'ip4-drop', local: 'ip4-local', glean: 'ip4-glean', arp: 'ip4-arp', rewrite: 'ip4-rewrite' } as const;
const NEXT = indices(NEXTS);
// The next index *is* the adjacency kind; a reordering of either would be caught here.
if (NEXT.drop !== AdjacencyKind.DROP || NEXT.local !== AdjacencyKind.LOCAL || NEXT.glean !== AdjacencyKind.GLEAN
  || NEXT.arp !== AdjacencyKind.INCOMPLETE || NEXT.rewrite !== AdjacencyKind.REWRITE) {
  throw new Error('ip4-lookup: nexts must follow AdjacencyKind order');
}

/** The fib index a packet is looked up in (VPP: vnet_buffer(b)->ip.fib_index). */
export function packetFibIndex(ctx: NodeContext, bi: number): number {
  const pool = ctx.pool;
  return (pool.flags[bi] & BufferFlag.LOCALLY_ORIGINATED) !== 0
    ? pool.opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX]
    : ctx.engine.vnet.interfaces.fibIndex[pool.rxInterface[bi]];
}

/** The flow hash ip4-lookup used for a packet: 0 when its load-balance has one bucket (as VPP's trace shows). */
export function packetFlowHash(ctx: NodeContext, bi: number, cur = ctx.pool.current[bi]): number {
  const vnet = ctx.engine.vnet;
  const mtrie = vnet.fib.mtries[packetFibIndex(ctx, bi)];
  if (mtrie === undefined || cur + 20 > ctx.pool.bytes.length) return 0;
  const lb = mtrie.lookup(readU32(ctx.pool.bytes, cur + 16));
  return vnet.loadBalances.size[lb] > 1 ? ip4FlowHash(ctx.pool.bytes, cur) : 0;
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** VPP's format_ip4_forward_next_trace: "fib 0 dpo-idx 4 flow hash: 0x00000000" and the header. */
export function formatForwardTrace(ctx: NodeContext, bi: number, flowHash: number): string {
  const pool = ctx.pool;
  const fib = packetFibIndex(ctx, bi);
  const adj = pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY];
  return `fib ${fib} dpo-idx ${adj} flow hash: 0x${hex8(flowHash)}\n${formatIp4Packet(pool.bytes, pool.current[bi], pool.length[bi])}`;
}

/** A big-endian host reads the destination bytewise; little-endian hosts take it from two words. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const wordViews = new WeakMap<NodeContext, Uint16Array>();

// The last engine's view, checked before the WeakMap (one compare per frame, not a hash lookup).
let lastCtx: NodeContext | null = null;
let lastWords: Uint16Array = new Uint16Array(0);

function wordsOf(ctx: NodeContext): Uint16Array {
  if (ctx === lastCtx) return lastWords;
  let words = wordViews.get(ctx);
  if (words === undefined) {
    const memory = ctx.pool.memory;
    wordViews.set(ctx, (words = new Uint16Array(memory, 0, memory.byteLength >>> 1)));
  }
  lastCtx = ctx;
  lastWords = words;
  return words;
}

export default defineNode({
  name: 'ip4-lookup',
  type: 'internal',
  nexts: NEXTS,
  errors: {},
  trace: (ctx, bi) => formatForwardTrace(ctx, bi, packetFlowHash(ctx, bi)),
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const words = wordsOf(ctx);
    const current = pool.current;
    const length = pool.length;
    const flags = pool.flags;
    const rxInterface = pool.rxInterface;
    const opaque = pool.opaque;
    const vnet = ctx.engine.vnet;
    const mtries = vnet.fib.mtries;
    const fibIndex = vnet.interfaces.fibIndex;
    const lbs = vnet.loadBalances;
    const lbStart = lbs.start;
    const lbSize = lbs.size;
    const lbBuckets = lbs.buckets;
    const lbPackets = lbs.packets;
    const lbBytes = lbs.bytes;
    const kind = vnet.adjacencies.kind;
    // Constants as locals: an imported object's property is loaded again at every use in a loop.
    const LOCALLY_ORIGINATED = BufferFlag.LOCALLY_ORIGINATED;
    const NEXT_PRESENT = BufferFlag.NEXT_PRESENT;
    const SPECIAL = LOCALLY_ORIGINATED | NEXT_PRESENT;
    const littleEndian = LITTLE_ENDIAN;
    // The rx interface of the previous packet and its table.
    let runSw = -1;
    let runFib = -1;
    let mtrie: Ip4Mtrie | undefined;
    // The previous packet's destination (in runFib) and what it resolved to: packets to one
    // destination (a frame of one flow) skip the mtrie and the load-balance, and packets to
    // other destinations of the same load-balance skip the load-balance. The FIB does not
    // change during a call. Not for ECMP, where the flow hash picks the bucket per packet.
    // `cached` says whether lastDst/lastLb/lastAdj/lastNext hold anything. Destinations are
    // kept as int32 (`| 0`, not `>>> 0`): a u32 above 2^31 in a value V8 compiled as int32
    // deoptimizes it ("lost precision") the first time a frame brings one.
    let cached = false;
    let lastDst = 0;
    let lastLb = 0;
    let lastAdj = 0;
    let lastNext = 0;
    // Load-balance counters go by runs of one object (a frame of one flow is one run).
    let runLb = -1;
    let runPackets = 0;
    let runBytes = 0;
    // nexts[] is written only once the frame's packets part ways: until then every packet
    // took `firstNext` and the frame is handed over whole (nexts[0, i) filled on the split).
    let firstNext = -1;
    let mixed = false;
    let i = 0;
    while (i < n) {
      // Four packets per iteration when all four go where the previous packet went (the same
      // rx interface and table, not locally originated, one buffer, even offset, the cached
      // single-bucket load-balance): a frame of one flow, or of flows under one route. V8
      // checks and reloads every typed array once per loop iteration, so a quad pays that once
      // for four packets. Measured, 256 packets of one flow: pairs 5.4 ns/packet, quads 3.7.
      if (i + 3 < n && cached && mtrie !== undefined && littleEndian) {
        const b0 = buffers[i];
        const b1 = buffers[i + 1];
        const b2 = buffers[i + 2];
        const b3 = buffers[i + 3];
        const c0 = current[b0];
        const c1 = current[b1];
        const c2 = current[b2];
        const c3 = current[b3];
        if (rxInterface[b0] === runSw && rxInterface[b1] === runSw && rxInterface[b2] === runSw && rxInterface[b3] === runSw
          && ((flags[b0] | flags[b1] | flags[b2] | flags[b3]) & SPECIAL) === 0 && ((c0 | c1 | c2 | c3) & 1) === 0) {
          const w0 = c0 >>> 1;
          const w1 = c1 >>> 1;
          const w2 = c2 >>> 1;
          const w3 = c3 >>> 1;
          const x0 = words[w0 + 8];
          const y0 = words[w0 + 9];
          const x1 = words[w1 + 8];
          const y1 = words[w1 + 9];
          const x2 = words[w2 + 8];
          const y2 = words[w2 + 9];
          const x3 = words[w3 + 8];
          const y3 = words[w3 + 9];
          // First against the cached destination's two words (byte-swapped once): one flow.
          const dx = (lastDst >>> 24) | ((lastDst >>> 8) & 0xff00);
          const dy = ((lastDst >>> 8) & 0xff) | ((lastDst & 0xff) << 8);
          let hit = x0 === dx && y0 === dy && x1 === dx && y1 === dy && x2 === dx && y2 === dy && x3 === dx && y3 === dy;
          if (!hit) {
            // Then: each destination is another of the cached load-balance's (one route, many hosts).
            const d0 = ((x0 & 0xff) << 24) | ((x0 >>> 8) << 16) | ((y0 & 0xff) << 8) | (y0 >>> 8);
            const d1 = ((x1 & 0xff) << 24) | ((x1 >>> 8) << 16) | ((y1 & 0xff) << 8) | (y1 >>> 8);
            const d2 = ((x2 & 0xff) << 24) | ((x2 >>> 8) << 16) | ((y2 & 0xff) << 8) | (y2 >>> 8);
            const d3 = ((x3 & 0xff) << 24) | ((x3 >>> 8) << 16) | ((y3 & 0xff) << 8) | (y3 >>> 8);
            hit = (d0 === lastDst || mtrie.lookup(d0) === lastLb) && (d1 === lastDst || mtrie.lookup(d1) === lastLb)
              && (d2 === lastDst || mtrie.lookup(d2) === lastLb) && (d3 === lastDst || mtrie.lookup(d3) === lastLb);
            if (hit) lastDst = d3;
          }
          if (hit) {
            opaque[b0 * OPAQUE_WORDS + OPAQUE_ADJACENCY] = lastAdj;
            opaque[b1 * OPAQUE_WORDS + OPAQUE_ADJACENCY] = lastAdj;
            opaque[b2 * OPAQUE_WORDS + OPAQUE_ADJACENCY] = lastAdj;
            opaque[b3 * OPAQUE_WORDS + OPAQUE_ADJACENCY] = lastAdj;
            if (!mixed) {
              if (firstNext < 0) firstNext = lastNext;
              if (lastNext !== firstNext) {
                mixed = true;
                for (let j = 0; j < i; j++) nexts[j] = firstNext;
              }
            }
            if (mixed) {
              nexts[i] = lastNext;
              nexts[i + 1] = lastNext;
              nexts[i + 2] = lastNext;
              nexts[i + 3] = lastNext;
            }
            if (lastLb !== runLb) {
              if (runPackets > 0) {
                lbPackets[runLb] += runPackets;
                lbBytes[runLb] += runBytes;
              }
              runLb = lastLb;
              runPackets = 0;
              runBytes = 0;
            }
            const t0 = words[w0 + 1];
            const t1 = words[w1 + 1];
            const t2 = words[w2 + 1];
            const t3 = words[w3 + 1];
            runPackets += 4;
            runBytes += (((t0 & 0xff) << 8) | (t0 >>> 8)) + (((t1 & 0xff) << 8) | (t1 >>> 8))
              + (((t2 & 0xff) << 8) | (t2 >>> 8)) + (((t3 & 0xff) << 8) | (t3 >>> 8));
            i += 4;
            continue;
          }
        }
      }
      // Two packets per iteration in the common case (same rx interface as the previous
      // packet, not locally originated, one buffer, even offset, single-bucket destinations):
      // V8 checks and reloads every typed array once per loop iteration, so pairs halve that.
      if (i + 1 < n && mtrie !== undefined && littleEndian) {
        const b0 = buffers[i];
        const b1 = buffers[i + 1];
        const c0 = current[b0];
        const c1 = current[b1];
        if (rxInterface[b0] === runSw && rxInterface[b1] === runSw && ((flags[b0] | flags[b1]) & SPECIAL) === 0 && ((c0 | c1) & 1) === 0) {
          // Destination: bytes 16..19 of the header, two aligned words (first byte low).
          const w0 = c0 >>> 1;
          const w1 = c1 >>> 1;
          const x0 = words[w0 + 8];
          const y0 = words[w0 + 9];
          const x1 = words[w1 + 8];
          const y1 = words[w1 + 9];
          const d0 = ((x0 & 0xff) << 24) | ((x0 >>> 8) << 16) | ((y0 & 0xff) << 8) | (y0 >>> 8);
          const d1 = ((x1 & 0xff) << 24) | ((x1 >>> 8) << 16) | ((y1 & 0xff) << 8) | (y1 >>> 8);
          if (!cached || d0 !== lastDst) {
            const lb = mtrie.lookup(d0);
            if (cached && lb === lastLb) {
              // Another destination of the same single-bucket load-balance (one route, many hosts).
              lastDst = d0;
            } else if (lbSize[lb] === 1) {
              cached = true;
              lastDst = d0;
              lastLb = lb;
              lastAdj = lbBuckets[lbStart[lb]];
              lastNext = kind[lastAdj];
            } else {
              cached = false;
            }
          }
          const lb0 = lastLb;
          const a0 = lastAdj;
          const n0 = lastNext;
          const hit0 = cached && d0 === lastDst;
          if (hit0 && d1 !== lastDst) {
            const lb = mtrie.lookup(d1);
            if (cached && lb === lastLb) {
              // Another destination of the same single-bucket load-balance (one route, many hosts).
              lastDst = d1;
            } else if (lbSize[lb] === 1) {
              cached = true;
              lastDst = d1;
              lastLb = lb;
              lastAdj = lbBuckets[lbStart[lb]];
              lastNext = kind[lastAdj];
            } else {
              cached = false;
            }
          }
          if (hit0 && cached && d1 === lastDst) {
            opaque[b0 * OPAQUE_WORDS + OPAQUE_ADJACENCY] = a0;
            opaque[b1 * OPAQUE_WORDS + OPAQUE_ADJACENCY] = lastAdj;
            if (!mixed) {
              if (firstNext < 0) firstNext = n0;
              if (n0 !== firstNext || lastNext !== firstNext) {
                mixed = true;
                for (let j = 0; j < i; j++) nexts[j] = firstNext;
              }
            }
            if (mixed) {
              nexts[i] = n0;
              nexts[i + 1] = lastNext;
            }
            // Bytes as VPP counts them, the packet's length: here its Total Length (ip4-input
            // trimmed the buffer to it, and chains do not take this path), from a word the
            // iteration already reads instead of one more typed array.
            const t0 = words[w0 + 1];
            const t1 = words[w1 + 1];
            if (lb0 !== runLb) {
              if (runPackets > 0) {
                lbPackets[runLb] += runPackets;
                lbBytes[runLb] += runBytes;
              }
              runLb = lb0;
              runPackets = 0;
              runBytes = 0;
            }
            runPackets++;
            runBytes += ((t0 & 0xff) << 8) | (t0 >>> 8);
            if (lastLb !== runLb) {
              lbPackets[runLb] += runPackets;
              lbBytes[runLb] += runBytes;
              runLb = lastLb;
              runPackets = 0;
              runBytes = 0;
            }
            runPackets++;
            runBytes += ((t1 & 0xff) << 8) | (t1 >>> 8);
            i += 2;
            continue;
          }
        }
      }
      // One packet, any case.
      const bi = buffers[i];
      const cur = current[bi];
      const f = flags[bi];
      let fib: number;
      if ((f & LOCALLY_ORIGINATED) !== 0) {
        fib = opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX];
      } else {
        const sw = rxInterface[bi];
        fib = sw === runSw ? runFib : fibIndex[sw];
        runSw = sw;
      }
      if (fib !== runFib) {
        runFib = fib;
        mtrie = mtries[fib];
        cached = false;
        // runSw caches the table of an rx interface: valid only while runFib is its table.
        if ((f & LOCALLY_ORIGINATED) !== 0) runSw = -1;
      }
      let next: number;
      if (mtrie !== undefined) {
        const dst = (bytes[cur + 16] << 24) | (bytes[cur + 17] << 16) | (bytes[cur + 18] << 8) | bytes[cur + 19];
        let lb: number;
        let adj: number;
        if (cached && dst === lastDst) {
          lb = lastLb;
          adj = lastAdj;
        } else {
          lb = mtrie.lookup(dst);
          const size = lbSize[lb];
          if (size === 1) {
            // Single-bucket fast path: no flow hash (VPP: lb_n_buckets == 1).
            adj = lbBuckets[lbStart[lb]];
            cached = true;
            lastDst = dst;
            lastLb = lb;
            lastAdj = adj;
            lastNext = kind[adj];
          } else {
            adj = lbBuckets[lbStart[lb] + (ip4FlowHash(bytes, cur) & (size - 1))];
            cached = false;
          }
        }
        opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY] = adj;
        next = kind[adj];
        if (lb !== runLb) {
          if (runPackets > 0) {
            lbPackets[runLb] += runPackets;
            lbBytes[runLb] += runBytes;
          }
          runLb = lb;
          runPackets = 0;
          runBytes = 0;
        }
        runPackets++;
        runBytes += (f & NEXT_PRESENT) !== 0 ? length[bi] + pool.chainRest[bi] : length[bi];
      } else {
        // A fib index that names no table (a stale locally originated packet): no route.
        next = NEXT.drop;
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
    if (runPackets > 0) {
      lbPackets[runLb] += runPackets;
      lbBytes[runLb] += runBytes;
    }
    if (!mixed && n > 0) ctx.toSingleNext(firstNext);
    return n;
  },
});
