// The event ring's queue: against an array model, any sequence of pushes and shifts gives
// the same indices in the same order, across growth and wrap-around.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IndexQueue } from '../../src/session/index-queue.ts';

test('property: IndexQueue is a FIFO across growth and wrap-around', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.oneof(fc.nat({ max: 0x7fffffff }), fc.constant(-1)), { minLength: 1, maxLength: 300 }),
    (capacity, ops) => {
      const queue = new IndexQueue(capacity);
      const model: number[] = [];
      for (const op of ops) {
        if (op >= 0) {
          queue.push(op);
          model.push(op);
        } else {
          assert.equal(queue.shift(), model.length > 0 ? model.shift() : -1);
        }
        assert.equal(queue.length, model.length);
      }
    },
  ), { numRuns: 300 });
});
