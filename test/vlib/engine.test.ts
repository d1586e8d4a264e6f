import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Engine } from '../../src/vlib/engine.ts';
import { defineNode } from '../../src/vlib/node.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { FeatureArcError } from '../../src/vlib/feature-arc.ts';

/** Deterministic per-packet choice from a seed and a buffer's first data word. */
function choose(seed: number, tag: number, k: number): number {
  let h = Math.imul(seed ^ tag, 0x9e3779b1) >>> 0;
  h ^= h >>> 15;
  return h % k;
}

interface Scenario {
  seed: number;
  layers: number; // internal nodes form a layered DAG: node i may go to any node > i, or to a sink
  width: number;
  packets: number;
  burst: number;
  singleEvery: number; // every k-th call of a node sends the whole frame one way
  selfFreeEvery: number; // a node frees every k-th packet itself and compacts
}

interface Outcome {
  delivered: number[]; // packet tags in the order they reached the sink
  vectors: Record<string, number>;
  seen: Record<string, number>;
  maxFrame: number;
  selfFreed: number;
  free: number;
  doubleFrees: number;
}

/** Builds a random layered graph, pushes `packets` tagged packets through it, returns what happened. */
function runScenario(s: Scenario, traced: boolean): Outcome {
  const vm = new Engine({ buffers: 1024 });
  const names: string[] = [];
  for (let i = 0; i < s.layers * s.width; i++) names.push(`n${i}`);
  const seen: Record<string, number> = {};
  const delivered: number[] = [];
  let maxFrame = 0;
  let selfFreed = 0;
  let made = 0;
  let tag = 0;

  vm.registerNode(
    defineNode({
      name: 'test-input',
      type: 'input',
      nexts: Object.fromEntries(names.slice(0, s.width).map((n) => [n, n])),
      process(ctx, buffers, _n, nexts) {
        const want = Math.min(s.burst, s.packets - made);
        const got = ctx.pool.alloc(buffers, 0, want);
        for (let i = 0; i < got; i++) {
          const bi = buffers[i];
          ctx.pool.opaque[bi * 8] = tag++;
          nexts[i] = choose(s.seed, ctx.pool.opaque[bi * 8], s.width);
        }
        made += got;
        return got;
      },
      trace: (ctx, bi) => `tag ${ctx.pool.opaque[bi * 8]}`,
    }),
  );
  vm.registerNode(
    defineNode({
      name: 'test-sink',
      nexts: {},
      traceBeforeProcess: true,
      trace: () => 'sink',
      process(ctx, buffers, n) {
        maxFrame = Math.max(maxFrame, n);
        seen['test-sink'] = (seen['test-sink'] ?? 0) + n;
        for (let i = 0; i < n; i++) delivered.push(ctx.pool.opaque[buffers[i] * 8]);
        ctx.pool.free(buffers, 0, n);
        return 0;
      },
    }),
  );
  for (let i = 0; i < names.length; i++) {
    const layer = Math.floor(i / s.width);
    const targets = names.slice((layer + 1) * s.width).concat(['test-sink', 'error-drop']);
    let calls = 0;
    vm.registerNode(
      defineNode({
        name: names[i],
        nexts: Object.fromEntries(targets.map((t) => [t, t])),
        trace: (ctx, bi, next) => `tag ${ctx.pool.opaque[bi * 8]} next ${next}`,
        process(ctx, buffers, n, nexts) {
          maxFrame = Math.max(maxFrame, n);
          seen[names[i]] = (seen[names[i]] ?? 0) + n;
          calls++;
          if (s.singleEvery > 0 && calls % s.singleEvery === 0) {
            ctx.toSingleNext(choose(s.seed, calls + i, targets.length - 1));
            return n;
          }
          let kept = 0;
          for (let j = 0; j < n; j++) {
            const bi = buffers[j];
            const t = ctx.pool.opaque[bi * 8];
            if (s.selfFreeEvery > 0 && choose(s.seed + i, t, s.selfFreeEvery) === 0) {
              ctx.pool.freeChain(bi);
              selfFreed++;
              continue;
            }
            buffers[kept] = bi;
            nexts[kept] = choose(s.seed + i, t, targets.length);
            kept++;
          }
          return kept;
        },
      }),
    );
  }
  vm.seal();
  if (traced) vm.traces.add(vm.nodeIndex('test-input'), 50);
  const free0 = vm.pool.available;
  vm.runUntilIdle();
  const vectors: Record<string, number> = {};
  for (const rt of vm.nodes) vectors[rt.name] = rt.vectors;
  assert.equal(vm.pool.available, free0, 'every buffer came back to the pool');
  return { delivered, vectors, seen, maxFrame, selfFreed, free: vm.pool.available, doubleFrees: vm.pool.doubleFrees };
}

const scenario = fc.record({
  seed: fc.integer({ min: 0, max: 0xffff }),
  layers: fc.integer({ min: 1, max: 4 }),
  width: fc.integer({ min: 1, max: 3 }),
  packets: fc.integer({ min: 0, max: 3000 }),
  burst: fc.integer({ min: 1, max: 256 }),
  singleEvery: fc.integer({ min: 0, max: 4 }),
  selfFreeEvery: fc.integer({ min: 0, max: 20 }),
});

test('conservation: every buffer leaves exactly once and the pool refills, for random graphs and traffic', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const out = runScenario(s, false);
      assert.equal(out.doubleFrees, 0);
      const dropped = out.vectors['error-drop'];
      assert.equal(out.delivered.length + dropped + out.selfFreed, s.packets, 'sink + drop + self-freed = made');
      assert.equal(new Set(out.delivered).size, out.delivered.length, 'no packet delivered twice');
    }),
    { numRuns: 60 },
  );
});

test('frames never exceed 256 and runtime vectors equal the packets each node saw', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const out = runScenario(s, false);
      assert.ok(out.maxFrame <= FRAME_SIZE, `frame of ${out.maxFrame}`);
      for (const [name, count] of Object.entries(out.seen)) assert.equal(out.vectors[name], count, name);
      assert.equal(out.vectors['test-input'], s.packets);
    }),
    { numRuns: 40 },
  );
});

test('tracing changes no output', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const plain = runScenario(s, false);
      const traced = runScenario(s, true);
      assert.deepEqual(traced.delivered, plain.delivered);
      assert.deepEqual(traced.vectors, plain.vectors);
    }),
    { numRuns: 30 },
  );
});

test('trace records follow a packet through every node in order', () => {
  const s: Scenario = { seed: 7, layers: 2, width: 1, packets: 10, burst: 10, singleEvery: 0, selfFreeEvery: 0 };
  const vm = new Engine({ buffers: 256 });
  // Rebuild a small fixed chain by hand: input → a → b → sink.
  let made = 0;
  vm.registerNode({
    name: 'src', type: 'input', nexts: { a: 'a' },
    process(ctx, buffers) {
      if (made >= s.packets) return 0;
      const got = ctx.pool.alloc(buffers, 0, s.packets);
      made += got;
      ctx.toSingleNext(0);
      return got;
    },
    trace: () => 'made',
  });
  vm.registerNode({ name: 'a', nexts: { b: 'b' }, process(ctx, _b, n) { ctx.toSingleNext(0); return n; }, trace: () => 'via a' });
  vm.registerNode({ name: 'b', nexts: { drop: 'error-drop' }, process(ctx, _b, n) { ctx.toSingleNext(0); return n; }, trace: () => 'via b' });
  vm.seal();
  vm.traces.add(vm.nodeIndex('src'), 3);
  vm.runUntilIdle();
  assert.equal(vm.traces.packets.length, 3);
  for (const p of vm.traces.packets) assert.deepEqual(p.records.map((r) => r.node), ['src', 'a', 'b', 'error-drop']);
  const text = vm.traces.format();
  assert.match(text, /Packet 1\n\n\d\d:\d\d:\d\d:\d{6}: src\n  made\n/);
  assert.equal(vm.pool.available, 256);
});

test('whole-frame hand-over moves a frame without copying it', () => {
  const vm = new Engine({ buffers: 512 });
  const framesSeen: Uint32Array[] = [];
  let made = 0;
  vm.registerNode({
    name: 'src', type: 'input', nexts: { a: 'a' },
    process(ctx, buffers) {
      if (made > 0) return 0;
      made = ctx.pool.alloc(buffers, 0, 256);
      framesSeen.push(buffers);
      ctx.toSingleNext(0);
      return made;
    },
  });
  vm.registerNode({
    name: 'a', nexts: { drop: 'error-drop' },
    process(ctx, buffers, n) {
      framesSeen.push(buffers);
      ctx.toSingleNext(0);
      return n;
    },
  });
  vm.runUntilIdle();
  assert.equal(framesSeen.length, 2);
  assert.equal(framesSeen[0], framesSeen[1], 'the same frame object reached node a');
  assert.equal(vm.frames.created, 1, 'one frame served the whole path');
});

test('buffer exhaustion: allocation falls short, is counted, and the engine keeps running', () => {
  const vm = new Engine({ buffers: 100 });
  let turns = 0;
  const held: number[] = [];
  vm.registerNode({
    name: 'greedy', type: 'input', nexts: { hold: 'hold' },
    process(ctx, buffers) {
      if (turns++ > 20) return 0;
      const got = ctx.pool.alloc(buffers, 0, 256);
      ctx.toSingleNext(0);
      return got;
    },
  });
  vm.registerNode({
    name: 'hold', nexts: { drop: 'error-drop' },
    process(ctx, buffers, n, nexts) {
      // Hold every packet for a few turns before releasing it, so the pool runs dry.
      for (let i = 0; i < n; i++) held.push(buffers[i]);
      if (held.length > 150 || turns > 20) {
        const release = held.splice(0, held.length);
        for (let i = 0; i < release.length; i++) ctx.pool.freeChain(release[i]);
      }
      void nexts;
      return 0;
    },
  });
  vm.runUntilIdle();
  for (const bi of held.splice(0)) vm.pool.freeChain(bi);
  assert.ok(vm.pool.allocFailures > 0, 'failures counted');
  assert.equal(vm.pool.available, 100, 'nothing leaked');
  assert.equal(vm.pool.doubleFrees, 0);
});

test('a next to a node registered later resolves; one that never resolves drops, counted', () => {
  const vm = new Engine({ buffers: 64 });
  let made = 0;
  vm.registerNode({
    name: 'src', type: 'input', nexts: { later: 'later', nowhere: 'nowhere' },
    process(ctx, buffers, _n, nexts) {
      if (made > 0) return 0;
      made = ctx.pool.alloc(buffers, 0, 10);
      for (let i = 0; i < made; i++) nexts[i] = i % 2;
      return made;
    },
  });
  let reached = 0;
  vm.registerNode({ name: 'later', process(ctx, buffers, n) { reached += n; ctx.pool.free(buffers, 0, n); return 0; } });
  assert.deepEqual(vm.unresolvedNexts(), ['src -> nowhere']);
  vm.runUntilIdle();
  assert.equal(reached, 5);
  assert.equal(vm.errorCounter('error-drop', 'next node not resolved'), 5);
  assert.equal(vm.pool.available, 64);
});

test('sibling nodes share next arcs, and addNext on one extends all', () => {
  const vm = new Engine({ buffers: 16 });
  const pass = (): number => 0;
  vm.registerNode({ name: 'x', nexts: { drop: 'error-drop' }, process: pass });
  vm.registerNode({ name: 'y', siblingOf: 'x', process: pass });
  const k = vm.addNext('y', 'null-node');
  assert.equal(vm.addNext('x', 'null-node'), k);
  assert.deepEqual(vm.node('x')!.nextNames, ['error-drop', 'null-node']);
  assert.throws(() => vm.registerNode({ name: 'z', siblingOf: 'x', nexts: { a: 'b' }, process: pass }), /cannot declare its own/);
  assert.throws(() => vm.registerNode({ name: 'x', process: pass }), /already registered/);
});

test('process nodes suspend on the timer wheel and wake on events', async () => {
  const vm = new Engine({ buffers: 16 });
  const log: string[] = [];
  vm.registerNode({
    name: 'ticker', type: 'process',
    async run(ctx) {
      log.push('start');
      await ctx.suspend(5);
      log.push('slept');
      const event = await ctx.waitForEvent<string>();
      log.push(`event ${event}`);
    },
  });
  vm.start();
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(log, ['start', 'slept']);
  assert.equal(vm.signalProcess('ticker', 'hello'), true);
  await new Promise((r) => setTimeout(r, 5));
  vm.stop();
  assert.deepEqual(log, ['start', 'slept', 'event hello']);
  assert.equal(vm.node('ticker')!.suspends, 2);
});

test('feature arcs: order respects before/after constraints; contradictions are a clear error', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 7 }).chain((k) =>
        fc.record({
          k: fc.constant(k),
          permutation: fc.shuffledSubarray([...Array(k).keys()], { minLength: k, maxLength: k }),
          constraints: fc.array(fc.tuple(fc.nat(k - 1), fc.nat(k - 1), fc.boolean()), { maxLength: 12 }),
        }),
      ),
      ({ k, permutation, constraints }) => {
        const vm = new Engine({ buffers: 16 });
        const rank = new Map(permutation.map((node, r) => [node, r]));
        const before = new Map<number, number[]>();
        const after = new Map<number, number[]>();
        // Keep only constraints consistent with the hidden permutation, so a valid order exists.
        const kept: [number, number][] = [];
        for (const [a, b, useBefore] of constraints) {
          if (a === b) continue;
          const [first, second] = rank.get(a)! < rank.get(b)! ? [a, b] : [b, a];
          kept.push([first, second]);
          if (useBefore) before.set(first, [...(before.get(first) ?? []), second]);
          else after.set(second, [...(after.get(second) ?? []), first]);
        }
        vm.registerNode({ name: 'start', nexts: { end: 'end' }, process: () => 0 });
        vm.registerNode({ name: 'end', process: () => 0 });
        vm.features.registerArc({ name: 'arc', startNodes: ['start'], endNode: 'end' });
        for (let i = 0; i < k; i++) {
          vm.registerNode({ name: `f${i}`, process: () => 0 });
          vm.features.registerFeature({
            arc: 'arc', node: `f${i}`,
            runsBefore: (before.get(i) ?? []).map((j) => `f${j}`),
            runsAfter: (after.get(i) ?? []).map((j) => `f${j}`),
          });
        }
        vm.seal();
        const order = vm.features.order('arc');
        for (const [first, second] of kept) assert.ok(order.indexOf(`f${first}`) < order.indexOf(`f${second}`));
      },
    ),
    { numRuns: 100 },
  );
  const vm = new Engine({ buffers: 16 });
  vm.registerNode({ name: 'end', process: () => 0 });
  vm.features.registerArc({ name: 'arc', startNodes: [], endNode: 'end' });
  vm.registerNode({ name: 'a', process: () => 0 });
  vm.registerNode({ name: 'b', process: () => 0 });
  vm.features.registerFeature({ arc: 'arc', node: 'a', runsBefore: ['b'] });
  vm.features.registerFeature({ arc: 'arc', node: 'b', runsBefore: ['a'] });
  assert.throws(() => vm.seal(), (e: unknown) => e instanceof FeatureArcError && /contradictory .* among a, b/.test(e.message));
});

test('feature arcs: packets visit enabled features in order per interface, then the end node', () => {
  const vm = new Engine({ buffers: 64 });
  const visits: string[] = [];
  let made = 0;
  let arcIndex = -1;
  vm.registerNode({
    name: 'start', type: 'input', nexts: { end: 'end' },
    process(ctx, buffers, _n, nexts) {
      if (made > 0) return 0;
      made = ctx.pool.alloc(buffers, 0, 2);
      for (let i = 0; i < made; i++) {
        ctx.pool.rxInterface[buffers[i]] = i; // packet 0 on interface 0, packet 1 on interface 1
        const k = ctx.engine.features.start(arcIndex, 'start', i, buffers[i]);
        nexts[i] = k >= 0 ? k : 0;
      }
      return made;
    },
  });
  vm.registerNode({
    name: 'end',
    process(ctx, buffers, n) {
      for (let i = 0; i < n; i++) visits.push(`end:${ctx.pool.rxInterface[buffers[i]]}`);
      ctx.pool.free(buffers, 0, n);
      return 0;
    },
  });
  for (const f of ['f1', 'f2', 'f3']) {
    vm.registerNode({
      name: f,
      process(ctx, buffers, n, nexts) {
        for (let i = 0; i < n; i++) {
          visits.push(`${f}:${ctx.pool.rxInterface[buffers[i]]}`);
          nexts[i] = ctx.featureNext(buffers[i]);
        }
        return n;
      },
    });
  }
  arcIndex = vm.features.registerArc({ name: 'arc', startNodes: ['start'], endNode: 'end' });
  vm.features.registerFeature({ arc: 'arc', node: 'f2', runsAfter: ['f1'] });
  vm.features.registerFeature({ arc: 'arc', node: 'f3', runsAfter: ['f2'] });
  vm.features.registerFeature({ arc: 'arc', node: 'f1' });
  vm.seal();
  vm.features.enable('arc', 'f3', 1, true);
  vm.features.enable('arc', 'f1', 1, true);
  vm.runUntilIdle();
  assert.deepEqual(visits.filter((v) => v.endsWith(':1')), ['f1:1', 'f3:1', 'end:1']);
  assert.deepEqual(visits.filter((v) => v.endsWith(':0')), ['end:0']);
  assert.throws(() => vm.features.enable('arc', 'nope', 1, true), /'nope' is not a feature on arc 'arc'/);
});

test('waking the engine during a turn queues one next turn, not two', async () => {
  const vm = new Engine({ buffers: 16, mode: 'adaptive' });
  let polls = 0;
  const rt = vm.registerNode({
    name: 'rearm',
    type: 'input',
    state: 'interrupt',
    nexts: { drop: 'error-drop' },
    process(ctx, buffers) {
      polls++;
      if (polls < 20) ctx.engine.interrupt(ctx); // re-arms itself from inside the turn
      // Moving a packet makes the turn schedule its successor itself, as well as the wake.
      return ctx.pool.alloc(buffers, 0, 1);
    },
  });
  vm.start();
  vm.interrupt(rt);
  await new Promise((r) => setTimeout(r, 200));
  vm.stop();
  assert.equal(polls, 20);
  // One turn per poll plus one idle turn; a duplicated turn per wake would double this.
  assert.ok(vm.loops <= 25, `loops ${vm.loops}`);
});
