// The argument side of a CLI command: VPP's `unformat` as a cursor over the words of one
// line. A command's action pulls typed values off the front (`keyword`, `number`, `ip4`,
// `ip4Prefix`, `mac`, `word`, `block`) and uses the `expect*` forms when a value must be
// there; those throw a `CliError` whose one line names the offending token and the form
// that was expected, so the action stops before it has changed anything. The option loop
// VPP code is built from reads the same way here:
//
//   while (!input.atEnd()) {
//     if (input.keyword('table')) table = input.expectNumber('table id');
//     else if (input.keyword('verbose')) verbose = true;
//     else input.fail();                       // "unknown input `<rest of line>'"
//   }
//
// Words are separated by white space; `{` and `}` are words of their own, so blocks nest;
// double quotes group words into one (`\"` and `\\` escape inside them), and a quoted word
// is never a keyword, a brace, or a flag. Keywords match exactly, as unformat's literals do:
// abbreviation is for command paths only (cli.ts).

import { parseIp4, parseIp4Prefix, parseMac, type Ip4Prefix } from '../wire/address.ts';

/**
 * Bad CLI input (or a command's refusal): one line for the user plus a stable POSIX-style
 * code. `ECLI` is bad input; actions may use others (`ENOENT` for a missing interface, …).
 */
export class CliError extends Error {
  readonly code: string;
  constructor(message: string, code = 'ECLI') {
    super(message);
    this.name = 'CliError';
    this.code = code;
  }
}

/** Bounds for `number()`; the defaults accept 0 … 2^53-1 (pass a negative `min` to allow a sign). */
export interface NumberBounds {
  min?: number;
  max?: number;
}

/** One word of a line, as `tokenize` splits it (the registry uses it to find the command path). */
export interface CliToken {
  readonly text: string;
  /** Any part was in double quotes: then it is plain data, never a keyword, brace or flag. */
  readonly quoted: boolean;
  /** Offsets into the source text, quotes included, for `rest()`. */
  readonly start: number;
  readonly end: number;
}

const DECIMAL = /^-?\d+$/;
const HEX = /^-?0[xX][0-9a-fA-F]+$/;

/** A word as it is shown in an error: quoted as the user would type it back. */
function show(token: CliToken | undefined): string {
  return token === undefined ? 'end of input' : `'${token.text}'`;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

/** Splits a line into words (see the module comment); throws `CliError` on an unterminated quote. */
export function tokenize(source: string): CliToken[] {
  const tokens: CliToken[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '{' || c === '}') {
      tokens.push({ text: c, quoted: false, start: i, end: i + 1 });
      i++;
      continue;
    }
    // A word runs to unquoted white space or brace; quoted stretches are part of it.
    const start = i;
    let text = '';
    let quoted = false;
    while (i < n) {
      const d = source[i];
      if (isSpace(d) || d === '{' || d === '}') break;
      if (d !== '"') {
        text += d;
        i++;
        continue;
      }
      quoted = true;
      const open = i++;
      for (;;) {
        if (i >= n) throw new CliError(`unterminated quote at '${source.slice(open)}'`);
        const e = source[i];
        if (e === '"') {
          i++;
          break;
        }
        if (e === '\\' && i + 1 < n && (source[i + 1] === '"' || source[i + 1] === '\\')) {
          text += source[i + 1];
          i += 2;
          continue;
        }
        text += e;
        i++;
      }
    }
    tokens.push({ text, quoted, start, end: i });
  }
  return tokens;
}

function isBrace(token: CliToken | undefined, brace: '{' | '}'): boolean {
  return token !== undefined && !token.quoted && token.text === brace;
}

function describeBounds(min: number, max: number): string {
  if (min === 0 && max === Number.MAX_SAFE_INTEGER) return 'a number';
  if (max === Number.MAX_SAFE_INTEGER) return `a number >= ${min}`;
  if (min === Number.MIN_SAFE_INTEGER) return `a number <= ${max}`;
  return `a number in ${min}..${max}`;
}

/**
 * A cursor over the words of one command line (or of one `{ … }` block). Readers that
 * return null leave the cursor where it was; on success they consume the word.
 */
export class CliInput {
  readonly #source: string;
  readonly #tokens: CliToken[];
  #index = 0;

  /** Tokenizes `text`; throws `CliError` on an unterminated quote. */
  constructor(text: string) {
    this.#source = text;
    this.#tokens = tokenize(text);
  }

  /** Index of the next word (0-based within this input), for error messages. */
  get position(): number {
    return this.#index;
  }

  /** Words left to read. */
  get remaining(): number {
    return this.#tokens.length - this.#index;
  }

  atEnd(): boolean {
    return this.#index >= this.#tokens.length;
  }

  /** The next word as text (braces included), without consuming it. */
  peek(): string | undefined {
    return this.#tokens[this.#index]?.text;
  }

  /** Consumes and returns the next word as text, whatever it is (a brace too). */
  next(): string | undefined {
    const token = this.#tokens[this.#index];
    if (token !== undefined) this.#index++;
    return token?.text;
  }

  /** Consumes the next word if it is exactly `word` and not quoted. */
  keyword(word: string): boolean {
    const token = this.#tokens[this.#index];
    if (token === undefined || token.quoted || token.text !== word) return false;
    this.#index++;
    return true;
  }

  /** Consumes the next word if it is one of `words` (exactly, unquoted) and returns it. */
  oneOf<const W extends string>(words: readonly W[]): W | null {
    const token = this.#tokens[this.#index];
    if (token === undefined || token.quoted) return null;
    for (const w of words) {
      if (token.text === w) {
        this.#index++;
        return w;
      }
    }
    return null;
  }

  /** An integer, decimal or `0x` hex, within `bounds` (default 0 … 2^53-1). */
  number(bounds?: NumberBounds): number | null {
    const token = this.#tokens[this.#index];
    if (token === undefined) return null;
    const value = parseInteger(token.text);
    if (value === null) return null;
    const min = bounds?.min ?? 0;
    const max = bounds?.max ?? Number.MAX_SAFE_INTEGER;
    if (value < min || value > max) return null;
    this.#index++;
    return value;
  }

  /** A dotted-quad IPv4 address as a host-order u32. */
  ip4(): number | null {
    return this.#take(parseIp4);
  }

  /** `a.b.c.d/len`; host bits cleared unless `keepHostBits` (an interface address). */
  ip4Prefix(keepHostBits = false): Ip4Prefix | null {
    return this.#take((text) => parseIp4Prefix(text, keepHostBits));
  }

  /** A MAC address (`02:fe:00:00:00:01`, `02-fe-…` or `02fe.0000.0001`). */
  mac(): Uint8Array | null {
    return this.#take(parseMac);
  }

  /** Any single word that is not a brace (a name, a file path, a quoted string). */
  word(): string | null {
    const token = this.#tokens[this.#index];
    if (token === undefined || isBrace(token, '{') || isBrace(token, '}')) return null;
    this.#index++;
    return token.text;
  }

  /**
   * A balanced `{ … }`: consumes through the matching `}` and returns an input over what is
   * between. Null if the next word is not `{`; throws `CliError` if it is never closed.
   */
  block(): CliInput | null {
    const open = this.#tokens[this.#index];
    if (!isBrace(open, '{')) return null;
    let depth = 0;
    for (let i = this.#index; i < this.#tokens.length; i++) {
      const token = this.#tokens[i];
      if (isBrace(token, '{')) depth++;
      else if (isBrace(token, '}') && --depth === 0) {
        const inner = this.#source.slice(open.end, token.start);
        this.#index = i + 1;
        return new CliInput(inner);
      }
    }
    throw new CliError(`missing '}' to close '{' at '${this.#source.slice(open.start).trim()}'`);
  }

  /** Consumes everything left and returns it as typed (quotes kept), trimmed. */
  rest(): string {
    const token = this.#tokens[this.#index];
    if (token === undefined) return '';
    this.#index = this.#tokens.length;
    return this.#source.slice(token.start).trim();
  }

  // The expect* forms: the value, or a CliError "expected <form> for <what>, got '<token>'".

  expectKeyword(word: string): void {
    if (!this.keyword(word)) this.#expected(`'${word}'`);
  }

  expectOneOf<const W extends string>(words: readonly W[], what: string): W {
    return this.oneOf(words) ?? this.#expected(words.join('|'), what);
  }

  expectNumber(what: string, bounds?: NumberBounds): number {
    const value = this.number(bounds);
    if (value !== null) return value;
    return this.#expected(describeBounds(bounds?.min ?? 0, bounds?.max ?? Number.MAX_SAFE_INTEGER), what);
  }

  expectIp4(what: string): number {
    return this.ip4() ?? this.#expected('an IPv4 address', what);
  }

  expectIp4Prefix(what: string, keepHostBits = false): Ip4Prefix {
    return this.ip4Prefix(keepHostBits) ?? this.#expected('an IPv4 prefix (a.b.c.d/len)', what);
  }

  expectMac(what: string): Uint8Array {
    return this.mac() ?? this.#expected('a MAC address', what);
  }

  expectWord(what: string): string {
    return this.word() ?? this.#expected('a word', what);
  }

  expectBlock(what: string): CliInput {
    return this.block() ?? this.#expected("a '{ … }' block", what);
  }

  /** Throws `unexpected argument '<word>'` unless every word has been read. */
  expectEnd(): void {
    const token = this.#tokens[this.#index];
    if (token !== undefined) throw new CliError(`unexpected argument ${show(token)}`);
  }

  /** Throws VPP's "unknown input `<rest of line>'" for the words not understood. */
  fail(): never {
    const token = this.#tokens[this.#index];
    const rest = token === undefined ? '' : this.#source.slice(token.start).trim();
    throw new CliError(`unknown input \`${rest}'`);
  }

  #take<T>(parse: (text: string) => T | null): T | null {
    const token = this.#tokens[this.#index];
    if (token === undefined) return null;
    const value = parse(token.text);
    if (value !== null) this.#index++;
    return value;
  }

  #expected(form: string, what?: string): never {
    const token = this.#tokens[this.#index];
    const target = what === undefined ? '' : ` for ${what}`;
    throw new CliError(`expected ${form}${target}, got ${show(token)}`);
  }
}

/** Decimal or `0x` hex integer text, optionally signed; null if not one or beyond 2^53-1. */
export function parseInteger(text: string): number | null {
  let value: number;
  if (DECIMAL.test(text)) value = Number(text);
  else if (HEX.test(text)) {
    const negative = text[0] === '-';
    value = parseInt(text.slice(negative ? 3 : 2), 16);
    if (negative) value = -value;
  } else return null;
  if (!Number.isSafeInteger(value)) return null;
  return value === 0 ? 0 : value; // no -0
}
