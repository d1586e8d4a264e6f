// The plugin loader (VPP's vlib/unix/plugin.c): finds plugin folders under every plugin
// path, imports their entry modules, and adds what each declares to the engine. Start-up
// runs in two phases because a plugin may bring its own startup.conf section:
//
//   1. `discoverPlugins` reads only the `plugins { … }` section of the configuration tree,
//      scans each path (default: the repository's `plugins/` folder) for folders holding
//      `index.ts` or `index.js`, skips the disabled ones, and imports the rest (TypeScript
//      through tsx, which the launchers register). `registerPluginConfig` then adds their
//      config sections to the schema, and only then is the whole configuration validated.
//   2. `attachPlugins` runs each plugin's `init` and, once it has succeeded, registers its
//      nodes, feature arcs, features, next arcs and CLI commands.
//
// A plugin that fails anywhere (its module throws, its definition is malformed, it clashes
// with a built-in name, its `init` throws) is reported in one line by name and appears in
// `show plugins` as failed; the engine starts without it, since nothing of it is
// registered until every check has passed. Two plugins claiming the same node, command or
// config section name is a start-up error naming both (a `PluginError`, code `EEXIST`):
// which of them was meant is the user's decision, made with `plugin <name> { disable }`.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Engine } from './engine.ts';
import type { PluginDefinition } from './plugin.ts';
import {
  ConfigSchema,
  PLUGINS_SECTION,
  sectionValues,
  validateConfigTree,
  type ConfigSection,
  type ConfigSectionSpec,
  type PluginsConfig,
  type StartupConfig,
} from './startup-conf.ts';

/** The repository's own plugin folder, used when startup.conf names no `path`. */
export const DEFAULT_PLUGIN_PATH = fileURLToPath(new URL('../../plugins/', import.meta.url)).replace(/\/$/, '');

/** Entry modules looked for in a plugin folder, in this order. */
const ENTRY_FILES = ['index.ts', 'index.js'] as const;

/** A start-up error about plugins as a whole (two plugins claiming one name). */
export class PluginError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EEXIST') {
    super(message);
    this.name = 'PluginError';
    this.code = code;
  }
}

export type PluginState = 'loaded' | 'failed' | 'disabled';

/** One plugin folder the loader found, and what became of it. */
export interface PluginRecord {
  /** Folder name = plugin name. */
  readonly name: string;
  /** The plugin folder. */
  readonly directory: string;
  /** The entry module (`…/index.ts`). */
  readonly entry: string;
  state: PluginState;
  /** The default export, once imported and checked. */
  definition?: PluginDefinition;
  /** Why it failed: one line. */
  error?: string;
}

/** Every plugin found at start, in load order (by path, then by name). */
export interface PluginSet {
  /** The plugin paths searched, as `show plugins` prints them. */
  readonly paths: readonly string[];
  readonly plugins: PluginRecord[];
}

export interface DiscoverOptions {
  /** Called with one line per plugin that fails (default: console.error). */
  report?: (line: string) => void;
  /** Directory relative plugin paths are resolved against (default: the process's cwd). */
  baseDirectory?: string;
}

const sets = new WeakMap<Engine, PluginSet>();
/** Per engine: which plugin registered a node or command (`node\0<name>`, `command\0<path>`). */
const owners = new WeakMap<Engine, Map<string, string>>();

function ownerOf(vm: Engine, kind: 'node' | 'command', name: string): string {
  const plugin = owners.get(vm)?.get(`${kind}\0${name}`);
  return plugin === undefined ? 'vecnet' : `plugin '${plugin}'`;
}

/** The plugins attached to an engine (for `show plugins`), if the loader ran on it. */
export function pluginsOf(vm: Engine): PluginSet | undefined {
  return sets.get(vm);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return oneLine(error.message) || error.name;
  return oneLine(String(error));
}

/**
 * The `plugins` section of a parsed configuration tree, validated on its own: phase 1
 * needs it before the other sections can be checked. Throws `ConfigError` as a full
 * validation would for the same text.
 */
export function readPluginsSection(tree: readonly ConfigSection[], fileName: string): PluginsConfig {
  const schema = new ConfigSchema();
  schema.register(PLUGINS_SECTION);
  return validateConfigTree(
    tree.filter((section) => section.name === PLUGINS_SECTION.name),
    fileName,
    schema,
  ).plugins;
}

/** Whether startup.conf lets a plugin load: its own entry wins, then `plugin default`. */
export function isPluginEnabled(config: PluginsConfig, name: string): boolean {
  const own = config.plugin[name];
  if (own !== undefined && (own.enable || own.disable)) return own.enable;
  return config.plugin.default?.disable !== true;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Plugin folders under one path: sorted, hidden ones skipped, only those with an entry module. */
function scan(directory: string): { name: string; directory: string; entry: string }[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  const found: { name: string; directory: string; entry: string }[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const folder = join(directory, name);
    try {
      if (!statSync(folder).isDirectory()) continue;
    } catch {
      continue;
    }
    const file = ENTRY_FILES.find((candidate) => existsSync(join(folder, candidate)));
    if (file !== undefined) found.push({ name, directory: folder, entry: join(folder, file) });
  }
  return found;
}

/** Checks the shape of a default export; returns the problem, or undefined when it is a plugin. */
function checkDefinition(value: unknown, folder: string): string | undefined {
  if (typeof value !== 'object' || value === null) return 'its entry module has no default export of definePlugin({ … })';
  const d = value as Record<string, unknown>;
  if (typeof d.name !== 'string') return "its definition has no 'name'";
  if (d.name !== folder) return `its definition is named '${d.name}' but its folder is '${folder}' (they must match)`;
  if (typeof d.description !== 'string') return "its definition has no 'description'";
  if (d.version !== undefined && typeof d.version !== 'string') return "'version' must be a string";
  for (const key of ['nodes', 'featureArcs', 'features', 'arcs', 'commands'] as const) {
    if (d[key] !== undefined && !Array.isArray(d[key])) return `'${key}' must be an array`;
  }
  for (const node of (d.nodes ?? []) as unknown[]) {
    if (typeof node !== 'object' || node === null || typeof (node as { name?: unknown }).name !== 'string') return "every entry of 'nodes' needs a 'name'";
  }
  for (const command of (d.commands ?? []) as unknown[]) {
    const c = command as { path?: unknown; short?: unknown; action?: unknown } | null;
    if (c === null || typeof c !== 'object' || typeof c.path !== 'string' || typeof c.action !== 'function') {
      return "every entry of 'commands' needs a 'path' and an 'action'";
    }
  }
  for (const arc of (d.arcs ?? []) as unknown[]) {
    const a = arc as { from?: unknown; to?: unknown } | null;
    if (a === null || typeof a !== 'object' || typeof a.from !== 'string' || typeof a.to !== 'string') return "every entry of 'arcs' needs 'from' and 'to'";
  }
  for (const feature of (d.features ?? []) as unknown[]) {
    const f = feature as { arc?: unknown; node?: unknown } | null;
    if (f === null || typeof f !== 'object' || typeof f.arc !== 'string' || typeof f.node !== 'string') return "every entry of 'features' needs 'arc' and 'node'";
  }
  if (d.config !== undefined) {
    const c = d.config as { name?: unknown; items?: unknown } | null;
    if (c === null || typeof c !== 'object' || typeof c.name !== 'string' || typeof c.items !== 'object') {
      return "'config' must be a section made with defineConfigSection({ name, items })";
    }
  }
  if (d.init !== undefined && typeof d.init !== 'function') return "'init' must be a function";
  if (d.exit !== undefined && typeof d.exit !== 'function') return "'exit' must be a function";
  return undefined;
}

/** A command path as the registry keys it: words separated by one space. */
function canonicalPath(path: string): string {
  return path.trim().split(/\s+/).join(' ');
}

/** What a plugin claims by name; two plugins may not claim the same one. */
function claims(definition: PluginDefinition): { kind: string; name: string }[] {
  const out: { kind: string; name: string }[] = [];
  for (const node of definition.nodes ?? []) out.push({ kind: 'node', name: node.name });
  for (const command of definition.commands ?? []) out.push({ kind: 'CLI command', name: canonicalPath(command.path) });
  for (const arc of definition.featureArcs ?? []) out.push({ kind: 'feature arc', name: arc.name });
  if (definition.config !== undefined) out.push({ kind: 'config section', name: definition.config.name });
  return out;
}

/**
 * Phase 1: finds and imports every enabled plugin. Failures are reported and recorded, not
 * thrown; two plugins claiming one name throw a `PluginError` naming both.
 */
export async function discoverPlugins(config: PluginsConfig, options: DiscoverOptions = {}): Promise<PluginSet> {
  const report = options.report ?? ((line: string) => console.error(line));
  const base = options.baseDirectory ?? process.cwd();
  const paths = config.paths.length > 0 ? config.paths.map((p) => resolve(base, p)) : [DEFAULT_PLUGIN_PATH];
  const set: PluginSet = { paths, plugins: [] };
  const seen = new Map<string, string>();
  for (const path of paths) {
    if (config.paths.length > 0 && !isDirectory(path)) report(`plugins path ${path}: no such directory`);
    for (const found of scan(path)) {
      const first = seen.get(found.name);
      if (first !== undefined) {
        // VPP loads the first plugin of a name along the path and ignores later ones.
        report(`plugin '${found.name}' in ${path} ignored: a plugin of that name was found first in ${first}`);
        continue;
      }
      seen.set(found.name, path);
      const record: PluginRecord = { ...found, state: 'disabled' };
      set.plugins.push(record);
      if (!isPluginEnabled(config, found.name)) continue;
      try {
        const module = (await import(pathToFileURL(found.entry).href)) as { default?: unknown };
        const problem = checkDefinition(module.default, found.name);
        if (problem !== undefined) throw new Error(problem);
        record.definition = module.default as PluginDefinition;
        record.state = 'loaded';
      } catch (error) {
        fail(record, `failed to load: ${messageOf(error)}`, report);
      }
    }
  }
  refuseSharedNames(set.plugins);
  return set;
}

/** Two loaded plugins claiming one name: a `PluginError` naming both. */
function refuseSharedNames(records: readonly PluginRecord[]): void {
  const owners = new Map<string, PluginRecord>();
  for (const record of records) {
    if (record.state !== 'loaded' || record.definition === undefined) continue;
    for (const claim of claims(record.definition)) {
      const key = `${claim.kind}\0${claim.name}`;
      const other = owners.get(key);
      if (other !== undefined && other !== record) {
        throw new PluginError(
          `plugins '${other.name}' and '${record.name}' both register ${claim.kind} '${claim.name}' ` +
            `(${other.entry}, ${record.entry}); disable one: plugins { plugin ${record.name} { disable } }`,
        );
      }
      owners.set(key, record);
    }
  }
}

function fail(record: PluginRecord, why: string, report: (line: string) => void): void {
  record.state = 'failed';
  record.error = why;
  record.definition = undefined;
  report(`plugin '${record.name}' ${why}`);
}

/**
 * Phase 1, continued: adds each loaded plugin's config section to the schema, so the whole
 * configuration can then be validated. A section whose name is taken by vecnet fails that
 * plugin (two plugins with one section name were refused by `discoverPlugins`).
 */
export function registerPluginConfig(set: PluginSet, schema: ConfigSchema, report: (line: string) => void = (l) => console.error(l)): void {
  for (const record of set.plugins) {
    const section = record.definition?.config;
    if (record.state !== 'loaded' || section === undefined) continue;
    try {
      schema.register(section);
    } catch (error) {
      fail(record, `failed to load: ${messageOf(error)}`, report);
    }
  }
}

/** Names a plugin would add that the engine has already: the first one found, as a message. */
function clashWithEngine(vm: Engine, definition: PluginDefinition): string | undefined {
  for (const node of definition.nodes ?? []) {
    if (vm.node(node.name) !== undefined) return `node '${node.name}' is already registered by ${ownerOf(vm, 'node', node.name)}`;
  }
  const paths = new Set(vm.commands.commands().map((command) => canonicalPath(command.path)));
  for (const command of definition.commands ?? []) {
    const path = canonicalPath(command.path);
    if (paths.has(path)) return `CLI command '${path}' is already registered by ${ownerOf(vm, 'command', path)}`;
  }
  const arcs = new Set(vm.features.arcNames());
  for (const arc of definition.featureArcs ?? []) {
    if (arcs.has(arc.name)) return `feature arc '${arc.name}' is already registered`;
  }
  const own = new Set((definition.nodes ?? []).map((node) => node.name));
  const ownArcs = new Set((definition.featureArcs ?? []).map((arc) => arc.name));
  for (const node of definition.nodes ?? []) {
    if (node.siblingOf !== undefined && vm.node(node.siblingOf) === undefined && !own.has(node.siblingOf)) {
      return `node '${node.name}': sibling '${node.siblingOf}' is not a node`;
    }
    const kind = node.type ?? 'internal';
    if (kind === 'process' ? typeof node.run !== 'function' : typeof node.process !== 'function') {
      return `node '${node.name}' has no ${kind === 'process' ? 'run' : 'process'} function`;
    }
  }
  for (const feature of definition.features ?? []) {
    if (!arcs.has(feature.arc) && !ownArcs.has(feature.arc)) return `feature '${feature.node}': unknown feature arc '${feature.arc}'`;
  }
  for (const arc of definition.arcs ?? []) {
    if (vm.node(arc.from) === undefined && !own.has(arc.from)) return `next arc '${arc.from} -> ${arc.to}': no node '${arc.from}'`;
  }
  return undefined;
}

/**
 * Phase 2: initialises every loaded plugin and adds its nodes, arcs, features and commands
 * to the engine, in load order. `config` is the validated start-up configuration (its
 * plugin sections are handed to each `init`). Failures are reported and recorded.
 */
export async function attachPlugins(
  vm: Engine,
  set: PluginSet,
  config: Pick<StartupConfig, 'sections'>,
  report: (line: string) => void = (l) => console.error(l),
): Promise<void> {
  sets.set(vm, set);
  for (const record of set.plugins) {
    const definition = record.definition;
    if (record.state !== 'loaded' || definition === undefined) continue;
    const clash = clashWithEngine(vm, definition);
    if (clash !== undefined) {
      fail(record, `failed to load: ${clash}`, report);
      continue;
    }
    try {
      const values = definition.config === undefined ? {} : sectionValues(config, definition.config as ConfigSectionSpec);
      await definition.init?.(vm, values);
    } catch (error) {
      fail(record, `failed to initialize: ${messageOf(error)}`, report);
      continue;
    }
    let owned = owners.get(vm);
    if (owned === undefined) owners.set(vm, (owned = new Map()));
    try {
      for (const node of definition.nodes ?? []) {
        vm.registerNode(node);
        owned.set(`node\0${node.name}`, record.name);
      }
      for (const arc of definition.featureArcs ?? []) vm.features.registerArc(arc);
      for (const feature of definition.features ?? []) vm.features.registerFeature({ owner: record.name, ...feature });
      for (const arc of definition.arcs ?? []) vm.addNext(arc.from, arc.to);
      for (const command of definition.commands ?? []) {
        vm.commands.register(command, record.name);
        owned.set(`command\0${canonicalPath(command.path)}`, record.name);
      }
    } catch (error) {
      // Every name was checked above, so this is a malformed node or command the checks
      // cannot see; what was registered before it stays (the engine cannot remove nodes).
      fail(record, `failed to register: ${messageOf(error)}`, report);
    }
  }
}

/** Runs every attached plugin's `exit`, newest first; failures are reported, never thrown. */
export async function exitPlugins(vm: Engine, report: (line: string) => void = (l) => console.error(l)): Promise<void> {
  const set = sets.get(vm);
  if (set === undefined) return;
  for (const record of [...set.plugins].reverse()) {
    if (record.state !== 'loaded') continue;
    try {
      await record.definition?.exit?.(vm);
    } catch (error) {
      report(`plugin '${record.name}' failed to exit: ${messageOf(error)}`);
    }
  }
}

/**
 * Both phases for callers that hold the configuration tree (the daemon, tests): discovers
 * plugins from the tree's `plugins` section, registers their config sections on `schema`,
 * validates the whole tree, attaches the plugins to the engine `makeEngine` builds from
 * the validated configuration, and returns both.
 */
export async function loadPluginsWithConfig(
  tree: readonly ConfigSection[],
  fileName: string,
  schema: ConfigSchema,
  makeEngine: (config: StartupConfig) => Engine,
  options: DiscoverOptions = {},
): Promise<{ vm: Engine; config: StartupConfig; plugins: PluginSet }> {
  const report = options.report ?? ((line: string) => console.error(line));
  const plugins = await discoverPlugins(readPluginsSection(tree, fileName), { ...options, report });
  registerPluginConfig(plugins, schema, report);
  const config = validateConfigTree(tree, fileName, schema);
  const vm = makeEngine(config);
  await attachPlugins(vm, plugins, config, report);
  return { vm, config, plugins };
}
