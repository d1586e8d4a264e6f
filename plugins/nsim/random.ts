// The seeded pseudo-random source of the nsim plugin: xoshiro128** (Blackman and Vigna,
// 2018), a 32-bit generator with 128 bits of state, a period of 2^128 − 1 and no known
// statistical weakness at the sizes a network simulation draws. The state is four u32
// words in one Uint32Array, so a draw allocates nothing and the per-packet path stays
// monomorphic. A 32-bit seed is spread over the state with splitmix32 (the state must not
// be all zero; splitmix32 never yields four zero words in a row from any seed).
//
// The same seed gives the same sequence of draws on every machine: that is what makes a
// failing simulation replayable (`set nsim … seed <n>`).

/** 2^-32: turns a u32 into a float in [0, 1). */
const U32_TO_UNIT = 1 / 4294967296;
/** 2^31: `nextU31() < fraction × U31_RANGE` holds with probability `fraction` (to 2^-31). */
export const U31_RANGE = 2147483648;

export class Random {
  /** s0 … s3. */
  private readonly state = new Uint32Array(4);
  private seedValue = 0;

  constructor(seed: number) {
    this.seed(seed);
  }

  /** The seed the sequence started from (an integer 0 … 2^32−1). */
  get currentSeed(): number {
    return this.seedValue;
  }

  /** Restarts the sequence from `seed` (taken modulo 2^32). */
  seed(seed: number): void {
    let x = seed >>> 0;
    this.seedValue = x;
    const s = this.state;
    for (let i = 0; i < 4; i++) {
      // splitmix32: an additive step by the golden-ratio constant, then a bijective mix.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  }

  /**
   * The next draw, 0 … 2^31−1 (the top 31 bits of the next u32): the data path's form. It
   * is a small integer, so it comes back unboxed from a call V8 does not inline; a float
   * result would be a new HeapNumber per draw (15 bytes a draw, measured, when `next()` was
   * not inlined into the nsim node).
   */
  nextU31(): number {
    return this.step() >>> 1;
  }

  /** The next u32 of the sequence. */
  nextU32(): number {
    return this.step() >>> 0;
  }

  /** A float uniform in [0, 1): `next() < f` is true with probability f for f in [0, 1]. */
  next(): number {
    return (this.step() >>> 0) * U32_TO_UNIT;
  }

  /** One step of xoshiro128**: the output as an int32. */
  private step(): number {
    const s = this.state;
    const s0 = s[0];
    const s1 = s[1];
    const s2 = s[2];
    const s3 = s[3];
    // result = rotl(s1 * 5, 7) * 9
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = (n3 << 11) | (n3 >>> 21);
    return result;
  }
}
