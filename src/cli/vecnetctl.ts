// vecnetctl (VPP's vppctl): runs CLI commands on a running engine over its unix socket.
//
//   vecnetctl [-s <socket>] <words…>      one command; its output on stdout; exit 1 and the
//                                         one-line message on stderr when it failed
//   vecnetctl [-s <socket>] --json <words…>   the same command's machine-readable answer
//   vecnetctl [-s <socket>]               interactive: prompt, history, tab completion, `?`
//   vecnetctl [-s <socket>] exec <file>   a CLI script (a relative path is from the cwd)
//
// As vppctl does, the words are joined with spaces into one line, so `vecnetctl show int`
// and `vecnetctl "show int"` are the same command.

import { Command } from 'commander';
import { isAbsolute, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CliClient, CliConnectError } from './cli-client.ts';
import { PACKAGE } from './commands.ts';
import { runRepl } from './repl.ts';

export const DEFAULT_SOCKET = '/run/vecnet/cli.sock';

export interface CtlStreams {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** A word as the CLI reads it back: bare when it can be, else double-quoted. */
function quoteWord(word: string): string {
  return /^[^\s"{}]+$/.test(word) ? word : `"${word.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * `exec <relative path>` names a file next to the user, not next to the engine: the path
 * is made absolute from the client's working directory before the line is sent.
 */
export function absoluteExec(line: string, cwd = process.cwd()): string {
  const match = /^(\s*exec\s+)([^\s"]+)\s*$/.exec(line);
  if (match === null || isAbsolute(match[2])) return line;
  return `${match[1]}${quoteWord(resolve(cwd, match[2]))}`;
}

function write(stream: Writable, text: string): void {
  if (text !== '') stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Runs vecnetctl with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: readonly string[], streams: CtlStreams = process): Promise<number> {
  const program = new Command('vecnetctl')
    .description('Run CLI commands on a running vecnet engine (no command: interactive)')
    .version(PACKAGE.version, '-V, --version')
    .option('-s, --socket <path>', 'CLI socket of the engine (unix { cli-listen })', DEFAULT_SOCKET)
    .option('--json', 'print the machine-readable answer (show commands)')
    .argument('[command...]', 'the CLI command, e.g. show interface')
    .passThroughOptions()
    .allowExcessArguments(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
    });
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return typeof code === 'number' ? code : 1;
  }
  const options = program.opts<{ socket: string; json?: boolean }>();
  const words = program.args;

  let client: CliClient;
  try {
    client = await CliClient.connect(options.socket);
  } catch (error) {
    streams.stderr.write(`vecnetctl: ${error instanceof CliConnectError ? error.message : String(error)}\n`);
    return 1;
  }
  try {
    if (words.length > 0) {
      const line = absoluteExec(`${options.json === true ? '--json ' : ''}${words.join(' ')}`);
      const response = await client.run(line);
      if (response.ok) {
        write(streams.stdout, response.text ?? '');
        return 0;
      }
      write(streams.stderr, response.text ?? 'failed');
      return 1;
    }
    const hello = await client.request('hello');
    const gone = new Promise<void>((resolve) => (client.onClose = resolve));
    const end = await runRepl(
      {
        run: (line) => client.run(options.json === true ? `--json ${line}` : line).then((r) => ({ ...r, text: r.text ?? '' })),
        complete: (line) => client.request('complete', line).then((r) => r.completions ?? []),
        help: (line) => client.request('help', line).then((r) => r.text ?? ''),
      },
      {
        input: streams.stdin,
        output: streams.stdout,
        errorOutput: streams.stderr,
        prompt: hello.prompt ?? 'vecnet# ',
        rewrite: (line) => absoluteExec(line),
        gone,
      },
    );
    if (end === 'closed') {
      streams.stderr.write('vecnetctl: vecnet closed the connection\n');
      return 1;
    }
    return 0;
  } finally {
    client.close();
  }
}
