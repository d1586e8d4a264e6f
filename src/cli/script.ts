// CLI scripts: the files `exec <file>` and `unix { exec <file> }` run. One command per line;
// blank lines and lines starting with `#` are skipped; a command whose `{` blocks are still
// open at the end of a line continues on the next ones, so VPP's multi-line
// `packet-generator new { … }` reads as it does in VPP. Commands run in order through the
// CLI registry and the first failure stops the script with `<file>:<line>: <message>`,
// the line being where the failing command starts.

import { readFile } from 'node:fs/promises';
import { CliError, type CliRegistry } from '../vlib/cli.ts';

/** One command of a script and the line it starts on (1-based). */
export interface ScriptCommand {
  readonly line: number;
  readonly text: string;
}

/** Braces still open after `text`, starting from `depth`; braces inside double quotes do not count. */
function openBraces(text: string, depth: number): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  return depth;
}

function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Splits a script into its commands; comment and blank lines are dropped. */
export function splitScript(text: string): ScriptCommand[] {
  const lines = text.split(/\r?\n/);
  const commands: ScriptCommand[] = [];
  let pending: string[] = [];
  let start = 0;
  let depth = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (pending.length === 0) start = i + 1;
    pending.push(line);
    depth = openBraces(line, depth);
    if (depth <= 0) {
      commands.push({ line: start, text: pending.join(' ') });
      pending = [];
      depth = 0;
    }
  }
  // An unclosed block runs as it is; the command's own parser names the missing '}'.
  if (pending.length > 0) commands.push({ line: start, text: pending.join(' ') });
  return commands;
}

export interface ScriptOptions {
  /** Called after each successful command with its line and output (logging, progress). */
  onCommand?: (command: ScriptCommand, output: string) => void;
}

/** What a script that ran to the end produced. */
export interface ScriptResult {
  /** Outputs of the commands that printed something, joined by newlines. */
  readonly text: string;
  readonly commands: number;
}

/**
 * Runs a script's text through `registry`. The first failing command throws a `CliError`
 * `<name>:<line>: <message>` with the failing command's code.
 */
export async function runScriptText<C>(registry: CliRegistry<C>, ctx: C, name: string, text: string, options: ScriptOptions = {}): Promise<ScriptResult> {
  const outputs: string[] = [];
  const commands = splitScript(text);
  for (const command of commands) {
    // One command per event-loop turn, so a long script never holds up the data path.
    await yieldTurn();
    const result = await registry.run(ctx, command.text);
    if (!result.ok) throw new CliError(`${name}:${command.line}: ${result.text}`, result.code ?? 'ECLI');
    if (result.text !== '') outputs.push(result.text);
    options.onCommand?.(command, result.text);
  }
  return { text: outputs.join('\n'), commands: commands.length };
}

/** Reads and runs a script file; a file that cannot be read is one `CliError` line (`ENOENT`, `EACCES`…). */
export async function runScriptFile<C>(registry: CliRegistry<C>, ctx: C, file: string, options: ScriptOptions = {}): Promise<ScriptResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'EIO';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code;
    throw new CliError(`cannot read ${file}: ${why}`, code);
  }
  return await runScriptText(registry, ctx, file, text, options);
}
