// The CLI registry: path matching with abbreviation, `?` and `help`, --json, completion,
// errors as one line, and that no input makes `run` throw. Mostly transcripts: lines in,
// the text a user sees out.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CliError, CliRegistry, type CliCommand, type CliResult } from '../../src/vlib/cli.ts';
import { formatIp4Prefix, type Ip4Prefix } from '../../src/wire/address.ts';

/** A toy engine state the commands act on. */
interface Context {
  routes: { prefix: Ip4Prefix; via: number; table: number }[];
  ran: string[];
}

function newContext(): Context {
  return { routes: [], ran: [] };
}

/** Commands shaped like VPP's, each recording that it ran and echoing its arguments. */
function registry(): CliRegistry<Context> {
  const cli = new CliRegistry<Context>();
  const echo = (path: string, extra: Partial<CliCommand<Context>> = {}): CliCommand<Context> => ({
    path,
    short: `${path[0].toUpperCase()}${path.slice(1)}`,
    action(ctx, input, out) {
      ctx.ran.push(path);
      const args: string[] = [];
      while (!input.atEnd()) args.push(input.next() as string);
      out.print(args.length ? `${path}: ${args.join(' ')}` : path);
    },
    ...extra,
  });
  cli.register(echo('show interface', { usage: 'show interface [<name>] [verbose]' }));
  cli.register(echo('show interface addr'));
  cli.register(echo('show ip fib'));
  cli.register(echo('show ip neighbors'));
  cli.register(echo('show hardware-interfaces'));
  cli.register(echo('trace'));
  cli.register(echo('trace add'));
  cli.register(echo('clear trace'));
  cli.register({
    path: 'show runtime',
    short: 'Show node runtime statistics',
    usage: 'show runtime [verbose]',
    json: true,
    action(ctx, input, out) {
      const verbose = input.keyword('verbose');
      input.expectEnd();
      ctx.ran.push('show runtime');
      const rows = [{ name: 'ip4-lookup', calls: 117188, vectors: 30000000n }];
      out.json({ verbose, rows });
      for (const row of rows) out.print(`${row.name.padEnd(20)}${row.calls}`);
    },
  });
  cli.register(
    {
      path: 'ip route add',
      short: 'Add an IPv4 route',
      usage: 'ip route add <prefix> via <address> [table <id>]',
      action(ctx, input, out) {
        const prefix = input.expectIp4Prefix('prefix');
        input.expectKeyword('via');
        const via = input.expectIp4('next-hop');
        let table = 0;
        while (!input.atEnd()) {
          if (input.keyword('table')) table = input.expectNumber('table id', { max: 0xffffffff });
          else input.fail();
        }
        ctx.routes.push({ prefix, via, table });
        out.print(`added ${formatIp4Prefix(prefix)} table ${table}`);
      },
    },
    'fib',
  );
  return cli;
}

/**
 * Runs a transcript: `vecnet# <line>` is a command, the lines after it up to the next
 * command are its expected text; a `!` first line marks a failure result.
 */
function transcript(cli: CliRegistry<Context>, ctx: Context, script: string): void {
  const blocks = script.trim().split(/^vecnet# /m).filter((b) => b.trim() !== '');
  for (const block of blocks) {
    const [line, ...expected] = block.replace(/\n+$/, '').split('\n');
    const failing = expected[0]?.startsWith('! ') ?? false;
    if (failing) expected[0] = expected[0].slice(2);
    const result = cli.runSync(ctx, line);
    assert.equal(result.text, expected.join('\n'), `output of '${line}'`);
    assert.equal(result.ok, !failing, `ok of '${line}': ${result.text}`);
  }
}

describe('matching command paths', () => {
  it('abbreviates every word to a unique prefix', () => {
    const ctx = newContext();
    transcript(
      registry(),
      ctx,
      `
vecnet# sh int
show interface
vecnet# sh int pg0 verbose
show interface: pg0 verbose
vecnet# sh int a
show interface addr
vecnet# show ip n
show ip neighbors
vecnet# s h
show hardware-interfaces
vecnet# cl tr
clear trace
`,
    );
    assert.deepEqual(ctx.ran, ['show interface', 'show interface', 'show interface addr', 'show ip neighbors', 'show hardware-interfaces', 'clear trace']);
  });

  it('an exact word wins over longer siblings', () => {
    const cli = new CliRegistry<Context>();
    for (const path of ['show int', 'show interface', 'show interfaces']) {
      cli.register({ path, short: path, action: (ctx) => void ctx.ran.push(path) });
    }
    const ctx = newContext();
    assert.equal(cli.runSync(ctx, 'show int').ok, true);
    assert.equal(cli.runSync(ctx, 'show interface').ok, true);
    assert.equal(cli.runSync(ctx, 'sh interfaces').ok, true);
    assert.deepEqual(ctx.ran, ['show int', 'show interface', 'show interfaces']);
    assert.equal(cli.runSync(ctx, 'sh inter').text, "ambiguous command 'sh inter': show interface, show interfaces");
  });

  it('the longest path wins; words that match no sub-command are arguments', () => {
    const ctx = newContext();
    transcript(
      registry(),
      ctx,
      `
vecnet# trace add pg-input 10
trace add: pg-input 10
vecnet# tr a pg-input
trace add: pg-input
vecnet# trace
trace
vecnet# trace bogus 1
trace: bogus 1
vecnet# trace "add" 5
trace: add 5
`,
    );
    assert.deepEqual(ctx.ran, ['trace add', 'trace add', 'trace', 'trace', 'trace']);
  });

  it('an ambiguous word gives one line listing every candidate, and runs nothing', () => {
    const ctx = newContext();
    transcript(
      registry(),
      ctx,
      `
vecnet# sh i
! ambiguous command 'sh i': show interface, show ip
vecnet# sh h x
show hardware-interfaces: x
vecnet# s
! incomplete command 'show': 'show ?' lists what can follow
vecnet# c
! incomplete command 'clear': 'clear ?' lists what can follow
vecnet# t
trace
vecnet# sh ip f x
show ip fib: x
`,
    );
    assert.deepEqual(ctx.ran, ['show hardware-interfaces', 'trace', 'show ip fib']);
  });

  it('an unknown word is named, with the path it followed, as VPP prints it', () => {
    const ctx = newContext();
    transcript(
      registry(),
      ctx,
      `
vecnet# foo bar
! unknown input \`foo bar'
vecnet# show foo
! show: unknown input \`foo'
vecnet# sh ip foo 1
! show ip: unknown input \`foo 1'
vecnet# sh ip
! incomplete command 'show ip': 'show ip ?' lists what can follow
vecnet# sh "ip" fib
! show: unknown input \`"ip" fib'
vecnet# { show }
! unknown input \`{ show }'
`,
    );
    assert.deepEqual(ctx.ran, []);
  });

  it('empty lines do nothing', () => {
    const cli = registry();
    assert.deepEqual(cli.runSync(newContext(), ''), { ok: true, text: '' });
    assert.deepEqual(cli.runSync(newContext(), ' \t '), { ok: true, text: '' });
  });

  it('property: in random command trees every unique prefix resolves to its command, and ambiguous ones list all candidates', () => {
    // Words over a small alphabet so siblings often share prefixes.
    const word = fc.stringMatching(/^[abc][abc0-9]{0,3}$/);
    const paths = fc.uniqueArray(fc.array(word, { minLength: 1, maxLength: 3 }), {
      minLength: 1,
      maxLength: 12,
      selector: (p) => p.join(' '),
    });
    fc.assert(
      fc.property(paths, fc.infiniteStream(fc.nat()), (commandPaths, choices) => {
        const cli = new CliRegistry<string[]>();
        for (const p of commandPaths) {
          const path = p.join(' ');
          cli.register({ path, short: path, action: (ran) => void ran.push(path) });
        }
        // Siblings of each word: the words following the same parent path.
        const siblings = (parent: string[]): string[] => {
          const key = parent.join(' ');
          const out = new Set<string>();
          for (const p of commandPaths) if (p.length > parent.length && p.slice(0, parent.length).join(' ') === key) out.add(p[parent.length]);
          if (parent.length === 0) out.add('help');
          return [...out];
        };
        // A prefix selects `word` when it is the word, or when no sibling is exactly the
        // prefix and no other sibling starts with it.
        const selects = (prefix: string, word: string, among: string[]): boolean =>
          prefix === word || (!among.includes(prefix) && among.filter((s) => s.startsWith(prefix)).length === 1);
        const pick = choices[Symbol.iterator]();
        for (const p of commandPaths) {
          // Abbreviate every word to a random unique prefix.
          const typed = p.map((w, i) => {
            const options: string[] = [];
            for (let n = 1; n <= w.length; n++) if (selects(w.slice(0, n), w, siblings(p.slice(0, i)))) options.push(w.slice(0, n));
            return options[pick.next().value % options.length];
          });
          const ran: string[] = [];
          const result = cli.runSync(ran, typed.join(' '));
          assert.equal(result.ok, true, `${typed.join(' ')}: ${result.text}`);
          assert.deepEqual(ran, [p.join(' ')], `'${typed.join(' ')}' ran ${ran}`);

          // Any ambiguous prefix of the last word names every candidate and runs nothing.
          const last = p.length - 1;
          const among = siblings(p.slice(0, last));
          for (let n = 1; n < p[last].length; n++) {
            const prefix = p[last].slice(0, n);
            if (among.includes(prefix) || among.filter((s) => s.startsWith(prefix)).length < 2) continue;
            const line = [...p.slice(0, last), prefix].join(' ');
            const ambiguous = cli.runSync(ran, line);
            const expected = among
              .filter((s) => s.startsWith(prefix))
              .map((s) => [...p.slice(0, last), s].join(' '))
              .sort();
            assert.equal(ambiguous.text, `ambiguous command '${line}': ${expected.join(', ')}`);
            assert.equal(ambiguous.ok, false);
            assert.equal(ran.length, 1);
          }
        }
      }),
    );
  });
});

describe('arguments', () => {
  it('bad arguments name the token and the expected form, and change nothing', () => {
    const cli = registry();
    const ctx = newContext();
    transcript(
      cli,
      ctx,
      `
vecnet# ip route add 10.0.0.0/8 via x.y
! ip route add: expected an IPv4 address for next-hop, got 'x.y'
vecnet# ip route add 10.0.0.0 via 1.2.3.4
! ip route add: expected an IPv4 prefix (a.b.c.d/len) for prefix, got '10.0.0.0'
vecnet# ip route add 10.0.0.0/8 by 1.2.3.4
! ip route add: expected 'via', got 'by'
vecnet# ip route add 10.0.0.0/8 via 1.2.3.4 table
! ip route add: expected a number in 0..4294967295 for table id, got end of input
vecnet# ip route add 10.0.0.0/8 via 1.2.3.4 table 5 metric 3
! ip route add: unknown input \`metric 3'
vecnet# show runtime verbose extra
! show runtime: unexpected argument 'extra'
`,
    );
    assert.deepEqual(ctx.routes, []);
    assert.deepEqual(ctx.ran, []);
    transcript(cli, ctx, 'vecnet# ip ro a 10.1.2.3/8 via 1.2.3.4 table 0x10\nadded 10.0.0.0/8 table 16');
    assert.deepEqual(ctx.routes, [{ prefix: { address: 0x0a000000, length: 8 }, via: 0x01020304, table: 16 }]);
  });

  it('quotes and nested blocks reach the action as typed', () => {
    const cli = new CliRegistry<string[]>();
    cli.register({
      path: 'packet-generator new',
      short: 'Create a packet generator stream',
      action(log, input, out) {
        const seen: string[] = [];
        const walk = (level: typeof input, depth: number): void => {
          while (!level.atEnd()) {
            const block = level.block();
            if (block) walk(block, depth + 1);
            else seen.push(`${depth}:${level.expectWord('word')}`);
          }
        };
        walk(input, 0);
        log.push(...seen);
        out.print(seen.join(' '));
      },
    });
    const log: string[] = [];
    const result = cli.runSync(log, 'pa n { name "my stream" limit 10 { data { 0x01 } } } --json');
    assert.equal(result.ok, false, 'not a --json command');
    assert.deepEqual(log, []);
    assert.equal(cli.runSync(log, 'pa n { name "my stream" limit 10 { data { 0x01 } } } end').text, '1:name 1:my stream 1:limit 1:10 2:data 3:0x01 0:end');
    const unclosed = cli.runSync(log, 'pa n { name x');
    assert.equal(unclosed.text, "packet-generator new: missing '}' to close '{' at '{ name x'");
  });

  it('an unterminated quote is one line of error', () => {
    const result = registry().runSync(newContext(), 'sh int "pg0');
    assert.deepEqual(result, { ok: false, text: `unterminated quote at '"pg0'`, code: 'ECLI' });
  });
});

describe('? and help', () => {
  it('? lists every command under the words typed, VPP two-column layout', () => {
    transcript(
      registry(),
      newContext(),
      `
vecnet# sh ?
  show hardware-interfaces                 Show hardware-interfaces
  show interface                           Show interface
  show interface addr                      Show interface addr
  show ip fib                              Show ip fib
  show ip neighbors                        Show ip neighbors
  show runtime                             Show node runtime statistics
vecnet# show ip ?
  show ip fib                              Show ip fib
  show ip neighbors                        Show ip neighbors
vecnet# sh ru ?
  show runtime                             Show node runtime statistics
  usage: show runtime [verbose]
vecnet# sh int pg0 ?
  show interface                           Show interface
  usage: show interface [<name>] [verbose]
vecnet# sh i ?
  show interface                           Show interface
  show interface addr                      Show interface addr
  show ip fib                              Show ip fib
  show ip neighbors                        Show ip neighbors
vecnet# ?
  clear trace                              Clear trace
  help                                     List commands, or describe one
  ip route add                             Add an IPv4 route
  show hardware-interfaces                 Show hardware-interfaces
  show interface                           Show interface
  show interface addr                      Show interface addr
  show ip fib                              Show ip fib
  show ip neighbors                        Show ip neighbors
  show runtime                             Show node runtime statistics
  trace                                    Trace
  trace add                                Trace add
vecnet# show foo ?
! show: unknown input \`foo'
`,
    );
  });

  it('help(line) is the same text, with or without the ?', () => {
    const cli = registry();
    assert.equal(cli.help('show ip'), cli.runSync(newContext(), 'show ip ?').text);
    assert.equal(cli.help('show ip ?'), cli.help('show ip'));
    assert.equal(cli.help('zz'), "unknown input `zz'");
  });

  it('help lists words; help <command> gives its usage', () => {
    transcript(
      registry(),
      newContext(),
      `
vecnet# help
  clear                          clear commands
  help                           List commands, or describe one
  ip                             ip commands
  show                           show commands
  trace                          Trace
vecnet# help sh ip
  fib                            Show ip fib
  neighbors                      Show ip neighbors
vecnet# he sh int
show interface [<name>] [verbose]
  Show interface
  addr                           Show interface addr
vecnet# help ip route add
ip route add <prefix> via <address> [table <id>]
  Add an IPv4 route
vecnet# help sh xyz
! help: show: unknown input \`xyz'
vecnet# help sh i
! help: ambiguous command 'sh i': show interface, show ip
`,
    );
  });
});

describe('--json', () => {
  it('leading or trailing, the action supplies the value; text is that value', () => {
    const cli = registry();
    const ctx = newContext();
    for (const line of ['show runtime verbose --json', '--json sh run verbose']) {
      const result = cli.runSync(ctx, line);
      assert.equal(result.ok, true);
      assert.deepEqual(result.json, { verbose: true, rows: [{ name: 'ip4-lookup', calls: 117188, vectors: 30000000n }] });
      assert.deepEqual(JSON.parse(result.text), { verbose: true, rows: [{ name: 'ip4-lookup', calls: 117188, vectors: 30000000 }] });
    }
    assert.equal(cli.runSync(ctx, 'show runtime').text, 'ip4-lookup          117188');
    assert.equal(cli.runSync(ctx, 'show runtime "--json"').text, "show runtime: unexpected argument '--json'");
  });

  it('a command without JSON support refuses, without running', () => {
    const ctx = newContext();
    const result = registry().runSync(ctx, 'sh int --json');
    assert.deepEqual(result, { ok: false, text: "'show interface' does not support --json", code: 'ENOTSUP', path: 'show interface' });
    assert.deepEqual(ctx.ran, []);
  });

  it('an action that gives no value answers null; an unencodable one is an internal error', () => {
    const cli = new CliRegistry<null>();
    cli.register({ path: 'quiet', short: 'q', json: true, action: (_c, _i, out) => out.print('text only') });
    cli.register({
      path: 'loop',
      short: 'l',
      json: true,
      action(_c, _i, out) {
        const a: Record<string, unknown> = {};
        a.self = a;
        out.json(a);
      },
    });
    assert.deepEqual(cli.runSync(null, 'quiet --json'), { ok: true, text: 'null', json: null, path: 'quiet' });
    const loop = cli.runSync(null, 'loop --json');
    assert.equal(loop.ok, false);
    assert.equal(loop.code, 'EINTERNAL');
    assert.match(loop.text, /^internal error in 'loop': cannot encode JSON: /);
  });
});

describe('registration', () => {
  it('a path registered twice names the path and both owners', () => {
    const cli = registry();
    assert.throws(
      () => cli.register({ path: 'ip  route add', short: 'x', action() {} }, 'my-plugin'),
      (error: unknown) =>
        error instanceof CliError &&
        error.code === 'EEXIST' &&
        error.message === "CLI command 'ip route add' registered twice: by 'fib' and by 'my-plugin'",
    );
    assert.throws(
      () => cli.register({ path: 'help', short: 'x', action() {} }, 'my-plugin'),
      { message: "CLI command 'help' registered twice: by 'vlib' and by 'my-plugin'" },
    );
  });

  it('a malformed path is refused', () => {
    const cli = new CliRegistry<null>();
    for (const path of ['', 'show --json', 'show ?', 'a {', 'x.y']) {
      assert.throws(() => cli.register({ path, short: 'x', action() {} }), { code: 'EINVAL' }, path);
    }
  });

  it('commands() lists all, sorted by path', () => {
    const paths = registry().commands().map((c) => c.path);
    assert.deepEqual(paths, [...paths].sort());
    assert.equal(paths.length, 11);
  });

  it('a prefix of a command can be registered later as a command of its own', () => {
    const cli = new CliRegistry<string[]>();
    cli.register({ path: 'show ip fib', short: 'f', action: (ran) => void ran.push('fib') });
    cli.register({ path: 'show ip', short: 'i', action: (ran) => void ran.push('ip') });
    const ran: string[] = [];
    cli.runSync(ran, 'sh ip');
    cli.runSync(ran, 'sh ip f');
    assert.deepEqual(ran, ['ip', 'fib']);
  });
});

describe('errors from actions', () => {
  const cli = new CliRegistry<null>();
  cli.register({
    path: 'set interface state',
    short: 's',
    action(_c, input) {
      const name = input.expectWord('interface');
      throw new CliError(`unknown interface '${name}'`, 'ENOENT');
    },
  });
  cli.register({
    path: 'create loopback',
    short: 'c',
    action() {
      throw Object.assign(new Error('interface loop0 exists'), { code: 'EEXIST' });
    },
  });
  cli.register({
    path: 'buggy',
    short: 'b',
    action() {
      (null as unknown as { x: number }).x = 1;
    },
  });
  cli.register({
    path: 'weird',
    short: 'w',
    action() {
      throw { toString: () => { throw new Error('no'); } };
    },
  });

  it('a CliError keeps its code, prefixed by the path as VPP prints it', () => {
    assert.deepEqual(cli.runSync(null, 'set int st pg9 up'), {
      ok: false,
      text: "set interface state: unknown interface 'pg9'",
      code: 'ENOENT',
      path: 'set interface state',
    });
  });

  it('a public-API error with an errno code is the user error it is', () => {
    const result = cli.runSync(null, 'create loopback');
    assert.equal(result.text, 'create loopback: interface loop0 exists');
    assert.equal(result.code, 'EEXIST');
  });

  it('anything else is an internal error in one line, and the registry carries on', () => {
    const result = cli.runSync(null, 'buggy');
    assert.equal(result.ok, false);
    assert.equal(result.code, 'EINTERNAL');
    assert.match(result.text, /^internal error in 'buggy': Cannot set properties of null/);
    assert.equal(cli.runSync(null, 'weird').text, "internal error in 'weird': unprintable error");
    assert.equal(cli.runSync(null, 'help').ok, true);
  });
});

describe('asynchronous actions', () => {
  const cli = new CliRegistry<string[]>();
  cli.register({
    path: 'exec',
    short: 'Run a CLI script',
    async action(log, input, out) {
      const file = input.expectWord('file');
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.push(file);
      out.print(`ran ${file}`);
    },
  });
  cli.register({
    path: 'wait',
    short: 'Wait',
    action(log) {
      log.push('wait started');
      return Promise.reject(new CliError('timed out', 'ETIMEDOUT'));
    },
  });
  cli.register({ path: 'show version', short: 'v', action: (_l, _i, out) => out.print('vecnet 0.1.0') });

  it('run() waits for them; errors and rejections become results', async () => {
    const log: string[] = [];
    assert.deepEqual(await cli.run(log, 'exec setup.cli'), { ok: true, text: 'ran setup.cli', path: 'exec' });
    assert.deepEqual(log, ['setup.cli']);
    assert.equal((await cli.run(log, 'exec')).text, 'exec: expected a word for file, got end of input');
    assert.deepEqual(await cli.run(log, 'wait'), { ok: false, text: 'wait: timed out', code: 'ETIMEDOUT', path: 'wait' });
    assert.equal((await cli.run(log, 'sh ver')).text, 'vecnet 0.1.0');
  });

  it('runSync() refuses an async action before it runs', () => {
    const log: string[] = [];
    const result = cli.runSync(log, 'exec setup.cli');
    assert.deepEqual(result, { ok: false, text: "'exec' runs asynchronously: it cannot be run here", code: 'ENOTSUP', path: 'exec' });
    assert.deepEqual(log, []);
    assert.equal(cli.runSync(log, 'wait').code, 'ENOTSUP');
    assert.equal(cli.runSync(log, 'sh ver').text, 'vecnet 0.1.0');
  });
});

describe('completion', () => {
  it("offers the words that can follow, as VPP's tab completion", () => {
    const cli = registry();
    assert.deepEqual(cli.complete(''), ['clear', 'help', 'ip', 'show', 'trace']);
    assert.deepEqual(cli.complete('sh'), ['show']);
    assert.deepEqual(cli.complete('sh '), ['hardware-interfaces', 'interface', 'ip', 'runtime']);
    assert.deepEqual(cli.complete('sh i'), ['interface', 'ip']);
    assert.deepEqual(cli.complete('show ip  '), ['fib', 'neighbors']);
    assert.deepEqual(cli.complete('--json sh ip '), ['fib', 'neighbors']);
    assert.deepEqual(cli.complete('sh i '), [], 'ambiguous');
    assert.deepEqual(cli.complete('sh runtime '), []);
    assert.deepEqual(cli.complete('x'), []);
    assert.deepEqual(cli.complete('sh "ip'), []);
  });
});

describe('robustness', () => {
  const isResult = (r: CliResult): void => {
    assert.equal(typeof r.ok, 'boolean');
    assert.equal(typeof r.text, 'string');
    if (!r.ok) {
      assert.ok(!r.text.includes('\n'), `one line: ${JSON.stringify(r.text)}`);
      assert.match(r.code ?? '', /^E[A-Z]+$/);
    }
  };
  const unit = fc.oneof(
    fc.constantFrom('sh', 'show', 'i', 'int', 'ip', 'route', 'add', 'via', 'tr', 'help', '?', '--json', '{', '}', '"', '\\', ' ', ' ', '\t', '10.0.0.0/8', '1.2.3.4', 'x.y', '0x10', 'verbose', 'table'),
    fc.string({ maxLength: 3 }),
  );
  const line = fc.array(unit, { maxLength: 12 }).map((parts) => parts.join(''));

  it('property: random lines never throw from runSync or run, and always give a CliResult', async () => {
    const cli = registry();
    cli.register({ path: 'exec', short: 'e', action: async (_c, input) => void input.expectWord('file') });
    const ctx = newContext();
    await fc.assert(
      fc.asyncProperty(line, async (text) => {
        isResult(cli.runSync(ctx, text));
        isResult(await cli.run(ctx, text));
        assert.ok(Array.isArray(cli.complete(text)));
        assert.equal(typeof cli.help(text), 'string');
      }),
      { numRuns: 500 },
    );
  });

  it('property: a route is added only by a line that runs ip route add successfully', () => {
    const cli = registry();
    fc.assert(
      fc.property(line, (text) => {
        const ctx = newContext();
        const result = cli.runSync(ctx, `ip route add ${text}`);
        // A line with `?` is help (ok, no path): it adds nothing either.
        const added = result.ok && result.path === 'ip route add';
        assert.equal(ctx.routes.length, added ? 1 : 0, `${text}: ${result.text}`);
      }),
      { numRuns: 500 },
    );
  });
});
