// The example plugins as the daemon loads them: from the repository's plugins/ folder,
// through startup.conf. Both load by default; `plugin <name> { disable }` leaves one out,
// its node and its commands with it, while the other keeps working.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import { loadPluginsWithConfig } from '../../src/vlib/plugin-loader.ts';
import { createConfigSchema, parseConfigTree } from '../../src/vlib/startup-conf.ts';

async function start(config: string) {
  const reports: string[] = [];
  const loaded = await loadPluginsWithConfig(parseConfigTree(config, 'startup.conf'), 'startup.conf', createConfigSchema(), () => createEngine({ buffers: 1024 }), {
    report: (line) => reports.push(line),
  });
  return { ...loaded, reports };
}

test('sample and acl load from plugins/ by default', async () => {
  const { vm, plugins, reports } = await start('unix { nodaemon }');
  assert.deepEqual(reports, []);
  const state = Object.fromEntries(plugins.plugins.map((p) => [p.name, p.state]));
  assert.equal(state.sample, 'loaded');
  assert.equal(state.acl, 'loaded');
  assert.ok(vm.node('sample') !== undefined);
  assert.ok(vm.node('acl-plugin-in-ip4') !== undefined);
  vm.cli('create packet-generator interface pg0');
  vm.cli('sample macswap pg0');
  assert.equal(vm.cli('acl add permit'), 'acl-index 0');
});

test('plugins { plugin acl { disable } } removes the acl node and commands, and only those', async () => {
  // #region docs:startup-conf
  const { vm, plugins, reports } = await start(`
    plugins {
      plugin acl { disable }
    }
  `);
  // #endregion docs:startup-conf
  assert.deepEqual(reports, []);
  assert.equal(plugins.plugins.find((p) => p.name === 'acl')?.state, 'disabled');
  assert.equal(vm.node('acl-plugin-in-ip4'), undefined);
  assert.ok(!vm.features.order('ip4-unicast').includes('acl-plugin-in-ip4'));
  assert.throws(() => vm.cli('acl add permit'), /unknown input `acl add permit'/);
  assert.throws(() => vm.cli('show acl'), /show: unknown input `acl'/);
  vm.cli('create packet-generator interface pg0');
  vm.cli('sample macswap pg0');
  assert.deepEqual(vm.features.enabledOn('device-input', 1), ['sample']);
});

test('plugins { plugin default { disable } plugin sample { enable } } loads only sample', async () => {
  const { vm, plugins } = await start('plugins { plugin default { disable } plugin sample { enable } }');
  assert.deepEqual(
    plugins.plugins.filter((p) => p.state === 'loaded').map((p) => p.name),
    ['sample'],
  );
  assert.ok(vm.node('sample') !== undefined);
  assert.equal(vm.node('acl-plugin-in-ip4'), undefined);
});
