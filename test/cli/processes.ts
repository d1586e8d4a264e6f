// Helpers for tests that drive vecnet the way a user does: `bin/vecnet` and `bin/vecnetctl`
// as child processes, from a working directory outside the repository, with sockets in a
// temporary directory.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const VECNET = join(REPO, 'bin', 'vecnet');
export const VECNETCTL = join(REPO, 'bin', 'vecnetctl');

/** A temporary directory, removed by `cleanup`; also holds an empty plugin path. */
export function scratch(prefix: string): { dir: string; noPlugins: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const noPlugins = join(dir, 'no-plugins');
  mkdirSync(noPlugins);
  return { dir, noPlugins, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to its end, feeding `input` on stdin. */
export function run(file: string, args: readonly string[], options: { cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<Finished> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(file, args, { cwd: options.cwd ?? tmpdir(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not finish in ${options.timeoutMs ?? 20000} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** `vecnetctl -s <socket> <words…>`. */
export function ctl(socket: string, words: readonly string[], options: { cwd?: string; input?: string } = {}): Promise<Finished> {
  return run(VECNETCTL, ['-s', socket, ...words], options);
}

/** Engines started and not yet exited: killed if the test process exits first (a failed test). */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** SIGKILLs every engine still running (an `after` hook: a failed test may leave one behind). */
export async function killEngines(): Promise<void> {
  const waits = [...live].map((child) => new Promise((r) => child.once('close', r)));
  for (const child of live) child.kill('SIGKILL');
  await Promise.all(waits);
}

export interface RunningEngine {
  readonly child: ChildProcess;
  /** What it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when it has exited. */
  readonly exited: Promise<Finished>;
  /** SIGTERM (or `signal`), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Finished>;
}

/**
 * Starts `bin/vecnet <args>` and waits until it prints its banner (the CLI is then up);
 * rejects with what it printed if it exits first.
 */
export function startEngine(args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunningEngine> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(VECNET, args, { cwd: options.cwd ?? tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '';
    let err = '';
    let started = false;
    const exited = new Promise<Finished>((resolveExit) => {
      child.on('close', (code, signal) => {
        live.delete(child);
        resolveExit({ code, signal, stdout: out, stderr: err });
      });
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vecnet ${args.join(' ')} did not start; stdout: ${out}; stderr: ${err}`));
    }, options.timeoutMs ?? 20000);
    const engine: RunningEngine = {
      child,
      stdout: () => out,
      stderr: () => err,
      exited,
      async stop(signal = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return await exited;
      },
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!started && out.includes('\n') && / CLI on /.test(out)) {
        started = true;
        clearTimeout(timer);
        resolveStart(engine);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    void exited.then((finished) => {
      if (started) return;
      clearTimeout(timer);
      reject(new Error(`vecnet ${args.join(' ')} exited (${finished.code}) before starting; stdout: ${finished.stdout}; stderr: ${finished.stderr}`));
    });
  });
}
