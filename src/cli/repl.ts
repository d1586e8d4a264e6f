// The interactive CLI (VPP's console): a prompt, line editing and history (node:readline),
// tab completion over the command tree, `?` for help, and `quit`. The same loop serves
// `vecnetctl -s <socket>` (commands go over the socket) and `vecnet unix { interactive }`
// (commands go straight to the engine's registry), through a small backend interface.
//
// On a terminal, typing `?` shows at once what can follow the words typed so far and gives
// the line back for editing, as VPP does; `?` also works at the end of a line before
// Enter, and that is how it works when stdin is a pipe. Ctrl-C clears the line, or leaves
// on an empty one; Ctrl-D (end of input) leaves.

import { PassThrough, type Readable, type Writable } from 'node:stream';
import { createInterface, type Interface } from 'node:readline';

export interface ReplBackend {
  run(line: string): Promise<{ readonly ok: boolean; readonly text?: string; readonly close?: boolean; readonly code?: string }>;
  complete(line: string): Promise<string[]>;
  help(line: string): Promise<string>;
}

export interface ReplOptions {
  readonly input: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly output: Writable;
  /** Where failed commands print (default: `output`). */
  readonly errorOutput?: Writable;
  readonly prompt: string;
  /** Rewrites a line before it is sent (vecnetctl makes `exec` paths absolute). */
  readonly rewrite?: (line: string) => string;
  /** Resolves when the backend goes away (the engine closed the socket): the loop ends. */
  readonly gone?: Promise<void>;
}

/** Why the loop ended: end of input, a `quit`, or the engine closed the session. */
export type ReplEnd = 'eof' | 'quit' | 'closed';

function write(stream: Writable, text: string): void {
  if (text !== '') stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Runs the loop until end of input, `quit`, or the backend goes away. */
export async function runRepl(backend: ReplBackend, options: ReplOptions): Promise<ReplEnd> {
  const { output, prompt } = options;
  const errors = options.errorOutput ?? output;
  const tty = options.input.isTTY === true && typeof options.input.setRawMode === 'function';
  // On a terminal, keystrokes pass through a filter that catches `?` before readline does.
  const keys = new PassThrough();
  const source: Readable = tty ? keys : options.input;
  const completer = (line: string, callback: (error: Error | null, result: [string[], string]) => void): void => {
    const partial = /\s$/.test(line) || line === '' ? '' : (line.split(/\s+/).pop() ?? '');
    backend.complete(line).then(
      (words) => callback(null, [words.length === 1 ? [`${words[0]} `] : words, partial]),
      () => callback(null, [[], partial]),
    );
  };
  const rl: Interface = createInterface({ input: source, output, prompt, completer, terminal: tty, historySize: 1000 });
  let onKeys: ((chunk: Buffer | string) => void) | undefined;
  if (tty) {
    const input = options.input;
    input.setRawMode?.(true);
    onKeys = (chunk) => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      let from = 0;
      for (let i = 0; i < text.length; i++) {
        if (text[i] !== '?') continue;
        if (i > from) keys.write(text.slice(from, i));
        from = i + 1;
        // readline has consumed what was written before the `?` by the next tick.
        setImmediate(() => {
          backend.help(rl.line).then((help) => {
            output.write(`?\n${help}\n`);
            rl.prompt(true);
          }, () => undefined);
        });
      }
      if (from < text.length) keys.write(text.slice(from));
    };
    input.on('data', onKeys);
    input.resume();
  }
  let closedByEngine = false;
  let quit = false;
  let closed = false;
  rl.on('close', () => (closed = true));
  rl.on('SIGINT', () => {
    if (rl.line === '') {
      output.write('\n');
      rl.close();
    } else {
      output.write('^C\n');
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      rl.prompt();
    }
  });
  void options.gone?.then(() => {
    closedByEngine = true;
    rl.close();
  });
  rl.prompt();
  // The iterator buffers lines that arrive while a command runs (a pipe delivers them all
  // at once) and ends after the last one once input is closed.
  for await (const raw of rl) {
    const line = (options.rewrite ?? ((l: string) => l))(raw.trim());
    if (line.endsWith('?')) {
      // `show cl?` as VPP reads it: what can follow `show cl`.
      write(output, await backend.help(line.slice(0, -1)));
    } else if (line !== '') {
      const result = await backend.run(line);
      if (result.ok) write(output, result.text ?? '');
      else write(errors, result.text ?? 'failed');
      if (result.code === 'ECONNRESET') {
        closedByEngine = true;
        break;
      }
      if (result.close === true) {
        quit = true;
        break;
      }
    }
    rl.prompt();
  }
  if (onKeys !== undefined) {
    options.input.off('data', onKeys);
    options.input.setRawMode?.(false);
    options.input.pause();
  }
  if (tty && !quit) output.write('\n');
  if (!closed) rl.close();
  return quit ? 'quit' : closedByEngine ? 'closed' : 'eof';
}
