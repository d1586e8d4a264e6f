// The bench template: a prepared frame can be run again and again with the same outcome —
// metadata, the place on the feature arc and (when asked) the first bytes are put back
// before each call — and the node sees exactly the packets it was given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareNodeFrame, benchHarness } from '../../bench/node-bench.ts';
import { defineNode } from '../../src/vlib/node.ts';

/** Decrements the first byte; 0 → dropped (next 0), else on along the arc; moves current by 1. */
const decrement = defineNode({
  name: 'decrement',
  nexts: { drop: 'error-drop' },
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const at = pool.current[bi];
      if (pool.bytes[at] === 0) {
        nexts[i] = 0;
        continue;
      }
      pool.bytes[at]--;
      pool.advance(bi, 1);
      nexts[i] = ctx.featureNext(bi);
    }
    return n;
  },
});

test('a prepared frame gives the same nexts on every run, bytes and metadata restored', () => {
  const options = { featureArc: 'device-input', packets: () => [Uint8Array.of(1, 9), Uint8Array.of(0, 9)], restoreBytes: 1 };
  const frame = prepareNodeFrame(decrement, options, 32);
  const arcNext = frame.harness.node.nextNames.indexOf('ethernet-input');
  assert.ok(arcNext > 0);
  for (let round = 0; round < 5; round++) {
    assert.equal(frame.run(), 32);
    assert.deepEqual(Array.from(frame.nexts.subarray(0, 32)), Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? arcNext : 0)));
  }
  frame.dispose();
  assert.equal(frame.harness.vm.pool.available, frame.harness.vm.pool.count);
});

test('without restoreBytes the node sees what it wrote last time; frames can share a harness', () => {
  const options = { featureArc: 'device-input', packets: () => [Uint8Array.of(1, 9)] };
  const harness = benchHarness(decrement, options);
  const one = prepareNodeFrame(decrement, options, 1, harness);
  const many = prepareNodeFrame(decrement, options, 256, harness);
  one.run();
  assert.equal(one.nexts[0], harness.node.nextNames.indexOf('ethernet-input'));
  one.run();
  assert.equal(one.nexts[0], 0, 'the byte stayed at 0: dropped');
  assert.equal(many.run(), 256);
  assert.throws(() => prepareNodeFrame(decrement, options, 0, harness), /vector size must be 1\.\.256/);
  assert.throws(() => benchHarness({ name: 'in', type: 'input', process: () => 0 }, options), /only internal nodes/);
});
