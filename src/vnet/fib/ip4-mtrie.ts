// The IPv4 longest-prefix-match structure that ip4-lookup reads per packet: VPP's 16-8-8
// mtrie (vnet/ip/ip4_mtrie.c). A root ply of 65536 slots is indexed by the top 16 bits of
// the destination, then 256-slot plies by the third and by the fourth byte, so a lookup is
// at most three array reads. Every slot holds a *leaf*: either a terminal value (what the
// FIB stores, a load-balance index < 2^31) or a pointer to a child ply. Prefixes are
// expanded into the slots they cover, so a less specific prefix added later must never
// overwrite a more specific one, and a delete must rewrite exactly the slots of the deleted
// prefix with its covering prefix: that needs, per slot, the length of the prefix that
// wrote it. The root keeps it as a byte per slot (VPP's `dst_address_bits_of_leaves`);
// a ply keeps it in 68 bytes instead of 256 (see "Prefix lengths in a ply" below), which
// is what brings 100 000 routes under 64 MiB. A ply with no pointer and no prefix of its
// own is uniform: it is freed and its parent slot collapsed into a leaf.
// This module owns only the slots; which prefixes exist, and which one covers another, is
// the FIB's business (ip4-fib.ts), which passes the covering prefix to `remove`.

// Leaf encoding, one bit for the kind so the hot path tests a sign:
//   terminal: 0 <= value < 2^31, stored as is, so lookup returns the slot unchanged;
//   pointer:  bit 31 set, low 31 bits = the child ply's first slot in `leaves`.
// Stored in an Int32Array, a pointer reads back negative and a terminal as a small
// integer: `leaf >= 0` is the whole terminal test, and `leaf & 0x7fffffff` the child's
// offset. Because plies start on multiples of 256, `offset | byte` indexes a slot.
// Measured against a Uint32Array with `leaf < 0x80000000` tests, same table (100 000
// routes /17../32, 256 destinations, node 20): Int32Array 1.17x faster per lookup.
import { FibError } from './fib-error.ts';

const POINTER_BIT = 0x80000000 | 0;
const OFFSET_MASK = 0x7fffffff;

/** The largest value a terminal leaf can hold (bit 31 marks pointers). */
export const IP4_MTRIE_MAX_VALUE = 0x7fffffff;

// Prefix lengths in a ply. A ply whose base is b (16 or 24 address bits above it) holds
// two kinds of terminal slot:
//   - *cover* slots, written by prefixes of length <= b. Such a prefix covers the whole
//     ply, and a longer one of them replaces a shorter one everywhere it is not hidden, so
//     every cover slot holds the same prefix: its length is one byte per ply (`coverLength`).
//   - *own* slots, written by prefixes of length b+1..b+8 that lie inside the ply. Those
//     form a binary tree of 2+4+…+256 = 510 possible prefixes; one bit each says which are
//     present (`prefixBits`, heap-numbered: the prefix of depth d = length - b whose first
//     slot is s is node (1 << d) | (s >> (8 - d)), nodes 2..511 in 16 u32 words). A slot's
//     length is b + the depth of the deepest present prefix on its path, or the cover
//     length when there is none (at most 8 bit tests, control path only).
// Per ply: 1024 B of leaves + 64 B of bits + occupancy (2 B) + base (1 B) + cover
// length (1 B) = 1092 B, against 1287 B with a length byte per slot (100 000 random
// routes: 55 061 plies, 57.7 MiB instead of 67.9 MiB). The leaves, the only array the
// lookup reads, are unchanged. Freed plies are chained through their first leaf.
const ROOT_SLOTS = 1 << 16;
const PLY_SLOTS = 1 << 8;
const PREFIX_WORDS = 16;
/** The root occupies the first 65536 slots of the leaf array; ply p starts at ROOT_SLOTS + p*256. */
const INITIAL_PLY_CAPACITY = 64;
/** 23 bits of ply index fit beside the 8 slot bits in the 31-bit offset. */
const MAX_PLY_CAPACITY = (OFFSET_MASK + 1 - ROOT_SLOTS) / PLY_SLOTS;
/**
 * Pool growth: by half while small, then by 4096 plies (4.3 MiB) or by 1/16, whichever is
 * more. Growing copies the pool, so geometric growth keeps adds amortised O(1); the cap
 * bounds the slack a user pays for at the 100 000-route size (reserved 60.1 MiB there
 * with this step, 77.6 MiB with plain 1.5x growth and a length byte per slot; lookups
 * unchanged: 2.74 vs 2.84 ns/address in one run, bench/fib/ip4-mtrie.bench.ts's table).
 */
const GROW_STEP_PLIES = 4096;
const BYTES_PER_PLY = PLY_SLOTS * 4 + PREFIX_WORDS * 4 + 2 + 1 + 1;
/** Root leaves (4 B) and prefix lengths (1 B) per slot. */
const ROOT_BYTES = ROOT_SLOTS * 5;

function checkAddress(address: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
    throw new FibError(`bad IPv4 address ${address}: expected an integer 0..4294967295`);
  }
}

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 32) {
    throw new FibError(`bad prefix length ${length}: expected an integer 0..32`);
  }
}

function checkValue(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > IP4_MTRIE_MAX_VALUE) {
    throw new FibError(`bad ${what} ${value}: expected an integer 0..${IP4_MTRIE_MAX_VALUE}`);
  }
}

/** The netmask of a length 0..32, as an int32 (its sign does not matter to `&`). */
function maskOf(length: number): number {
  return length === 0 ? 0 : -1 << (32 - length);
}

export class Ip4Mtrie {
  /** Root slots [0, 65536) then plies of 256 slots: the only array the lookup reads. */
  private leaves: Int32Array;
  /** Per root slot, the length of the prefix whose value the slot holds (0 for the default). */
  private readonly rootLengths = new Uint8Array(ROOT_SLOTS);
  /** Per ply, 16 words: which prefixes longer than the base lie in the ply (see above). */
  private prefixBits: Uint32Array;
  /** Per ply, pointer slots + prefixes of its own: 0 means uniform (collapsible). */
  private occupancy: Uint16Array;
  /** Per ply, the number of address bits above it: 16 (third byte) or 24 (fourth byte). */
  private base: Uint8Array;
  /** Per ply, the length (<= base) of the prefix its cover slots hold. */
  private coverLength: Uint8Array;
  /** First freed ply (its first leaf holds the next), -1 when none; plies never used sit above `plyHighWater`. */
  private freeHead = -1;
  private plyHighWater = 0;
  private plyCapacity = INITIAL_PLY_CAPACITY;
  private livePlies = 0;

  constructor(defaultLeaf: number) {
    checkValue(defaultLeaf, 'default leaf');
    this.leaves = new Int32Array(ROOT_SLOTS + INITIAL_PLY_CAPACITY * PLY_SLOTS);
    this.prefixBits = new Uint32Array(INITIAL_PLY_CAPACITY * PREFIX_WORDS);
    this.occupancy = new Uint16Array(INITIAL_PLY_CAPACITY);
    this.base = new Uint8Array(INITIAL_PLY_CAPACITY);
    this.coverLength = new Uint8Array(INITIAL_PLY_CAPACITY);
    this.leaves.fill(defaultLeaf, 0, ROOT_SLOTS);
  }

  /**
   * The value of the longest prefix matching `address` (a u32), or the default leaf.
   * Hot path: no allocation, at most three reads of one Int32Array.
   */
  lookup(address: number): number {
    const leaves = this.leaves;
    let leaf = leaves[address >>> 16];
    if (leaf >= 0) return leaf;
    leaf = leaves[(leaf & OFFSET_MASK) | ((address >>> 8) & 0xff)];
    if (leaf >= 0) return leaf;
    return leaves[(leaf & OFFSET_MASK) | (address & 0xff)];
  }

  /** Adds or replaces `address/length` → `value`; host bits of `address` are ignored. */
  add(address: number, length: number, value: number): void {
    checkAddress(address);
    checkLength(length);
    checkValue(value, 'value');
    const masked = address & maskOf(length);
    let offset = 0; // the root
    let ply = -1;
    let base = 0;
    let bits = 16;
    // Walk down while the prefix is longer than what this ply resolves, making child plies
    // out of terminal slots on the way (the child starts as 256 copies of that leaf).
    while (length > base + bits) {
      const slot = offset + slotIndex(masked, base);
      let leaf = this.leaves[slot];
      if (leaf >= 0) {
        const slotLength = ply < 0 ? this.rootLengths[slot] : this.ownOrCoverLength(ply, slot - offset);
        const child = this.allocatePly(leaf, slotLength, base + bits);
        leaf = POINTER_BIT | (ROOT_SLOTS + child * PLY_SLOTS);
        this.leaves[slot] = leaf;
        if (ply >= 0) this.occupancy[ply]++;
      }
      offset = leaf & OFFSET_MASK;
      ply = (offset - ROOT_SLOTS) / PLY_SLOTS;
      base += bits;
      bits = 8;
    }
    // The prefix covers 2^(base+bits-length) consecutive slots of this ply.
    const index = slotIndex(masked, base);
    const first = offset + index;
    const end = first + (1 << (base + bits - length));
    const leaves = this.leaves;
    if (ply < 0) {
      const lengths = this.rootLengths;
      for (let slot = first; slot < end; slot++) {
        const leaf = leaves[slot];
        if (leaf < 0) {
          this.spreadIntoPly(leaf & OFFSET_MASK, value, length);
        } else if (lengths[slot] <= length) {
          leaves[slot] = value;
          lengths[slot] = length;
        }
      }
      return;
    }
    // Inside a ply the prefix is one of its own (length > base): mark it, then write the
    // slots where it is now the deepest prefix; pointers pass it on to their cover slots.
    const depth = length - base;
    const node = (1 << depth) | (index >>> (8 - depth));
    const word = ply * PREFIX_WORDS + (node >>> 5);
    const bit = 1 << (node & 31);
    if ((this.prefixBits[word] & bit) === 0) {
      this.prefixBits[word] |= bit;
      this.occupancy[ply]++;
    }
    for (let slot = first; slot < end; slot++) {
      const leaf = leaves[slot];
      if (leaf < 0) {
        this.spreadIntoPly(leaf & OFFSET_MASK, value, length);
      } else if (this.ownDepth(ply, slot - offset) === depth) {
        leaves[slot] = value;
      }
    }
  }

  /**
   * Removes `address/length`, giving its slots back to the covering (next less specific)
   * prefix `coveringValue`/`coveringLength` — the default leaf with length 0 when none.
   * Only slots written by this prefix change, so removing a prefix that is not there
   * changes nothing. Plies left uniform are freed.
   */
  remove(address: number, length: number, coveringValue: number, coveringLength: number): void {
    checkAddress(address);
    checkLength(length);
    checkValue(coveringValue, 'covering value');
    checkLength(coveringLength);
    if (coveringLength > length || (coveringLength === length && length !== 0)) {
      throw new FibError(`bad covering length ${coveringLength}: expected less than ${length}`);
    }
    this.removeBelow(0, -1, 0, 16, address & maskOf(length), length, coveringValue, coveringLength);
    if (this.livePlies === 0 && this.plyCapacity > INITIAL_PLY_CAPACITY) {
      // Everything freed: give the pool back rather than keep its high-water size. Done
      // here, not in freePly, so no loop above holds a stale array.
      this.freeHead = -1;
      this.plyHighWater = 0;
      this.resize(INITIAL_PLY_CAPACITY, 0);
    }
  }

  /** Bytes of the root and of the plies in use (as VPP's `show ip fib mtrie` counts them). */
  memoryBytes(): number {
    return ROOT_BYTES + this.livePlies * BYTES_PER_PLY;
  }

  /** Bytes the typed arrays hold, including pool slack not yet in use. */
  reservedBytes(): number {
    return ROOT_BYTES + this.plyCapacity * BYTES_PER_PLY;
  }

  /** Plies in use (not counting the root). */
  get plyCount(): number {
    return this.livePlies;
  }

  // --- control path -------------------------------------------------------------------

  /** Depth (1..8) of the deepest own prefix of `ply` over slot `index`, 0 for a cover slot. */
  private ownDepth(ply: number, index: number): number {
    const bits = this.prefixBits;
    const words = ply * PREFIX_WORDS;
    let node = PLY_SLOTS | index;
    for (let depth = 8; depth >= 1; depth--, node >>>= 1) {
      if ((bits[words + (node >>> 5)] & (1 << (node & 31))) !== 0) return depth;
    }
    return 0;
  }

  private hasOwnPrefixes(ply: number): boolean {
    const bits = this.prefixBits;
    for (let w = ply * PREFIX_WORDS, end = w + PREFIX_WORDS; w < end; w++) if (bits[w] !== 0) return true;
    return false;
  }

  /** The prefix length slot `index` of `ply` holds (a terminal slot). */
  private ownOrCoverLength(ply: number, index: number): number {
    const depth = this.ownDepth(ply, index);
    return depth === 0 ? this.coverLength[ply] : this.base[ply] + depth;
  }

  private removeBelow(
    offset: number, ply: number, base: number, bits: number,
    masked: number, length: number, coveringValue: number, coveringLength: number,
  ): void {
    const leaves = this.leaves;
    if (length > base + bits) {
      // The prefix lives in a child ply, if there is one: a terminal slot here means the
      // prefix was never added.
      const slot = offset + slotIndex(masked, base);
      const leaf = leaves[slot];
      if (leaf >= 0) return;
      const childOffset = leaf & OFFSET_MASK;
      this.removeBelow(childOffset, (childOffset - ROOT_SLOTS) / PLY_SLOTS, base + bits, 8,
        masked, length, coveringValue, coveringLength);
      this.collapseIfUniform(ply, slot);
      return;
    }
    const index = slotIndex(masked, base);
    const first = offset + index;
    const end = first + (1 << (base + bits - length));
    if (ply < 0) {
      const lengths = this.rootLengths;
      for (let slot = first; slot < end; slot++) {
        const leaf = leaves[slot];
        if (leaf < 0) {
          this.unspreadFromPly(leaf & OFFSET_MASK, length, coveringValue, coveringLength);
          this.collapseIfUniform(ply, slot);
        } else if (lengths[slot] === length) {
          // For a given slot only one prefix of each length covers it: this one.
          leaves[slot] = coveringValue;
          lengths[slot] = coveringLength;
        }
      }
      return;
    }
    const depth = length - base;
    const node = (1 << depth) | (index >>> (8 - depth));
    const word = ply * PREFIX_WORDS + (node >>> 5);
    const bit = 1 << (node & 31);
    if ((this.prefixBits[word] & bit) === 0) return;
    // Slots where this prefix is the deepest (decided while its bit is still set).
    for (let slot = first; slot < end; slot++) {
      if (this.ownDepth(ply, slot - offset) !== depth) continue;
      const leaf = leaves[slot];
      if (leaf < 0) {
        this.unspreadFromPly(leaf & OFFSET_MASK, length, coveringValue, coveringLength);
        this.collapseIfUniform(ply, slot);
      } else {
        leaves[slot] = coveringValue;
      }
    }
    this.prefixBits[word] &= ~bit;
    this.occupancy[ply]--;
  }

  /** A prefix that covers a whole child ply: it replaces the cover if at least as specific. */
  private spreadIntoPly(offset: number, value: number, length: number): void {
    const ply = (offset - ROOT_SLOTS) / PLY_SLOTS;
    const replaces = this.coverLength[ply] <= length;
    if (replaces) this.coverLength[ply] = length;
    // Without prefixes of its own every terminal slot is a cover slot: skip the bit tests.
    const own = this.hasOwnPrefixes(ply);
    const leaves = this.leaves;
    for (let index = 0; index < PLY_SLOTS; index++) {
      const leaf = leaves[offset + index];
      if (leaf < 0) {
        this.spreadIntoPly(leaf & OFFSET_MASK, value, length);
      } else if (replaces && (!own || this.ownDepth(ply, index) === 0)) {
        leaves[offset + index] = value;
      }
    }
  }

  /** Removing a prefix that covers a whole child ply: its slots go to the covering prefix. */
  private unspreadFromPly(offset: number, length: number, coveringValue: number, coveringLength: number): void {
    const ply = (offset - ROOT_SLOTS) / PLY_SLOTS;
    const matches = this.coverLength[ply] === length;
    if (matches) this.coverLength[ply] = coveringLength;
    const own = this.hasOwnPrefixes(ply);
    const leaves = this.leaves;
    for (let index = 0; index < PLY_SLOTS; index++) {
      const slot = offset + index;
      if (leaves[slot] < 0) {
        this.unspreadFromPly(leaves[slot] & OFFSET_MASK, length, coveringValue, coveringLength);
        this.collapseIfUniform(ply, slot);
      } else if (matches && (!own || this.ownDepth(ply, index) === 0)) {
        leaves[slot] = coveringValue;
      }
    }
  }

  /**
   * If the child ply under pointer `slot` holds no pointer and no prefix of its own, all its
   * slots hold the one prefix that covers it: free it and put that leaf in `slot`.
   */
  private collapseIfUniform(ply: number, slot: number): void {
    const childOffset = this.leaves[slot] & OFFSET_MASK;
    const child = (childOffset - ROOT_SLOTS) / PLY_SLOTS;
    if (this.occupancy[child] !== 0) return;
    this.leaves[slot] = this.leaves[childOffset];
    // In the root the slot keeps its length; in a ply it follows from the bits and cover.
    if (ply < 0) this.rootLengths[slot] = this.coverLength[child];
    else this.occupancy[ply]--;
    this.freePly(child);
  }

  private allocatePly(leaf: number, length: number, base: number): number {
    let ply: number;
    if (this.freeHead >= 0) {
      ply = this.freeHead;
      this.freeHead = this.leaves[ROOT_SLOTS + ply * PLY_SLOTS];
    } else {
      if (this.plyHighWater === this.plyCapacity) this.grow();
      ply = this.plyHighWater++;
    }
    const offset = ROOT_SLOTS + ply * PLY_SLOTS;
    this.leaves.fill(leaf, offset, offset + PLY_SLOTS);
    this.prefixBits.fill(0, ply * PREFIX_WORDS, (ply + 1) * PREFIX_WORDS);
    this.occupancy[ply] = 0;
    this.base[ply] = base;
    this.coverLength[ply] = length;
    this.livePlies++;
    return ply;
  }

  private freePly(ply: number): void {
    this.livePlies--;
    this.leaves[ROOT_SLOTS + ply * PLY_SLOTS] = this.freeHead;
    this.freeHead = ply;
  }

  private grow(): void {
    if (this.plyCapacity === MAX_PLY_CAPACITY) {
      throw new FibError(`ip4 mtrie is full: ${MAX_PLY_CAPACITY} plies`);
    }
    const capacity = this.plyCapacity;
    const step = Math.min(capacity >> 1, Math.max(GROW_STEP_PLIES, capacity >> 4));
    this.resize(Math.min(MAX_PLY_CAPACITY, capacity + step), this.plyHighWater);
  }

  private resize(capacity: number, keepPlies: number): void {
    const leaves = new Int32Array(ROOT_SLOTS + capacity * PLY_SLOTS);
    leaves.set(this.leaves.subarray(0, ROOT_SLOTS + keepPlies * PLY_SLOTS));
    const prefixBits = new Uint32Array(capacity * PREFIX_WORDS);
    prefixBits.set(this.prefixBits.subarray(0, keepPlies * PREFIX_WORDS));
    const occupancy = new Uint16Array(capacity);
    occupancy.set(this.occupancy.subarray(0, keepPlies));
    const base = new Uint8Array(capacity);
    base.set(this.base.subarray(0, keepPlies));
    const coverLength = new Uint8Array(capacity);
    coverLength.set(this.coverLength.subarray(0, keepPlies));
    this.leaves = leaves;
    this.prefixBits = prefixBits;
    this.occupancy = occupancy;
    this.base = base;
    this.coverLength = coverLength;
    this.plyCapacity = capacity;
  }
}

/** The index of `address`'s slot within a ply whose base is `base` bits (0 = the root). */
function slotIndex(address: number, base: number): number {
  return base === 0 ? address >>> 16 : (address >>> (24 - base)) & 0xff;
}
