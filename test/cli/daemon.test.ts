// The engine process through its launcher, as a user runs it: start-up from argv words and
// from a file (relative paths from the file's directory), the banner, the socket's mode,
// clean shutdown on SIGTERM and SIGINT with the socket removed, a second engine on a live
// socket refused, a stale socket from a crash replaced, the log, the start-up exec script,
// and transcripts of every start-up error: exit status 1 and exactly one line on stderr.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ctl, killEngines, REPO, run, scratch, startEngine, VECNET } from './processes.ts';

let dir: string;
let noPlugins: string;
let cleanup: () => void;

before(() => {
  ({ dir, noPlugins, cleanup } = scratch('vecnet-daemon-'));
});
after(async () => {
  await killEngines();
  cleanup();
});

/** Config words for an engine on `socket` with no plugins. */
function words(socket: string, extra = ''): string[] {
  return `unix { cli-listen ${socket} ${extra} } plugins { path ${noPlugins} }`.split(/\s+/).filter((w) => w !== '');
}

describe('vecnet daemon', () => {
  it('starts from argv words, prints the socket and three commands, and stops on SIGTERM', async () => {
    const socket = join(dir, 'a.sock');
    const engine = await startEngine(words(socket));
    const lines = engine.stdout().split('\n');
    assert.equal(lines[0], `vecnet v0.1.0: CLI on ${socket} (Ctrl-C stops vecnet)`);
    const ctlPath = join(REPO, 'bin', 'vecnetctl');
    assert.equal(lines[1], `  try: ${ctlPath} -s ${socket} show runtime`);
    assert.equal(lines[2], `       ${ctlPath} -s ${socket} show interface`);
    assert.equal(lines[3], `       ${ctlPath} -s ${socket} show ip fib`);
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.equal(statSync(socket).isSocket(), true);
    const version = await ctl(socket, ['show', 'version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^vecnet v0\.1\.0 on node v\d+/);
    const finished = await engine.stop('SIGTERM');
    assert.equal(finished.code, 0);
    assert.equal(finished.stderr, '');
    assert.equal(existsSync(socket), false, 'socket left behind');
  });

  it('stops cleanly on SIGINT too', async () => {
    const socket = join(dir, 'int.sock');
    const engine = await startEngine(words(socket));
    const finished = await engine.stop('SIGINT');
    assert.equal(finished.code, 0);
    assert.equal(existsSync(socket), false);
  });

  it('refuses a second engine on a live socket, with one line, and the first keeps serving', async () => {
    const socket = join(dir, 'b.sock');
    const first = await startEngine(words(socket));
    const second = await run(VECNET, words(socket));
    assert.equal(second.code, 1);
    assert.equal(second.stderr, `cli-listen ${socket}: another vecnet is listening there\n`);
    assert.equal(second.stdout, '');
    assert.equal((await ctl(socket, ['show', 'clock'])).code, 0);
    assert.equal((await first.stop()).code, 0);
  });

  it('replaces a stale socket left by a crash', async () => {
    const socket = join(dir, 'c.sock');
    const crashed = await startEngine(words(socket));
    await crashed.stop('SIGKILL');
    assert.equal(statSync(socket).isSocket(), true, 'the crash left its socket');
    const engine = await startEngine(words(socket));
    assert.equal((await ctl(socket, ['show', 'version'])).code, 0);
    assert.equal((await engine.stop()).code, 0);
    assert.equal(existsSync(socket), false);
  });

  it('creates the socket directory, and a gid makes the socket 0660 owned by the group', async () => {
    const socket = join(dir, 'deep', 'er', 'd.sock');
    const gid = process.getgid?.() ?? 0;
    const engine = await startEngine(words(socket, `gid ${gid}`));
    const st = statSync(socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, gid);
    await engine.stop();
  });

  it('reads -c <file> from another directory: exec and log paths are relative to the file', async () => {
    const conf = join(dir, 'conf');
    mkdirSync(conf, { recursive: true });
    const socket = join(dir, 'e.sock');
    writeFileSync(join(conf, 'setup.cli'), '# set-up\n\necho hello from setup\ncomment { not run }\nshow version\n');
    writeFileSync(
      join(conf, 'startup.conf'),
      `unix {\n  nodaemon\n  cli-listen ${socket}\n  exec setup.cli\n  log vecnet.log\n}\nplugins { path ${noPlugins} }\n`,
    );
    const engine = await startEngine(['-c', join(conf, 'startup.conf')], { cwd: dir });
    assert.equal((await ctl(socket, ['echo', 'logged'])).stdout, 'logged\n');
    const bad = await ctl(socket, ['show', 'fnord']);
    assert.equal(bad.code, 1);
    const finished = await engine.stop();
    assert.equal(finished.code, 0);
    assert.equal(finished.stderr, '');
    const log = readFileSync(join(conf, 'vecnet.log'), 'utf8');
    assert.match(log, /\[vecnet\] vecnet v0\.1\.0 starting/);
    assert.match(log, /\[exec\] echo hello from setup\n {4}hello from setup\n/);
    assert.match(log, /\[vecnet\] exec .*setup\.cli: 3 commands/);
    assert.match(log, /\[cli \d+\] echo logged\n/);
    assert.match(log, /\[cli \d+\] show fnord\n {4}show: unknown input `fnord'\n/);
    assert.match(log, /\[vecnet\] stopping \(SIGTERM\)\n.*\[vecnet\] stopped\n$/);
  });

  it('a failing line of the start-up script is one line on stderr; the engine keeps running', async () => {
    const socket = join(dir, 'f.sock');
    const script = join(dir, 'bad.cli');
    writeFileSync(script, 'echo one\n# comment\n\nfnord nothing here\necho never\n');
    const engine = await startEngine(words(socket, `exec ${script}`));
    // The script runs after the banner; wait for its report.
    for (let i = 0; i < 100 && engine.stderr() === ''; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(engine.stderr(), `${script}:4: unknown input \`fnord nothing here'\n`);
    assert.equal((await ctl(socket, ['show', 'version'])).code, 0);
    assert.equal((await engine.stop()).code, 0);
  });

  it('the npm start demo: its script runs clean and the stream is forwarded from pg0 to pg1', async () => {
    // examples/default as `npm start` runs it, on a socket of its own.
    const conf = join(dir, 'demo.conf');
    writeFileSync(
      conf,
      readFileSync(join(REPO, 'examples/default/startup.conf'), 'utf8')
        .replace('/tmp/vecnet-cli.sock', join(dir, 'demo.sock'))
        .replace('exec setup.cli', `exec ${join(REPO, 'examples/default/setup.cli')}`),
    );
    const engine = await startEngine(['-c', conf], { cwd: REPO });
    const socket = join(dir, 'demo.sock');
    assert.equal(engine.stdout().split('\n')[1], `  try: bin/vecnetctl -s ${socket} show runtime`);
    const counters = async (): Promise<Map<string, number>> => {
      const out = (await ctl(socket, ['--json', 'show', 'runtime'])).stdout;
      const runtime = JSON.parse(out) as { nodes: { name: string; vectors: number }[] };
      return new Map(runtime.nodes.map((n) => [n.name, n.vectors]));
    };
    const first = await counters();
    await new Promise((r) => setTimeout(r, 300));
    const second = await counters();
    assert.equal(engine.stderr(), '', 'the demo script reported an error');
    for (const node of ['pg-input', 'ethernet-input', 'ip4-input', 'ip4-lookup', 'ip4-rewrite']) {
      assert.ok((second.get(node) ?? 0) > (first.get(node) ?? 0), `${node} is not moving packets`);
    }
    const interfaces = (await ctl(socket, ['show', 'interface'])).stdout;
    assert.match(interfaces, /^pg0 /m);
    assert.match(interfaces, /^pg1 /m);
    assert.equal((await engine.stop('SIGINT')).code, 0);
  });

  it("unix { interactive } runs the CLI on stdin; quit stops the engine", async () => {
    const socket = join(dir, 'i.sock');
    const result = await run(VECNET, [...words(socket, 'interactive cli-prompt vpp#')], { input: 'echo hi\nsh cl ?\nquit\necho never\n' });
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    const lines = result.stdout.split('\n');
    assert.equal(lines[0], `vecnet v0.1.0: CLI on ${socket}`);
    assert.equal(lines.slice(4).join('\n'), 'vpp#hi\nvpp#  show clock                               Show the engine clock\nvpp#');
    assert.equal(existsSync(socket), false);
  });

  it('vecnet plugin new runs the plugin scaffold; other plugin words are refused', async () => {
    const usage = await run(VECNET, ['plugin', 'new', '--help']);
    assert.match(usage.stdout + usage.stderr, /^usage: vecnet plugin new <name>/);
    const other = await run(VECNET, ['plugin', 'old']);
    assert.deepEqual([other.code, other.stderr], [1, "vecnet plugin: unknown command 'old' (expected: vecnet plugin new <name>)\n"]);
  });

  it('--help and --version', async () => {
    const help = await run(VECNET, ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: vecnet \[options\] \[config\.\.\.\]/);
    assert.match(help.stdout, /-c, --config <file>/);
    const version = await run(VECNET, ['--version']);
    assert.equal(version.stdout, '0.1.0\n');
  });
});

describe('vecnet start-up errors: exit status 1, exactly one line on stderr', { concurrency: 4 }, () => {
  const cases: { name: string; conf?: string; args?: (file: string) => string[]; expect: (file: string) => string }[] = [
    {
      name: 'unknown section',
      conf: 'unx { nodaemon }\n',
      expect: (f) => `${f}:1:1: unknown section 'unx' (expected one of: unix, cpu, buffers, plugins, session, tcp)`,
    },
    {
      name: 'unknown item',
      conf: 'unix {\n  cli-listn /tmp/x.sock\n}\n',
      expect: (f) => `${f}:2:3: unknown item in section 'unix': 'cli-listn' (expected one of: nodaemon, interactive, cli-listen, cli-prompt, exec, startup-config, log, gid, cli-no-pager, full-coredump)`,
    },
    {
      name: 'bad value',
      conf: 'cpu { workers two }\n',
      expect: (f) => `${f}:1:15: bad value for 'workers' in section 'cpu': 'two' (expected an integer 0..64)`,
    },
    {
      name: 'unbalanced brace',
      conf: 'unix {\n  nodaemon\n',
      expect: (f) => `${f}:1:6: unbalanced '{' opened here: 'unix {' (expected a matching '}' before end of file)`,
    },
    {
      name: 'error in the plugins section',
      conf: 'plugins { plugin x { maybe } }\n',
      expect: (f) => `${f}:1:22: unknown item in 'plugin x' in section 'plugins': 'maybe' (expected one of: enable, disable)`,
    },
    {
      name: 'missing file',
      args: () => ['-c', 'no/such/startup.conf'],
      expect: () => 'no/such/startup.conf: cannot read the configuration: no such file',
    },
    {
      name: 'bad command-line config',
      args: () => ['unix', '{', 'cli-listen', '}', 'plugins', '{', 'path', noPlugins, '}'],
      expect: () => "command line:1:19: missing value for 'cli-listen' in section 'unix': '}' (expected a path)",
    },
    {
      name: 'a file and words both',
      args: (f) => ['-c', f, 'unix', '{', '}'],
      expect: (f) => `vecnet: give either -c <file> or configuration words, not both (got -c ${f} and 'unix { }')`,
    },
    {
      name: 'cli-listen on a path that is not a socket',
      conf: 'unix { cli-listen REGULAR }\n',
      expect: () => `cli-listen REGULAR: the path exists and is not a socket`,
    },
    {
      name: 'unknown socket group',
      conf: 'unix { cli-listen SOCKET gid no-such-group-here }\n',
      expect: () => 'gid no-such-group-here: no such group',
    },
    {
      name: 'log file that cannot be opened',
      conf: 'unix { cli-listen SOCKET log /no/such/dir/vecnet.log }\n',
      expect: () => "log /no/such/dir/vecnet.log: ENOENT: no such file or directory, open '/no/such/dir/vecnet.log'",
    },
  ];
  let n = 0;
  for (const c of cases) {
    it(c.name, async () => {
      const regular = join(dir, `regular-${n}`);
      writeFileSync(regular, 'not a socket');
      const socket = join(dir, `err-${n}.sock`);
      const file = join(dir, `startup-${n++}.conf`);
      const text = (c.conf ?? '').replace('REGULAR', regular).replace('SOCKET', socket);
      writeFileSync(file, `${text}plugins { path ${noPlugins} }\n`);
      const result = await run(VECNET, c.args?.(file) ?? ['-c', file]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, `${c.expect(file).replace('REGULAR', regular)}\n`);
      assert.equal(existsSync(socket), false);
    });
  }

  it('a plugin that fails to load does not add a line to a config error, unless it explains it', async () => {
    const plugins = join(dir, 'failing');
    mkdirSync(join(plugins, 'acl'), { recursive: true });
    writeFileSync(join(plugins, 'acl', 'index.js'), "throw new Error('broken');\n");
    const bad = await run(VECNET, ['cpu', '{', 'workers', 'x', '}', 'plugins', '{', 'path', plugins, '}']);
    assert.deepEqual([bad.code, bad.stderr], [1, "command line:1:15: bad value for 'workers' in section 'cpu': 'x' (expected an integer 0..64)\n"]);
    const unknown = await run(VECNET, ['acl', '{', '}', 'plugins', '{', 'path', plugins, '}']);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      "command line:1:1: unknown section 'acl' (expected one of: unix, cpu, buffers, plugins, session, tcp); plugin 'acl' failed to load: broken\n",
    );
  });

  it('two plugins registering the same node', async () => {
    const plugins = join(dir, 'clash');
    for (const name of ['one', 'two']) {
      mkdirSync(join(plugins, name), { recursive: true });
      writeFileSync(join(plugins, name, 'index.js'), `export default { name: '${name}', description: '${name}', nodes: [{ name: 'same-node', process() { return 0; } }] };\n`);
    }
    const result = await run(VECNET, ['unix', '{', 'cli-listen', join(dir, 'clash.sock'), '}', 'plugins', '{', 'path', plugins, '}']);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `plugins 'one' and 'two' both register node 'same-node' (${join(plugins, 'one', 'index.js')}, ${join(plugins, 'two', 'index.js')}); disable one: plugins { plugin two { disable } }\n`,
    );
  });
});
