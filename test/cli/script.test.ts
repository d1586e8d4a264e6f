// CLI scripts: which lines are commands, where a multi-line `{ … }` command starts, and that
// running one stops at the first failure naming its line — on the engine's own registry,
// the way `exec` and `unix { exec }` run them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/vlib/engine.ts';
import { CliError } from '../../src/vlib/cli.ts';
import { registerDaemonCommands } from '../../src/cli/commands.ts';
import { runScriptText, splitScript } from '../../src/cli/script.ts';

describe('splitScript', () => {
  it('skips blank and # lines and joins a command while its braces are open', () => {
    const text = [
      '# a comment',
      '',
      'echo one',
      '   # indented comment',
      'packet-generator new {',
      '  name x',
      '  # inside a block',
      '  data { IP4: 1.2.3 -> 4.5.6',
      '  }',
      '}',
      'echo "a { in quotes"',
      'echo two\r',
    ].join('\n');
    assert.deepEqual(splitScript(text), [
      { line: 3, text: 'echo one' },
      { line: 5, text: 'packet-generator new { name x data { IP4: 1.2.3 -> 4.5.6 } }' },
      { line: 11, text: 'echo "a { in quotes"' },
      { line: 12, text: 'echo two' },
    ]);
  });

  it('an unclosed block is one command to the end, for its parser to refuse', () => {
    assert.deepEqual(splitScript('comment {\nnever closed\n'), [{ line: 1, text: 'comment { never closed' }]);
  });
});

describe('runScriptText', () => {
  it('runs every command and stops at the first failure with <file>:<line>: <message>', async () => {
    const vm = new Engine();
    registerDaemonCommands(vm);
    const ok = await runScriptText(vm.commands, vm, 'ok.cli', 'echo a\n\ncomment { x\n y }\necho b\n');
    assert.deepEqual(ok, { text: 'a\nb', commands: 3 });
    const ran: string[] = [];
    await assert.rejects(
      runScriptText(vm.commands, vm, 'bad.cli', 'echo a\nshow nothing-here\necho never\n', { onCommand: (c) => ran.push(c.text) }),
      (error: unknown) => {
        assert.ok(error instanceof CliError);
        assert.equal(error.message, "bad.cli:2: show: unknown input `nothing-here'");
        assert.equal(error.code, 'ECLI');
        return true;
      },
    );
    assert.deepEqual(ran, ['echo a']);
  });

  it('exec nests, finds a relative script next to the one that runs it, and refuses to loop', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'vecnet-script-'));
    try {
      writeFileSync(join(dir, 'outer.cli'), 'echo outer\nexec inner.cli\n');
      writeFileSync(join(dir, 'inner.cli'), 'echo inner\n');
      writeFileSync(join(dir, 'loop.cli'), 'exec loop.cli\n');
      const vm = new Engine();
      registerDaemonCommands(vm);
      assert.equal(await vm.cliAsync(`exec ${join(dir, 'outer.cli')}`), 'outer\ninner');
      await assert.rejects(vm.cliAsync(`exec ${join(dir, 'loop.cli')}`), /scripts nest more than 16 deep/);
      assert.throws(() => vm.cli(`exec ${join(dir, 'outer.cli')}`), /'exec' runs asynchronously: it cannot be run here/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
