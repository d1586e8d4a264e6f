// The plugin loader, with plugins written to a temporary directory by each test: TS and JS
// plugins load and their nodes, arcs, features, commands and config sections appear; a
// disabled plugin is never imported; a plugin that throws at import or in init is reported
// by name and leaves nothing behind; two plugins claiming one name stop start-up naming
// both; `show plugins` prints VPP's layout; exit hooks run newest first.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../../src/vlib/engine.ts';
import { registerDaemonCommands } from '../../src/cli/commands.ts';
import { ConfigError, createConfigSchema, parseConfigTree } from '../../src/vlib/startup-conf.ts';
import { definePlugin, type PluginDefinition } from '../../src/vlib/plugin.ts';
import {
  attachPlugins,
  exitPlugins,
  isPluginEnabled,
  loadPluginsWithConfig,
  PluginError,
  type PluginSet,
} from '../../src/vlib/plugin-loader.ts';

const PLUGIN_API = pathToFileURL(join(import.meta.dirname, '../../src/vlib/plugin.ts')).href;
const NODE_API = pathToFileURL(join(import.meta.dirname, '../../src/vlib/node.ts')).href;

let root: string;
let counter = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'vecnet-plugins-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh plugin directory holding `files` (plugin name → entry file name → text). */
function pluginDir(plugins: Record<string, Record<string, string>>): string {
  const dir = join(root, `path${counter++}`);
  for (const [name, files] of Object.entries(plugins)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, name, file), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A TypeScript plugin using the public helpers, with one node and one command. */
function tsPlugin(name: string, extra = ''): Record<string, string> {
  return {
    'index.ts': `
import { definePlugin } from '${PLUGIN_API}';
import { defineNode } from '${NODE_API}';
const node = defineNode({
  name: '${name}-node',
  type: 'internal',
  errors: { seen: 'packets seen' },
  process(ctx, buffers, n) { ctx.errors[0] += n; ctx.pool.free(buffers, 0, n); return 0; },
});
export default definePlugin({
  name: '${name}',
  description: 'The ${name} plugin',
  version: '1.2.3',
  nodes: [node],
  commands: [{ path: '${name} hello', short: 'Say hello', action(vm, input, out) { input.expectEnd(); out.print('hello from ${name}'); } }],
  ${extra}
});
`,
  };
}

/** A JavaScript plugin written as a plain object. */
function jsPlugin(name: string, body = ''): Record<string, string> {
  return {
    'index.js': `export default { name: '${name}', description: 'JS ${name}', ${body} };\n`,
  };
}

interface Loaded {
  vm: Engine;
  plugins: PluginSet;
  reports: string[];
  config: Awaited<ReturnType<typeof loadPluginsWithConfig>>['config'];
}

async function load(configText: string): Promise<Loaded> {
  const reports: string[] = [];
  const tree = parseConfigTree(configText, 'startup.conf');
  const { vm, plugins, config } = await loadPluginsWithConfig(
    tree,
    'startup.conf',
    createConfigSchema(),
    (c) => {
      const engine = new Engine({ buffers: c.buffers.buffersPerNuma });
      registerDaemonCommands(engine);
      return engine;
    },
    { report: (line) => reports.push(line) },
  );
  return { vm, plugins, reports, config };
}

describe('plugin loader', () => {
  it('loads TypeScript and JavaScript plugins: nodes, commands, show plugins', async () => {
    const dir = pluginDir({ alpha: tsPlugin('alpha'), beta: jsPlugin('beta', "version: '0.9'") });
    const { vm, plugins, reports } = await load(`plugins { path ${dir} }`);
    assert.deepEqual(reports, []);
    assert.deepEqual(
      plugins.plugins.map((p) => [p.name, p.state]),
      [
        ['alpha', 'loaded'],
        ['beta', 'loaded'],
      ],
    );
    assert.ok(vm.node('alpha-node'));
    assert.equal(vm.cli('alpha hello'), 'hello from alpha');
    assert.equal(vm.cli('al he'), 'hello from alpha');
    const lines = vm.cli('show plugins').split('\n');
    assert.deepEqual(lines, [
      ` Plugin path is: ${dir}`,
      '',
      '     Plugin                                   Version                          Description',
      '  1. alpha                                    1.2.3                            The alpha plugin',
      '  2. beta                                     0.9                              JS beta',
    ]);
    const json = JSON.parse(vm.cli('show plugins --json')) as { paths: string[]; plugins: { name: string; state: string; version: string }[] };
    assert.deepEqual(json.paths, [dir]);
    assert.deepEqual(
      json.plugins.map((p) => [p.name, p.state, p.version]),
      [
        ['alpha', 'loaded', '1.2.3'],
        ['beta', 'loaded', '0.9'],
      ],
    );
    vm.seal();
  });

  it('a disabled plugin is never imported, and its nodes and commands are absent', async () => {
    const marker = join(root, `imported-${counter}`);
    const dir = pluginDir({
      alpha: tsPlugin('alpha'),
      gamma: { 'index.js': `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x'); export default { name: 'gamma', description: 'g' };` },
    });
    const { vm, plugins } = await load(`plugins { path ${dir} plugin alpha { disable } plugin gamma { disable } }`);
    assert.equal(existsSync(marker), false, 'gamma was imported');
    assert.deepEqual(
      plugins.plugins.map((p) => [p.name, p.state]),
      [
        ['alpha', 'disabled'],
        ['gamma', 'disabled'],
      ],
    );
    assert.equal(vm.node('alpha-node'), undefined);
    assert.throws(() => vm.cli('alpha hello'), /unknown input `alpha hello'/);
    assert.match(vm.cli('show plugins'), /Disabled in startup.conf: alpha, gamma/);
  });

  it("'plugin default { disable }' keeps only the plugins enabled by name", async () => {
    const dir = pluginDir({ alpha: tsPlugin('alpha'), beta: jsPlugin('beta'), delta: jsPlugin('delta') });
    const { plugins } = await load(`plugins { path ${dir} plugin default { disable } plugin beta { enable } }`);
    assert.deepEqual(
      plugins.plugins.map((p) => [p.name, p.state]),
      [
        ['alpha', 'disabled'],
        ['beta', 'loaded'],
        ['delta', 'disabled'],
      ],
    );
    assert.equal(isPluginEnabled({ paths: [], plugin: { default: { enable: false, disable: true } } }, 'x'), false);
    assert.equal(isPluginEnabled({ paths: [], plugin: {} }, 'x'), true);
  });

  it('a plugin that throws at import is reported by name; the others load and the engine starts', async () => {
    const dir = pluginDir({
      alpha: tsPlugin('alpha'),
      broken: { 'index.ts': "throw new Error('no licence\\nfor this');\nexport default {};\n" },
      syntax: { 'index.js': 'export default { name: ;\n' },
      empty: { 'index.js': 'export const x = 1;\n' },
    });
    const { vm, plugins, reports } = await load(`plugins { path ${dir} }`);
    assert.equal(reports.length, 3);
    assert.equal(reports[0], "plugin 'broken' failed to load: no licence for this");
    assert.match(reports[1], /^plugin 'empty' failed to load: its entry module has no default export of definePlugin/);
    assert.match(reports[2], /^plugin 'syntax' failed to load: /);
    for (const line of reports) assert.ok(!line.includes('\n'));
    assert.deepEqual(
      plugins.plugins.map((p) => [p.name, p.state]),
      [
        ['alpha', 'loaded'],
        ['broken', 'failed'],
        ['empty', 'failed'],
        ['syntax', 'failed'],
      ],
    );
    const text = vm.cli('show plugins');
    assert.match(text, /  1\. alpha /);
    assert.match(text, / Failed:\n     broken {35}failed to load: no licence for this/);
    vm.start();
    vm.stop();
  });

  it('a plugin whose init throws is reported and none of its nodes or commands are added', async () => {
    const dir = pluginDir({
      alpha: tsPlugin('alpha', "init() { throw new Error('cannot find device'); },"),
      beta: jsPlugin('beta'),
    });
    const { vm, plugins, reports } = await load(`plugins { path ${dir} }`);
    assert.deepEqual(reports, ["plugin 'alpha' failed to initialize: cannot find device"]);
    assert.equal(plugins.plugins[0].state, 'failed');
    assert.equal(vm.node('alpha-node'), undefined);
    assert.throws(() => vm.cli('alpha hello'), /unknown input/);
    assert.equal(plugins.plugins[1].state, 'loaded');
  });

  it('two plugins registering the same node, command or section: an error naming both', async () => {
    const sameNode = pluginDir({ one: tsPlugin('one'), two: { 'index.js': "export default { name: 'two', description: 'd', nodes: [{ name: 'one-node', process() { return 0; } }] };" } });
    await assert.rejects(load(`plugins { path ${sameNode} }`), (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.equal(error.code, 'EEXIST');
      assert.match(error.message, /^plugins 'one' and 'two' both register node 'one-node' \(.*\); disable one: plugins \{ plugin two \{ disable \} \}$/);
      return true;
    });
    const sameCommand = pluginDir({
      one: tsPlugin('one'),
      two: { 'index.js': "export default { name: 'two', description: 'd', commands: [{ path: 'one   hello', short: 's', action() {} }] };" },
    });
    await assert.rejects(load(`plugins { path ${sameCommand} }`), /plugins 'one' and 'two' both register CLI command 'one hello'/);
    const sameSection = pluginDir({
      one: jsPlugin('one', "config: { name: 'shared', items: {} }"),
      two: jsPlugin('two', "config: { name: 'shared', items: {} }"),
    });
    await assert.rejects(load(`plugins { path ${sameSection} }`), /plugins 'one' and 'two' both register config section 'shared'/);
    // Disabling one of them resolves it.
    const { plugins } = await load(`plugins { path ${sameNode} plugin two { disable } }`);
    assert.deepEqual(plugins.plugins.map((p) => p.state), ['loaded', 'disabled']);
  });

  it("a plugin reusing a built-in node or command name fails alone, named", async () => {
    const dir = pluginDir({
      clash: { 'index.js': "export default { name: 'clash', description: 'd', nodes: [{ name: 'error-drop', process() { return 0; } }] };" },
      clash2: { 'index.js': "export default { name: 'clash2', description: 'd', commands: [{ path: 'show version', short: 's', action() {} }] };" },
      named: jsPlugin('wrong-name'),
    });
    const { reports, vm } = await load(`plugins { path ${dir} }`);
    assert.deepEqual(reports, [
      "plugin 'named' failed to load: its definition is named 'wrong-name' but its folder is 'named' (they must match)",
      "plugin 'clash' failed to load: node 'error-drop' is already registered by vecnet",
      "plugin 'clash2' failed to load: CLI command 'show version' is already registered by vecnet",
    ]);
    assert.match(vm.cli('show version'), /^vecnet v/);
  });

  it("a plugin's startup.conf section is known before the file is validated, and its values reach init", async () => {
    const seen = join(root, `init-${counter}.json`);
    const dir = pluginDir({
      rate: {
        'index.js': `
import { writeFileSync } from 'node:fs';
export default {
  name: 'rate',
  description: 'rate limiter',
  config: { name: 'rate-limit', items: { pps: { kind: 'integer', min: 1, max: 1000000, default: 100, help: 'packets per second' }, burst: { kind: 'flag', help: 'allow bursts' } } },
  init(vm, config) { writeFileSync(${JSON.stringify(seen)}, JSON.stringify(config)); },
};`,
      },
    });
    const { config } = await load(`plugins { path ${dir} }\nrate-limit { pps 5000 burst }\n`);
    assert.deepEqual(config.sections['rate-limit'], { pps: 5000, burst: true });
    const { readFileSync } = await import('node:fs');
    assert.deepEqual(JSON.parse(readFileSync(seen, 'utf8')), { pps: 5000, burst: true });
    // The section is checked like a built-in one…
    await assert.rejects(load(`plugins { path ${dir} }\nrate-limit { pps lots }\n`), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, "startup.conf:2:18: bad value for 'pps' in section 'rate-limit': 'lots' (expected an integer 1..1000000)");
      return true;
    });
    // …and with the plugin disabled it is an unknown section, as in VPP.
    await assert.rejects(load(`plugins { path ${dir} plugin rate { disable } }\nrate-limit { pps 1 }\n`), /^ConfigError: startup.conf:2:1: unknown section 'rate-limit'/);
  });

  it('an error in the plugins section itself is the same one-line ConfigError', async () => {
    await assert.rejects(load('plugins { plugin x { maybe } }'), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^startup.conf:1:22: unknown item in 'plugin x' in section 'plugins': 'maybe' \(expected one of: enable, disable\)$/);
      return true;
    });
  });

  it('features, feature arcs and next arcs from a plugin are registered', async () => {
    const dir = pluginDir({
      feat: {
        'index.js': `
const pass = (ctx, buffers, n) => { ctx.pool.free(buffers, 0, n); return 0; };
export default {
  name: 'feat',
  description: 'features',
  nodes: [{ name: 'feat-start', process: pass }, { name: 'feat-a', process: pass }, { name: 'feat-b', process: pass }],
  featureArcs: [{ name: 'feat-arc', startNodes: ['feat-start'], endNode: 'error-drop' }],
  features: [{ arc: 'feat-arc', node: 'feat-a', runsAfter: ['feat-b'] }, { arc: 'feat-arc', node: 'feat-b' }],
  arcs: [{ from: 'null-node', to: 'feat-a' }],
};`,
      },
    });
    const { vm, reports } = await load(`plugins { path ${dir} }`);
    assert.deepEqual(reports, []);
    vm.seal();
    assert.deepEqual(vm.features.order('feat-arc'), ['feat-b', 'feat-a']);
    assert.ok(vm.node('null-node')?.nextNames.includes('feat-a'));
  });

  it('the first plugin of a name along the path wins; exit hooks run newest first', async () => {
    const log = join(root, `exit-${counter}.txt`);
    const hook = (name: string): string =>
      `exit() { const fs = require_fs(); fs.appendFileSync(${JSON.stringify(log)}, '${name} '); },`;
    const body = (name: string): Record<string, string> => ({
      'index.js': `import * as fs from 'node:fs'; const require_fs = () => fs;\nexport default { name: '${name}', description: '${name}', ${hook(name)} };`,
    });
    const first = pluginDir({ aa: body('aa'), bb: body('bb') });
    const second = pluginDir({ bb: jsPlugin('bb'), cc: body('cc') });
    const { vm, plugins, reports } = await load(`plugins { path ${first}:${second} }`);
    assert.deepEqual(plugins.paths, [first, second]);
    assert.deepEqual(reports, [`plugin 'bb' in ${second} ignored: a plugin of that name was found first in ${first}`]);
    assert.deepEqual(
      plugins.plugins.map((p) => p.directory),
      [join(first, 'aa'), join(first, 'bb'), join(second, 'cc')],
    );
    await exitPlugins(vm);
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(log, 'utf8'), 'cc bb aa ');
    assert.match(vm.cli('show plugins'), new RegExp(` Plugin path is: ${first}:${second}\n`));
  });

  it('attaching to an engine that has a plugin already: a clash names the plugin that was first', async () => {
    const counter = definePlugin({
      name: 'counter',
      description: 'counts',
      nodes: [{ name: 'counter-node', process: () => 0 }],
      commands: [{ path: 'counter show', short: 'Show', action: (_vm, _input, out) => out.print('0') }],
    });
    const vm = new Engine();
    registerDaemonCommands(vm);
    const record = (definition: PluginDefinition): PluginSet => ({
      paths: [],
      plugins: [{ name: definition.name, directory: '', entry: definition.name, state: 'loaded', definition }],
    });
    const reports: string[] = [];
    await attachPlugins(vm, record(counter), { sections: {} }, (line) => reports.push(line));
    assert.equal(vm.cli('counter show'), '0');
    await attachPlugins(vm, record({ ...counter, name: 'again' }), { sections: {} }, (line) => reports.push(line));
    await attachPlugins(vm, record({ name: 'cmd', description: 'd', commands: counter.commands }), { sections: {} }, (line) => reports.push(line));
    assert.deepEqual(reports, [
      "plugin 'again' failed to load: node 'counter-node' is already registered by plugin 'counter'",
      "plugin 'cmd' failed to load: CLI command 'counter show' is already registered by plugin 'counter'",
    ]);
  });
});
