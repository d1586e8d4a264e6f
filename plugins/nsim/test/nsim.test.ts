// The nsim plugin through the engine, as a user drives it: a pg stream in on pg0 (each
// packet numbered by its UDP source port), forwarded out of pg1 with nsim on pg1's
// output, pg1's capture read back. Pass-through, delay, pacing, loss/reorder/duplicate
// rates for fixed seeds (checked against a replay of the documented draws), replay by
// seed, a full ring, disabling with packets held, copying buffer chains, every buffer
// accounted for under random configurations, the CLI's text and its refusals.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { BufferFlag, createEngine, ip4Frame, loadPlugins, NONE, OPAQUE_WORDS, readPcapFile, writePcapFile, type Engine } from '../../../src/index.ts';
import nsim, { nsimMain, Random, U31_RANGE } from '../index.ts';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vecnet-nsim-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));

async function engineWithNsim(buffers = 4096): Promise<Engine> {
  const vm = await loadPlugins(createEngine({ buffers }), [nsim]);
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'set interface state pg0 up',
    'set interface state pg1 up',
    'set interface ip address pg0 10.10.1.1/24',
    'set interface ip address pg1 10.10.2.1/24',
    'ip route add 48.0.0.0/8 via 10.10.2.2 pg1',
    'set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02',
  ]) vm.cli(line);
  return vm;
}

/** Runs the engine until the streams are done, nothing is pending and nsim holds nothing. */
function drain(vm: Engine, limitMs = 10_000): void {
  const main = nsimMain(vm);
  const pg = vm.node('pg-input');
  const start = performance.now();
  for (;;) {
    const work = vm.runOnce();
    if (work === 0 && !vm.hasPending && main.held() === 0 && pg?.state !== 'polling') break;
    if (performance.now() - start > limitMs) throw new Error(`nsim still holds ${main.held()} packets after ${limitMs} ms`);
  }
  vm.runUntilIdle(); // idle hooks flush the capture file
}

/** Wall-clock ms, as the pcap writer stamps packets. */
const wallMs = (): number => performance.timeOrigin + performance.now();

interface Played {
  /** Packet numbers (UDP source port) in the order pg1 sent them. */
  readonly seqs: number[];
  /** Their capture stamps minus the time just before the stream started, in ms. */
  readonly afterMs: number[];
}

let streams = 0;
/** Numbered frames 1 … count (UDP source port) into pg0, pg1's capture out. */
function startStream(vm: Engine, first: number, count: number, length = 64): { output: string; t0: number } {
  const n = streams++;
  const input = path.join(directory, `in-${n}.pcap`);
  const output = path.join(directory, `pg1-${n}.pcap`);
  writePcapFile(input, Array.from({ length: count }, (_, i) => ({ data: ip4Frame({ sport: first + i, length }) })));
  vm.cli(`packet-generator new pcap ${input} source pg0 name s${n}`);
  vm.cli(`packet-generator capture pg1 pcap ${output}`);
  const t0 = wallMs();
  vm.cli(`packet-generator enable-stream s${n}`);
  return { output, t0 };
}

function captured(output: string, t0: number): Played {
  const packets = readPcapFile(output).packets;
  return {
    seqs: packets.map((p) => (p.data[34] << 8) | p.data[35]),
    afterMs: packets.map((p) => Number(p.timestampNs) / 1e6 - t0),
  };
}

function play(vm: Engine, count: number, length = 64): Played {
  const { output, t0 } = startStream(vm, 1, count, length);
  drain(vm);
  return captured(output, t0);
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

function counters(vm: Engine) {
  return (JSON.parse(vm.cli('show nsim --json')) as { counters: Record<string, number> }).counters;
}

test('delay 0: every packet goes on at once and in order; nothing is held; the pool is whole again', async () => {
  const vm = await engineWithNsim();
  vm.cli('set nsim delay 0 seed 1');
  vm.cli('nsim output-feature enable-disable pg1');
  const free = vm.pool.available;
  const out = play(vm, 600);
  assert.deepEqual(out.seqs, range(1, 600));
  assert.deepEqual(counters(vm), { buffered: 0, transmitted: 0, loss: 0, full: 0, reordered: 0, duplicated: 0, noBuffer: 0 });
  assert.equal(vm.pool.available, free);
  assert.equal(vm.pool.doubleFrees, 0);
});

/**
 * What the node decides for packet 1 … count under a seed, by its documented draws: per
 * packet drop (if drop-fraction > 0), then, if kept, reorder and duplicate (each if > 0),
 * each a 31-bit draw below fraction × 2^31.
 */
function replayDecisions(seed: number, count: number, drop: number, reorder: number, duplicate: number) {
  const random = new Random(seed);
  const chance = (f: number): boolean => random.nextU31() < f * U31_RANGE;
  const dropped = new Set<number>();
  const reordered = new Set<number>();
  const duplicated = new Set<number>();
  for (let seq = 1; seq <= count; seq++) {
    if (drop > 0 && chance(drop)) {
      dropped.add(seq);
      continue;
    }
    if (reorder > 0 && chance(reorder)) reordered.add(seq);
    if (duplicate > 0 && chance(duplicate)) duplicated.add(seq);
  }
  return { dropped, reordered, duplicated };
}

const within = (observed: number, n: number, p: number): boolean => Math.abs(observed - n * p) <= 6 * Math.sqrt(n * p * (1 - p)) + 1;

test('fixed seeds: loss, reordering and duplication at their fractions, exactly the packets the seed picks; every packet accounted for', async () => {
  const N = 5000;
  const [drop, reorder, duplicate] = [0.1, 0.1, 0.05];
  const outcomes: string[] = [];
  for (const seed of [7, 7, 8]) {
    // Bandwidth only to size the ring for the whole burst (8192 slots); 5 ns a packet of pacing.
    const vm = await engineWithNsim(32768);
    vm.cli(`set nsim delay 1 ms bandwidth 100 gbit packet-size 64 drop-fraction ${drop} reorder-fraction ${reorder} duplicate-fraction ${duplicate} seed ${seed}`);
    vm.cli('nsim output-feature enable-disable pg1');
    const free = vm.pool.available;
    const out = play(vm, N);
    const c = counters(vm);
    const expected = replayDecisions(seed, N, drop, reorder, duplicate);

    assert.equal(c.full, 0);
    assert.equal(c.loss, expected.dropped.size);
    assert.equal(c.reordered, expected.reordered.size);
    assert.equal(c.duplicated, expected.duplicated.size);
    assert.ok(within(c.loss, N, drop), `loss ${c.loss}`);
    assert.ok(within(c.reordered, N - c.loss, reorder), `reordered ${c.reordered}`);
    assert.ok(within(c.duplicated, N - c.loss, duplicate), `duplicated ${c.duplicated}`);

    // What left: each kept packet once, each duplicated one twice, the lost ones never.
    const times = new Map<number, number>();
    for (const s of out.seqs) times.set(s, (times.get(s) ?? 0) + 1);
    for (let s = 1; s <= N; s++) {
      const want = expected.dropped.has(s) ? 0 : expected.duplicated.has(s) ? 2 : 1;
      assert.equal(times.get(s) ?? 0, want, `packet ${s}`);
    }
    assert.equal(out.seqs.length, N - c.loss + c.duplicated);
    assert.equal(c.transmitted, c.buffered);
    assert.equal(c.buffered, N - c.loss - c.reordered + c.duplicated);
    // The held packets keep their order; reordered ones overtake (some of) them.
    const held = out.seqs.filter((s) => !expected.reordered.has(s));
    assert.deepEqual(held, [...held].sort((a, b) => a - b), 'held packets leave in order');
    const overtaking = out.seqs.findIndex((s, i) => expected.reordered.has(s) && out.seqs.slice(i + 1).some((later) => later < s));
    assert.ok(overtaking >= 0, 'a reordered packet left before an older one');
    assert.equal(vm.pool.available, free, 'every buffer back in the pool');
    assert.equal(vm.pool.doubleFrees, 0);
    outcomes.push(JSON.stringify({ ...c, lost: [...expected.dropped], dup: [...expected.duplicated], sorted: [...out.seqs].sort((a, b) => a - b) }));
  }
  assert.equal(outcomes[0], outcomes[1], 'same seed, same outcome');
  assert.notEqual(outcomes[0], outcomes[2], 'another seed, another outcome');
});

test('delay is honoured: packets are held, then none leaves before the delay has passed', async () => {
  const vm = await engineWithNsim();
  vm.cli('set nsim delay 100 ms seed 1');
  vm.cli('nsim output-feature enable-disable pg1');
  const { output, t0 } = startStream(vm, 1, 50);
  for (let i = 0; i < 10; i++) vm.runOnce();
  assert.equal(nsimMain(vm).held(), 50, 'all 50 held at first');
  assert.match(vm.cli('show nsim'), /^ pg1 2: held 50 of 1024, at most 50$/m);
  drain(vm);
  const out = captured(output, t0);
  assert.deepEqual(out.seqs, range(1, 50));
  for (const ms of out.afterMs) {
    assert.ok(ms >= 100, `left ${ms.toFixed(3)} ms after the stream started`);
    assert.ok(ms < 100 + 2000, `left ${ms.toFixed(3)} ms after the stream started`);
  }
});

test('bandwidth paces: packet i leaves no earlier than (i+1)·size·8/bandwidth after it came', async () => {
  const vm = await engineWithNsim();
  vm.cli('set nsim delay 0 bandwidth 10 mbit seed 1');
  vm.cli('nsim output-feature enable-disable pg1');
  const out = play(vm, 20, 1000);
  assert.deepEqual(out.seqs, range(1, 20));
  const perPacketMs = (1000 * 8) / 10e6 / 1e-3; // 0.8 ms
  out.afterMs.forEach((ms, i) => assert.ok(ms >= (i + 1) * perPacketMs, `packet ${i + 1} left after ${ms.toFixed(3)} ms`));
});

test('a full ring drops and counts the excess; the packets it holds still leave', async () => {
  const vm = await engineWithNsim();
  // Ring: ceil(0.1 s × 1 mbit / 8 / 1500) + 256 = 265 slots.
  const text = vm.cli('set nsim delay 100 ms bandwidth 1 mbit packet-size 1500 seed 1');
  assert.match(text, /^ ring: 265 packets per interface$/m);
  vm.cli('nsim output-feature enable-disable pg1');
  const free = vm.pool.available;
  const out = play(vm, 600);
  assert.deepEqual(out.seqs, range(1, 265));
  const c = counters(vm);
  assert.equal(c.full, 600 - 265);
  assert.equal(c.buffered, 265);
  assert.match(vm.cli('show errors'), /\s335\s+nsim-output-feature\s+Packets dropped due to lack of space/);
  assert.equal(vm.pool.available, free);
});

test('disabling: what is held still leaves at its time; new packets pass at once', async () => {
  const vm = await engineWithNsim();
  vm.cli('set nsim delay 100 ms seed 1');
  vm.cli('nsim output-feature enable-disable pg1');
  const free = vm.pool.available;
  const first = startStream(vm, 1, 20);
  for (let i = 0; i < 10; i++) vm.runOnce();
  assert.equal(nsimMain(vm).held(), 20);
  vm.cli('nsim output-feature enable-disable pg1 disable');
  assert.match(vm.cli('show nsim'), /^ nsim not enabled\n pg1 2 \(disabled\): held 20 of 1024$/m);
  // A second stream: the capture restarts, so it holds what left after this point.
  const second = startStream(vm, 101, 5);
  drain(vm);
  assert.deepEqual(captured(second.output, first.t0).seqs, [...range(101, 5), ...range(1, 20)]);
  assert.equal(vm.pool.available, free);
});

test('a duplicate is a copy of the whole buffer chain and its metadata; a short pool leaks nothing', async () => {
  const vm = await loadPlugins(createEngine({ buffers: 64 }), [nsim]);
  const pool = vm.pool;
  const main = nsimMain(vm);
  const free = pool.available;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8000 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
      fc.integer({ min: 0, max: 100 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: OPAQUE_WORDS, maxLength: OPAQUE_WORDS }),
      (data, headroom, opaque) => {
        const bi = pool.fromBytes(data);
        assert.notEqual(bi, NONE);
        pool.advance(bi, -headroom); // a packet whose headers grew into the headroom
        pool.bytes.fill(0xab, pool.current[bi], pool.current[bi] + headroom);
        pool.rxInterface[bi] = 3;
        pool.txInterface[bi] = 4;
        pool.l2Offset[bi] = pool.current[bi];
        pool.l3Offset[bi] = pool.current[bi] + 14;
        pool.flags[bi] |= BufferFlag.TRACED | BufferFlag.L4_CHECKSUM_CORRECT;
        pool.opaque.set(opaque, bi * OPAQUE_WORDS);
        const copy = main.copyPacket(pool, bi);
        assert.notEqual(copy, NONE);
        assert.deepEqual(pool.toBytes(copy), pool.toBytes(bi));
        assert.equal(pool.packetLength(copy), data.length + headroom);
        assert.equal(pool.current[copy] - pool.dataStart(copy), pool.current[bi] - pool.dataStart(bi), 'same headroom in use');
        assert.equal(pool.l2Offset[copy], pool.current[copy]);
        assert.equal(pool.l3Offset[copy], pool.current[copy] + 14);
        assert.equal(pool.rxInterface[copy], 3);
        assert.equal(pool.txInterface[copy], 4);
        assert.equal(pool.flags[copy] & BufferFlag.TRACED, 0, 'the copy is not traced');
        assert.notEqual(pool.flags[copy] & BufferFlag.L4_CHECKSUM_CORRECT, 0);
        assert.deepEqual(Array.from(pool.opaque.subarray(copy * OPAQUE_WORDS, (copy + 1) * OPAQUE_WORDS)), opaque);
        // A copy, not a view: changing the original leaves it alone.
        const before = pool.toBytes(copy);
        pool.bytes[pool.current[bi]] ^= 0xff;
        assert.deepEqual(pool.toBytes(copy), before);
        pool.freeChain(bi);
        pool.freeChain(copy);
        assert.equal(pool.available, free);
      },
    ),
    { numRuns: 200 },
  );
  // 64 buffers of 2048 bytes: a 40-buffer packet cannot be copied; nothing is lost trying.
  const big = pool.fromBytes(new Uint8Array(40 * 2048));
  assert.equal(main.copyPacket(pool, big), NONE);
  pool.freeChain(big);
  assert.equal(pool.available, free);
  assert.equal(pool.doubleFrees, 0);
});

test('property: under any configuration every packet leaves once (twice if duplicated) or is counted as dropped', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        delayUs: fc.constantFrom(0, 100, 1000, 3000),
        bandwidth: fc.constantFrom('', 'bandwidth 1 gbit', 'bandwidth 50 mbit'),
        drop: fc.double({ min: 0, max: 0.5, noNaN: true }),
        reorder: fc.double({ min: 0, max: 0.5, noNaN: true }),
        duplicate: fc.double({ min: 0, max: 0.5, noNaN: true }),
        seed: fc.integer({ min: 0, max: 0xffffffff }),
        count: fc.integer({ min: 1, max: 400 }),
        length: fc.integer({ min: 64, max: 1500 }),
      }),
      async (p) => {
        const vm = await engineWithNsim(1024);
        const reorder = p.delayUs === 0 && p.bandwidth === '' ? 0 : p.reorder;
        vm.cli(`set nsim delay ${p.delayUs} us ${p.bandwidth} drop-fraction ${p.drop} reorder-fraction ${reorder} duplicate-fraction ${p.duplicate} seed ${p.seed}`);
        vm.cli('nsim output-feature enable-disable pg1');
        const free = vm.pool.available;
        const out = play(vm, p.count, p.length);
        const c = counters(vm);
        assert.equal(out.seqs.length + c.loss + c.full, p.count + c.duplicated);
        assert.equal(c.transmitted, c.buffered);
        assert.equal(vm.pool.available, free);
        assert.equal(vm.pool.doubleFrees, 0);
      },
    ),
    { numRuns: 25 },
  );
});

test('CLI: set nsim and show nsim print the configuration, the interfaces and the counters; traces say what happened', async () => {
  const vm = await engineWithNsim();
  assert.throws(() => vm.cli('show nsim'), /Network simulator not configured/);
  assert.throws(() => vm.cli('nsim output-feature enable-disable pg1'), /Not configured, please 'set nsim' first/);
  const config = [
    'configuration',
    ' delay (ms): 2.00',
    ' drop fraction: 0.25000',
    ' reorder fraction: 0',
    ' duplicate fraction: 0.10000',
    ' packet size: 1500',
    ' throughput (Gbps): 10.00',
    ' seed: 5',
    ' ring: 1024 packets per interface',
  ];
  assert.equal(vm.cli('set nsim delay 2 ms bandwidth 10 gbit drop-fraction 25% duplicate-fraction 0.1 seed 5'), config.join('\n'));
  assert.equal(vm.cli('show nsim'), [...config, ' nsim not enabled', 'counters', ' buffered: 0', ' transmitted: 0', ' dropped, simulated loss: 0', ' dropped, ring full: 0', ' reordered: 0', ' duplicated: 0', ' not duplicated, no buffer: 0'].join('\n'));
  vm.cli('nsim output-feature enable-disable pg1');
  vm.cli('trace add pg-input 20');
  const out = play(vm, 20);
  const c = counters(vm);
  assert.equal(out.seqs.length, 20 - c.loss + c.duplicated);
  assert.ok(c.loss > 0, 'seed 5 loses some of 20 at 25 %');
  const show = vm.cli('show nsim');
  assert.equal(
    show,
    [
      ...config,
      'output feature arcs to:',
      ` pg1 2: held 0 of 1024, at most ${nsimMain(vm).ringList()[0].highWater}`,
      'counters',
      ` buffered: ${c.buffered}`,
      ` transmitted: ${c.buffered}`,
      ` dropped, simulated loss: ${c.loss}`,
      ' dropped, ring full: 0',
      ' reordered: 0',
      ` duplicated: ${c.duplicated}`,
      ' not duplicated, no buffer: 0',
    ].join('\n'),
  );
  const json = JSON.parse(vm.cli('show nsim --json')) as { settings: string; interfaces: { name: string; enabled: boolean }[] };
  assert.equal(json.settings, 'delay 2 ms bandwidth 10 gbit packet-size 1500 drop-fraction 0.25 duplicate-fraction 0.1 seed 5');
  assert.deepEqual(json.interfaces.map((i) => [i.name, i.enabled]), [['pg1', true]]);
  const trace = vm.cli('show trace');
  assert.match(trace, /nsim-output-feature\n {2}NSIM: tx time \d+\.\d{6} sw_if_index 2\n/);
  assert.match(trace, /nsim-wheel\n {2}NSIM: tx at \d+\.\d{6} sw_if_index 2\n.*pg1-tx/);
  assert.match(trace, /nsim-output-feature\n {2}NSIM: dropped, simulated network loss\n.*error-drop/);
  assert.match(vm.cli('show errors'), new RegExp(`\\s${c.loss}\\s+nsim-output-feature\\s+Network loss simulation drop packets`));
  assert.match(vm.cli('show errors'), new RegExp(`\\s${c.buffered}\\s+nsim-wheel\\s+Packets transmitted`));
  // The settings text is itself a valid command that gives the same configuration.
  vm.cli(`set nsim ${json.settings}`);
  assert.equal(vm.cli('show nsim').split('\n').slice(0, 9).join('\n'), config.join('\n'));
});

test('CLI: each malformed line is one error naming the token, and changes nothing', async () => {
  const vm = await engineWithNsim();
  vm.cli('set nsim delay 1 ms seed 3');
  const main = nsimMain(vm);
  const before = main.config;
  const refusals: [string, RegExp][] = [
    ['set nsim', /set nsim: missing delay \(expected: set nsim delay <time>/],
    ['set nsim delay', /set nsim: expected a time such as '10 ms' .* for delay, got end of input/],
    ['set nsim delay 10', /set nsim: expected a unit \(us\|ms\|s\) after '10' for delay, got end of input/],
    ['set nsim delay 10 parsecs', /set nsim: expected a unit \(us\|ms\|s\) after '10' for delay, got 'parsecs'/],
    ['set nsim delay soon', /set nsim: expected a time such as '10 ms' .* for delay, got 'soon'/],
    ['set nsim delay 2 min', /got 'min'/],
    ['set nsim delay 120 s', /set nsim: delay '120 s' is out of range/],
    ['set nsim delay 1 ms bandwidth fast', /set nsim: expected a rate such as '10 gbit' .* for bandwidth, got 'fast'/],
    ['set nsim delay 1 ms bandwidth 10 gbps', /set nsim: expected a unit \(bit\|kbit\|mbit\|gbit\|byte\|kbyte\|mbyte\|gbyte\) after '10' for bandwidth, got 'gbps'/],
    ['set nsim delay 1 ms drop-fraction 2', /set nsim: expected a fraction 0\.\.1 .* for drop-fraction, got '2'/],
    ['set nsim delay 1 ms reorder-fraction 0.5x', /for reorder-fraction, got '0\.5x'/],
    ['set nsim delay 1 ms duplicate-fraction', /for duplicate-fraction, got end of input/],
    ['set nsim delay 1 ms packet-size 20', /set nsim: expected a number in 64\.\.9000 for packet-size, got '20'/],
    ['set nsim delay 1 ms seed -1', /set nsim: expected a number in 0\.\.4294967295 for seed, got '-1'/],
    ['set nsim delay 1 ms packets-per-drop x', /for packets-per-drop, got 'x'/],
    ['set nsim delay 1 ms frobnicate 3', /set nsim: unknown input `frobnicate 3'/],
    ['set nsim delay 0 reorder-fraction 0.1', /set nsim: invalid reorder fraction 0\.1 for delay 0 without a bandwidth/],
    ['nsim output-feature enable-disable', /Please specify one interface/],
    ['nsim output-feature enable-disable pg9', /unknown interface 'pg9'/],
    ['nsim output-feature enable-disable pg0 pg1', /unknown input `pg1'/],
    ['show nsim extra', /show nsim: unexpected argument 'extra'/],
  ];
  for (const [line, expected] of refusals) {
    assert.throws(() => vm.cli(line), (e: Error) => expected.test(e.message) && !e.message.includes('\n'), line);
  }
  assert.equal(main.config, before, 'the configuration is the one set before');
  assert.deepEqual(vm.features.enabledOn('interface-output', 2), []);
  // VPP's packets-per-drop spelling still works.
  vm.cli('set nsim delay 1 ms packets-per-drop 20 packets-per-reorder 10 seed 3');
  assert.equal(main.config!.dropFraction, 0.05);
  assert.equal(main.config!.reorderFraction, 0.1);
});
