// docs/host-stack.md's "Trying it" session is a real one: every line of its CLI block runs
// on a fresh engine, the echo clients finish with every byte checked, and the show commands
// list what the text says they list.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.ts';

const doc = readFileSync(new URL('../../docs/host-stack.md', import.meta.url), 'utf8');

test('docs/host-stack.md: the CLI session under "Trying it" runs as shown', async () => {
  const section = doc.slice(doc.indexOf('## Trying it'));
  const block = /```\n([\s\S]*?)```/.exec(section);
  assert.ok(block !== null, 'a CLI block under "Trying it"');
  const lines = block[1].split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.length > 10);
  const vm = createEngine({ buffers: 16384 });
  vm.start();
  try {
    const outputs: string[] = [];
    for (const line of lines) outputs.push(line.includes('echo clients') ? await vm.cliAsync(line) : vm.cli(line));
    const finished = outputs.filter((o) => /^Finished (\d+) of \1 connections$/m.test(o));
    assert.equal(finished.length, 2, 'both echo client runs finished every connection');
    for (const o of outputs) assert.doesNotMatch(o, /error:/);
    const sessions = outputs[lines.indexOf('show session verbose')];
    assert.match(sessions, /\[0:\d+\]\[T\] 10\.200\.2\.1:1234->0\.0\.0\.0:0\s+LISTEN/);
    assert.match(sessions, /\[0:\d+\]\[U\] 10\.200\.2\.1:5000->0\.0\.0\.0:0/);
    assert.match(outputs[lines.indexOf('show tcp stats')], /connections accepted/);
  } finally {
    vm.stop();
  }
});
