// TCP sequence number arithmetic (RFC 9293 §3.4): sequence numbers live modulo 2^32, and
// "a < b" means b lies less than 2^31 ahead of a. Every comparison reduces to the sign of
// the 32-bit difference: (a − b) | 0 is that difference as a signed Int32, exact because
// both operands are below 2^32, so `| 0` takes their difference modulo 2^32 into
// [−2^31, 2^31). Numbers handed out are unsigned (`>>> 0`). Two numbers exactly 2^31 apart
// are ambiguous by definition (each reads as before the other); TCP keeps windows below
// 2^30 (RFC 7323 §2.3), so such pairs are never compared.

/** a < b (mod 2^32). */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a ≤ b (mod 2^32). */
export function seqLeq(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a > b (mod 2^32). */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** a ≥ b (mod 2^32). */
export function seqGeq(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The signed distance a − b, in [−2^31, 2^31). */
export function seqSub(a: number, b: number): number {
  return (a - b) | 0;
}

/** a + n (mod 2^32), unsigned; n may be negative. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** The later of a and b. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a : b;
}

/** The earlier of a and b. */
export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) <= 0 ? a : b;
}

/**
 * left ≤ s < left + length (mod 2^32), for 0 ≤ length < 2^32: the unsigned distance from
 * the left edge is below the length. With length 0 nothing is inside.
 */
export function seqInWindow(s: number, left: number, length: number): boolean {
  return ((s - left) >>> 0) < length;
}
