// Shared by the wire tests: hex in and out, a deliberately naive RFC 1071 reference checksum
// (one word at a time, no tricks) to check the fast one against, and the "random bytes never
// throw" harness.

import fc from 'fast-check';
import { bytesOfLength } from '../arbitraries.ts';

/** "45 00 00 54" or "45000054" → bytes. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** RFC 1071 by the book: the one's complement sum of 16-bit words, folded, not complemented. */
export function referenceSum(bytes: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < length; i += 2) {
    const high = bytes[offset + i];
    const low = i + 1 < length ? bytes[offset + i + 1] : 0;
    sum += (high << 8) | low;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  return sum;
}

export function referenceChecksum(bytes: Uint8Array, offset: number, length: number, initial = 0): number {
  return ~referenceSum(bytes, offset, length, initial) & 0xffff;
}

/** A pseudo-header as bytes, for the reference sum. */
export function pseudoHeaderBytes(src: number, dst: number, protocol: number, length: number): Uint8Array {
  return Uint8Array.from([
    src >>> 24, (src >>> 16) & 0xff, (src >>> 8) & 0xff, src & 0xff,
    dst >>> 24, (dst >>> 16) & 0xff, (dst >>> 8) & 0xff, dst & 0xff,
    0, protocol, length >>> 8, length & 0xff,
  ]);
}

/** Header lengths where a check changes its answer: UDP, Ethernet, IPv4/TCP, ARP, IPv4 with options. */
const HEADER_EDGES = [8, 14, 20, 28, 60];

/**
 * Random bytes (0 … `maxLength` of them, the length drawn explicitly) with an offset and a
 * length that may be negative, too short, or past the end.
 */
export function randomSliceUpTo(maxLength: number): fc.Arbitrary<[Uint8Array, number, number]> {
  return bytesOfLength(0, maxLength, HEADER_EDGES).chain((bytes) =>
    fc.tuple(
      fc.constant(bytes),
      fc.integer({ min: -4, max: bytes.length + 4 }),
      fc.integer({ min: -4, max: bytes.length + 8 }),
    ));
}

/** `randomSliceUpTo(96)`: room for any header with its options. */
export const randomSlice = randomSliceUpTo(96);

export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u8 = fc.integer({ min: 0, max: 0xff });
export const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });

/** Asserts `value` is an integer in [min, max]: what an accessor over garbage must still return. */
export function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** fc.record with ordinary prototypes, so deepStrictEqual against parsed objects compares fields only. */
export function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}
