// The bench template: a prepared frame can be run again and again with the same outcome —
// metadata, the place on the feature arc and (when asked) the first bytes are put back
// before each call — and the node sees exactly the packets it was given; the pieces the
// built-in nodes' benches use on a whole engine put back only what they are told to.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchHarness, inputCall, prepareFrame, prepareNodeFrame, preparePackets } from '../../bench/node-bench.ts';
import { NONE } from '../../src/vlib/buffer-pool.ts';
import { defineNode } from '../../src/vlib/node.ts';
import { nodeHarness } from '../../src/vlib/node-harness.ts';

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
    assert.deepEqual(Array.from({ length: 32 }, (_, i) => frame.nextOf(i)), Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? arcNext : 0)));
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

test('a node of any engine: preparePackets, then prepareFrame puts back only the metadata named, bytes every N calls, state each call', () => {
  const h = nodeHarness(decrement, { featureArc: 'device-input', trace: false });
  const vm = h.vm;
  const pool = vm.pool;
  const packets = preparePackets(vm, [Uint8Array.of(0, 0, 0, 10, 20, 30)], 3, { rxInterface: 5, advance: 3 });
  h.setFeature(5, true);
  for (const bi of packets) {
    assert.equal(pool.current[bi], pool.l2Offset[bi] + 3);
    assert.equal(pool.l3Offset[bi], pool.current[bi]);
    assert.equal(pool.rxInterface[bi], 5);
    assert.equal(pool.txInterface[bi], NONE);
    h.enterArc(bi);
  }
  let resets = 0;
  const named = { restoreMetadata: ['current', 'rxInterface', 'arc'] as const, restoreBytes: 4, restoreBytesEvery: 2, resetState: () => resets++ };
  const frame = prepareFrame(h.node, packets, named, decrement.process);
  const first = packets[0];
  const at = pool.l2Offset[first] + 3;
  const seen: number[] = [];
  for (let call = 0; call < 4; call++) {
    pool.rxInterface[first] = 77;
    pool.flags[first] |= 1 << 20;
    assert.equal(frame.run(), 3);
    seen.push(pool.bytes[at]);
    assert.equal(pool.current[first], at + 1, 'current put back before each call');
    assert.equal(pool.rxInterface[first], 5, 'rxInterface put back');
    assert.notEqual(pool.flags[first] & (1 << 20), 0, 'flags were not named: left as they were');
    assert.equal(frame.nextOf(0), h.node.nextNames.indexOf('ethernet-input'), 'the arc words put back');
    assert.deepEqual(Array.from(frame.buffers.subarray(0, 3)), Array.from(packets));
  }
  // Bytes restored on calls 2 and 4 only: 10 → 9, 9 → 8 … put back to 10 → 9, 8, back → 9.
  assert.deepEqual(seen, [9, 9, 8, 9]);
  assert.equal(resets, 4);
  frame.reset();
  assert.equal(resets, 5, 'the state is part of the reset');
  const bare = prepareFrame(h.node, packets, { restoreMetadata: [] }, decrement.process);
  bare.run();
  bare.run();
  assert.equal(pool.current[first], at + 2, 'nothing named, nothing put back');
  // A long restore (copied with TypedArray.set) puts the bytes back as a short one does.
  frame.reset();
  const long = prepareFrame(h.node, packets, { restoreMetadata: ['current', 'arc'], restoreBytes: 32 }, decrement.process);
  const before = pool.bytes[at];
  long.run();
  long.run();
  assert.equal(pool.bytes[at], before - 1, 'put back, then decremented once');
  bare.dispose();
  assert.equal(pool.available, pool.count);
  assert.throws(() => preparePackets(vm, [new Uint8Array(100)], pool.count + 1), /cannot hold/);
  assert.equal(pool.available, pool.count);
});

test('a large frame of consecutive buffers is put back field by field with one copy each, as a small one is packet by packet', () => {
  for (const restoreMetadata of [['current'], ['current', 'rxInterface', 'flags'], []] as const) {
    const h = nodeHarness(decrement, { featureArc: 'device-input', trace: false });
    const pool = h.vm.pool;
    const packets = preparePackets(h.vm, [Uint8Array.of(5, 5, 5, 5)], 40, { rxInterface: 2 });
    assert.deepEqual(Array.from(packets), Array.from({ length: 40 }, (_, i) => packets[0] + i), 'a fresh pool hands out consecutive buffers');
    h.setFeature(2, true);
    for (const bi of packets) h.enterArc(bi);
    // No arc words named: the node's feature position runs on, which this test does not read.
    const frame = prepareFrame(h.node, packets, { restoreMetadata }, decrement.process);
    const last = packets[39];
    const start = pool.current[last];
    for (let call = 0; call < 3; call++) {
      pool.rxInterface[last] = 77;
      pool.flags[last] |= 1 << 20;
      assert.equal(frame.run(), 40);
      assert.deepEqual(Array.from(frame.buffers.subarray(0, 40)), Array.from(packets));
      const named = (field: string) => (restoreMetadata as readonly string[]).includes(field);
      assert.equal(pool.current[last], named('current') ? start + 1 : start + call + 1, `${restoreMetadata}: current`);
      assert.equal(pool.rxInterface[last], named('rxInterface') ? 2 : 77, `${restoreMetadata}: rxInterface`);
      assert.equal((pool.flags[last] & (1 << 20)) !== 0, !named('flags'), `${restoreMetadata}: flags`);
    }
  }
});

test('inputCall calls an input node as the dispatcher does, through the shared call site', () => {
  const source = defineNode({
    name: 'source',
    type: 'input',
    nexts: { drop: 'error-drop' },
    process(ctx, buffers) {
      buffers[0] = 7;
      ctx.toSingleNext(0);
      return 1;
    },
  });
  const h = nodeHarness(source, { trace: false });
  const input = inputCall(h.node);
  h.node.singleNext = 3;
  assert.equal(input.call(), 1);
  assert.equal(input.buffers[0], 7);
  assert.equal(h.node.singleNext, 0, 'reset to -1 before the call, set by the node');
});
