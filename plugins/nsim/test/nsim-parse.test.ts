// The nsim value grammar and the seeded random source: times, rates and fractions parse
// from every spelling the CLI accepts (number and unit as one word or two) to the value
// the unit says, format back to text that parses to the same value, and any other text is
// refused without throwing; the CLI readers name the offending word. The random source
// replays from its seed and its fractions hit their rate.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CliError, CliInput } from '../../../src/index.ts';
import {
  formatRate,
  formatTime,
  MAX_DELAY_NS,
  MAX_RATE_BPS,
  parseFraction,
  parseRate,
  parseTime,
  RATE_UNITS,
  readFraction,
  readRate,
  readTime,
  TIME_UNITS,
} from '../nsim-parse.ts';
import { Random, U31_RANGE } from '../random.ts';

const timeUnits = [...TIME_UNITS.keys()];
const rateUnits = [...RATE_UNITS.keys()];
const close = (a: number, b: number, relative = 1e-9): boolean => Math.abs(a - b) <= relative * Math.max(Math.abs(a), Math.abs(b), 1e-300);

test('times: `<n> <unit>` and `<n><unit>` scale by the unit; a bare 0 is no delay; examples from VPP', () => {
  assert.equal(parseTime('10 ms'), 10e6);
  assert.equal(parseTime('0.5 ms'), 0.5e6);
  assert.equal(parseTime('0.5ms'), 0.5e6);
  assert.equal(parseTime('100 us'), 100e3);
  assert.equal(parseTime('25.0 ms'), 25e6);
  assert.equal(parseTime('1 sec'), 1e9);
  assert.equal(parseTime('2s'), 2e9);
  assert.equal(parseTime('0'), 0);
  assert.equal(parseTime('0 us'), 0);
  for (const bad of ['', '10', '-1 ms', '10 min', 'ms', '1e400 ms', '61 s', '10 ms ms', 'NaN ms', '0x10 ms', '1,5 ms']) {
    assert.equal(parseTime(bad), null, bad);
  }
});

test('property: any time up to a minute, in any unit and either spelling, parses to value × unit', () => {
  fc.assert(
    fc.property(fc.constantFrom(...timeUnits), fc.double({ min: 0, max: 60, noNaN: true }), fc.boolean(), (unit, seconds, glued) => {
      const scale = TIME_UNITS.get(unit)!;
      const value = (seconds * 1e9) / scale; // a value that is within a minute in this unit
      const text = String(value);
      const parsed = parseTime(glued ? `${text}${unit}` : `${text} ${unit}`);
      const expected = Number(text) * scale;
      if (expected > MAX_DELAY_NS) assert.equal(parsed, null);
      else assert.equal(parsed, expected);
    }),
    { numRuns: 500 },
  );
});

test('property: formatTime and formatRate give text that parses back to the value', () => {
  fc.assert(
    fc.property(fc.double({ min: 1, max: MAX_DELAY_NS, noNaN: true }), (ns) => {
      const back = parseTime(formatTime(ns));
      assert.ok(back !== null && close(back, ns, 1e-8), `${ns} → '${formatTime(ns)}' → ${back}`);
    }),
    { numRuns: 500 },
  );
  assert.equal(formatTime(0), '0');
  assert.equal(parseTime(formatTime(0)), 0);
  fc.assert(
    fc.property(fc.double({ min: 1, max: MAX_RATE_BPS, noNaN: true }), (bps) => {
      const back = parseRate(formatRate(bps));
      assert.ok(back !== null && close(back, bps, 1e-8), `${bps} → '${formatRate(bps)}' → ${back}`);
    }),
    { numRuns: 500 },
  );
});

test('rates: bits and bytes per second in k/m/g; zero, bare numbers and other units are refused', () => {
  assert.equal(parseRate('10 gbit'), 10e9);
  assert.equal(parseRate('5.5 gbit'), 5.5e9);
  assert.equal(parseRate('100 mbit'), 100e6);
  assert.equal(parseRate('100mbit'), 100e6);
  assert.equal(parseRate('1 gbyte'), 8e9);
  assert.equal(parseRate('64 kbit'), 64e3);
  assert.equal(parseRate('9600 bit'), 9600);
  for (const bad of ['0 gbit', '10', '10 gbps', '-1 gbit', 'gbit', '2000 gbyte', '1 Gbit']) assert.equal(parseRate(bad), null, bad);
  fc.assert(
    fc.property(fc.constantFrom(...rateUnits), fc.double({ min: 1e-3, max: 1e6, noNaN: true }), fc.boolean(), (unit, value, glued) => {
      const text = String(value);
      const expected = Number(text) * RATE_UNITS.get(unit)!;
      const parsed = parseRate(glued ? `${text}${unit}` : `${text} ${unit}`);
      if (expected > 0 && expected <= MAX_RATE_BPS) assert.equal(parsed, expected);
      else assert.equal(parsed, null);
    }),
    { numRuns: 500 },
  );
});

test('fractions: 0 … 1 or a percentage; anything else is refused', () => {
  assert.equal(parseFraction('0.05'), 0.05);
  assert.equal(parseFraction('5%'), 0.05);
  assert.equal(parseFraction('1'), 1);
  assert.equal(parseFraction('0'), 0);
  for (const bad of ['1.01', '-0.1', '101%', '', '%', 'half', '0.5.5']) assert.equal(parseFraction(bad), null, bad);
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (f) => {
      assert.equal(parseFraction(String(f)), Number(String(f)));
    }),
  );
});

test('property: any text at all is a value in range or null, never a throw', () => {
  const words = fc.oneof(fc.string(), fc.constantFrom(...timeUnits, ...rateUnits, '0', '1.5', '-', 'e', '%', ' ', '1e9'));
  fc.assert(
    fc.property(fc.array(words, { maxLength: 4 }).map((parts) => parts.join('')), (text) => {
      const t = parseTime(text);
      assert.ok(t === null || (t >= 0 && t <= MAX_DELAY_NS));
      const r = parseRate(text);
      assert.ok(r === null || (r > 0 && r <= MAX_RATE_BPS));
      const f = parseFraction(text);
      assert.ok(f === null || (f >= 0 && f <= 1));
    }),
    { numRuns: 2000 },
  );
});

test('CLI readers take one word or two, and a bad value is one error naming the word', () => {
  const read = <T>(text: string, reader: (input: CliInput) => T): { value: T; rest: string } => {
    const input = new CliInput(text);
    const value = reader(input);
    return { value, rest: input.rest() };
  };
  assert.deepEqual(read('10 ms bandwidth', (i) => readTime(i, 'delay')), { value: 10e6, rest: 'bandwidth' });
  assert.deepEqual(read('10ms seed 1', (i) => readTime(i, 'delay')), { value: 10e6, rest: 'seed 1' });
  assert.deepEqual(read('0 drop-fraction 0.1', (i) => readTime(i, 'delay')), { value: 0, rest: 'drop-fraction 0.1' });
  assert.deepEqual(read('0 ms', (i) => readTime(i, 'delay')), { value: 0, rest: '' });
  assert.deepEqual(read('100 mbit x', (i) => readRate(i, 'bandwidth')), { value: 100e6, rest: 'x' });
  assert.deepEqual(read('5% y', (i) => readFraction(i, 'drop-fraction')), { value: 0.05, rest: 'y' });

  const refusals: [string, (input: CliInput) => unknown, RegExp][] = [
    ['10', (i) => readTime(i, 'delay'), /^expected a unit \(us\|ms\|s\) after '10' for delay, got end of input$/],
    ['10 parsecs', (i) => readTime(i, 'delay'), /^expected a unit \(us\|ms\|s\) after '10' for delay, got 'parsecs'$/],
    ['soon', (i) => readTime(i, 'delay'), /^expected a time such as '10 ms' .* for delay, got 'soon'$/],
    ['', (i) => readTime(i, 'delay'), /for delay, got end of input$/],
    ['90 s', (i) => readTime(i, 'delay'), /^delay '90 s' is out of range/],
    ['10 gbps', (i) => readRate(i, 'bandwidth'), /after '10' for bandwidth, got 'gbps'$/],
    ['0 gbit', (i) => readRate(i, 'bandwidth'), /^bandwidth '0 gbit' is out of range/],
    ['fast', (i) => readRate(i, 'bandwidth'), /for bandwidth, got 'fast'$/],
    ['1.5', (i) => readFraction(i, 'drop-fraction'), /^expected a fraction 0\.\.1 .* for drop-fraction, got '1\.5'$/],
  ];
  for (const [text, reader, expected] of refusals) {
    assert.throws(() => reader(new CliInput(text)), (e: unknown) => e instanceof CliError && expected.test(e.message), text);
  }
});

test('the random source: one seed, one sequence; floats in [0, 1) at the rate asked', () => {
  const a = new Random(42);
  const b = new Random(42);
  const c = new Random(43);
  const first = Array.from({ length: 64 }, () => a.nextU32());
  assert.deepEqual(Array.from({ length: 64 }, () => b.nextU32()), first);
  assert.notDeepEqual(Array.from({ length: 64 }, () => c.nextU32()), first);
  a.seed(42);
  assert.deepEqual(Array.from({ length: 64 }, () => a.nextU32()), first, 'reseeding replays');
  a.seed(42);
  assert.deepEqual(Array.from({ length: 64 }, () => a.nextU31()), first.map((x) => x >>> 1), 'nextU31 is the top 31 bits');
  assert.equal(a.currentSeed, 42);

  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.double({ min: 0, max: 1, noNaN: true }), (seed, f) => {
      const r = new Random(seed);
      const n = 4000;
      let hits = 0;
      let hits31 = 0;
      for (let i = 0; i < n; i++) {
        const x = r.next();
        assert.ok(x >= 0 && x < 1);
        if (x < f) hits++;
        const y = r.nextU31();
        assert.ok(Number.isInteger(y) && y >= 0 && y < U31_RANGE);
        if (y < f * U31_RANGE) hits31++;
      }
      // Binomial: within 6 standard deviations (plus one for the extremes).
      const sd = Math.sqrt(n * f * (1 - f));
      assert.ok(Math.abs(hits - n * f) <= 6 * sd + 1, `seed ${seed}: ${hits} of ${n} below ${f}`);
      assert.ok(Math.abs(hits31 - n * f) <= 6 * sd + 1, `seed ${seed}: ${hits31} of ${n} 31-bit draws below ${f} × 2^31`);
    }),
    { numRuns: 50 },
  );
});
