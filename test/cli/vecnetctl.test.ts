// vecnetctl against a running engine, as a user drives it: one-shot commands and their
// exit status, failures as one line on stderr, many clients at once, `--json` carrying
// what the text shows, `exec` of a script that stops at its bad line, the interactive
// mode through a stdin pipe (prompt, commands, `?`, `quit`), and the socket protocol
// itself for a client that sends garbage.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CliClient } from '../../src/cli/cli-client.ts';
import { absoluteExec } from '../../src/cli/vecnetctl.ts';
import { ctl, killEngines, run, scratch, startEngine, VECNETCTL, type RunningEngine } from './processes.ts';

let dir: string;
let socket: string;
let engine: RunningEngine;
let cleanup: () => void;
let noPlugins: string;

before(async () => {
  ({ dir, noPlugins, cleanup } = scratch('vecnet-ctl-'));
  socket = join(dir, 'cli.sock');
  engine = await startEngine(['unix', '{', 'cli-listen', socket, 'cli-prompt', '"test# "', '}', 'plugins', '{', 'path', noPlugins, '}']);
});
after(async () => {
  await engine?.stop();
  await killEngines();
  cleanup?.();
});

describe('vecnetctl one-shot', { concurrency: 4 }, () => {
  it('runs a command and prints its output; words may be abbreviated', async () => {
    const full = await ctl(socket, ['show', 'threads']);
    assert.equal(full.code, 0);
    assert.equal(full.stderr, '');
    const lines = full.stdout.split('\n');
    assert.equal(lines[0], 'ID     Name                Type        LWP     Sched Policy (Priority)  lcore  Core   Socket State     ');
    assert.equal(lines[1], `0      vpp_main                        ${String(engine.child.pid).padEnd(8)}other (0)                0      0      0      `);
    const short = await ctl(socket, ['sh', 'thr']);
    assert.equal(short.stdout, full.stdout);
    const quoted = await ctl(socket, ['sh thr']);
    assert.equal(quoted.stdout, full.stdout);
  });

  it('a failed command: exit 1, its one line on stderr, nothing on stdout', async () => {
    const result = await ctl(socket, ['show', 'fnord']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, "show: unknown input `fnord'\n");
    const incomplete = await ctl(socket, ['show']);
    assert.equal(incomplete.code, 1);
    assert.equal(incomplete.stderr, "incomplete command 'show': 'show ?' lists what can follow\n");
  });

  it('cannot connect: exit 1 and why', async () => {
    const result = await ctl(join(dir, 'nobody.sock'), ['show', 'version']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `vecnetctl: cannot connect to ${join(dir, 'nobody.sock')}: no such socket (is vecnet running?)\n`);
  });

  it('echo, comment and quit as one-shot commands', async () => {
    assert.equal((await ctl(socket, ['echo', 'hello', 'world'])).stdout, 'hello world\n');
    const comment = await ctl(socket, ['comment', '{', 'anything', '}']);
    assert.deepEqual([comment.code, comment.stdout], [0, '']);
    assert.equal((await ctl(socket, ['quit'])).code, 0);
  });

  it('--json parses and carries what the text shows', async () => {
    for (const args of [['--json', 'show', 'threads'], ['show', 'threads', '--json']]) {
      const json = await ctl(socket, args);
      assert.equal(json.code, 0);
      const value = JSON.parse(json.stdout) as { threads: { id: number; name: string; lwp: number }[] };
      assert.deepEqual(value.threads.map((t) => [t.id, t.name, t.lwp]), [[0, 'vpp_main', engine.child.pid]]);
    }
    const version = JSON.parse((await ctl(socket, ['--json', 'show', 'version'])).stdout) as { version: string; node: string };
    const text = (await ctl(socket, ['show', 'version'])).stdout;
    assert.equal(text, `vecnet v${version.version} on node ${version.node} (${process.platform} ${process.arch})\n`);
    const plugins = JSON.parse((await ctl(socket, ['--json', 'show', 'plugins'])).stdout) as { paths: string[]; plugins: unknown[] };
    assert.match((await ctl(socket, ['show', 'plugins'])).stdout, new RegExp(`^ Plugin path is: ${plugins.paths[0]}\n`));
    const refused = await ctl(socket, ['--json', 'echo', 'x']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, "'echo' does not support --json\n");
  });

  it('--help and --version', async () => {
    const help = await run(VECNETCTL, ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: vecnetctl \[options\] \[command\.\.\.\]/);
    assert.match(help.stdout, /-s, --socket <path>/);
    assert.equal((await run(VECNETCTL, ['-V'])).stdout, '0.1.0\n');
  });
});

describe('vecnetctl exec', () => {
  it('runs a script; a bad line stops it, naming its line number', async () => {
    writeFileSync(join(dir, 'good.cli'), '# greet\necho one\n\ncomment { a\n  multi-line block }\necho two\n');
    const good = await ctl(socket, ['exec', 'good.cli'], { cwd: dir });
    assert.equal(good.code, 0);
    assert.equal(good.stdout, 'one\ntwo\n');
    writeFileSync(join(dir, 'bad.cli'), 'echo one\n# a comment\n\nshow fnord\necho never\n');
    const bad = await ctl(socket, ['exec', 'bad.cli'], { cwd: dir });
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, '');
    assert.equal(bad.stderr, `exec: ${join(dir, 'bad.cli')}:4: show: unknown input \`fnord'\n`);
    const missing = await ctl(socket, ['exec', join(dir, 'none.cli')]);
    assert.equal(missing.stderr, `exec: cannot read ${join(dir, 'none.cli')}: no such file\n`);
  });

  it('exec paths are made absolute from the client, and only for exec', () => {
    assert.equal(absoluteExec('exec setup.cli', '/home/me'), 'exec /home/me/setup.cli');
    assert.equal(absoluteExec('exec /etc/x.cli', '/home/me'), 'exec /etc/x.cli');
    assert.equal(absoluteExec('exec my file.cli', '/home/me'), 'exec my file.cli');
    assert.equal(absoluteExec('echo setup.cli', '/home/me'), 'echo setup.cli');
    assert.equal(absoluteExec('exec a.cli', '/home/my dir'), 'exec "/home/my dir/a.cli"');
  });
});

describe('vecnetctl interactive, through a stdin pipe', () => {
  it('prints the prompt, runs commands in order, answers ? and stops at quit', async () => {
    const result = await ctl(socket, [], { input: 'echo first\n\nsh fnord\nshow cl?\nquit\necho after quit\n' });
    assert.equal(result.code, 0);
    assert.equal(
      result.stdout,
      'test# first\ntest# test# test#   show clock                               Show the engine clock\ntest# ',
    );
    assert.equal(result.stderr, "show: unknown input `fnord'\n");
  });

  it('leaves with status 1 when the engine goes away', async () => {
    const other = join(dir, 'short-lived.sock');
    const short = await startEngine(['unix', '{', 'cli-listen', other, '}', 'plugins', '{', 'path', noPlugins, '}']);
    const child = spawn(VECNETCTL, ['-s', other], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let i = 0; i < 200 && !out.includes('vecnet# '); i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(out, 'vecnet# ');
    await short.stop();
    assert.equal(await exited, 1);
    assert.equal(err, 'vecnetctl: vecnet closed the connection\n');
  });

  it('ends at end of input', async () => {
    const result = await ctl(socket, [], { input: 'echo only\n' });
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'test# only\ntest# ');
  });
});

describe('many clients at once', () => {
  it('concurrent vecnetctl processes each get their own answer', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => ctl(socket, ['echo', `client-${i}`])));
    results.forEach((r, i) => assert.deepEqual([r.code, r.stdout], [0, `client-${i}\n`]));
  });

  it('sessions over the protocol: answers in order per session, completion, help', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => CliClient.connect(socket)));
    const answers = await Promise.all(
      clients.map((client, c) => Promise.all(Array.from({ length: 10 }, (_, k) => client.run(`echo ${c}-${k}`)))),
    );
    answers.forEach((list, c) => list.forEach((a, k) => assert.deepEqual([a.ok, a.text], [true, `${c}-${k}`])));
    const client = clients[0];
    assert.deepEqual((await client.request('complete', 'sh')).completions, ['show']);
    const completions = (await client.request('complete', 'show v')).completions ?? [];
    assert.ok(completions.includes('version') && completions.includes('vlib'), completions.join(' '));
    assert.ok(completions.every((word) => word.startsWith('v')));
    assert.equal((await client.request('help', 'show ver')).text, '  show version                             Show vecnet version\n  usage: show version [verbose]');
    const hello = await client.request('hello');
    assert.deepEqual([hello.name, hello.version, hello.prompt], ['vecnet', '0.1.0', 'test# ']);
    const failed = await client.run('show fnord');
    assert.deepEqual([failed.ok, failed.code, failed.text], [false, 'ECLI', "show: unknown input `fnord'"]);
    const json = await client.run('show threads --json');
    assert.equal((json.json as { threads: unknown[] }).threads.length, 1);
    assert.deepEqual(JSON.parse(json.text ?? ''), json.json);
    const quit = await client.run('quit');
    assert.equal(quit.close, true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(client.isClosed, true);
    for (const other of clients.slice(1)) other.close();
  });

  it('a request that is not JSON gets EPROTO and the session is closed', async () => {
    const reply = await new Promise<string>((resolve) => {
      const raw = createConnection(socket);
      let text = '';
      raw.setEncoding('utf8');
      raw.on('data', (d: string) => (text += d));
      raw.on('close', () => resolve(text));
      raw.write('show version\n');
    });
    assert.deepEqual(JSON.parse(reply), { id: null, ok: false, code: 'EPROTO', text: 'bad request: expected one JSON object per line' });
    // The engine is unharmed.
    assert.equal((await ctl(socket, ['echo', 'still', 'here'])).stdout, 'still here\n');
  });
});
