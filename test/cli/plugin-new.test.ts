// `vecnet plugin new`: a scaffold that works as generated. The plugin is generated into a
// temporary plugin directory; its own test file runs under node --test and passes, its
// bench runs and prints a row per vector size, it type-checks, it keeps to the import rule,
// and the plugin loader loads it from that directory. Bad names and existing folders are
// one clear line.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPlugin, main, PluginNewError } from '../../src/cli/plugin-new.ts';
import { forbiddenImports } from '../plugins/plugin-imports.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vecnet-plugin-new-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));
const plugins = path.join(directory, 'plugins');

/** A child node with tsx; without NODE_TEST_CONTEXT, which would make its node:test skip the files as recursion. */
function node(args: string[], timeout = 120_000) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const result = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, encoding: 'utf8', timeout, env });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('the generated plugin passes its own tests, benches, type-checks and keeps to the import rule', () => {
  const lines: string[] = [];
  assert.equal(main(['pkt-count', '--dir', plugins, '--description', 'Counts frames'], (l) => lines.push(l)), 0);
  const folder = path.join(plugins, 'pkt-count');
  const expected = ['index.ts', 'pkt-count-node.ts', 'README.md', 'test/pkt-count.test.ts', 'bench/pkt-count.bench.ts', 'package.json'];
  assert.deepEqual(
    lines.filter((l) => l.startsWith('created ')).map((l) => path.relative(folder, l.slice('created '.length))),
    expected,
  );
  assert.ok(lines.some((l) => l.startsWith('next: node --import tsx --test')));
  // Outside a "type": "module" package the folder gets its own package.json.
  assert.equal(JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')).type, 'module');

  const tests = node(['--test', path.join(folder, 'test', 'pkt-count.test.ts')]);
  assert.equal(tests.status, 0, tests.output);
  assert.match(tests.output, /# pass 3\n# fail 0/);

  const bench = node([path.join(folder, 'bench', 'pkt-count.bench.ts')]);
  assert.equal(bench.status, 0, bench.output);
  for (const vector of [1, 32, 256]) assert.match(bench.output, new RegExp(`^pkt-count\\s+${vector}\\s+\\d+\\.\\d+\\s+\\d`, 'm'));

  assert.deepEqual(forbiddenImports(plugins, ROOT), []);

  const tsconfig = path.join(directory, 'tsconfig.json');
  fs.writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: { typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
      include: [`${folder}/**/*.ts`],
    }),
  );
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', tsconfig], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  const ownErrors = `${tsc.stdout}${tsc.stderr}`.split('\n').filter((l) => l.includes('pkt-count'));
  assert.deepEqual(ownErrors, []);
});

test('the loader finds the generated plugin in its plugin path and attaches it', async () => {
  createPlugin({ name: 'loadable', directory: plugins });
  const { discoverPlugins, attachPlugins } = await import('../../src/vlib/plugin-loader.ts');
  const { createEngine } = await import('../../src/index.ts');
  const reports: string[] = [];
  const set = await discoverPlugins({ paths: [plugins], plugin: { 'pkt-count': { enable: false, disable: true } } }, { report: (l) => reports.push(l) });
  assert.deepEqual(
    set.plugins.map((p) => [p.name, p.state]),
    set.plugins.map((p) => [p.name, p.name === 'loadable' ? 'loaded' : 'disabled']),
  );
  const vm = createEngine({ buffers: 512 });
  await attachPlugins(vm, set, { sections: {} }, (l) => reports.push(l));
  assert.deepEqual(reports, []);
  vm.cli('create packet-generator interface pg0');
  vm.cli('loadable enable-disable pg0');
  assert.deepEqual(vm.features.enabledOn('device-input', 1), ['loadable']);
  assert.ok(vm.node('loadable') !== undefined);
});

test('bad names, existing folders and bad arguments are one clear line, and write nothing', () => {
  const errors: string[] = [];
  const run = (...argv: string[]) => main(argv, () => {}, (l) => errors.push(l));
  assert.equal(run('Bad_Name', '--dir', plugins), 1);
  assert.match(errors.at(-1)!, /^vecnet plugin new: bad plugin name 'Bad_Name': expected lowercase letters/);
  assert.equal(run('show', '--dir', plugins), 1);
  assert.match(errors.at(-1)!, /'show': it is a vecnet command or node name/);
  assert.equal(run(), 2);
  assert.match(errors.at(-1)!, /missing plugin name\nusage: vecnet plugin new <name>/);
  assert.equal(run('x', '--colour'), 2);
  assert.match(errors.at(-1)!, /unknown option '--colour'/);
  assert.equal(run('x', '--dir'), 2);
  assert.match(errors.at(-1)!, /--dir needs a value/);
  assert.ok(!fs.existsSync(path.join(plugins, 'x')));

  createPlugin({ name: 'twice', directory: plugins });
  assert.throws(() => createPlugin({ name: 'twice', directory: plugins }), (e: unknown) => e instanceof PluginNewError && e.code === 'EEXIST' && /already exists: choose another name, or pass --force/.test(e.message));
  assert.equal(createPlugin({ name: 'twice', directory: plugins, force: true }).files.length, 6);
  // Inside vecnet's own package no package.json is added (the repository's says "type": "module").
  const inRepo = fs.mkdtempSync(path.join(ROOT, '.plugin-new-'));
  try {
    assert.ok(!createPlugin({ name: 'inside', directory: inRepo }).files.some((f) => f.endsWith('package.json')));
  } finally {
    fs.rmSync(inRepo, { recursive: true, force: true });
  }
});
