// The CLI registry (VPP's vlib/cli.c): commands are paths of words (`show runtime`,
// `ip route add`) kept in a tree; a line is matched word by word from the root, each word
// abbreviable to a unique prefix among its siblings (`sh int` → `show interface`), an exact
// word winning over longer siblings (`show int` picks `int` over `interface` when both
// exist). The deepest node reached names the command; the words after it are the
// command's arguments, handed to its action as a `CliInput`. The registry owns the grammar
// around commands: `?` help, `help`, tab completion, the `--json` flag, and turning every
// failure into one line, so no input can crash the engine.
//
// Running: `run()` returns a Promise and is the one entry point for sessions (vecnetctl,
// `exec` scripts), since some actions wait. `runSync()` is for callers that cannot await
// (the engine's `vm.cli(line)`, unit tests); it refuses commands whose action is async.
//
// The registry is generic over the context `C` handed to actions, so it knows nothing of
// the engine; the engine owns one `CliRegistry<Engine>`.

import { CliError, CliInput, tokenize, type CliToken } from './cli-input.ts';

export { CliError, CliInput } from './cli-input.ts';
export type { NumberBounds } from './cli-input.ts';

/** Where an action writes. Text and JSON come from the same data: call both, one is kept. */
export interface CliOutput {
  /** True when the caller asked for `--json`: `print` is then ignored, `json` is the answer. */
  readonly jsonMode: boolean;
  /** Appends text (one or more lines; one trailing newline is dropped, as vlib_cli_output adds it). */
  print(text: string): void;
  /** Sets the structured answer for `--json` (ignored otherwise). */
  json(value: unknown): void;
}

export interface CliCommand<C> {
  /** Words from the root: 'show runtime'. Words are letters, digits, '-' and '_'. */
  readonly path: string;
  /** One line for `?` and `help`: 'Show node runtime statistics'. */
  readonly short: string;
  /** Syntax for `help <command>`: 'show runtime [verbose]'. */
  readonly usage?: string;
  /** The action supports `--json` (it calls `out.json`). */
  readonly json?: boolean;
  /**
   * Parses `input` fully before changing anything (bad input throws `CliError` from the
   * `expect*` readers), then acts and writes to `out`. May return a Promise (run() waits).
   */
  action(ctx: C, input: CliInput, out: CliOutput): void | Promise<void>;
}

export interface CliResult {
  readonly ok: boolean;
  /** What the user sees: the output (lines joined by '\n', no trailing newline), or on failure one line. */
  readonly text: string;
  /** The structured answer, when run with `--json` and successful. */
  readonly json?: unknown;
  /** On failure: `ECLI` bad input, `ENOTSUP`, `EEXIST`…, an action's own code, or `EINTERNAL`. */
  readonly code?: string;
  /** The command that was resolved (canonical path), if any. */
  readonly path?: string;
}

interface Entry<C> {
  readonly command: CliCommand<C>;
  readonly owner: string;
}

interface TreeNode<C> {
  readonly word: string;
  /** Canonical path from the root ('' for the root). */
  readonly path: string;
  readonly children: Map<string, TreeNode<C>>;
  entry?: Entry<C>;
}

type Walk<C> =
  | { readonly ambiguous: false; readonly node: TreeNode<C>; readonly consumed: number }
  | { readonly ambiguous: true; readonly typed: string; readonly candidates: TreeNode<C>[] };

type Plan<C> =
  | { readonly done: CliResult }
  | { readonly done?: undefined; readonly node: TreeNode<C>; readonly entry: Entry<C>; readonly input: CliInput; readonly jsonMode: boolean };

// vlib/cli.c matches command words over [A-Za-z0-9_-]; a leading '-' is kept for flags (--json).
const PATH_WORD = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const JSON_FLAG = '--json';
// A thrown error carrying such a code is a public-API refusal (EEXIST, ENOENT…), shown as
// the user's error; anything else is a bug, reported as an internal error.
const ERRNO_CODE = /^E[A-Z0-9]+$/;
// Column widths of VPP's `?` ("  %-40U %U") and `help` ("  %-30v %U") listings.
const QUESTION_COLUMN = 40;
const HELP_COLUMN = 30;

function isFlag(token: CliToken | undefined, text: string): boolean {
  return token !== undefined && !token.quoted && token.text === text;
}

function isPathWord(token: CliToken): boolean {
  return !token.quoted && token.text !== '{' && token.text !== '}';
}

/** Siblings a typed word selects: the exact word if there is one, else every child it prefixes. */
function matchChildren<C>(node: TreeNode<C>, word: string): TreeNode<C>[] {
  const exact = node.children.get(word);
  if (exact !== undefined) return [exact];
  const matches: TreeNode<C>[] = [];
  for (const child of node.children.values()) if (child.word.startsWith(word)) matches.push(child);
  return matches;
}

/** Error text is one line, whatever a message carried. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

function failure(text: string, code: string, path?: string): CliResult {
  return path === undefined ? { ok: false, text: oneLine(text), code } : { ok: false, text: oneLine(text), code, path };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === 'function' && fn.constructor?.name === 'AsyncFunction';
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return 'unprintable error';
  }
}

/** The text of the words `from … to` as typed (quotes kept). */
function span(line: string, words: readonly CliToken[], from: number, to = words.length): string {
  return from >= to ? '' : line.slice(words[from].start, words[to - 1].end);
}

class Output implements CliOutput {
  readonly #lines: string[] = [];
  #value: unknown = null;
  constructor(readonly jsonMode: boolean) {}

  print(text: string): void {
    this.#lines.push(text.endsWith('\n') ? text.slice(0, -1) : text);
  }

  json(value: unknown): void {
    this.#value = value;
  }

  result(path: string): CliResult {
    if (!this.jsonMode) return { ok: true, text: this.#lines.join('\n'), path };
    let text: string;
    try {
      text = JSON.stringify(this.#value, jsonReplacer, 2) ?? 'null';
    } catch (error) {
      return failure(`internal error in '${path}': cannot encode JSON: ${errorMessage(error)}`, 'EINTERNAL', path);
    }
    return { ok: true, text, json: this.#value, path };
  }
}

export class CliRegistry<C> {
  readonly #root: TreeNode<C> = { word: '', path: '', children: new Map() };

  constructor() {
    this.register(
      {
        path: 'help',
        short: 'List commands, or describe one',
        usage: 'help [<command>]',
        action: (_ctx, input, out) => out.print(this.#describe(input)),
      },
      'vlib',
    );
  }

  /**
   * Adds a command. `owner` (a plugin name) is named if the path is registered twice.
   * Throws `CliError` with `EEXIST` for a duplicate, `EINVAL` for a malformed path.
   */
  register(command: CliCommand<C>, owner = 'vecnet'): void {
    const words = command.path.trim().split(/\s+/);
    for (const word of words) {
      if (!PATH_WORD.test(word)) {
        throw new CliError(
          `invalid CLI path '${command.path}': '${word}' is not a word of letters, digits, '-' and '_'`,
          'EINVAL',
        );
      }
    }
    let node = this.#root;
    for (const word of words) {
      let child = node.children.get(word);
      if (child === undefined) {
        child = { word, path: node.path === '' ? word : `${node.path} ${word}`, children: new Map() };
        node.children.set(word, child);
      }
      node = child;
    }
    if (node.entry !== undefined) {
      throw new CliError(
        `CLI command '${node.path}' registered twice: by '${node.entry.owner}' and by '${owner}'`,
        'EEXIST',
      );
    }
    node.entry = { command, owner };
  }

  /** Every registered command (the built-in `help` included), sorted by path. */
  commands(): CliCommand<C>[] {
    return this.#subtree([this.#root]).map((node) => (node.entry as Entry<C>).command);
  }

  /** Runs one line: the entry point for sessions. Never rejects. */
  async run(ctx: C, line: string): Promise<CliResult> {
    const plan = this.#plan(line);
    if (plan.done !== undefined) return plan.done;
    return await this.#execute(ctx, plan);
  }

  /**
   * Runs one line without waiting, for callers that cannot await. A command whose action is
   * async is refused (`ENOTSUP`) before it runs; one that returns a Promise from a plain
   * function is reported the same way, though it has then started. Never throws.
   */
  runSync(ctx: C, line: string): CliResult {
    const plan = this.#plan(line);
    if (plan.done !== undefined) return plan.done;
    const refusal = failure(`'${plan.node.path}' runs asynchronously: it cannot be run here`, 'ENOTSUP', plan.node.path);
    if (isAsyncFunction(plan.entry.command.action)) return refusal;
    const result = this.#execute(ctx, plan);
    if (!isThenable(result)) return result;
    result.then(undefined, () => undefined);
    return refusal;
  }

  /**
   * The `?` output for a line (a trailing `?` is optional): every command under what was
   * typed, `  <path padded to 40> <short help>`, sorted; an ambiguous word lists the
   * commands under all its candidates. Errors come back as their one line.
   */
  help(line: string): string {
    let words: CliToken[];
    try {
      words = tokenize(line);
    } catch (error) {
      return oneLine(errorMessage(error));
    }
    const question = words.findIndex((token) => isFlag(token, '?'));
    return this.#question(line, question < 0 ? words : words.slice(0, question)).text;
  }

  /**
   * Tab completion (VPP's vlib_cli_get_possible_completions): the command words that can
   * follow. With the line ending in a word, the siblings that word prefixes; ending in
   * white space (or empty), the words after the resolved path. Sorted; [] if none.
   */
  complete(line: string): string[] {
    let words: CliToken[];
    try {
      words = tokenize(line);
    } catch {
      return [];
    }
    if (isFlag(words[0], JSON_FLAG)) words = words.slice(1);
    const partial = line === '' || /\s$/.test(line) ? undefined : words.pop();
    let node = this.#root;
    for (const token of words) {
      if (!isPathWord(token)) return [];
      const matches = matchChildren(node, token.text);
      if (matches.length !== 1) return [];
      node = matches[0];
    }
    if (partial !== undefined && !isPathWord(partial)) return [];
    const names = [...node.children.keys()].filter((name) => partial === undefined || name.startsWith(partial.text));
    return names.sort();
  }

  // ---- resolution

  #walk(words: readonly CliToken[]): Walk<C> {
    let node = this.#root;
    let i = 0;
    for (; i < words.length; i++) {
      const token = words[i];
      if (!isPathWord(token)) break;
      const matches = matchChildren(node, token.text);
      if (matches.length === 0) break;
      if (matches.length > 1) {
        const typed = words.slice(0, i + 1).map((w) => w.text).join(' ');
        return { ambiguous: true, typed, candidates: matches };
      }
      node = matches[0];
    }
    return { ambiguous: false, node, consumed: i };
  }

  #ambiguity(typed: string, candidates: readonly TreeNode<C>[]): string {
    const paths = candidates.map((node) => node.path).sort();
    return `ambiguous command '${typed}': ${paths.join(', ')}`;
  }

  /** Everything up to running the action: flags, `?`, the path, argument text. */
  #plan(line: string): Plan<C> {
    let tokens: CliToken[];
    try {
      tokens = tokenize(line);
    } catch (error) {
      return { done: failure(errorMessage(error), 'ECLI') };
    }
    // `--json` as the first or the last word.
    let jsonMode = false;
    let first = 0;
    let last = tokens.length;
    if (isFlag(tokens[first], JSON_FLAG)) {
      jsonMode = true;
      first++;
    }
    if (last > first && isFlag(tokens[last - 1], JSON_FLAG)) {
      jsonMode = true;
      last--;
    }
    const words = tokens.slice(first, last);
    if (words.length === 0) return { done: { ok: true, text: '' } };

    const question = words.findIndex((token) => isFlag(token, '?'));
    if (question >= 0) return { done: this.#question(line, words.slice(0, question)) };

    const walk = this.#walk(words);
    if (walk.ambiguous) return { done: failure(this.#ambiguity(walk.typed, walk.candidates), 'ECLI') };
    const { node, consumed } = walk;
    const entry = node.entry;
    if (entry === undefined) {
      if (consumed < words.length) {
        const prefix = node === this.#root ? '' : `${node.path}: `;
        return { done: failure(`${prefix}unknown input \`${span(line, words, consumed)}'`, 'ECLI') };
      }
      return { done: failure(`incomplete command '${node.path}': '${node.path} ?' lists what can follow`, 'ECLI') };
    }
    if (jsonMode && entry.command.json !== true) {
      return { done: failure(`'${node.path}' does not support ${JSON_FLAG}`, 'ENOTSUP', node.path) };
    }
    // The argument text re-tokenizes to exactly the remaining words: it starts and ends on word edges.
    const input = new CliInput(span(line, words, consumed));
    return { node, entry, input, jsonMode };
  }

  #execute(ctx: C, plan: Exclude<Plan<C>, { done: CliResult }>): CliResult | Promise<CliResult> {
    const path = plan.node.path;
    const out = new Output(plan.jsonMode);
    let returned: unknown;
    try {
      returned = plan.entry.command.action(ctx, plan.input, out);
    } catch (error) {
      return this.#failed(path, error);
    }
    if (isThenable(returned)) {
      return Promise.resolve(returned).then(
        () => out.result(path),
        (error: unknown) => this.#failed(path, error),
      );
    }
    return out.result(path);
  }

  /** VPP prints a command's error as "<path>: <message>"; a non-API throw is a bug of ours. */
  #failed(path: string, error: unknown): CliResult {
    if (error instanceof CliError) return failure(`${path}: ${error.message}`, error.code, path);
    const code = (error as { code?: unknown } | null)?.code;
    if (error instanceof Error && typeof code === 'string' && ERRNO_CODE.test(code)) {
      return failure(`${path}: ${error.message}`, code, path);
    }
    return failure(`internal error in '${path}': ${errorMessage(error)}`, 'EINTERNAL', path);
  }

  // ---- help

  /** Commands at or under `nodes`, sorted by path, without repeats. */
  #subtree(nodes: readonly TreeNode<C>[]): TreeNode<C>[] {
    const found = new Set<TreeNode<C>>();
    const visit = (node: TreeNode<C>): void => {
      if (node.entry !== undefined) found.add(node);
      for (const child of node.children.values()) visit(child);
    };
    for (const node of nodes) visit(node);
    return [...found].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** `?` after `words`: the commands they can lead to (all candidates of an ambiguous word). */
  #question(line: string, words: readonly CliToken[]): CliResult {
    let nodes: TreeNode<C>[] = [this.#root];
    let i = 0;
    for (; i < words.length; i++) {
      const token = words[i];
      if (!isPathWord(token)) break;
      const next = nodes.flatMap((node) => matchChildren(node, token.text));
      if (next.length === 0) break;
      nodes = next;
    }
    let listed: TreeNode<C>[];
    if (i < words.length) {
      // The rest are arguments: help for the command(s) reached.
      listed = nodes.filter((node) => node.entry !== undefined);
      if (listed.length === 0) {
        const prefix = nodes.length === 1 && nodes[0] !== this.#root ? `${nodes[0].path}: ` : '';
        return failure(`${prefix}unknown input \`${span(line, words, i)}'`, 'ECLI');
      }
    } else {
      listed = this.#subtree(nodes);
    }
    const lines = listed.map((node) => `  ${node.path.padEnd(QUESTION_COLUMN)} ${(node.entry as Entry<C>).command.short}`);
    const usage = listed.length === 1 ? listed[0].entry?.command.usage : undefined;
    if (usage !== undefined) lines.push(`  usage: ${usage}`);
    return { ok: true, text: lines.join('\n') };
  }

  /** `help [<words>]`: the children of a prefix, or a command's usage and help. */
  #describe(input: CliInput): string {
    const text = input.rest();
    const words = tokenize(text);
    const walk = this.#walk(words);
    if (walk.ambiguous) throw new CliError(this.#ambiguity(walk.typed, walk.candidates));
    const { node, consumed } = walk;
    if (consumed < words.length) {
      const prefix = node === this.#root ? '' : `${node.path}: `;
      throw new CliError(`${prefix}unknown input \`${span(text, words, consumed)}'`);
    }
    const lines: string[] = [];
    if (node.entry !== undefined) {
      lines.push(node.entry.command.usage ?? node.path, `  ${node.entry.command.short}`);
    }
    const children = [...node.children.values()].sort((a, b) => (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
    for (const child of children) {
      const short = child.entry?.command.short ?? `${child.path} commands`;
      lines.push(`  ${child.word.padEnd(HELP_COLUMN)} ${short}`);
    }
    return lines.join('\n');
  }
}
