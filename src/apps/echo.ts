// Builtin echo apps (VPP's hs_apps echo_server / echo_client, newer VPP's vperf): apps
// attached to the engine's own session layer, for tests, demos and benchmarks.
//
//   test echo server uri tcp|udp://<ip>/<port> [fifo-size <n>] [appns <id> secret <n>]
//   test echo clients uri tcp|udp://<ip>/<port> [nclients <n>] [bytes <n>] [fifo-size <n>]
//                     [appns <id> secret <n>] [syn-timeout <s>] [test-timeout <s>]
//   vperf server … / vperf client …   (the same commands, newer VPP's spelling)
//
// The server echoes every byte back on the session it came on and closes when the peer
// does. Each client sends `bytes` bytes of a known pseudo-random stream, reads the echo,
// checks every byte against the stream, and closes; the command waits until every client
// is done and prints what VPP prints: bytes moved (both directions), seconds, Gbit/s.
// Over udp:// the server returns each datagram to its sender, and each client sends the
// stream in datagrams of at most 1400 bytes (one per frame at MTU 1500), keeping at most
// half its rx FIFO in flight so that nothing is lost to a full FIFO; a datagram lost on the
// way stalls the client until its test timeout, reported as an error.
// Sizes take k/m/g suffixes (powers of 1024); a bare fifo-size is in KiB, as VPP's.

import { CliError, type CliInput, type CliRegistry } from '../vlib/cli.ts';
import type { Engine } from '../vlib/engine.ts';
import { parseIp4 } from '../wire/address.ts';
import { hostStackOf, SessionError, type App, type HostStack, type Session, type SessionErrorCode } from '../session/host-stack.ts';
import { DATAGRAM_HEADER_LENGTH, DatagramHeader, peekDatagram } from '../session/datagram.ts';

type Registry = CliRegistry<Engine>;

export interface EchoUri {
  protocol: 'tcp' | 'udp';
  address: number;
  port: number;
}

export function parseUri(text: string): EchoUri {
  const m = /^(tcp|udp):\/\/(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,5})$/.exec(text);
  const address = m === null ? null : parseIp4(m[2]);
  const port = m === null ? -1 : Number(m[3]);
  if (m === null || address === null || port < 1 || port > 65535) {
    throw new CliError(`bad uri '${text}' (expected tcp://<a.b.c.d>/<port> or udp://<a.b.c.d>/<port>)`);
  }
  return { protocol: m[1] as 'tcp' | 'udp', address, port };
}

/** `<n>[k|m|g]`; a bare number is multiplied by `bareUnit`. */
function expectSize(input: CliInput, what: string, bareUnit: number): number {
  const word = input.expectWord(what);
  const m = /^(\d+)([kKmMgG]?)[bB]?$/.exec(word);
  if (m === null) throw new CliError(`bad ${what} '${word}' (expected <n>[k|m|g])`);
  const unit = m[2] === '' ? bareUnit : 1024 ** ('kmg'.indexOf(m[2].toLowerCase()) + 1);
  return Number(m[1]) * unit;
}

// ---- the stream clients send: a pseudo-random period, copied in contiguous chunks ----

/** Payload bytes per datagram over udp://. */
export const ECHO_DATAGRAM = 1400;

/** A prime period, so the stream does not repeat at any power-of-two offset. */
const PERIOD = 65521;
const CHUNK = 65536;
const stream = new Uint8Array(PERIOD + CHUNK);
{
  let x = 0x2545f491;
  for (let i = 0; i < PERIOD; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    stream[i] = x & 0xff;
  }
  for (let i = PERIOD; i < stream.length; i++) stream[i] = stream[i - PERIOD];
}

const streamView = Buffer.from(stream.buffer, stream.byteOffset, stream.length);

/** Byte i of the stream the clients send: the period of a seeded xorshift32. */
export function echoStreamByte(i: number): number {
  return stream[i % PERIOD];
}

// ---- server ----

export interface EchoServerOptions {
  uri: string;
  fifoSize?: number;
  namespace?: string;
  secret?: number;
  name?: string;
}

export interface EchoServer {
  readonly app: App;
  readonly listener: Session;
  /** Bytes echoed so far. */
  readonly echoed: () => number;
  stop(): void;
}

export function startEchoServer(vm: Engine, options: EchoServerOptions): EchoServer {
  const host = hostStackOf(vm);
  const uri = parseUri(options.uri);
  const scratch = new Uint8Array(CHUNK);
  const from = new DatagramHeader();
  let echoed = 0;
  /** udp: each datagram back to its sender, while the tx FIFO has room for it. */
  const returnDatagrams = (s: Session): void => {
    const rx = s.rxFifo;
    const tx = s.txFifo;
    if (rx === null || tx === null) return;
    while (peekDatagram(rx, from) && tx.maxEnqueue() >= DATAGRAM_HEADER_LENGTH + from.length) {
      const n = host.receiveFrom(s, scratch, 0, CHUNK, from);
      host.sendTo(s, scratch, 0, n, from.remoteAddress, from.remotePort);
      echoed += n;
    }
  };
  const pump = (s: Session): void => {
    const rx = s.rxFifo;
    const tx = s.txFifo;
    if (rx === null || tx === null) return;
    // FIFO to FIFO in one copy (no scratch array between them).
    const moved = rx.moveTo(tx, 0x7fffffff);
    if (moved > 0) {
      echoed += moved;
      host.send(s);
      host.rxConsumed(s);
    }
  };
  const name = options.name ?? uniqueName(host, 'vperf_srv_builtin');
  const app = host.attach({
    name,
    namespace: options.namespace,
    secret: options.secret,
    rxFifoSize: options.fifoSize,
    txFifoSize: options.fifoSize,
    callbacks: uri.protocol === 'udp' ? { rx: returnDatagrams, txSpace: returnDatagrams } : {
      rx: pump,
      txSpace: pump,
      disconnected: (s) => {
        pump(s);
        host.close(s);
      },
    },
  });
  let listener: Session;
  try {
    listener = host.listen(app, uri.address, uri.port, uri.protocol);
  } catch (error) {
    host.detach(app);
    throw error;
  }
  return { app, listener, echoed: () => echoed, stop: () => host.detach(app) };
}

function uniqueName(host: HostStack, base: string): string {
  const taken = new Set(host.apps.filter((a) => a !== undefined).map((a) => a!.name));
  if (!taken.has(base)) return base;
  for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

// ---- clients ----

export interface EchoClientsOptions {
  uri: string;
  nclients?: number;
  bytes?: number;
  fifoSize?: number;
  namespace?: string;
  secret?: number;
  synTimeoutS?: number;
  testTimeoutS?: number;
}

export interface EchoClientsResult {
  clients: number;
  /** Bytes sent plus bytes received, all clients. */
  totalBytes: number;
  seconds: number;
  gbitPerSecond: number;
  /** Clients that finished with every byte echoed and checked. */
  finished: number;
  /** One line per failed client. */
  errors: string[];
}

interface ClientState {
  session: Session | null;
  sent: number;
  received: number;
  connected: boolean;
  done: boolean;
  /** The server closed its side (after echoing everything). */
  peerClosed: boolean;
  /** Counted as finished (done and closed by the peer, failed, or gone). */
  closed: boolean;
  error: string | null;
}

export function runEchoClients(vm: Engine, options: EchoClientsOptions): Promise<EchoClientsResult> {
  const host = hostStackOf(vm);
  const uri = parseUri(options.uri);
  const udp = uri.protocol === 'udp';
  const nclients = options.nclients ?? 1;
  const bytes = options.bytes ?? 8192;
  if (!(Number.isInteger(nclients) && nclients >= 1 && nclients <= 100000)) throw new SessionError('EINVAL', `bad nclients ${nclients}`);
  if (!(Number.isInteger(bytes) && bytes >= 0)) throw new SessionError('EINVAL', `bad bytes ${bytes}`);
  const clients: ClientState[] = [];
  const scratch = new Uint8Array(CHUNK);
  const scratchView = Buffer.from(scratch.buffer, scratch.byteOffset, scratch.length);
  const from = new DatagramHeader();
  let startMs = 0;
  let remaining = nclients;
  let settle: (() => void) | null = null;

  const finish = (c: ClientState): void => {
    if (c.closed) return;
    c.closed = true;
    remaining--;
    if (remaining === 0 && settle !== null) settle();
  };
  const fail = (c: ClientState, why: string): void => {
    if (c.error === null && !c.done) c.error = why;
  };
  /** udp: datagrams while less than half the rx FIFO is in flight. */
  const fillDatagrams = (s: Session): void => {
    const c = clients[s.appData];
    // The server's one listener FIFO takes every client's datagrams: share half of it (its size taken as ours).
    const window = s.rxFifo === null ? 0 : Math.max(ECHO_DATAGRAM, Math.floor(s.rxFifo.size / 2 / nclients));
    while (c.sent < bytes && c.sent - c.received < window) {
      const n = Math.min(ECHO_DATAGRAM, bytes - c.sent);
      if (!host.sendTo(s, stream, c.sent % PERIOD, n)) break;
      c.sent += n;
    }
  };
  const fill = (s: Session): void => {
    const c = clients[s.appData];
    const tx = s.txFifo;
    if (tx === null || c.done) return;
    if (udp) {
      fillDatagrams(s);
      return;
    }
    let wrote = 0;
    while (c.sent < bytes) {
      let n = bytes - c.sent;
      if (n > CHUNK) n = CHUNK;
      const took = tx.enqueue(stream, c.sent % PERIOD, n);
      if (took === 0) break;
      c.sent += took;
      wrote += took;
    }
    if (wrote > 0) host.send(s);
  };
  const drain = (s: Session): void => {
    const c = clients[s.appData];
    const rx = s.rxFifo;
    if (rx === null) return;
    let read = 0;
    for (;;) {
      const n = udp ? host.receiveFrom(s, scratch, 0, CHUNK, from) : rx.dequeue(scratch, 0, CHUNK);
      if (n <= 0) break;
      const at = c.received % PERIOD;
      // Buffer#compare is a native memcmp: the byte loop only runs to name a difference.
      if (c.error === null && scratchView.compare(streamView, at, at + n, 0, n) !== 0) {
        for (let i = 0; i < n; i++) {
          if (scratch[i] !== stream[at + i]) {
            fail(c, `client ${s.appData}: byte ${c.received + i} differs (got ${scratch[i]}, expected ${stream[at + i]})`);
            break;
          }
        }
      }
      c.received += n;
      read += n;
    }
    if (read > 0) {
      if (udp) fill(s);
      else host.rxConsumed(s);
    }
    if (c.received > bytes) fail(c, `client ${s.appData}: ${c.received} bytes echoed, ${bytes} sent`);
    if (c.received >= bytes && !c.done && c.error === null) {
      c.done = true;
      host.close(s);
    }
  };

  const app = host.attach({
    name: uniqueName(host, 'vperf_cln_builtin'),
    namespace: options.namespace,
    secret: options.secret,
    rxFifoSize: options.fifoSize,
    txFifoSize: options.fifoSize,
    callbacks: {
      connected: (s, error) => {
        const c = clients[s.appData];
        if (error !== null) {
          fail(c, `client ${s.appData}: connect failed: ${error}`);
          return;
        }
        c.connected = true;
        c.session = s;
        if (bytes === 0) {
          c.done = true;
          host.close(s);
          return;
        }
        fill(s);
      },
      txSpace: fill,
      rx: drain,
      disconnected: (s) => {
        const closedFirst = clients[s.appData].done;
        drain(s);
        const c = clients[s.appData];
        c.peerClosed = true;
        if (!c.done) fail(c, `client ${s.appData}: peer closed after ${c.received} of ${bytes} bytes`);
        host.close(s);
        // We closed first: what is left is TIME-WAIT, which the test need not wait for. The
        // peer closed first: LAST-ACK, and `cleanup` finishes the client once our FIN is acked.
        if (closedFirst) finish(c);
      },
      reset: (s, code: SessionErrorCode) => fail(clients[s.appData], `client ${s.appData}: ${code}`),
      cleanup: (s) => finish(clients[s.appData]),
    },
  });

  const started = !vm.isRunning;
  if (started) vm.start();
  return new Promise<EchoClientsResult>((resolve) => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    settle = () => {
      for (const t of timers) clearTimeout(t);
      const seconds = (vm.nowMs() - startMs) / 1000;
      let total = 0;
      let finished = 0;
      const errors: string[] = [];
      for (const c of clients) {
        total += c.sent + c.received;
        if (c.done && c.error === null) finished++;
        else errors.push(c.error ?? 'did not finish');
      }
      // Detach after the callbacks that led here have returned.
      setImmediate(() => {
        host.detach(app);
        if (started) vm.stop();
        resolve({ clients: nclients, totalBytes: total, seconds, gbitPerSecond: seconds > 0 ? (total * 8) / seconds / 1e9 : 0, finished, errors });
      });
    };
    startMs = vm.nowMs();
    for (let i = 0; i < nclients; i++) {
      const c: ClientState = { session: null, sent: 0, received: 0, connected: false, done: false, peerClosed: false, closed: false, error: null };
      clients.push(c);
      try {
        c.session = host.connect(app, uri.address, uri.port, i, uri.protocol);
      } catch (error) {
        c.error = `client ${i}: ${error instanceof Error ? error.message : String(error)}`;
        finish(c);
      }
    }
    const abortAll = (why: (c: ClientState, i: number) => string | null): void => {
      clients.forEach((c, i) => {
        if (c.closed) return;
        const reason = why(c, i);
        if (reason === null) return;
        fail(c, reason);
        if (c.session !== null && c.session.connection !== null) host.abort(c.session);
        else finish(c);
      });
    };
    const synTimeout = options.synTimeoutS ?? 20;
    timers.push(setTimeout(() => abortAll((c, i) => (c.connected ? null : `client ${i}: syn timeout after ${synTimeout} s`)), synTimeout * 1000));
    const testTimeout = options.testTimeoutS ?? 60;
    timers.push(setTimeout(() => abortAll((c, i) => `client ${i}: test timeout after ${testTimeout} s (${c.received} of ${bytes} bytes)`), testTimeout * 1000));
    vm.wake();
  });
}

/** VPP's echo_client report lines. */
export function formatEchoResult(r: EchoClientsResult): string {
  const lines = [
    `Finished ${r.finished} of ${r.clients} connections`,
    `${r.totalBytes} bytes (${Math.floor(r.totalBytes / 1e6)} mbytes, ${Math.floor(r.totalBytes / 1e9)} gbytes) in ${r.seconds.toFixed(2)} seconds`,
    `${(r.totalBytes / Math.max(r.seconds, 1e-9)).toFixed(2)} bytes/second full-duplex`,
    `${r.gbitPerSecond.toFixed(4)} gbit/second full-duplex`,
  ];
  for (const e of r.errors.slice(0, 10)) lines.push(`error: ${e}`);
  if (r.errors.length > 10) lines.push(`… and ${r.errors.length - 10} more errors`);
  return lines.join('\n');
}

function parseCommon(input: CliInput, o: { uri?: string; fifoSize?: number; namespace?: string; secret?: number }): boolean {
  if (input.keyword('uri')) o.uri = input.expectWord('uri');
  else if (input.keyword('fifo-size')) o.fifoSize = expectSize(input, 'fifo-size', 1024);
  else if (input.keyword('appns')) o.namespace = input.expectWord('appns');
  else if (input.keyword('secret')) o.secret = input.expectNumber('secret', { min: 0, max: Number.MAX_SAFE_INTEGER });
  else return false;
  return true;
}

function serverCommand(path: string): Parameters<Registry['register']>[0] {
  return {
    path,
    short: 'Start the builtin echo server',
    usage: `${path} uri tcp|udp://<ip>/<port> [fifo-size <n>] [appns <id> secret <n>]`,
    action(vm, input, out) {
      const o: EchoServerOptions & { uri?: string } = { uri: '' };
      while (!input.atEnd()) if (!parseCommon(input, o)) input.fail();
      if (o.uri === '') throw new CliError(`missing uri (expected: ${path} uri tcp|udp://<ip>/<port>)`);
      const server = startEchoServer(vm, o);
      out.json({ app: server.app.index, name: server.app.name });
    },
  };
}

function clientsCommand(path: string): Parameters<Registry['register']>[0] {
  return {
    path,
    short: 'Run the builtin echo clients and report throughput',
    usage: `${path} uri tcp|udp://<ip>/<port> [nclients <n>] [bytes <n>] [fifo-size <n>] [appns <id> secret <n>] [syn-timeout <s>] [test-timeout <s>]`,
    json: true,
    async action(vm, input, out) {
      const o: EchoClientsOptions = { uri: '' };
      while (!input.atEnd()) {
        if (parseCommon(input, o)) continue;
        if (input.keyword('nclients')) o.nclients = input.expectNumber('nclients', { min: 1, max: 100000 });
        else if (input.keyword('bytes')) o.bytes = expectSize(input, 'bytes', 1);
        else if (input.keyword('syn-timeout')) o.synTimeoutS = input.expectNumber('syn-timeout', { min: 0, max: 3600 });
        else if (input.keyword('test-timeout')) o.testTimeoutS = input.expectNumber('test-timeout', { min: 0, max: 86400 });
        else input.fail();
      }
      if (o.uri === '') throw new CliError(`missing uri (expected: ${path} uri tcp|udp://<ip>/<port>)`);
      const result = await runEchoClients(vm, o);
      out.print(formatEchoResult(result));
      out.json(result);
      if (result.errors.length > 0 && result.finished === 0) {
        const first = result.errors[0];
        const code = /ECONNREFUSED|ECONNRESET|ETIMEDOUT/.exec(first)?.[0];
        if (code !== undefined) throw new CliError(`${formatEchoResult(result).replace(/\n/g, '; ')}`, code);
      }
    },
  };
}

export function registerEchoCommands(cli: Registry): void {
  cli.register(serverCommand('test echo server'));
  cli.register(clientsCommand('test echo clients'));
  cli.register(serverCommand('vperf server'));
  cli.register(clientsCommand('vperf client'));
}
