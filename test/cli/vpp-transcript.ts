// CLI transcripts as VPP's documentation writes them: `vpp# <command>` lines, each followed
// by the exact text the command prints (a failed command prints its one error line).
// `runTranscript` replays one against an engine and asserts every output. Trailing blanks
// are ignored on both sides (VPP pads its columns; a transcript in a source file cannot
// keep them reliably).

import assert from 'node:assert/strict';
import type { Engine } from '../../src/index.ts';

/** Runs one line; returns what a user sees: the output, or the error line. */
export function run(vm: Engine, line: string): string {
  try {
    return vm.cli(line);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function runTranscript(vm: Engine, script: string): void {
  const lines = script.replace(/^\n/, '').replace(/\n\s*$/, '').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.startsWith('vpp# ')) throw new Error(`transcript line ${i + 1} is not a command: ${line}`);
    const command = line.slice(5);
    const expected: string[] = [];
    i++;
    while (i < lines.length && !lines[i].startsWith('vpp# ')) expected.push(lines[i++]);
    const trim = (text: string): string => text.split('\n').map((l) => l.trimEnd()).join('\n');
    assert.equal(trim(run(vm, command)), trim(expected.join('\n')), `output of '${command}'`);
  }
}
