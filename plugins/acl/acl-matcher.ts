// The compiled form of an ordered rule list and the two ways of finding a packet's first
// matching rule. The node hands over a packet's 5-tuple as five small integers (source and
// destination as int32, protocol, source and destination port, sport = -1 when the ports
// are unknown: a non-first fragment, a truncated L4 header, or a protocol without ports);
// the answer is the index of the first matching rule, or -1 (VPP's implicit deny).
//
// Linear: every rule is 8 int32s in one Int32Array (masks and addresses, protocol, both
// port ranges packed as first<<16 | last, an "any port" flag), scanned in order. Fast for
// a few rules, a cost proportional to the position of the first match otherwise.
//
// Bit vectors (Lakshman & Stiliadis, SIGCOMM 1998, with aggregated bit vectors as Baboescu
// & Varghese, SIGCOMM 2001): per field, the rules' ranges cut the field's value space into
// elementary intervals, and every interval carries the set of rules whose range covers it,
// as a bitmap with rule r at bit r. A packet looks up one interval per field (a binary
// search for the addresses, a table read for the protocol and ports), ANDs the five
// bitmaps word by word and takes the lowest set bit: the first matching rule. A one-bit-
// per-word summary of each bitmap (the aggregate) lets the AND skip words that are zero in
// any field, so the cost hardly grows with the number of rules. Memory grows as rules ×
// intervals (about 1 MiB at 1000 rules), so above BITVECTOR_MAX_RULES the scan is used.
//
// Rules with a port range other than 0-65535 never match a packet whose ports are unknown.

import type { AclRule } from './acl-rules.ts';
import { isAnyPort } from './acl-rules.ts';

/** Int32s per rule in the linear table. */
const STRIDE = 8;
const SRC_MASK = 0;
const SRC_ADDRESS = 1;
const DST_MASK = 2;
const DST_ADDRESS = 3;
const PROTO = 4;
const SPORT = 5;
const DPORT = 6;
const ANY_PORTS = 7;

/** Index of the "ports unknown" entry of the port tables. */
const UNKNOWN_PORT = 65536;

/**
 * Up to this many rules the linear scan wins. Measured per lookup (node 20, the bench's
 * rule shape, no match before the last rule): 8 rules 16 ns scan / 19 ns bit vectors,
 * 12 rules 22 / 19, 1000 rules 1485 / 25.
 */
export const LINEAR_MAX_RULES = 10;
/** Above this many rules the bit vectors would take too much memory (rules² / 4 bytes). */
export const BITVECTOR_MAX_RULES = 4096;

export type MatchStrategy = 'linear' | 'bitvector';

const EMPTY_I32 = new Int32Array(0);
const EMPTY_U32 = new Uint32Array(0);

/** One field's elementary intervals and their rule bitmaps (unused fields are empty). */
class FieldVectors {
  constructor(
    /** Interval starts, ascending, the first 0 (for the address fields). */
    readonly starts: Uint32Array,
    /** Value (or interval) → set index. */
    readonly setOf: Int32Array,
    /** sets × words bitmaps: rule r of set s is bit r & 31 of word s * words + (r >> 5). */
    readonly bits: Int32Array,
    /** sets × aggregateWords: bit w of set s is set when word w of its bitmap is not zero. */
    readonly aggregate: Int32Array,
  ) {}
  static readonly EMPTY = new FieldVectors(EMPTY_U32, EMPTY_I32, EMPTY_I32, EMPTY_I32);
}

/** An ordered rule list ready for the data path. One shape for both strategies (monomorphic call sites). */
export class CompiledRules {
  readonly count: number;
  readonly strategy: MatchStrategy;
  /** count × STRIDE int32s (always filled: the trace and the tests use it too). */
  readonly linear: Int32Array;
  /** 1 for permit, 0 for deny, per rule. */
  readonly permit: Uint8Array;
  /** Packets that matched each rule since the counters were last folded (see acl-state.ts). */
  readonly hits: Float64Array;
  readonly words: number;
  readonly aggregateWords: number;
  readonly src: FieldVectors;
  readonly dst: FieldVectors;
  readonly proto: FieldVectors;
  readonly sport: FieldVectors;
  readonly dport: FieldVectors;

  constructor(rules: readonly AclRule[], strategy?: MatchStrategy) {
    const count = rules.length;
    this.count = count;
    this.strategy = strategy ?? (count <= LINEAR_MAX_RULES || count > BITVECTOR_MAX_RULES ? 'linear' : 'bitvector');
    this.linear = new Int32Array(count * STRIDE);
    this.permit = new Uint8Array(count);
    this.hits = new Float64Array(count);
    for (let r = 0; r < count; r++) {
      const rule = rules[r];
      const o = r * STRIDE;
      const srcMask = prefixMask(rule.src.length);
      const dstMask = prefixMask(rule.dst.length);
      this.linear[o + SRC_MASK] = srcMask;
      this.linear[o + SRC_ADDRESS] = rule.src.address & srcMask;
      this.linear[o + DST_MASK] = dstMask;
      this.linear[o + DST_ADDRESS] = rule.dst.address & dstMask;
      this.linear[o + PROTO] = rule.proto;
      this.linear[o + SPORT] = (rule.sport.first << 16) | rule.sport.last;
      this.linear[o + DPORT] = (rule.dport.first << 16) | rule.dport.last;
      this.linear[o + ANY_PORTS] = isAnyPort(rule.sport) && isAnyPort(rule.dport) ? 1 : 0;
      this.permit[r] = rule.action === 'permit' ? 1 : 0;
    }
    this.words = (count + 31) >>> 5;
    this.aggregateWords = (this.words + 31) >>> 5;
    if (this.strategy === 'bitvector' && count > 0) {
      const prefixRange = (p: AclRule['src']): [number, number] => {
        const mask = prefixMask(p.length) >>> 0;
        const first = (p.address & mask) >>> 0;
        return [first, (first | ~mask) >>> 0];
      };
      this.src = buildField(rules.map((rule) => prefixRange(rule.src)), 0xffffffff, this.words, 'intervals');
      this.dst = buildField(rules.map((rule) => prefixRange(rule.dst)), 0xffffffff, this.words, 'intervals');
      this.proto = buildField(rules.map((rule) => (rule.proto === 0 ? [0, 255] : [rule.proto, rule.proto])), 255, this.words, 'table');
      const anyPorts = (r: number): boolean => isAnyPort(rules[r].sport) && isAnyPort(rules[r].dport);
      this.sport = buildField(rules.map((rule) => [rule.sport.first, rule.sport.last]), 65535, this.words, 'table', anyPorts);
      this.dport = buildField(rules.map((rule) => [rule.dport.first, rule.dport.last]), 65535, this.words, 'table', () => true);
    } else {
      this.src = this.dst = this.proto = this.sport = this.dport = FieldVectors.EMPTY;
    }
  }

  /** Bytes of typed arrays this compiled list holds (for `show acl` and the bench). */
  get memoryBytes(): number {
    let total = this.linear.byteLength + this.permit.byteLength + this.hits.byteLength;
    for (const f of [this.src, this.dst, this.proto, this.sport, this.dport]) {
      total += f.starts.byteLength + f.setOf.byteLength + f.bits.byteLength + f.aggregate.byteLength;
    }
    return total;
  }
}

/** The netmask of a prefix length as an int32 (the form the linear table compares in). */
function prefixMask(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) | 0;
}

/**
 * One field's vectors. `ranges[r]` is rule r's inclusive range over 0 … max. With
 * 'intervals' the lookup is a binary search over interval starts; with 'table' `setOf` has
 * one entry per value (plus, when `unknown` is given, entry max + 1 for "value unknown",
 * whose set holds the rules for which `unknown(r)` is true).
 */
function buildField(
  ranges: readonly (readonly [number, number])[],
  max: number,
  words: number,
  lookup: 'intervals' | 'table',
  unknown?: (r: number) => boolean,
): FieldVectors {
  // Elementary intervals: every range start and every range end + 1 opens one.
  const cuts = new Set<number>([0]);
  for (const [first, last] of ranges) {
    cuts.add(first);
    if (last < max) cuts.add(last + 1);
  }
  const starts = Float64Array.from(cuts).sort();
  const intervals = starts.length;
  const find = (value: number): number => {
    let lo = 0;
    let hi = intervals - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= value) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  // Bitmaps per interval, then the same bitmap shared by every interval that has it.
  const raw = new Int32Array(intervals * words);
  for (let r = 0; r < ranges.length; r++) {
    const [first, last] = ranges[r];
    const bit = 1 << (r & 31);
    const word = r >>> 5;
    for (let j = find(first), end = find(last); j <= end; j++) raw[j * words + word] |= bit;
  }
  const extra = unknown === undefined ? 0 : 1;
  const setIds = new Map<string, number>();
  const setOfInterval = new Int32Array(intervals + extra);
  const unique: Int32Array[] = [];
  const intern = (bitmap: Int32Array): number => {
    const key = bitmap.join(',');
    let id = setIds.get(key);
    if (id === undefined) {
      id = unique.length;
      setIds.set(key, id);
      unique.push(bitmap);
    }
    return id;
  };
  for (let j = 0; j < intervals; j++) setOfInterval[j] = intern(raw.subarray(j * words, (j + 1) * words));
  if (unknown !== undefined) {
    const bitmap = new Int32Array(words);
    for (let r = 0; r < ranges.length; r++) if (unknown(r)) bitmap[r >>> 5] |= 1 << (r & 31);
    setOfInterval[intervals] = intern(bitmap);
  }
  const aggregateWords = (words + 31) >>> 5;
  const bits = new Int32Array(unique.length * words);
  const aggregate = new Int32Array(unique.length * aggregateWords);
  unique.forEach((bitmap, s) => {
    bits.set(bitmap, s * words);
    for (let w = 0; w < words; w++) if (bitmap[w] !== 0) aggregate[s * aggregateWords + (w >>> 5)] |= 1 << (w & 31);
  });
  if (lookup === 'intervals') return new FieldVectors(Uint32Array.from(starts), setOfInterval, bits, aggregate);
  // A direct table over every value (and the "unknown" entry).
  const setOf = new Int32Array(max + 1 + extra);
  for (let j = 0; j < intervals; j++) setOf.fill(setOfInterval[j], starts[j], j + 1 < intervals ? starts[j + 1] : max + 1);
  if (unknown !== undefined) setOf[max + 1] = setOfInterval[intervals];
  return new FieldVectors(EMPTY_U32, setOf, bits, aggregate);
}

/**
 * First matching rule by scanning. `src`/`dst` as int32 (`| 0`), `sport` -1 when the ports
 * are unknown. Returns the rule index or -1.
 */
export function matchLinear(rules: CompiledRules, src: number, dst: number, proto: number, sport: number, dport: number): number {
  const table = rules.linear;
  const count = rules.count;
  for (let r = 0, o = 0; r < count; r++, o += STRIDE) {
    if ((src & table[o + SRC_MASK]) !== table[o + SRC_ADDRESS]) continue;
    if ((dst & table[o + DST_MASK]) !== table[o + DST_ADDRESS]) continue;
    const p = table[o + PROTO];
    if (p !== 0 && p !== proto) continue;
    if (sport < 0) {
      if (table[o + ANY_PORTS] === 0) continue;
    } else {
      const s = table[o + SPORT];
      if (sport < s >>> 16 || sport > (s & 0xffff)) continue;
      const d = table[o + DPORT];
      if (dport < d >>> 16 || dport > (d & 0xffff)) continue;
    }
    return r;
  }
  return -1;
}

/** Index of the interval holding `value` (the last start ≤ value). */
function interval(starts: Uint32Array, value: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** First matching rule through the bit vectors; same arguments and answer as `matchLinear`. */
export function matchBitvector(rules: CompiledRules, src: number, dst: number, proto: number, sport: number, dport: number): number {
  const words = rules.words;
  const aggregateWords = rules.aggregateWords;
  const srcField = rules.src;
  const dstField = rules.dst;
  const s = srcField.setOf[interval(srcField.starts, src >>> 0)];
  const d = dstField.setOf[interval(dstField.starts, dst >>> 0)];
  const p = rules.proto.setOf[proto & 0xff];
  const sp = rules.sport.setOf[sport < 0 ? UNKNOWN_PORT : sport];
  const dp = rules.dport.setOf[sport < 0 ? UNKNOWN_PORT : dport];
  const srcBits = srcField.bits;
  const dstBits = dstField.bits;
  const protoBits = rules.proto.bits;
  const sportBits = rules.sport.bits;
  const dportBits = rules.dport.bits;
  const srcAggregate = srcField.aggregate;
  const dstAggregate = dstField.aggregate;
  const protoAggregate = rules.proto.aggregate;
  const sportAggregate = rules.sport.aggregate;
  const dportAggregate = rules.dport.aggregate;
  const sBase = s * words;
  const dBase = d * words;
  const pBase = p * words;
  const spBase = sp * words;
  const dpBase = dp * words;
  for (let a = 0; a < aggregateWords; a++) {
    let candidates =
      srcAggregate[s * aggregateWords + a] &
      dstAggregate[d * aggregateWords + a] &
      protoAggregate[p * aggregateWords + a] &
      sportAggregate[sp * aggregateWords + a] &
      dportAggregate[dp * aggregateWords + a];
    while (candidates !== 0) {
      // Lowest set bit first: x & -x isolates it, 31 - clz32 gives its position.
      const lowest = candidates & -candidates;
      const w = (a << 5) + 31 - Math.clz32(lowest);
      const word = srcBits[sBase + w] & dstBits[dBase + w] & protoBits[pBase + w] & sportBits[spBase + w] & dportBits[dpBase + w];
      if (word !== 0) return (w << 5) + 31 - Math.clz32(word & -word);
      candidates ^= lowest;
    }
  }
  return -1;
}

/** First matching rule with the list's own strategy. */
export function matchRules(rules: CompiledRules, src: number, dst: number, proto: number, sport: number, dport: number): number {
  return rules.strategy === 'linear'
    ? matchLinear(rules, src, dst, proto, sport, dport)
    : matchBitvector(rules, src, dst, proto, sport, dport);
}

/**
 * The 5-tuple of the IPv4 packet at `bytes[at … at + length)` as the matchers take it,
 * written to `out` (src, dst, proto, sport, dport; sport -1 when ports are unknown).
 * Returns false, leaving `out` alone, when no IPv4 header fits (version ≠ 4, IHL < 5, or
 * fewer bytes than the header). Reads nothing past `at + length`.
 */
export function packetKey(bytes: Uint8Array, at: number, length: number, out: Int32Array): boolean {
  if (length < 20 || (bytes[at] >>> 4) !== 4) return false;
  const headerLength = (bytes[at] & 0x0f) << 2;
  if (headerLength < 20 || headerLength > length) return false;
  out[0] = (bytes[at + 12] << 24) | (bytes[at + 13] << 16) | (bytes[at + 14] << 8) | bytes[at + 15];
  out[1] = (bytes[at + 16] << 24) | (bytes[at + 17] << 16) | (bytes[at + 18] << 8) | bytes[at + 19];
  const proto = bytes[at + 9];
  out[2] = proto;
  out[3] = -1;
  out[4] = -1;
  // RFC 791: only the fragment with offset 0 carries the L4 header.
  if ((((bytes[at + 6] & 0x1f) << 8) | bytes[at + 7]) !== 0) return true;
  const l4 = at + headerLength;
  const available = length - headerLength;
  if (proto === 6 || proto === 17) {
    if (available >= 4) {
      out[3] = (bytes[l4] << 8) | bytes[l4 + 1];
      out[4] = (bytes[l4 + 2] << 8) | bytes[l4 + 3];
    }
  } else if (proto === 1) {
    // As VPP's ACL plugin: an ICMP message's type is matched as the source port, its code as the destination port.
    if (available >= 2) {
      out[3] = bytes[l4];
      out[4] = bytes[l4 + 1];
    }
  }
  return true;
}
