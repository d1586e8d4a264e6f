// The CLI server: the engine's CLI on a unix socket (VPP's `unix { cli-listen }`), for
// `vecnetctl` and any program that speaks the protocol below. It runs on the engine's own
// event loop: a command runs whole between two dispatch turns, so the data path never
// sees a half-applied change, and each command is one line of CLI work, so a busy client
// does not starve the packets. Many sessions at once; each session's requests are
// answered in order.
//
// The socket is created mode 0600 (0660 and owned by the group when `gid` is given) in a
// directory made on demand. A socket file already there is probed: if an engine answers,
// start-up is refused ("another vecnet is listening there"); if the connection is refused
// the file is stale (left by a crash) and is replaced. On close the file is removed if it
// is still ours.
//
// Protocol: newline-delimited JSON, one object per line each way (UTF-8, at most 1 MiB per
// line). Requests carry a client-chosen `id`, echoed in the response:
//
//   {"id":1,"op":"hello"}                      → {"id":1,"ok":true,"name":"vecnet","version":"0.1.0","prompt":"vecnet# "}
//   {"id":2,"op":"run","line":"show version"}  → {"id":2,"ok":true,"text":"vecnet v0.1.0 …"}
//   {"id":3,"line":"--json show threads"}      → {"id":3,"ok":true,"text":"{…}","json":{…}}   (op defaults to "run")
//   {"id":4,"line":"sh fnord"}                 → {"id":4,"ok":false,"text":"show: unknown input `fnord'","code":"ECLI"}
//   {"id":5,"op":"complete","line":"sh"}       → {"id":5,"ok":true,"completions":["show"]}
//   {"id":6,"op":"help","line":"show"}         → {"id":6,"ok":true,"text":"  show buffers … (the `?` listing)"}
//   {"id":7,"line":"quit"}                     → {"id":7,"ok":true,"text":"","close":true}  and the server ends the session
//
// `text` is what a user sees (no trailing newline): the output, the pretty-printed JSON
// for `--json`, or on failure one line; `json` is the structured answer with `--json`;
// `code` a POSIX-style code on failure (`ECLI` bad input, `ENOENT`, …). A request that is
// not JSON, or a line over the limit, gets `{"id":null,"ok":false,"code":"EPROTO"|"EMSGSIZE",…}`
// and the session is closed.

import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { CliRegistry } from '../vlib/cli.ts';
import { SESSION_END_COMMANDS } from './commands.ts';

/** Longest request line accepted. */
export const MAX_REQUEST_BYTES = 1 << 20;

export class CliListenError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'CliListenError';
    this.code = code;
  }
}

export interface CliServerOptions<C> {
  /** Socket path (`unix { cli-listen }`). */
  readonly path: string;
  /** Group to own the socket (id or name); the socket is then mode 0660. */
  readonly gid?: number | string;
  readonly prompt: string;
  readonly registry: CliRegistry<C>;
  readonly context: C;
  readonly name: string;
  readonly version: string;
  /** Called with each command run and whether it succeeded (the daemon's log). */
  readonly onCommand?: (session: number, line: string, ok: boolean, text: string) => void;
}

interface Request {
  readonly id?: unknown;
  readonly op?: unknown;
  readonly line?: unknown;
}

/** One line for a failure to create the socket, with what to do about the usual ones. */
function listenError(where: string, error: unknown): CliListenError {
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
  const message = (error as Error).message;
  switch (code) {
    case 'EADDRINUSE':
      return new CliListenError(`${where}: another vecnet is listening there`, code);
    case 'EACCES':
    case 'EPERM':
      return new CliListenError(`${where}: permission denied (run as root, or choose a socket you may create: unix { cli-listen /tmp/vecnet-cli.sock })`, code);
    default:
      return new CliListenError(`${where}: ${message}`, code);
  }
}

/** A group id from a number or a name in /etc/group. */
export function resolveGroup(gid: number | string): number {
  if (typeof gid === 'number') return gid;
  let groups = '';
  try {
    groups = readFileSync('/etc/group', 'utf8');
  } catch {
    // No group database: only numeric ids can be used.
  }
  for (const line of groups.split('\n')) {
    const [name, , id] = line.split(':');
    if (name === gid && id !== undefined && /^\d+$/.test(id)) return Number(id);
  }
  throw new CliListenError(`gid ${gid}: no such group`, 'ENOENT');
}

/** What is at a socket path: nothing, a live listener, a stale socket file, or something else. */
export async function probeSocket(path: string): Promise<'free' | 'live' | 'stale' | 'not-socket'> {
  try {
    if (!lstatSync(path).isSocket()) return 'not-socket';
  } catch {
    return 'free';
  }
  return await new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('live');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(error.code === 'ECONNREFUSED' ? 'stale' : error.code === 'ENOENT' ? 'free' : 'live');
    });
  });
}

export class CliServer<C> {
  readonly path: string;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private nextSession = 1;
  private inode = -1;
  private closed = false;

  private constructor(private readonly options: CliServerOptions<C>) {
    this.path = options.path;
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Creates the socket (refusing a live one, replacing a stale one) and starts serving. */
  static async listen<C>(options: CliServerOptions<C>): Promise<CliServer<C>> {
    const where = `cli-listen ${options.path}`;
    const gid = options.gid === undefined ? undefined : resolveGroup(options.gid);
    const state = await probeSocket(options.path);
    if (state === 'live') throw new CliListenError(`${where}: another vecnet is listening there`, 'EADDRINUSE');
    if (state === 'not-socket') throw new CliListenError(`${where}: the path exists and is not a socket`, 'EEXIST');
    try {
      mkdirSync(dirname(options.path), { recursive: true, mode: 0o755 });
      if (state === 'stale') unlinkSync(options.path);
    } catch (error) {
      throw listenError(where, error);
    }
    const server = new CliServer(options);
    // The umask keeps the socket private from the moment it exists; chmod then sets the mode.
    const mask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.server.listen(options.path, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      throw listenError(where, error);
    } finally {
      process.umask(mask);
    }
    try {
      if (gid !== undefined) chownSync(options.path, -1, gid);
      chmodSync(options.path, gid === undefined ? 0o600 : 0o660);
      server.inode = statSync(options.path).ino;
    } catch (error) {
      await server.close();
      throw listenError(where, error);
    }
    return server;
  }

  /** Sessions connected now. */
  get sessions(): number {
    return this.sockets.size;
  }

  /** Stops listening, ends every session and removes the socket file if it is still ours. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      if (this.inode >= 0 && statSync(this.path).ino === this.inode) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }

  private accept(socket: Socket): void {
    const session = this.nextSession++;
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    let buffered = '';
    let queue = Promise.resolve();
    let ending = false;
    const send = (response: object): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
    };
    socket.on('data', (chunk: string) => {
      if (ending) return;
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() === '') continue;
        let request: Request;
        try {
          request = JSON.parse(line) as Request;
          if (typeof request !== 'object' || request === null) throw new Error('not an object');
        } catch {
          ending = true;
          send({ id: null, ok: false, code: 'EPROTO', text: 'bad request: expected one JSON object per line' });
          socket.end();
          return;
        }
        // Requests of one session are answered in order, each after the one before.
        queue = queue.then(async () => {
          // One request per event-loop turn: a client that sends many at once shares the
          // loop with the data path and the other sessions.
          await new Promise((resolve) => setImmediate(resolve));
          if (ending || socket.destroyed) return;
          const response = await this.answer(session, request);
          send(response);
          if (response.close === true) {
            ending = true;
            socket.end();
          }
        });
      }
      if (Buffer.byteLength(buffered) > MAX_REQUEST_BYTES) {
        ending = true;
        send({ id: null, ok: false, code: 'EMSGSIZE', text: `request longer than ${MAX_REQUEST_BYTES} bytes` });
        socket.end();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private async answer(session: number, request: Request): Promise<Record<string, unknown>> {
    const id = request.id ?? null;
    const op = request.op ?? 'run';
    const line = typeof request.line === 'string' ? request.line : '';
    const { registry, context } = this.options;
    switch (op) {
      case 'hello':
        return { id, ok: true, name: this.options.name, version: this.options.version, prompt: this.options.prompt };
      case 'complete':
        return { id, ok: true, completions: registry.complete(line) };
      case 'help':
        return { id, ok: true, text: registry.help(line) };
      case 'run': {
        if (typeof request.line !== 'string') return { id, ok: false, code: 'EPROTO', text: "bad request: 'line' must be a string" };
        const result = await registry.run(context, line);
        this.options.onCommand?.(session, line, result.ok, result.text);
        const response: Record<string, unknown> = { id, ok: result.ok, text: result.text };
        if (result.json !== undefined) response.json = result.json;
        if (result.code !== undefined) response.code = result.code;
        if (result.ok && result.path !== undefined && SESSION_END_COMMANDS.has(result.path)) response.close = true;
        return response;
      }
      default:
        return { id, ok: false, code: 'EPROTO', text: `bad request: unknown op '${String(op)}' (expected hello, run, complete or help)` };
    }
  }
}
