// The README's examples, run: the quickstart has exactly the two set-up commands; the banner
// it shows is what `npm start`'s engine prints; every ```conf block is a valid startup.conf;
// and every ```console transcript's `vecnetctl` commands run against the demo engine
// (examples/default, on a socket of its own) and print what the README shows.
//
// Transcript rules: `$ <command>` lines are commands, the lines after one are its output
// (stdout, then stderr). Output is compared with runs of digits masked and runs of white
// space collapsed, so pids, versions and column padding may differ; a line `...` stands for
// any number of lines. Commands of other programs (`npm`, `bin/vecnet`) are not run here.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStartupConfig } from '../../src/vlib/startup-conf.ts';
import { ctl, killEngines, REPO, scratch, startEngine, type RunningEngine } from './processes.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const DEMO_SOCKET = '/tmp/vecnet-cli.sock';

interface Block {
  readonly info: string;
  readonly text: string;
  readonly line: number;
}

/** Fenced blocks with their info string and the README line they start on. */
function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (open === null) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
    out.push({ info: open[1], text: lines.slice(start, j).join('\n'), line: start });
    i = j;
  }
  return out;
}

/** The text of one `## ` section. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has no section '${title}'`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

function normalize(line: string): string {
  return line.replace(/\d+/g, '#').replace(/\s+/g, ' ').trim();
}

/** Whether `actual` lines match `expected` lines, `...` matching any run of lines. */
function matches(expected: readonly string[], actual: readonly string[]): boolean {
  if (expected.length === 0) return actual.length === 0;
  if (expected[0] === '...') {
    for (let k = 0; k <= actual.length; k++) if (matches(expected.slice(1), actual.slice(k))) return true;
    return false;
  }
  return actual.length > 0 && normalize(expected[0]) === normalize(actual[0]) && matches(expected.slice(1), actual.slice(1));
}

interface Step {
  readonly command: string;
  readonly expected: string[];
  readonly line: number;
}

function transcript(block: Block): Step[] {
  const steps: { command: string; expected: string[]; line: number }[] = [];
  block.text.split('\n').forEach((text, k) => {
    if (text.startsWith('$ ')) steps.push({ command: text.slice(2), expected: [], line: block.line + k + 1 });
    else if (steps.length > 0) steps[steps.length - 1].expected.push(text);
  });
  return steps;
}

/** Splits a README command line into words (no shell features are used in the README). */
function words(command: string): string[] {
  return command.trim().split(/\s+/);
}

describe('README', () => {
  it('the quickstart has exactly two set-up commands: install-and-start, and test', () => {
    const commands = blocks(section('Quickstart'))
      .filter((b) => b.info === 'sh')
      .map((b) => b.text.trim());
    assert.deepEqual(commands, ['npm install && npm start', 'npm test']);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.start, 'node bin/vecnet -c examples/default/startup.conf');
  });

  it('every ```conf block is a valid startup.conf', () => {
    const confs = blocks(README).filter((b) => b.info === 'conf');
    assert.ok(confs.length > 0);
    for (const block of confs) parseStartupConfig(block.text, `README.md block at line ${block.line}`);
  });

  it('the demo config uses the socket the README shows', () => {
    const demo = parseStartupConfig(readFileSync(join(REPO, 'examples/default/startup.conf'), 'utf8'), 'startup.conf');
    assert.equal(demo.unix.cliListen, DEMO_SOCKET);
  });
});

describe('README transcripts against the demo engine', () => {
  let engine: RunningEngine;
  let socket: string;
  let cleanup: () => void;

  before(async () => {
    let dir: string;
    ({ dir, cleanup } = scratch('vecnet-readme-'));
    socket = join(dir, 'cli.sock');
    // The demo's own startup.conf, on a socket of its own so a running `npm start` is left alone.
    const conf = readFileSync(join(REPO, 'examples/default/startup.conf'), 'utf8')
      .replace(DEMO_SOCKET, socket)
      .replace(/exec setup\.cli/, `exec ${join(REPO, 'examples/default/setup.cli')}`);
    writeFileSync(join(dir, 'startup.conf'), conf);
    engine = await startEngine(['-c', join(dir, 'startup.conf')], { cwd: REPO });
  });
  after(async () => {
    await engine?.stop();
    await killEngines();
    cleanup?.();
  });

  it("the banner is what the README's quickstart shows", () => {
    const shown = blocks(section('Quickstart')).find((b) => b.info === 'text');
    assert.ok(shown);
    const printed = engine.stdout().split('\n').slice(0, shown.text.split('\n').length).join('\n');
    assert.equal(printed, shown.text.replaceAll(DEMO_SOCKET, socket));
  });

  it('every vecnetctl transcript prints what the README shows', async () => {
    let ran = 0;
    for (const block of blocks(README).filter((b) => b.info === 'console')) {
      for (const step of transcript(block)) {
        const argv = words(step.command);
        if (!/(^|\/)vecnetctl$/.test(argv[0])) continue;
        const args = argv.slice(1);
        const s = args.indexOf('-s');
        if (s >= 0) args.splice(s, 2);
        const result = await ctl(socket, args);
        const actual = `${result.stdout}${result.stderr}`.replace(/\n$/, '').split('\n');
        assert.ok(
          matches(step.expected, actual),
          `README.md:${step.line}: ${step.command}\n--- README shows:\n${step.expected.join('\n')}\n--- vecnetctl printed:\n${actual.join('\n')}`,
        );
        ran++;
      }
    }
    assert.ok(ran >= 6, `only ${ran} README commands ran`);
  });
});
