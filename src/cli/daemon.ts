// The engine process (VPP's `vpp`): `vecnet -c <startup.conf>`, or the configuration as
// argv words (`vecnet unix { cli-listen /tmp/v.sock }`). It runs in the foreground until
// SIGINT or SIGTERM. Start-up, in order:
//
//   1. read the configuration tree (syntax errors stop here);
//   2. plugins, phase 1: validate the `plugins` section alone, find and import the enabled
//      plugins, register their startup.conf sections;
//   3. validate the whole configuration, now that every section is known;
//   4. build the engine (`createEngine`, sized by `buffers { … }`), add the daemon's
//      commands, initialise and attach the plugins (phase 2);
//   5. serve the CLI on `unix { cli-listen }`, start the dispatch loop, print where the CLI
//      is and what to try, then run `unix { exec <file> }`.
//
// Any failure in 1–5 is one line on stderr and exit status 1; a plugin that fails is one
// line and the engine starts without it; a failing line of the exec script is one line and
// the engine keeps running (as VPP). Relative paths in a startup.conf file are taken from
// the file's directory, so `npm start` works from anywhere; on the command line, from the
// working directory. `unix { log <file> }` appends start-up messages and every CLI command.

import { Command } from 'commander';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Writable, Readable } from 'node:stream';
import { createEngine } from '../index.ts';
import type { Engine, EngineOptions } from '../vlib/engine.ts';
import { CliError } from '../vlib/cli.ts';
import {
  attachPlugins,
  discoverPlugins,
  exitPlugins,
  PluginError,
  readPluginsSection,
  registerPluginConfig,
  type PluginSet,
} from '../vlib/plugin-loader.ts';
import { CliListenError, CliServer, probeSocket } from './cli-server.ts';
import { PACKAGE, registerDaemonCommands, SESSION_END_COMMANDS } from './commands.ts';
import { applyHostStackConfig } from '../host-stack.ts';
import { runRepl } from './repl.ts';
import { runScriptFile } from './script.ts';
import {
  COMMAND_LINE,
  ConfigError,
  createConfigSchema,
  parseConfigTree,
  validateConfigTree,
  type ConfigSection,
  type StartupConfig,
} from '../vlib/startup-conf.ts';

/** A start-up failure: `message` is the one line printed. */
export class StartupError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'StartupError';
    this.code = code;
  }
}

export interface DaemonStreams {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export interface DaemonOptions {
  /** startup.conf file (`-c`); absent: `words`, or the defaults. */
  readonly configFile?: string;
  /** Configuration as argv words. */
  readonly words?: readonly string[];
  readonly streams?: DaemonStreams;
  /** Builds the engine (default: `createEngine`, every built-in node). */
  readonly makeEngine?: (options: EngineOptions) => Engine;
  /** Stop on SIGINT/SIGTERM (default true). */
  readonly handleSignals?: boolean;
}

export interface Daemon {
  readonly vm: Engine;
  readonly config: StartupConfig;
  readonly plugins: PluginSet;
  readonly server: CliServer<Engine>;
  /** Stops the engine, runs plugins' exit hooks, closes the CLI and removes the socket. */
  stop(reason?: string): Promise<void>;
  /** Resolves with the exit status once stopped. */
  readonly stopped: Promise<number>;
}

const BIN_DIRECTORY = fileURLToPath(new URL('../../bin/', import.meta.url));
const DEFAULT_SOCKET = '/run/vecnet/cli.sock';

/** One line for any start-up failure. */
function startupLine(error: unknown): StartupError {
  if (error instanceof StartupError) return error;
  if (error instanceof ConfigError || error instanceof PluginError || error instanceof CliListenError) {
    return new StartupError(error.message, error.code);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StartupError(`vecnet: ${message.replace(/\s*[\r\n]+\s*/g, ' ')}`, (error as { code?: string }).code ?? 'EINTERNAL');
}

function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code;
    throw new StartupError(`${file}: cannot read the configuration: ${why}`, code);
  }
}

/** The file's relative paths, made absolute from `base`. */
function anchorPaths(config: StartupConfig, base: string): void {
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(base, path));
  config.unix.cliListen = at(config.unix.cliListen);
  if (config.unix.exec !== undefined) config.unix.exec = at(config.unix.exec);
  if (config.unix.log !== undefined) config.unix.log = at(config.unix.log);
  config.plugins.paths = config.plugins.paths.map(at);
}

/** How a user at this shell runs vecnetctl: `bin/vecnetctl` from the checkout, else its full path. */
function ctlCommand(socket: string): string {
  const bin = resolve(BIN_DIRECTORY, 'vecnetctl');
  // Only at the checkout's root is the short form right; from anywhere else (a parent
  // directory included) the full path is what a user can paste.
  const exe = relative(process.cwd(), bin) === join('bin', 'vecnetctl') ? join('bin', 'vecnetctl') : bin;
  return socket === DEFAULT_SOCKET ? exe : `${exe} -s ${socket}`;
}

/** Starts an engine from a configuration; throws `StartupError` (one line) on any failure. */
export async function startDaemon(options: DaemonOptions = {}): Promise<Daemon> {
  const streams = options.streams ?? process;
  const makeEngine = options.makeEngine ?? createEngine;
  // Lines logged before the configuration says whether there is a log file wait here.
  let pendingLog: string[] | undefined = [];
  let logFd = -1;
  const log = (source: string, text: string): void => {
    const line = `${new Date().toISOString()} [${source}] ${text.replace(/\n/g, '\n    ')}\n`;
    if (logFd >= 0) writeSync(logFd, line);
    else pendingLog?.push(line);
  };
  const report = (line: string): void => {
    streams.stderr.write(`${line}\n`);
    log('vecnet', line);
  };

  let tree: ConfigSection[];
  let fileName: string;
  let base: string;
  try {
    if (options.configFile !== undefined) {
      fileName = options.configFile;
      base = dirname(resolve(options.configFile));
      tree = parseConfigTree(readConfigText(options.configFile), fileName);
    } else {
      fileName = COMMAND_LINE;
      base = process.cwd();
      tree = parseConfigTree((options.words ?? []).join(' '), fileName);
    }
  } catch (error) {
    throw startupLine(error);
  }

  let vm: Engine;
  let config: StartupConfig;
  let plugins: PluginSet;
  try {
    // Phase 1: plugins first, so their sections are known when the whole file is checked.
    // Their failures are held back until the file is known to be good: a bad file is one line.
    const early: string[] = [];
    const hold = (line: string): number => early.push(line);
    const pluginsSection = readPluginsSection(tree, fileName);
    plugins = await discoverPlugins(pluginsSection, { report: hold, baseDirectory: base });
    const schema = createConfigSchema();
    registerPluginConfig(plugins, schema, hold);
    try {
      config = validateConfigTree(tree, fileName, schema);
    } catch (error) {
      // An unknown section may be the section of a plugin that did not load: say so.
      if (error instanceof ConfigError && early.length > 0 && error.message.includes('unknown section')) {
        throw new StartupError(`${error.message}; ${early.join('; ')}`, error.code);
      }
      throw error;
    }
    for (const line of early) report(line);
    anchorPaths(config, base);
    if (config.unix.log !== undefined) {
      try {
        logFd = openSync(config.unix.log, 'a', 0o640);
      } catch (error) {
        throw new StartupError(`log ${config.unix.log}: ${(error as Error).message}`, (error as NodeJS.ErrnoException).code ?? 'EIO');
      }
      for (const line of pendingLog ?? []) writeSync(logFd, line);
    }
    pendingLog = undefined;
    // Refuse a live socket before plugins' init hooks touch anything.
    if ((await probeSocket(config.unix.cliListen)) === 'live') {
      throw new CliListenError(`cli-listen ${config.unix.cliListen}: another vecnet is listening there`, 'EADDRINUSE');
    }
    log('vecnet', `vecnet v${PACKAGE.version} starting (${options.configFile ?? `${fileName}: ${(options.words ?? []).join(' ')}`})`);
    vm = makeEngine({ buffers: config.buffers.buffersPerNuma, dataSize: config.buffers.defaultDataSize });
    registerDaemonCommands(vm, { workers: config.cpu.workers });
    applyHostStackConfig(vm, config.session, config.tcp);
    // Phase 2: init and register.
    await attachPlugins(vm, plugins, config, report);
  } catch (error) {
    if (logFd >= 0) closeSync(logFd);
    throw startupLine(error);
  }

  let server: CliServer<Engine>;
  try {
    server = await CliServer.listen({
      path: config.unix.cliListen,
      gid: config.unix.gid,
      prompt: config.unix.cliPrompt,
      registry: vm.commands,
      context: vm,
      name: PACKAGE.name,
      version: PACKAGE.version,
      onCommand: (session, line, ok, text) => {
        vm.wake();
        log(`cli ${session}`, ok ? line : `${line}\n${text}`);
      },
    });
  } catch (error) {
    await exitPlugins(vm, report);
    if (logFd >= 0) closeSync(logFd);
    throw startupLine(error);
  }

  try {
    vm.start();
  } catch (error) {
    await server.close();
    await exitPlugins(vm, report);
    if (logFd >= 0) closeSync(logFd);
    throw startupLine(error);
  }

  let finish: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolveStopped) => (finish = resolveStopped));
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping !== undefined) {
      // A second signal while shutting down: leave at once.
      process.exit(130);
    }
    void daemon.stop(signal);
  };
  const daemon: Daemon = {
    vm,
    config,
    plugins,
    server,
    stopped,
    stop(reason = 'stop') {
      stopping ??= (async () => {
        log('vecnet', `stopping (${reason})`);
        vm.stop();
        await exitPlugins(vm, report);
        await server.close();
        if (options.handleSignals !== false) {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        log('vecnet', 'stopped');
        if (logFd >= 0) closeSync(logFd);
        logFd = -1;
        finish(0);
      })();
      return stopping;
    },
  };
  if (options.handleSignals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  const socket = config.unix.cliListen;
  const ctl = ctlCommand(socket);
  const banner = [
    `vecnet v${PACKAGE.version}: CLI on ${socket}${config.unix.interactive ? '' : ' (Ctrl-C stops vecnet)'}`,
    `  try: ${ctl} show runtime`,
    `       ${ctl} show interface`,
    `       ${ctl} show ip fib`,
  ];
  if (!config.unix.interactive) banner.push(`       ${ctl}   (interactive: ? for help, Tab completes)`);
  streams.stdout.write(`${banner.join('\n')}\n`);
  log('vecnet', `CLI listening on ${socket}`);

  if (config.unix.exec !== undefined) {
    const file = config.unix.exec;
    try {
      const result = await runScriptFile(vm.commands, vm, file, {
        onCommand: (command, output) => {
          vm.wake();
          log('exec', output === '' ? command.text : `${command.text}\n${output}`);
        },
      });
      log('vecnet', `exec ${file}: ${result.commands} commands`);
    } catch (error) {
      report(error instanceof CliError ? error.message : String(error));
    }
    vm.wake();
  }

  if (config.unix.interactive) {
    void runRepl(
      {
        run: async (line) => {
          const result = await vm.commands.run(vm, line);
          vm.wake();
          log('cli 0', result.ok ? line : `${line}\n${result.text}`);
          return { ...result, close: result.ok && result.path !== undefined && SESSION_END_COMMANDS.has(result.path) };
        },
        complete: async (line) => vm.commands.complete(line),
        help: async (line) => vm.commands.help(line),
      },
      { input: streams.stdin, output: streams.stdout, errorOutput: streams.stderr, prompt: config.unix.cliPrompt },
    ).then(() => daemon.stop('end of the interactive CLI'));
  }
  return daemon;
}

/** `vecnet` with `argv` (without node and script); resolves with the exit status. */
export async function main(argv: readonly string[], streams: DaemonStreams = process): Promise<number> {
  // `vecnet plugin new <name>`: the plugin scaffold (src/cli/plugin-new.ts). `plugin` is no
  // startup.conf section, so these words cannot be configuration.
  if (argv[0] === 'plugin') {
    if (argv[1] !== 'new') {
      streams.stderr.write(`vecnet plugin: unknown command '${argv[1] ?? ''}' (expected: vecnet plugin new <name>)\n`);
      return 1;
    }
    const scaffold = (await import('./plugin-new.ts')) as {
      main(args: readonly string[], out: (line: string) => void, err: (line: string) => void): number;
    };
    return scaffold.main(
      argv.slice(2),
      (line) => streams.stdout.write(`${line}\n`),
      (line) => streams.stderr.write(`${line}\n`),
    );
  }
  const program = new Command('vecnet')
    .description('Run the vecnet engine in the foreground, configured by a startup.conf file or by configuration words')
    .version(PACKAGE.version, '-V, --version')
    .option('-c, --config <file>', 'startup.conf to read')
    .argument('[config...]', 'configuration as words instead of a file: unix { cli-listen /tmp/v.sock }')
    .allowExcessArguments(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
    })
    .addHelpText(
      'after',
      '\nExamples:\n  vecnet -c examples/default/startup.conf\n  vecnet unix { cli-listen /tmp/v.sock exec setup.cli }\n  vecnet plugin new <name>      (scaffold a plugin in plugins/)\n\nSee docs/startup-conf.md for every section and item.',
    );
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return typeof code === 'number' ? code : 1;
  }
  const opts = program.opts<{ config?: string }>();
  if (opts.config !== undefined && program.args.length > 0) {
    streams.stderr.write(`vecnet: give either -c <file> or configuration words, not both (got -c ${opts.config} and '${program.args.join(' ')}')\n`);
    return 1;
  }
  let daemon: Daemon;
  try {
    daemon = await startDaemon({ configFile: opts.config, words: program.args, streams });
  } catch (error) {
    streams.stderr.write(`${startupLine(error).message}\n`);
    return 1;
  }
  return await daemon.stopped;
}
