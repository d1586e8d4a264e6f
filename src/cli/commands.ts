// The daemon's own CLI commands (VPP's vlib/unix/cli.c and friends): `show version`,
// `show threads`, `show clock`, `show plugins`, `exec <file>`, `echo <text>`, `comment`,
// and `quit`/`exit`, which end a session (the CLI server closes the connection after
// answering them; run anywhere else they do nothing). `help` and `?` belong to the registry.
// Every `show` answers `--json` with the data its text is printed from.

import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CliError } from '../vlib/cli.ts';
import type { Engine } from '../vlib/engine.ts';
import { DEFAULT_PLUGIN_PATH, pluginsOf } from '../vlib/plugin-loader.ts';
import { runScriptFile } from './script.ts';

/** vecnet's name and version, from package.json. */
export const PACKAGE: { readonly name: string; readonly version: string } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { name: string; version: string };

/** Commands after which the CLI server closes the session. */
export const SESSION_END_COMMANDS: ReadonlySet<string> = new Set(['quit', 'exit']);

/** What the daemon knows that commands show. */
export interface DaemonCommandContext {
  /** Worker threads asked for in startup.conf (`cpu { workers N }`). */
  workers?: number;
  /** When the engine started (default: when the commands were registered). */
  startedAt?: Date;
}

/** exec nests (a script may exec another); each level knows its file's directory. */
const execStack = new AsyncLocalStorage<{ depth: number; directory: string }>();
const MAX_EXEC_DEPTH = 16;

/** Registers the daemon's commands on an engine's registry. */
export function registerDaemonCommands(vm: Engine, context: DaemonCommandContext = {}): void {
  const cli = vm.commands;
  const startedAt = context.startedAt ?? new Date();
  const workers = context.workers ?? 0;

  cli.register({
    path: 'show version',
    short: 'Show vecnet version',
    usage: 'show version [verbose]',
    json: true,
    action(_vm, input, out) {
      const verbose = input.keyword('verbose');
      input.expectEnd();
      const info = {
        name: PACKAGE.name,
        version: PACKAGE.version,
        node: process.version,
        platform: process.platform,
        arch: process.arch,
        host: hostname(),
        pid: process.pid,
        started: startedAt.toISOString(),
      };
      out.json(info);
      if (!verbose) {
        out.print(`vecnet v${info.version} on node ${info.node} (${info.platform} ${info.arch})`);
        return;
      }
      const rows: [string, string][] = [
        ['Version', `v${info.version}`],
        ['Node.js', info.node],
        ['Platform', `${info.platform} ${info.arch}`],
        ['Host', info.host],
        ['Current PID', String(info.pid)],
        ['Started', info.started],
      ];
      for (const [key, value] of rows) out.print(`${`${key}:`.padEnd(26)}${value}`);
    },
  });

  cli.register({
    path: 'show threads',
    short: 'Show threads',
    json: true,
    action(_vm, input, out) {
      input.expectEnd();
      const threads = [{ id: 0, name: 'vpp_main', type: '', lwp: process.pid, policy: 'other', priority: 0, lcore: 0, core: 0, socket: 0 }];
      out.json({ threads, workersConfigured: workers, workersSupported: false });
      out.print('ID     Name                Type        LWP     Sched Policy (Priority)  lcore  Core   Socket State     ');
      for (const t of threads) {
        out.print(
          `${String(t.id).padEnd(7)}${t.name.padEnd(20)}${t.type.padEnd(12)}${String(t.lwp).padEnd(8)}` +
            `${`${t.policy} (${t.priority})`.padEnd(25)}${String(t.lcore).padEnd(7)}${String(t.core).padEnd(7)}${String(t.socket).padEnd(7)}`,
        );
      }
      if (workers > 0) out.print(`cpu { workers ${workers} }: worker threads are not supported yet; vpp_main does all the work`);
    },
  });

  cli.register({
    path: 'show clock',
    short: 'Show the engine clock',
    json: true,
    action(engine, input, out) {
      input.expectEnd();
      const now = engine.nowNs() / 1e9;
      const date = new Date();
      out.json({ seconds: now, date: date.toISOString() });
      out.print(`Time now ${now.toFixed(6)}, ${date.toUTCString()}`);
    },
  });

  cli.register({
    path: 'show plugins',
    short: 'Show loaded plugins',
    json: true,
    action(engine, input, out) {
      input.expectEnd();
      const set = pluginsOf(engine);
      const paths = set?.paths ?? [DEFAULT_PLUGIN_PATH];
      const records = set?.plugins ?? [];
      const plugins = records.map((r) => ({
        name: r.name,
        state: r.state,
        version: r.definition?.version ?? PACKAGE.version,
        description: r.definition?.description ?? '',
        path: r.entry,
        ...(r.error === undefined ? {} : { error: r.error }),
      }));
      out.json({ paths, plugins });
      // VPP: " Plugin path is: %s\n\n" then "%3d. %-40s%-33s%s" per plugin.
      out.print(` Plugin path is: ${paths.length > 0 ? paths.join(':') : '(none)'}`);
      out.print('');
      out.print(`     ${'Plugin'.padEnd(41)}${'Version'.padEnd(33)}Description`);
      let n = 0;
      for (const p of plugins) {
        if (p.state !== 'loaded') continue;
        out.print(`${String(++n).padStart(3)}. ${p.name.padEnd(41)}${p.version.padEnd(33)}${p.description}`);
      }
      const failed = plugins.filter((p) => p.state === 'failed');
      if (failed.length > 0) {
        out.print('');
        out.print(' Failed:');
        for (const p of failed) out.print(`     ${p.name.padEnd(41)}${p.error}`);
      }
      const disabled = plugins.filter((p) => p.state === 'disabled');
      if (disabled.length > 0) {
        out.print('');
        out.print(` Disabled in startup.conf: ${disabled.map((p) => p.name).join(', ')}`);
      }
    },
  });

  cli.register({
    path: 'exec',
    short: 'Execute commands from a file',
    usage: 'exec <filename>',
    async action(engine, input, out) {
      const file = input.expectWord('filename');
      input.expectEnd();
      const outer = execStack.getStore();
      const depth = (outer?.depth ?? 0) + 1;
      if (depth > MAX_EXEC_DEPTH) throw new CliError(`${file}: scripts nest more than ${MAX_EXEC_DEPTH} deep`, 'ELOOP');
      // A relative name inside a script is found next to that script, else from the cwd.
      const path = isAbsolute(file) || outer === undefined ? file : resolve(outer.directory, file);
      const result = await execStack.run({ depth, directory: dirname(resolve(path)) }, () => runScriptFile(engine.commands, engine, path));
      if (result.text !== '') out.print(result.text);
    },
  });

  cli.register({
    path: 'echo',
    short: 'Print the rest of the line',
    usage: 'echo <text>',
    action(_vm, input, out) {
      out.print(input.rest());
    },
  });

  cli.register({
    path: 'comment',
    short: 'Ignore the rest of the line, or a { … } block',
    usage: 'comment { <anything> } | comment <text>',
    action(_vm, input) {
      input.rest();
    },
  });

  for (const path of SESSION_END_COMMANDS) {
    cli.register({
      path,
      short: 'Exit CLI',
      action(_vm, input) {
        input.expectEnd();
      },
    });
  }
}
