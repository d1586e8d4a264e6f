// The value grammar of the nsim CLI: times (`10 ms`, `0.5ms`, `100 us`, `1 s`, a bare `0`),
// rates (`10 gbit`, `100 mbit`, `1 gbyte`) and fractions (`0.05`, `5%`), as VPP's nsim
// unformat_delay / unformat_bandwidth read them — the number and its unit either as two
// words or as one. Plain functions from text to a number (null when not one), the
// formatters `show nsim` uses, and the readers that take a value off a `CliInput` and
// throw one CliError naming the offending word and the expected form.

import { CliError, type CliInput } from '../../src/index.ts';

/** Nanoseconds per time unit (VPP: us, ms, sec; `s` too). */
export const TIME_UNITS: ReadonlyMap<string, number> = new Map([
  ['us', 1e3],
  ['ms', 1e6],
  ['s', 1e9],
  ['sec', 1e9],
]);

/** Bits per second per rate unit (VPP: gbit, gbyte; the smaller ones too). */
export const RATE_UNITS: ReadonlyMap<string, number> = new Map([
  ['bit', 1],
  ['kbit', 1e3],
  ['mbit', 1e6],
  ['gbit', 1e9],
  ['byte', 8],
  ['kbyte', 8e3],
  ['mbyte', 8e6],
  ['gbyte', 8e9],
]);

/** The longest delay `set nsim` accepts: a minute (held packets hold pool buffers). */
export const MAX_DELAY_NS = 60e9;
/** The fastest link: 10 tbit/s. */
export const MAX_RATE_BPS = 1e13;

/** An unsigned decimal: `10`, `0.5`, `.5`, `1e3`. */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** A number glued to its unit: `10ms`, `0.5gbit`. */
const GLUED = /^((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)([a-z]+)$/;

/** An unsigned decimal number, or null. */
export function parseDecimal(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** `<number> <unit>` or `<number><unit>` (one space or none) scaled by the unit's table entry. */
function parseScaled(text: string, units: ReadonlyMap<string, number>): number | null {
  const trimmed = text.trim();
  const space = trimmed.indexOf(' ');
  let number: string;
  let unit: string;
  if (space >= 0) {
    number = trimmed.slice(0, space);
    unit = trimmed.slice(space + 1).trim();
  } else {
    const m = GLUED.exec(trimmed);
    if (m === null) return null;
    number = m[1];
    unit = m[2];
  }
  const value = parseDecimal(number);
  const scale = units.get(unit);
  if (value === null || scale === undefined) return null;
  const scaled = value * scale;
  return Number.isFinite(scaled) ? scaled : null;
}

/** A time in nanoseconds: `10 ms`, `0.5ms`, `100 us`, `2 s`, or a bare `0`; null otherwise (or beyond a minute). */
export function parseTime(text: string): number | null {
  const trimmed = text.trim();
  const ns = parseDecimal(trimmed) === 0 ? 0 : parseScaled(trimmed, TIME_UNITS);
  return ns === null || ns > MAX_DELAY_NS ? null : ns;
}

/** A rate in bits per second: `10 gbit`, `100mbit`, `1 gbyte`; null otherwise (or 0, or beyond 10 tbit/s). */
export function parseRate(text: string): number | null {
  const bps = parseScaled(text, RATE_UNITS);
  return bps === null || bps <= 0 || bps > MAX_RATE_BPS ? null : bps;
}

/** A fraction in [0, 1]: `0.05` or `5%`; null otherwise. */
export function parseFraction(text: string): number | null {
  const percent = text.endsWith('%');
  const value = parseDecimal(percent ? text.slice(0, -1) : text);
  if (value === null) return null;
  const fraction = percent ? value / 100 : value;
  return fraction >= 0 && fraction <= 1 ? fraction : null;
}

/** Nine significant digits, trailing zeros dropped: 1.500 → '1.5'. */
function significant(value: number): string {
  return String(Number(value.toPrecision(9)));
}

/** A time for people: the largest unit in which it is at least 1 (`1.5 ms`, `250 us`, `0`). */
export function formatTime(ns: number): string {
  if (ns === 0) return '0';
  if (ns >= 1e9) return `${significant(ns / 1e9)} s`;
  if (ns >= 1e6) return `${significant(ns / 1e6)} ms`;
  return `${significant(ns / 1e3)} us`;
}

/** A rate for people: `10 gbit`, `100 mbit`, `1.5 kbit`, `12 bit`. */
export function formatRate(bps: number): string {
  if (bps >= 1e9) return `${significant(bps / 1e9)} gbit`;
  if (bps >= 1e6) return `${significant(bps / 1e6)} mbit`;
  if (bps >= 1e3) return `${significant(bps / 1e3)} kbit`;
  return `${significant(bps)} bit`;
}

function shown(word: string | undefined): string {
  return word === undefined ? 'end of input' : `'${word}'`;
}

/**
 * Reads `<number> <unit>` (two words) or one word that is a whole value off `input`, with
 * `parse` for the one-word form and `units` for the two-word form; throws a CliError that
 * names the word that is wrong.
 */
function readScaled(
  input: CliInput,
  what: string,
  form: string,
  unitNames: string,
  parse: (text: string) => number | null,
  units: ReadonlyMap<string, number>,
): number {
  const word = input.peek();
  if (word === undefined) throw new CliError(`expected ${form} for ${what}, got end of input`);
  if (parseDecimal(word) !== null) {
    // A bare number: its unit is the next word, or it is a value on its own (a time of 0).
    input.next();
    const unit = input.peek();
    if (unit !== undefined && units.has(unit)) {
      const value = parse(`${word} ${unit}`);
      if (value === null) throw new CliError(`${what} '${word} ${unit}' is out of range (expected ${form})`);
      input.next();
      return value;
    }
    const bare = parse(word);
    if (bare !== null) return bare;
    throw new CliError(`expected a unit (${unitNames}) after '${word}' for ${what}, got ${shown(unit)}`);
  }
  const whole = parse(word);
  if (whole === null) throw new CliError(`expected ${form} for ${what}, got '${word}'`);
  input.next();
  return whole;
}

/** A time off the input, in nanoseconds (`set nsim delay <time>`). */
export function readTime(input: CliInput, what: string): number {
  return readScaled(input, what, "a time such as '10 ms' (us|ms|s, at most 60 s) or 0", 'us|ms|s', parseTime, TIME_UNITS);
}

/** A rate off the input, in bits per second (`bandwidth <rate>`). */
export function readRate(input: CliInput, what: string): number {
  return readScaled(input, what, "a rate such as '10 gbit' (bit|kbit|mbit|gbit|byte|kbyte|mbyte|gbyte)", 'bit|kbit|mbit|gbit|byte|kbyte|mbyte|gbyte', parseRate, RATE_UNITS);
}

/** A fraction off the input (`drop-fraction <f>`). */
export function readFraction(input: CliInput, what: string): number {
  const word = input.peek();
  const value = word === undefined ? null : parseFraction(word);
  if (value === null) throw new CliError(`expected a fraction 0..1 (such as 0.05 or 5%) for ${what}, got ${shown(word)}`);
  input.next();
  return value;
}
