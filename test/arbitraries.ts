// fast-check arbitraries shared by the property tests of packets and buffers. fast-check's
// default size keeps generated arrays short (at most about 10 elements beyond the minimum,
// whatever `maxLength` says), so a property over "packets up to 3000 bytes" would never see
// a packet longer than one buffer. Here the length is drawn explicitly, uniformly over the
// range, and a quarter of the time from the lengths where code changes paths (a buffer's
// data size, a header's length) and their neighbours.

import fc from 'fast-check';

/** The data size of a pool buffer unless a test says otherwise (BufferPool's default). */
export const BUFFER_DATA_SIZE = 2048;

/** A length in min..max: uniform, or one of `edges` (and one less, one more) where in range. */
export function lengthIn(min: number, max: number, edges: readonly number[] = []): fc.Arbitrary<number> {
  const near = [...new Set(edges.flatMap((e) => [e - 1, e, e + 1]))].filter((n) => n >= min && n <= max);
  const uniform = fc.integer({ min, max });
  return near.length === 0 ? uniform : fc.oneof({ weight: 3, arbitrary: uniform }, { weight: 1, arbitrary: fc.constantFrom(...near) });
}

/** Random bytes whose length is drawn by `lengthIn(min, max, edges)`. */
export function bytesOfLength(min: number, max: number, edges: readonly number[] = []): fc.Arbitrary<Uint8Array> {
  return lengthIn(min, max, edges).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
}
