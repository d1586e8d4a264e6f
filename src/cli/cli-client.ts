// The client side of the CLI socket protocol (described in cli-server.ts): one connection,
// requests with ids, responses matched to them. `vecnetctl` is built on it; so can be any
// program that wants to drive a running engine.

import { createConnection, type Socket } from 'node:net';

export interface CliResponse {
  readonly id: number | null;
  readonly ok: boolean;
  readonly text?: string;
  readonly json?: unknown;
  readonly code?: string;
  readonly close?: boolean;
  readonly completions?: string[];
  readonly prompt?: string;
  readonly name?: string;
  readonly version?: string;
}

export class CliConnectError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'CliConnectError';
    this.code = code;
  }
}

/** What a failed connect means to a user. */
function explain(path: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return `cannot connect to ${path}: no such socket (is vecnet running?)`;
    case 'ECONNREFUSED':
      return `cannot connect to ${path}: connection refused (vecnet is not running; the socket file is stale)`;
    case 'EACCES':
    case 'EPERM':
      return `cannot connect to ${path}: permission denied (run as root or as a member of the socket's group)`;
    case 'ENOTSOCK':
      return `cannot connect to ${path}: not a socket`;
    default:
      return `cannot connect to ${path}: ${error.message}`;
  }
}

export class CliClient {
  private buffered = '';
  private nextId = 1;
  private readonly waiting = new Map<number, (response: CliResponse) => void>();
  private ended = false;
  /** Called once when the engine closes the connection. */
  onClose: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.closed());
  }

  static connect(path: string): Promise<CliClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new CliClient(socket));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => reject(new CliConnectError(explain(path, error), error.code ?? 'EIO')));
    });
  }

  /** True once the connection is gone. */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Sends one request; resolves with its response (an `ECONNRESET` failure if the engine went away). */
  request(op: 'hello' | 'run' | 'complete' | 'help', line = ''): Promise<CliResponse> {
    const id = this.nextId++;
    if (this.ended) return Promise.resolve({ id, ok: false, code: 'ECONNRESET', text: 'connection to vecnet closed' });
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.write(`${JSON.stringify({ id, op, line })}\n`);
    });
  }

  run(line: string): Promise<CliResponse> {
    return this.request('run', line);
  }

  close(): void {
    this.socket.end();
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      let response: CliResponse;
      try {
        response = JSON.parse(line) as CliResponse;
      } catch {
        continue;
      }
      if (typeof response.id === 'number') {
        const resolve = this.waiting.get(response.id);
        this.waiting.delete(response.id);
        resolve?.(response);
      } else {
        // A protocol error about the session as a whole: fail every pending request with it.
        for (const resolve of this.waiting.values()) resolve(response);
        this.waiting.clear();
      }
    }
  }

  private closed(): void {
    if (this.ended) return;
    this.ended = true;
    for (const [id, resolve] of this.waiting) resolve({ id, ok: false, code: 'ECONNRESET', text: 'connection to vecnet closed' });
    this.waiting.clear();
    this.onClose?.();
  }
}
