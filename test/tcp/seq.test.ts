// Sequence arithmetic against BigInt-free reference definitions over the true integers:
// a point a and a distance d with |d| < 2^31 give b = a + d mod 2^32, and every comparison
// must agree with the sign of d, whatever a is — in particular across the 2^32 wrap.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seqAdd, seqGeq, seqGt, seqInWindow, seqLeq, seqLt, seqMax, seqMin, seqSub } from '../../src/tcp/seq.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Points near the wrap as often as anywhere. */
const point = fc.oneof(u32, fc.integer({ min: 0xffffffff - 70000, max: 0xffffffff }), fc.integer({ min: 0, max: 70000 }));
const distance = fc.oneof(fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }), fc.integer({ min: -70000, max: 70000 }));

function wrap(x: number): number {
  return ((x % 2 ** 32) + 2 ** 32) % 2 ** 32;
}

describe('tcp sequence arithmetic', () => {
  it('compares by the signed distance, across wraparound', () => {
    fc.assert(
      fc.property(point, distance, (a, d) => {
        const b = wrap(a + d);
        assert.equal(seqLt(a, b), d > 0);
        assert.equal(seqLeq(a, b), d >= 0);
        assert.equal(seqGt(a, b), d < 0);
        assert.equal(seqGeq(a, b), d <= 0);
        assert.equal(seqSub(b, a), d);
        assert.equal(seqAdd(a, d), b);
        assert.equal(seqMax(a, b), d >= 0 ? b : a);
        assert.equal(seqMin(a, b), d >= 0 ? a : b);
      }),
      { numRuns: 5000 },
    );
  });

  it('in-window tests the half-open interval [left, left + length) mod 2^32', () => {
    fc.assert(
      fc.property(point, fc.integer({ min: 0, max: 2 ** 30 }), fc.integer({ min: -(2 ** 30), max: 2 ** 31 - 1 }), (left, length, d) => {
        const s = wrap(left + d);
        assert.equal(seqInWindow(s, left, length), d >= 0 && d < length);
      }),
      { numRuns: 5000 },
    );
  });

  it('handles the edges exactly', () => {
    assert.ok(seqLt(0xffffffff, 0));
    assert.ok(seqGt(0, 0xffffffff));
    assert.equal(seqAdd(0xffffffff, 1), 0);
    assert.equal(seqAdd(0, -1), 0xffffffff);
    assert.equal(seqSub(0, 0xffffffff), 1);
    assert.equal(seqSub(0x7fffffff, 0xffffffff), -(2 ** 31));
    assert.ok(seqInWindow(2, 0xfffffffe, 5));
    assert.ok(!seqInWindow(3, 0xfffffffe, 5));
    assert.ok(!seqInWindow(5, 5, 0));
    // Transitivity within half the space.
    assert.ok(seqLt(0xfffffff0, 0x10) && seqLt(0x10, 0x7fffff00) && seqLt(0xfffffff0, 0x7fffff00 - 0x20));
  });
});
