// Helpers for tests that meet the Linux kernel: root check (tests skip with a clear
// message without it), network namespaces and devices made under unique names and always
// removed (even when the test fails), and commands run inside a namespace. Every address
// used is a private test address (10.200.x.y) inside namespaces the test made itself.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Why kernel tests cannot run here, or null when they can. */
export function kernelSkipReason(tools: readonly string[] = ['ip']): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (network namespaces, TAP, AF_PACKET): skipped';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs the '${tool}' command (apt-get install ${tool === 'ping' ? 'iputils-ping' : tool === 'tcpdump' ? 'tcpdump' : 'iproute2'})`;
    }
  }
  return null;
}

/** A short tag unique to this test process, for interface and namespace names (≤ 15 chars total). */
export const TAG = (process.pid % 100000).toString(36);

export function run(command: string, args: readonly string[], options: { allowFail?: boolean; timeoutMs?: number } = {}): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 20000 });
  } catch (error) {
    if (options.allowFail) return String((error as { stdout?: unknown }).stdout ?? '');
    const e = error as { stderr?: unknown; message: string };
    throw new Error(`${command} ${args.join(' ')}: ${String(e.stderr ?? '').trim() || e.message}`);
  }
}

/** Runs `ip …`. */
export function ip(...args: string[]): string {
  return run('ip', args);
}

/** Runs a command inside namespace `ns`. */
export function inNs(ns: string, command: string, ...args: string[]): string {
  return run('ip', ['netns', 'exec', ns, command, ...args]);
}

/** Same, returning the exit status instead of throwing. */
export function inNsStatus(ns: string, command: string, ...args: string[]): { status: number; output: string } {
  try {
    return { status: 0, output: execFileSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 }) };
  } catch (error) {
    const e = error as { status?: number; stdout?: unknown };
    return { status: e.status ?? 1, output: String(e.stdout ?? '') };
  }
}

/** Async ping so the engine (on this event loop) keeps running while the kernel waits. */
export function pingFrom(ns: string, target: string, count = 3, waitS = 2): Promise<{ status: number; output: string }> {
  return runAsync('ip', ['netns', 'exec', ns, 'ping', '-n', '-c', String(count), '-i', '0.2', '-W', String(waitS), target]);
}

export function runAsync(command: string, args: readonly string[], timeoutMs = 30000): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status: status ?? 1, output });
    });
  });
}

/**
 * Starts tcpdump in a namespace writing to a pcap file; `stop()` waits until it has flushed.
 * Immediate mode: without it libpcap hands packets over in blocks on a 1 s timeout, and what
 * sits in the ring when tcpdump gets SIGINT is never written (a short run leaves an empty file).
 */
export async function capture(ns: string, ifname: string, file: string, filter: string[] = []): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-n', '-U', '--immediate-mode', '-i', ifname, '-w', file, ...filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    child.stderr!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('close', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

/** Reads the packets of a pcap file as tcpdump prints them (one line each). */
export function readCapture(file: string): string[] {
  return run('tcpdump', ['-n', '-r', file], { allowFail: true }).split('\n').filter((l) => l.trim() !== '');
}

/**
 * Collects cleanup steps (run in reverse, each allowed to fail) so a test removes its
 * namespaces and devices however it ends.
 */
export class Cleanup {
  private readonly steps: (() => void | Promise<void>)[] = [];

  add(step: () => void | Promise<void>): void {
    this.steps.push(step);
  }

  netns(name: string): string {
    run('ip', ['netns', 'del', name], { allowFail: true });
    ip('netns', 'add', name);
    this.add(() => void run('ip', ['netns', 'del', name], { allowFail: true }));
    ip('-n', name, 'link', 'set', 'lo', 'up');
    return name;
  }

  link(name: string): void {
    this.add(() => void run('ip', ['link', 'del', name], { allowFail: true }));
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch {
        // Keep cleaning up.
      }
    }
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes (the engine runs meanwhile). */
export async function until(check: () => boolean, timeoutMs = 5000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
