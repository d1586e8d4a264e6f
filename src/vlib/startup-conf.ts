// startup.conf: the configuration the engine reads once, before it starts, in VPP's syntax —
// a sequence of `section { items }` where items are words, `key value` pairs and nested
// `name { … }` blocks, with `#` and `/* … */` comments and insignificant newlines, so the
// same text works from a file (`vecnet -c startup.conf`) or as argv words
// (`vecnet unix { nodaemon }`). This module owns two layers: a tokenizer and tree parser
// that knows nothing of sections (every node keeps its line and column), and a validator
// driven by declared sections (`defineConfigSection`) held in a `ConfigSchema`, so plugins
// add their own sections without touching the parser. Any problem stops start-up with one
// `ConfigError` line naming file, line, column, the offending token and what was expected.

// ---------------------------------------------------------------------------------------
// Errors

/** A bad startup configuration. `message` is the whole one-line report. */
export class ConfigError extends Error {
  readonly code = 'ECONFIG' as const;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The offending token (a quoted word without its quotes). */
  readonly token: string;

  constructor(file: string, line: number, column: number, description: string, token: string) {
    super(oneLine(`${file}:${line}:${column}: ${description}`));
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
    this.column = column;
    this.token = token;
  }
}

/** A section definition that cannot be registered: a name taken twice, or a malformed spec. */
export class ConfigSchemaError extends Error {
  readonly code: 'EEXIST' | 'EINVAL';
  /** The section the problem is in. */
  readonly section: string;

  constructor(code: 'EEXIST' | 'EINVAL', section: string, message: string) {
    super(message);
    this.name = 'ConfigSchemaError';
    this.code = code;
    this.section = section;
  }
}

interface Position {
  readonly line: number;
  readonly column: number;
}

/** Escapes control characters and line separators, so a report stays on one line. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

/** Shows a token inside quotes: on one line, long ones cut. */
function showToken(token: string): string {
  let shown = oneLine(token);
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return `'${shown}'`;
}

/** `<what>: '<token>' (<expected>)` — the common shape of every report. */
function fail(file: string, at: Position, what: string, token: string, expected: string): never {
  throw new ConfigError(file, at.line, at.column, `${what}: ${showToken(token)} (${expected})`, token);
}

// ---------------------------------------------------------------------------------------
// Layer 1: tokens and the tree

/** A word in the tree: a key, a value, a flag. `quoted` if it was written in double quotes. */
export interface ConfigWord {
  readonly type: 'word';
  readonly text: string;
  readonly quoted: boolean;
  readonly line: number;
  readonly column: number;
}

/**
 * `name { items }`. `line`/`column` are the name's; `openLine`/`openColumn` the `{`'s and
 * `closeLine`/`closeColumn` the `}`'s, so errors can point at either brace.
 */
export interface ConfigBlock {
  readonly type: 'block';
  readonly name: string;
  readonly quoted: boolean;
  readonly line: number;
  readonly column: number;
  readonly openLine: number;
  readonly openColumn: number;
  readonly closeLine: number;
  readonly closeColumn: number;
  readonly items: readonly ConfigNode[];
}

export type ConfigNode = ConfigWord | ConfigBlock;

/** A top-level block: `unix { … }`. */
export type ConfigSection = ConfigBlock;

interface Token {
  readonly kind: 'word' | '{' | '}';
  readonly text: string;
  readonly quoted: boolean;
  readonly line: number;
  readonly column: number;
}

const LINE_FEED = 10;

/** Whitespace separates words; any amount, newlines included, is one separator. */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

function isBrace(code: number): boolean {
  return code === 123 || code === 125;
}

/** Inside double quotes: `\"`, `\\`, `\n`, `\t`, `\r`; any other backslash stays as written. */
const QUOTE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  const length = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < length) {
    const code = text.charCodeAt(i);
    if (code === LINE_FEED) {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (isSpace(code)) {
      i++;
      continue;
    }
    const column = i - lineStart + 1;
    if (isBrace(code)) {
      tokens.push({ kind: code === 123 ? '{' : '}', text: text[i], quoted: false, line, column });
      i++;
      continue;
    }
    // Comments start only where a word would: VPP's own reader drops a word that begins
    // with '#' and the rest of its line, so `cli-prompt vpp#` keeps its '#'.
    if (code === 35 /* # */) {
      while (i < length && text.charCodeAt(i) !== LINE_FEED) i++;
      continue;
    }
    if (code === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail(file, { line, column }, 'unterminated comment', '/*', "expected '*/' before end of file");
      for (let j = i + 2; j < end; j++) {
        if (text.charCodeAt(j) === LINE_FEED) {
          line++;
          lineStart = j + 1;
        }
      }
      i = end + 2;
      continue;
    }
    if (code === 34 /* " */) {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= length || text.charCodeAt(j) === LINE_FEED) {
          fail(file, { line, column }, 'unterminated quoted string', text.slice(i, j), "expected a closing '\"' on the same line");
        }
        const c = text[j];
        if (c === '"') break;
        if (c === '\\' && j + 1 < length && QUOTE_ESCAPES[text[j + 1]] !== undefined) {
          value += QUOTE_ESCAPES[text[j + 1]];
          j += 2;
        } else {
          value += c;
          j++;
        }
      }
      tokens.push({ kind: 'word', text: value, quoted: true, line, column });
      i = j + 1;
      continue;
    }
    let j = i + 1;
    while (j < length) {
      const c = text.charCodeAt(j);
      if (isSpace(c) || isBrace(c)) break;
      j++;
    }
    tokens.push({ kind: 'word', text: text.slice(i, j), quoted: false, line, column });
    i = j;
  }
  return tokens;
}

interface OpenBlock {
  readonly name: Token;
  readonly open: Token;
  readonly items: ConfigNode[];
}

/**
 * Parses startup.conf text into its sections, knowing nothing of what they mean. Throws
 * `ConfigError` for unbalanced braces, an unterminated comment or quoted string, a top-level
 * word not followed by `{`, or a `{` with no name before it.
 */
export function parseConfigTree(text: string, fileName: string): ConfigSection[] {
  const tokens = tokenize(text, fileName);
  const sections: ConfigSection[] = [];
  // An explicit stack rather than recursion: nesting depth is the input's to choose.
  const stack: OpenBlock[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === 'word') {
      const next = tokens[i + 1];
      if (next !== undefined && next.kind === '{') {
        stack.push({ name: token, open: next, items: [] });
        i++;
      } else if (stack.length === 0) {
        fail(fileName, token, "missing '{' after section name", token.text, `expected ${token.text} { ... }`);
      } else {
        stack[stack.length - 1].items.push({ type: 'word', text: token.text, quoted: token.quoted, line: token.line, column: token.column });
      }
    } else if (token.kind === '{') {
      fail(fileName, token, "missing name before '{'", '{', 'expected name { ... }');
    } else {
      const open = stack.pop();
      if (open === undefined) fail(fileName, token, "unbalanced '}'", '}', 'expected a section name or end of file');
      const block: ConfigBlock = {
        type: 'block',
        name: open.name.text,
        quoted: open.name.quoted,
        line: open.name.line,
        column: open.name.column,
        openLine: open.open.line,
        openColumn: open.open.column,
        closeLine: token.line,
        closeColumn: token.column,
        items: open.items,
      };
      if (stack.length === 0) sections.push(block);
      else stack[stack.length - 1].items.push(block);
    }
  }
  const unclosed = stack.pop();
  if (unclosed !== undefined) {
    fail(fileName, unclosed.open, "unbalanced '{' opened here", `${unclosed.name.text} {`, "expected a matching '}' before end of file");
  }
  return sections;
}

/** Text that reads back as the same word: bare when it can be, else double-quoted. */
export function formatConfigWord(text: string): string {
  const bare =
    text.length > 0 &&
    !/[\s{}"]/.test(text) &&
    !text.startsWith('#') &&
    !text.startsWith('/*');
  if (bare) return text;
  return `"${text.replace(/[\\"\n\t\r]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\${c}`))}"`;
}

/** Prints a tree back in startup.conf syntax, one item per line, nested blocks indented. */
export function formatConfigTree(sections: readonly ConfigSection[]): string {
  const lines: string[] = [];
  const printBlock = (block: ConfigBlock, indent: string): void => {
    lines.push(`${indent}${formatConfigWord(block.name)} {`);
    for (const node of block.items) {
      if (node.type === 'word') lines.push(`${indent}  ${formatConfigWord(node.text)}`);
      else printBlock(node, `${indent}  `);
    }
    lines.push(`${indent}}`);
  };
  for (const section of sections) printBlock(section, '');
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------
// Layer 2: declared sections

interface ConfigItemBase {
  /** One line for `help` output and the docs. */
  readonly help: string;
  /** The property name in the parsed values; defaults to the key in camelCase. */
  readonly field?: string;
  /** Other spellings VPP accepts for the same item; may be several words (`default data-size`). */
  readonly aliases?: readonly string[];
}

/** A word on its own: `nodaemon`. Value true when present. */
export interface FlagItem extends ConfigItemBase {
  readonly kind: 'flag';
}

/** `key <word>`: any word, or (`path`) a non-empty one. With `separator`, one word holds several. */
export interface TextItem extends ConfigItemBase {
  readonly kind: 'string' | 'path';
  readonly default?: string;
  readonly repeatable?: boolean;
  readonly separator?: string;
}

/** `key <n>`: decimal or 0x hex; `size` also takes a k, m or g suffix (powers of 1024). */
export interface NumberItem extends ConfigItemBase {
  readonly kind: 'integer' | 'size';
  /** Inclusive bounds; min defaults to 0, max to the largest safe integer. */
  readonly min?: number;
  readonly max?: number;
  readonly powerOfTwo?: boolean;
  /** Words accepted instead of a number (`page-size default`). */
  readonly keywords?: readonly string[];
  readonly default?: number | string;
  readonly repeatable?: boolean;
}

/** `key <one of choices>`. */
export interface ChoiceItem extends ConfigItemBase {
  readonly kind: 'choice';
  readonly choices: readonly string[];
  readonly default?: string;
}

/** `key 1,3-5`: a set of core numbers 0..max (1023 unless told), given as a sorted list. */
export interface CoreListItem extends ConfigItemBase {
  readonly kind: 'corelist';
  readonly max?: number;
}

/** `key <gid>`: a numeric group id or a group name. */
export interface GroupItem extends ConfigItemBase {
  readonly kind: 'gid';
  readonly default?: number | string;
}

/**
 * `key { items }`, or with `named`, `key <name> { items }` given any number of times with
 * distinct names (`plugin dpdk_plugin.so { disable }`), parsed to a record by name.
 */
export interface BlockItem extends ConfigItemBase {
  readonly kind: 'block';
  readonly named?: boolean;
  readonly items: ConfigItems;
  /** Groups of keys of which at most one may be given (`enable`, `disable`). */
  readonly exclusive?: readonly (readonly string[])[];
}

export type ConfigItem = FlagItem | TextItem | NumberItem | ChoiceItem | CoreListItem | GroupItem | BlockItem;
export type ConfigItemKind = ConfigItem['kind'];
export type ConfigItems = { readonly [key: string]: ConfigItem };

export interface ConfigSectionSpec {
  readonly name: string;
  readonly help?: string;
  readonly items: ConfigItems;
  readonly exclusive?: readonly (readonly string[])[];
}

// The parsed values' type follows from the declaration, so a section's reader cannot drift
// from its spec: `cli-listen` → `cliListen: string`, a repeatable item → an array, an item
// with no default → `T | undefined`.
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S extends `${infer Head}_${infer Tail}`
    ? `${Head}${Capitalize<CamelCase<Tail>>}`
    : S extends `${infer Head} ${infer Tail}`
      ? `${Head}${Capitalize<CamelCase<Tail>>}`
      : S;

type FieldOf<K extends string, I> = I extends { readonly field: infer F extends string } ? F : CamelCase<K>;

type ScalarOf<I> = I extends { readonly kind: 'string' | 'path' }
  ? string
  : I extends { readonly kind: 'integer' | 'size'; readonly keywords: readonly (infer W)[] }
    ? number | W
    : I extends { readonly kind: 'integer' | 'size' }
      ? number
      : I extends { readonly kind: 'choice'; readonly choices: readonly (infer C)[] }
        ? C
        : I extends { readonly kind: 'gid' }
          ? number | string
          : never;

type ValueOf<I> = I extends { readonly kind: 'flag' }
  ? boolean
  : I extends { readonly kind: 'block'; readonly items: infer Items }
    ? I extends { readonly named: true }
      ? Record<string, ItemsValues<Items>>
      : ItemsValues<Items>
    : I extends { readonly kind: 'corelist' }
      ? number[]
      : I extends { readonly repeatable: true }
        ? ScalarOf<I>[]
        : I extends { readonly default: string | number }
          ? ScalarOf<I>
          : ScalarOf<I> | undefined;

type ItemsValues<Items> = {
  -readonly [K in keyof Items & string as FieldOf<K, Items[K]>]: ValueOf<Items[K]>;
};

/** The parsed values of a section, typed from its declaration. */
export type ConfigValues<S extends { readonly items: ConfigItems }> = ItemsValues<S['items']>;

/** Plain values of one section, keyed by field. */
export type SectionValues = Record<string, unknown>;

const KEY_PATTERN = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*(?: [a-z][a-z0-9]*(?:[-_][a-z0-9]+)*)*$/i;
const SECTION_NAME_PATTERN = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/i;
const DEFAULT_CORE_MAX = 1023;

/** Mirrors `CamelCase` above: separators dropped, the letter after each one upper-cased. */
function fieldName(key: string, item: ConfigItem): string {
  if (item.field !== undefined) return item.field;
  return key
    .split(/[-_ ]/)
    .map((part, i) => (i === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');
}

function checkItems(section: string, items: ConfigItems, exclusive: readonly (readonly string[])[] | undefined, where: string): void {
  const invalid = (what: string): never => {
    throw new ConfigSchemaError('EINVAL', section, `config section '${section}': ${where}${what}`);
  };
  const spellings = new Set<string>();
  const fields = new Set<string>();
  for (const [key, item] of Object.entries(items)) {
    for (const spelling of [key, ...(item.aliases ?? [])]) {
      if (!KEY_PATTERN.test(spelling)) invalid(`bad key '${spelling}'`);
      if (spellings.has(spelling)) invalid(`key '${spelling}' declared twice`);
      spellings.add(spelling);
    }
    const field = fieldName(key, item);
    if (!/^[A-Za-z_$][\w$]*$/.test(field) || field === '__proto__') invalid(`bad field '${field}' for '${key}'`);
    if (fields.has(field)) invalid(`field '${field}' used twice`);
    fields.add(field);
    if (item.kind === 'integer' || item.kind === 'size') {
      const min = item.min ?? 0;
      const max = item.max ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || min > max) invalid(`bad range for '${key}'`);
      if (item.default !== undefined && parseNumberValue(item, String(item.default)) === undefined) {
        invalid(`default of '${key}' is not a valid value`);
      }
    } else if (item.kind === 'choice') {
      if (item.choices.length === 0) invalid(`no choices for '${key}'`);
      if (item.default !== undefined && !item.choices.includes(item.default)) invalid(`default of '${key}' is not one of its choices`);
    } else if (item.kind === 'corelist') {
      if (item.max !== undefined && (!Number.isSafeInteger(item.max) || item.max < 0)) invalid(`bad max for '${key}'`);
    } else if (item.kind === 'block') {
      checkItems(section, item.items, item.exclusive, `${where}'${key}': `);
    }
  }
  for (const group of exclusive ?? []) {
    for (const key of group) if (!Object.hasOwn(items, key)) invalid(`exclusive group names unknown key '${key}'`);
  }
}

/**
 * Declares a startup.conf section. The spec is checked here (keys, fields, defaults), so a
 * bad declaration fails when its module loads rather than when a user's config meets it.
 */
export function defineConfigSection<const S extends ConfigSectionSpec>(spec: S): S {
  if (!SECTION_NAME_PATTERN.test(spec.name)) {
    throw new ConfigSchemaError('EINVAL', spec.name, `config section '${spec.name}': bad section name`);
  }
  checkItems(spec.name, spec.items, spec.exclusive, '');
  Object.freeze(spec);
  return spec;
}

/** The sections a configuration may contain, in registration order. */
export class ConfigSchema {
  private readonly byName = new Map<string, ConfigSectionSpec>();

  /** Adds a section; a name already registered is an error naming it. */
  register(section: ConfigSectionSpec): void {
    if (this.byName.has(section.name)) {
      throw new ConfigSchemaError('EEXIST', section.name, `config section '${section.name}' is already registered`);
    }
    this.byName.set(section.name, section);
  }

  get(name: string): ConfigSectionSpec | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get sections(): readonly ConfigSectionSpec[] {
    return [...this.byName.values()];
  }
}

// ---------------------------------------------------------------------------------------
// Built-in sections, as VPP spells them

export const UNIX_SECTION = defineConfigSection({
  name: 'unix',
  help: 'process, CLI and logging',
  items: {
    nodaemon: { kind: 'flag', help: 'stay in the foreground instead of detaching' },
    interactive: { kind: 'flag', help: 'run the CLI on stdin/stdout (implies nodaemon)' },
    'cli-listen': { kind: 'path', default: '/run/vecnet/cli.sock', help: 'unix socket the CLI listens on (vecnetctl -s)' },
    'cli-prompt': { kind: 'string', default: 'vecnet# ', help: 'CLI prompt' },
    exec: { kind: 'path', aliases: ['startup-config'], help: 'CLI commands to run once the engine is up' },
    log: { kind: 'path', help: 'file to append the log to' },
    gid: { kind: 'gid', help: 'group (id or name) to own the CLI socket' },
    'cli-no-pager': { kind: 'flag', help: 'print long CLI output without the pager' },
    'full-coredump': { kind: 'flag', help: 'ask for full core dumps' },
  },
});

export const CPU_SECTION = defineConfigSection({
  name: 'cpu',
  help: 'main thread and worker threads',
  items: {
    workers: { kind: 'integer', min: 0, max: 64, default: 0, help: 'number of worker threads (0: all work on the main thread)' },
    'main-core': { kind: 'integer', min: 0, max: DEFAULT_CORE_MAX, help: 'core to pin the main thread to' },
    'corelist-workers': { kind: 'corelist', help: 'cores to pin the workers to, such as 2-3,6' },
    'skip-cores': { kind: 'integer', min: 0, max: DEFAULT_CORE_MAX, default: 0, help: 'cores to leave out when placing workers' },
  },
});

export const BUFFERS_SECTION = defineConfigSection({
  name: 'buffers',
  help: 'the packet buffer pool',
  items: {
    'buffers-per-numa': { kind: 'integer', min: 1, max: 4194304, default: 16384, help: 'buffers in the pool' },
    'default-data-size': {
      kind: 'integer',
      min: 256,
      max: 65535,
      default: 2048,
      aliases: ['default data-size'],
      help: 'data bytes per buffer',
    },
    'page-size': {
      kind: 'size',
      min: 4096,
      max: 1 << 30,
      powerOfTwo: true,
      keywords: ['default', 'default-hugepage'],
      default: 'default',
      help: 'page size for buffer memory',
    },
  },
});

export const PLUGINS_SECTION = defineConfigSection({
  name: 'plugins',
  help: 'where plugins are loaded from and which ones',
  items: {
    path: {
      kind: 'path',
      repeatable: true,
      separator: ':',
      field: 'paths',
      help: "directory to load plugins from; repeat it, or join several with ':'",
    },
    plugin: {
      kind: 'block',
      named: true,
      help: "per plugin: enable or disable it; 'plugin default { disable }' turns all off unless enabled",
      items: {
        enable: { kind: 'flag', help: 'load this plugin' },
        disable: { kind: 'flag', help: 'skip this plugin' },
      },
      exclusive: [['enable', 'disable']],
    },
  },
});

export const SESSION_SECTION = defineConfigSection({
  name: 'session',
  help: 'the session layer of the host stack',
  items: {
    enable: { kind: 'flag', help: 'start the session layer at boot' },
    evt_qs_memfd_seg: { kind: 'flag', help: 'put event queues in a memfd segment' },
    'event-queue-length': { kind: 'integer', min: 2048, max: 1 << 24, default: 2048, help: 'entries per event queue' },
    'preallocated-sessions': { kind: 'integer', min: 0, max: 1 << 24, default: 0, help: 'sessions to allocate up front' },
    'use-app-socket-api': { kind: 'flag', help: 'let apps attach over the app socket API' },
  },
});

export const TCP_SECTION = defineConfigSection({
  name: 'tcp',
  help: 'the TCP transport',
  items: {
    'cc-algo': { kind: 'choice', choices: ['newreno', 'cubic'], default: 'cubic', help: 'congestion control algorithm' },
    // RFC 7323 §2.3: window scale stops at 14, so no window exceeds 2^30 bytes.
    'max-rx-fifo': { kind: 'size', min: 4096, max: 1 << 30, default: 32 << 20, help: 'largest receive FIFO, hence receive window' },
    'no-tx-pacing': { kind: 'flag', help: 'send without pacing' },
    // RFC 791: every IPv4 host handles datagrams of 68 bytes.
    mtu: { kind: 'integer', min: 68, max: 65535, default: 1500, help: 'MTU assumed for MSS' },
    // VPP's name; RFC 9293 §3.4.2's 2·MSL.
    'timewait-time': { kind: 'integer', min: 1, max: 3600, default: 60, help: 'seconds a closed connection waits in TIME-WAIT (2·MSL)' },
    // VPP's TCP has no keepalive: these are Linux's TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and their bounds.
    'keepalive-idle': { kind: 'integer', min: 1, max: 32767, default: 7200, help: 'seconds of idle before the first keepalive probe' },
    'keepalive-interval': { kind: 'integer', min: 1, max: 32767, default: 75, help: 'seconds between unanswered keepalive probes' },
    'keepalive-probes': { kind: 'integer', min: 1, max: 127, default: 9, help: 'unanswered keepalive probes before the connection is reset' },
    'syn-backlog': { kind: 'integer', min: 1, max: 1 << 20, default: 1024, help: 'half-open connections per listener before SYN cookies' },
    'no-syn-cookies': { kind: 'flag', help: 'drop SYNs beyond the backlog (counted) instead of answering with cookies' },
  },
});

export const BUILTIN_CONFIG_SECTIONS: readonly ConfigSectionSpec[] = [
  UNIX_SECTION,
  CPU_SECTION,
  BUFFERS_SECTION,
  PLUGINS_SECTION,
  SESSION_SECTION,
  TCP_SECTION,
];

/** A schema holding the built-in sections; plugins register theirs on it. */
export function createConfigSchema(): ConfigSchema {
  const schema = new ConfigSchema();
  for (const section of BUILTIN_CONFIG_SECTIONS) schema.register(section);
  return schema;
}

export interface UnixConfig {
  nodaemon: boolean;
  interactive: boolean;
  cliListen: string;
  cliPrompt: string;
  exec: string | undefined;
  log: string | undefined;
  gid: number | string | undefined;
  cliNoPager: boolean;
  fullCoredump: boolean;
}

export interface CpuConfig {
  workers: number;
  mainCore: number | undefined;
  corelistWorkers: number[];
  skipCores: number;
}

export interface BuffersConfig {
  buffersPerNuma: number;
  defaultDataSize: number;
  pageSize: number | 'default' | 'default-hugepage';
}

export interface PluginConfig {
  enable: boolean;
  disable: boolean;
}

export interface PluginsConfig {
  paths: string[];
  /** By plugin file name; `default` applies to plugins not named. */
  plugin: Record<string, PluginConfig>;
}

export interface SessionConfig {
  enable: boolean;
  evtQsMemfdSeg: boolean;
  eventQueueLength: number;
  preallocatedSessions: number;
  useAppSocketApi: boolean;
}

export interface TcpConfig {
  ccAlgo: 'newreno' | 'cubic';
  maxRxFifo: number;
  noTxPacing: boolean;
  mtu: number;
  timewaitTime: number;
  keepaliveIdle: number;
  keepaliveInterval: number;
  keepaliveProbes: number;
  synBacklog: number;
  noSynCookies: boolean;
}

// The interfaces above are written out for readers; these lines fail to compile if one
// drifts from the type its declaration produces.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
true satisfies Same<UnixConfig, ConfigValues<typeof UNIX_SECTION>>;
true satisfies Same<CpuConfig, ConfigValues<typeof CPU_SECTION>>;
true satisfies Same<BuffersConfig, ConfigValues<typeof BUFFERS_SECTION>>;
true satisfies Same<PluginsConfig, ConfigValues<typeof PLUGINS_SECTION>>;
true satisfies Same<SessionConfig, ConfigValues<typeof SESSION_SECTION>>;
true satisfies Same<TcpConfig, ConfigValues<typeof TCP_SECTION>>;

/** A parsed startup configuration, every default filled in. */
export interface StartupConfig {
  unix: UnixConfig;
  cpu: CpuConfig;
  buffers: BuffersConfig;
  plugins: PluginsConfig;
  session: SessionConfig;
  tcp: TcpConfig;
  /** Every registered section's values by section name, built-in and plugin ones alike. */
  sections: Record<string, SectionValues>;
}

/** A section's values from a parsed configuration, typed by its declaration. */
export function sectionValues<S extends ConfigSectionSpec>(config: Pick<StartupConfig, 'sections'>, section: S): ConfigValues<S> {
  const values = config.sections[section.name];
  return (values ?? defaultValues(section.items)) as ConfigValues<S>;
}

// ---------------------------------------------------------------------------------------
// Values

const SIZE_UNITS: Readonly<Record<string, number>> = { k: 1 << 10, m: 1 << 20, g: 1 << 30 };

function parseCount(digits: string | undefined, hex: string | undefined): number {
  return hex !== undefined ? Number.parseInt(hex, 16) : Number.parseInt(digits ?? '', 10);
}

/** A number, or a keyword the item allows; undefined if the word is neither or out of range. */
function parseNumberValue(item: NumberItem, text: string): number | string | undefined {
  if (item.keywords?.includes(text)) return text;
  const match =
    item.kind === 'size'
      ? /^(?:0[xX]([0-9a-fA-F]+)|([0-9]+))([kKmMgG]?)$/.exec(text)
      : /^(?:0[xX]([0-9a-fA-F]+)|([0-9]+))()$/.exec(text);
  if (match === null) return undefined;
  const value = parseCount(match[2], match[1]) * (match[3] === '' ? 1 : SIZE_UNITS[match[3].toLowerCase()]);
  if (!Number.isSafeInteger(value)) return undefined;
  if (value < (item.min ?? 0) || value > (item.max ?? Number.MAX_SAFE_INTEGER)) return undefined;
  // Math.log2 rather than `value & (value - 1)`: bit operations truncate to 32 bits.
  if (item.powerOfTwo && (value < 1 || !Number.isInteger(Math.log2(value)))) return undefined;
  return value;
}

/** `1,3-5` → [1, 3, 4, 5]: sorted, each core once, all within 0..max. */
function parseCoreList(text: string, max: number): number[] | undefined {
  if (!/^[0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*$/.test(text)) return undefined;
  const cores = new Set<number>();
  for (const range of text.split(',')) {
    const [first, last = first] = range.split('-').map(Number);
    if (first > last || last > max) return undefined;
    for (let core = first; core <= last; core++) cores.add(core);
  }
  return [...cores].sort((a, b) => a - b);
}

function formatCoreList(cores: readonly number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < cores.length; ) {
    let j = i;
    while (j + 1 < cores.length && cores[j + 1] === cores[j] + 1) j++;
    ranges.push(i === j ? `${cores[i]}` : `${cores[i]}-${cores[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

// POSIX.1-2017 §3.437 portable user/group names, plus the '$' Samba machine accounts use.
const GROUP_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;
const MAX_GID = 0xfffffffe; // (gid_t)-1 means "no change" to chown(2), so it is not a group.

function parseGroup(text: string): number | string | undefined {
  if (/^(?:0[xX][0-9a-fA-F]+|[0-9]+)$/.test(text)) {
    const gid = Number(text);
    return Number.isSafeInteger(gid) && gid <= MAX_GID ? gid : undefined;
  }
  return GROUP_NAME_PATTERN.test(text) ? text : undefined;
}

/** Parses one value word for an item; undefined when the word is not acceptable. */
function parseValue(item: ConfigItem, text: string): unknown {
  switch (item.kind) {
    case 'string':
      return text;
    case 'path':
      return text.length > 0 && !text.includes('\0') ? text : undefined;
    case 'integer':
    case 'size':
      return parseNumberValue(item, text);
    case 'choice':
      return item.choices.includes(text) ? text : undefined;
    case 'corelist':
      return parseCoreList(text, item.max ?? DEFAULT_CORE_MAX);
    case 'gid':
      return parseGroup(text);
    default:
      return undefined;
  }
}

function formatSize(bytes: number): string {
  for (const unit of ['g', 'm', 'k']) {
    const scale = SIZE_UNITS[unit];
    if (bytes !== 0 && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return `${bytes}`;
}

/** What a value word should look like, for "expected …". */
function describeValue(item: ConfigItem): string {
  switch (item.kind) {
    case 'string':
      return 'a string';
    case 'path':
      return item.separator === undefined ? 'a path' : `a path, or several joined by '${item.separator}'`;
    case 'integer':
    case 'size': {
      const min = item.min ?? 0;
      const max = item.max;
      const show = item.kind === 'size' ? formatSize : String;
      const range = max !== undefined ? ` ${show(min)}..${show(max)}` : min > 0 ? ` of ${show(min)} or more` : '';
      const what =
        item.kind === 'integer'
          ? `an integer${range}`
          : `a ${item.powerOfTwo ? 'power-of-two ' : ''}size${range}, in bytes or with a k, m or g suffix`;
      return item.keywords === undefined || item.keywords.length === 0 ? what : `${item.keywords.join(', ')} or ${what}`;
    }
    case 'choice':
      return `one of: ${item.choices.join(', ')}`;
    case 'corelist':
      return `a core list such as 1,3-5 with cores 0..${item.max ?? DEFAULT_CORE_MAX}`;
    case 'gid':
      return 'a group id or group name';
    case 'flag':
      return 'nothing';
    case 'block':
      return `{ ${Object.keys(item.items).join(' | ')} }`;
  }
}

/** `cli-listen <path>`, `plugin <name> { enable | disable }`: how an item is written. */
export function formatConfigUsage(key: string, item: ConfigItem): string {
  switch (item.kind) {
    case 'flag':
      return key;
    case 'string':
    case 'path':
      return `${key} <${item.kind}>`;
    case 'integer':
      return item.keywords?.length ? `${key} ${item.keywords.join('|')}|<n>` : `${key} <n>`;
    case 'size':
      return item.keywords?.length ? `${key} ${item.keywords.join('|')}|<size>` : `${key} <size>`;
    case 'choice':
      return `${key} ${item.choices.join('|')}`;
    case 'corelist':
      return `${key} <core-list>`;
    case 'gid':
      return `${key} <gid>`;
    case 'block': {
      const inner = Object.entries(item.items)
        .map(([k, i]) => formatConfigUsage(k, i))
        .join(' | ');
      return `${key}${item.named ? ' <name>' : ''} { ${inner} }`;
    }
  }
}

function defaultValue(item: ConfigItem): unknown {
  switch (item.kind) {
    case 'flag':
      return false;
    case 'block':
      return item.named ? {} : defaultValues(item.items);
    case 'corelist':
      return [];
    case 'string':
    case 'path':
    case 'integer':
    case 'size':
      return item.repeatable ? [] : item.default;
    default:
      return item.default;
  }
}

function defaultValues(items: ConfigItems): SectionValues {
  const values: SectionValues = {};
  for (const [key, item] of Object.entries(items)) values[fieldName(key, item)] = defaultValue(item);
  return values;
}

// ---------------------------------------------------------------------------------------
// The validator

interface Spelling {
  readonly words: readonly string[];
  readonly key: string;
  readonly item: ConfigItem;
}

/** Every way to write each key, longest first so `default data-size` beats `default`. */
const spellingCache = new WeakMap<ConfigItems, readonly Spelling[]>();

function spellingsOf(items: ConfigItems): readonly Spelling[] {
  let spellings = spellingCache.get(items);
  if (spellings === undefined) {
    const list: Spelling[] = [];
    for (const [key, item] of Object.entries(items)) {
      for (const spelling of [key, ...(item.aliases ?? [])]) list.push({ words: spelling.split(' '), key, item });
    }
    spellings = list.sort((a, b) => b.words.length - a.words.length);
    spellingCache.set(items, spellings);
  }
  return spellings;
}

function expectedItems(items: ConfigItems): string {
  const names: string[] = [];
  for (const [key, item] of Object.entries(items)) names.push(key, ...(item.aliases ?? []));
  return `expected one of: ${names.join(', ')}`;
}

function nodeName(node: ConfigNode): string {
  return node.type === 'word' ? node.text : node.name;
}

function openOf(block: ConfigBlock): Position {
  return { line: block.openLine, column: block.openColumn };
}

function closeOf(block: ConfigBlock): Position {
  return { line: block.closeLine, column: block.closeColumn };
}

/** One level of items being read: its values, and where each key was first given. */
interface Level {
  readonly items: ConfigItems;
  readonly exclusive: readonly (readonly string[])[];
  readonly values: SectionValues;
  readonly seen: Map<string, { readonly spelled: string; readonly line: number }>;
  /** "section 'unix'", "'plugin x.so' in section 'plugins'": where errors say they are. */
  readonly where: string;
}

function newLevel(items: ConfigItems, exclusive: readonly (readonly string[])[] | undefined, where: string): Level {
  return { items, exclusive: exclusive ?? [], values: defaultValues(items), seen: new Map(), where };
}

class Validator {
  constructor(private readonly file: string) {}

  /** Reads the nodes of one block (a section, or a nested block) into `level`. */
  readNodes(level: Level, nodes: readonly ConfigNode[], close: Position): void {
    let i = 0;
    while (i < nodes.length) i = this.readItem(level, nodes, i, close);
  }

  private readItem(level: Level, nodes: readonly ConfigNode[], start: number, close: Position): number {
    const first = nodes[start];
    const spelling = spellingsOf(level.items).find((s) => matches(s.words, nodes, start));
    if (spelling === undefined) fail(this.file, first, `unknown item in ${level.where}`, nodeName(first), expectedItems(level.items));
    const { key, item } = spelling;
    const spelled = spelling.words.join(' ');
    const keyNode = nodes[start + spelling.words.length - 1];
    const next = start + spelling.words.length;
    const about = `'${spelled}' in ${level.where}`;
    const usage = `expected ${formatConfigUsage(spelled, item)}`;

    if (item.kind === 'block') {
      if (!item.named) {
        if (keyNode.type !== 'block') this.missing(`missing block for ${about}`, nodes[next], close, usage);
        this.claim(level, key, spelled, first);
        const nested = newLevel(item.items, item.exclusive, about);
        this.readNodes(nested, keyNode.items, closeOf(keyNode));
        level.values[fieldName(key, item)] = nested.values;
        return next;
      }
      if (keyNode.type === 'block') fail(this.file, openOf(keyNode), `missing name for ${about}`, '{', usage);
      const instance = nodes[next];
      if (instance === undefined) this.missing(`missing name for ${about}`, instance, close, usage);
      if (instance.type === 'word') fail(this.file, instance, `missing block for ${about}`, instance.text, usage);
      this.claim(level, `${key} ${instance.name}`, `${spelled} ${instance.name}`, first, instance, `duplicate ${about}`);
      const nested = newLevel(item.items, item.exclusive, `'${spelled} ${instance.name}' in ${level.where}`);
      this.readNodes(nested, instance.items, closeOf(instance));
      // defineProperty: a plugin may be called `__proto__` without touching the prototype.
      Object.defineProperty(level.values[fieldName(key, item)], instance.name, {
        value: nested.values,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return next + 1;
    }

    if (keyNode.type === 'block') {
      fail(this.file, openOf(keyNode), `unexpected block for ${about}`, '{', item.kind === 'flag' ? `${usage} with no block` : usage);
    }
    if (item.kind === 'flag') {
      this.claim(level, key, spelled, first);
      level.values[fieldName(key, item)] = true;
      return next;
    }

    const valueNode = nodes[next];
    if (valueNode === undefined) fail(this.file, close, `missing value for ${about}`, '}', `expected ${describeValue(item)}`);
    if (valueNode.type === 'block') fail(this.file, openOf(valueNode), `unexpected block for ${about}`, '{', usage);
    const separator = item.kind === 'string' || item.kind === 'path' ? item.separator : undefined;
    const parts = separator === undefined ? [valueNode.text] : valueNode.text.split(separator);
    const parsed: unknown[] = [];
    for (const part of parts) {
      const value = parseValue(item, part);
      if (value === undefined) {
        fail(this.file, valueNode, `bad value for ${about}`, valueNode.text, `expected ${describeValue(item)}`);
      }
      parsed.push(value);
    }
    const field = fieldName(key, item);
    if ('repeatable' in item && item.repeatable) {
      (level.values[field] as unknown[]).push(...parsed);
    } else {
      this.claim(level, key, spelled, first);
      level.values[field] = parsed[0];
    }
    return next + 1;
  }

  /**
   * Records that `id` was given at `at`; a second time is an error, and so is a key whose
   * exclusive group already has another member.
   */
  private claim(level: Level, id: string, spelled: string, at: Position, tokenNode?: ConfigBlock, what?: string): void {
    const previous = level.seen.get(id);
    if (previous !== undefined) {
      const as = previous.spelled === spelled ? '' : ` as '${previous.spelled}'`;
      const token = tokenNode === undefined ? spelled : tokenNode.name;
      fail(this.file, tokenNode ?? at, what ?? `duplicate item in ${level.where}`, token, `already given${as} at line ${previous.line}`);
    }
    for (const group of level.exclusive) {
      if (!group.includes(id)) continue;
      for (const other of group) {
        if (other !== id && level.seen.has(other)) {
          fail(this.file, at, `conflicting item in ${level.where}`, spelled, `expected only one of: ${group.join(', ')}`);
        }
      }
    }
    level.seen.set(id, { spelled, line: at.line });
  }

  /** A required node is absent: point at what stands there instead, or at the closing '}'. */
  private missing(what: string, node: ConfigNode | undefined, close: Position, expected: string): never {
    if (node === undefined) fail(this.file, close, what, '}', expected);
    fail(this.file, node, what, nodeName(node), expected);
  }
}

/** True when `words` are the nodes at `start`: leading ones plain words, the last a word or a block's name. */
function matches(words: readonly string[], nodes: readonly ConfigNode[], start: number): boolean {
  for (let w = 0; w < words.length; w++) {
    const node = nodes[start + w];
    if (node === undefined) return false;
    if (node.type === 'block' && w < words.length - 1) return false;
    if (nodeName(node) !== words[w]) return false;
  }
  return true;
}

/**
 * Checks a parsed tree against a schema and returns the typed configuration. A section may
 * be given more than once; as in VPP, its items are read as if written in one block.
 */
export function validateConfigTree(sections: readonly ConfigSection[], fileName: string, schema: ConfigSchema): StartupConfig {
  const validator = new Validator(fileName);
  const levels = new Map<string, Level>();
  for (const section of sections) {
    const spec = schema.get(section.name);
    if (spec === undefined) {
      const names = schema.sections.map((s) => s.name).join(', ');
      throw new ConfigError(
        fileName,
        section.line,
        section.column,
        `unknown section ${showToken(section.name)} (expected one of: ${names})`,
        section.name,
      );
    }
    let level = levels.get(spec.name);
    if (level === undefined) {
      level = newLevel(spec.items, spec.exclusive, `section '${spec.name}'`);
      levels.set(spec.name, level);
    }
    validator.readNodes(level, section.items, closeOf(section));
  }
  const values: Record<string, SectionValues> = {};
  for (const spec of schema.sections) values[spec.name] = levels.get(spec.name)?.values ?? defaultValues(spec.items);
  // The typed fields come from the built-in declarations only: a schema without them (or
  // with a look-alike of the same name) yields their defaults.
  const builtin = <S extends ConfigSectionSpec>(spec: S): ConfigValues<S> =>
    (schema.get(spec.name) === spec ? values[spec.name] : defaultValues(spec.items)) as ConfigValues<S>;
  return {
    unix: builtin(UNIX_SECTION),
    cpu: builtin(CPU_SECTION),
    buffers: builtin(BUFFERS_SECTION),
    plugins: builtin(PLUGINS_SECTION),
    session: builtin(SESSION_SECTION),
    tcp: builtin(TCP_SECTION),
    sections: values,
  };
}

/** Parses startup.conf text; any problem throws one `ConfigError`. */
export function parseStartupConfig(text: string, fileName: string, schema: ConfigSchema = createConfigSchema()): StartupConfig {
  return validateConfigTree(parseConfigTree(text, fileName), fileName, schema);
}

/** The file name `ConfigError`s carry for configuration given as argv words. */
export const COMMAND_LINE = 'command line';

/**
 * Parses configuration given as argv words (`vecnet unix { nodaemon cli-listen /tmp/v.sock }`).
 * As VPP does, the words are joined with spaces and read as one line, so columns count in
 * that line; a value with a space in it needs config quotes inside the shell's
 * (`cli-prompt '"vpp# "'`).
 */
export function parseCommandLineConfig(argv: readonly string[], schema: ConfigSchema = createConfigSchema()): StartupConfig {
  return parseStartupConfig(argv.join(' '), COMMAND_LINE, schema);
}

// ---------------------------------------------------------------------------------------
// Printing values back

function formatScalar(item: ConfigItem, value: unknown): string {
  if (item.kind === 'size' && typeof value === 'number') return formatSize(value);
  if (item.kind === 'corelist') return formatCoreList(value as number[]);
  return formatConfigWord(String(value));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

function formatItems(items: ConfigItems, values: SectionValues): string[] {
  const out: string[] = [];
  for (const [key, item] of Object.entries(items)) {
    const value = values[fieldName(key, item)];
    if (item.kind === 'block') {
      if (item.named) {
        for (const [name, nested] of Object.entries(value as Record<string, SectionValues>)) {
          const inner = formatItems(item.items, nested);
          out.push(`${key} ${formatConfigWord(name)} {${inner.length ? ` ${inner.join(' ')} ` : ' '}}`);
        }
      } else {
        const inner = formatItems(item.items, value as SectionValues);
        if (inner.length > 0) out.push(`${key} { ${inner.join(' ')} }`);
      }
    } else if (item.kind === 'flag') {
      if (value === true) out.push(key);
    } else if (item.kind !== 'corelist' && 'repeatable' in item && item.repeatable) {
      for (const one of value as unknown[]) out.push(`${key} ${formatScalar(item, one)}`);
    } else if (value !== undefined && !sameValue(value, defaultValue(item))) {
      out.push(`${key} ${formatScalar(item, value)}`);
    }
  }
  return out;
}

/**
 * Prints a configuration in startup.conf syntax: every section of the schema with an item
 * that differs from its default, so the text parses back to the same values.
 */
export function formatStartupConfig(config: Pick<StartupConfig, 'sections'>, schema: ConfigSchema = createConfigSchema()): string {
  const out: string[] = [];
  for (const spec of schema.sections) {
    const values = config.sections[spec.name];
    if (values === undefined) continue;
    const lines = formatItems(spec.items, values);
    if (lines.length > 0) out.push(`${spec.name} {`, ...lines.map((line) => `  ${line}`), '}');
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
