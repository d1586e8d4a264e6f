// The TCP tests' world: two hosts, each a TcpStack with its own timer wheel, joined by an
// in-memory wire driven by one virtual clock. The wire can hold segments (for fixtures that
// stop a handshake or a close half-way), deliver them one by one, or run as a discrete-event
// network with delay, bandwidth, and seeded drop / reorder / duplicate. Each host does what
// tcp4-input will do: verify the checksum, look the 4-tuple up (then the listener), call
// `input`. Apps are small models that write a known stream and check what they read.
// Also here: the per-state fixtures and the invariants every live connection must satisfy.

import assert from 'node:assert/strict';
import { TimerWheel } from '../../src/vlib/timer-wheel.ts';
import { Fifo } from '../../src/svm/fifo.ts';
import { TcpConnection, TcpState, TcpTimer, TCP_TIMER_COUNT, type TcpErrorCode } from '../../src/tcp/connection.ts';
import { TcpStack, type TcpConfig, type TcpEvents, type TcpSegmentSink } from '../../src/tcp/stack.ts';
import {
  emitTcpHeader, fillTcp4Checksum, newTcpOptions, parseTcpHeader, tcp4ChecksumIsValid, tcpDstPort, tcpSrcPort, type TcpHeader,
  type TcpOptions,
} from '../../src/wire/tcp.ts';
import { seqLeq, seqLt, seqSub } from '../../src/tcp/seq.ts';

export const ADDRESS_A = 0x0a000001;
export const ADDRESS_B = 0x0a000002;

/** xorshift32: small, seedable, good enough for impairments and fuzz choices. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A known byte stream: byte i of stream `seed`. */
export function streamBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export interface Segment {
  at: number;
  order: number;
  to: Host;
  bytes: Uint8Array;
  src: number;
  dst: number;
}

export interface Impairments {
  drop?: number;
  reorder?: number;
  duplicate?: number;
  /** One-way delay, ms. */
  delayMs?: number;
  /** Link rate, bit/s (0: infinite). */
  rateBps?: number;
  seed?: number;
}

/** What an app saw on one connection. */
export class AppState {
  received: Uint8Array[] = [];
  receivedBytes = 0;
  events: string[] = [];
  error: TcpErrorCode | null = null;
  peerClosed = false;
  closed = false;
  /** Bytes to send and how far we got. */
  toSend: Uint8Array = new Uint8Array(0);
  sent = 0;
  /** Shutdown once everything is written. */
  shutdownWhenSent = false;
  closeWhenSent = false;
  /** Stop reading (let the rx FIFO fill). */
  paused = false;
  /** Expected incoming stream: checked as it arrives. */
  expect: Uint8Array | null = null;
  mismatchAt = -1;

  text(): Uint8Array {
    const out = new Uint8Array(this.receivedBytes);
    let at = 0;
    for (const chunk of this.received) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

export class Host {
  readonly name: string;
  readonly address: number;
  readonly net: Net;
  readonly wheel: TimerWheel;
  readonly stack: TcpStack;
  readonly apps = new Map<TcpConnection, AppState>();
  /** Connections by "localPort remoteAddress remotePort". */
  readonly table = new Map<string, TcpConnection>();
  readonly listeners = new Map<number, TcpConnection>();
  fifoSize: number;
  badChecksums = 0;
  /** Events in order, as "event:index". */
  log: string[] = [];
  readonly accepted: TcpConnection[] = [];
  private readonly scratch = new Uint8Array(70000);
  /** Segments leaving this host, parsed (when capture is on). */
  captured: TcpHeader[] = [];
  capture = false;
  readBuffer = new Uint8Array(1 << 20);

  constructor(net: Net, name: string, address: number, config: TcpConfig, fifoSize: number) {
    this.net = net;
    this.name = name;
    this.address = address;
    this.fifoSize = fifoSize;
    this.wheel = new TimerWheel({ tickMs: 1, now: net.now });
    const host = this;
    const sink: TcpSegmentSink = {
      bytes: this.scratch,
      // An odd offset, as a real buffer's headroom would leave it.
      reserve: (room) => (room + 37 <= host.scratch.length ? 37 : -1),
      send: (length, _connection, localAddress, remoteAddress) => {
        fillTcp4Checksum(host.scratch, 37, length, localAddress, remoteAddress);
        const bytes = host.scratch.slice(37, 37 + length);
        if (host.capture) host.captured.push(parseTcpHeader(bytes, 0, bytes.length)!);
        net.transmit(host, bytes, localAddress, remoteAddress);
      },
    };
    const events: TcpEvents = {
      incoming: (listener, child) => {
        child.rxFifo = Fifo.create(host.fifoSize);
        child.txFifo = Fifo.create(host.fifoSize);
        host.table.set(key(child.localPort, child.remoteAddress, child.remotePort), child);
        const parent = host.apps.get(listener);
        const app = new AppState();
        if (parent !== undefined) {
          app.toSend = parent.toSend;
          app.shutdownWhenSent = parent.shutdownWhenSent;
          app.closeWhenSent = parent.closeWhenSent;
          app.expect = parent.expect;
          app.paused = parent.paused;
        }
        host.apps.set(child, app);
        host.log.push(`incoming:${child.index}`);
        return true;
      },
      accepted: (_listener, c) => {
        host.accepted.push(c);
        this.note(c, 'accepted');
        host.pump(c);
      },
      connected: (c) => {
        this.note(c, 'connected');
        host.pump(c);
      },
      connectFailed: (c, code) => {
        this.note(c, `connect-failed ${code}`);
        this.app(c).error = code;
      },
      received: (c) => {
        this.note(c, 'received', false);
        host.drain(c);
      },
      sendSpace: (c) => {
        host.pump(c);
      },
      peerClosed: (c) => {
        this.note(c, 'peer-closed');
        this.app(c).peerClosed = true;
      },
      reset: (c, code) => {
        this.note(c, `reset ${code}`);
        this.app(c).error = code;
      },
      closed: (c) => {
        this.note(c, 'closed');
        this.app(c).closed = true;
        const k = key(c.localPort, c.remoteAddress, c.remotePort);
        if (host.table.get(k) === c) host.table.delete(k);
        if (host.listeners.get(c.localPort) === c) host.listeners.delete(c.localPort);
        // Keep the app record under a copy: the connection object is reused.
        const app = host.apps.get(c);
        host.apps.delete(c);
        if (app !== undefined) host.finished.push({ index: c.index, app });
      },
    };
    this.stack = new TcpStack({
      timers: this.wheel,
      sink,
      events,
      clock: () => net.now,
      config: { isnSecret: new Uint8Array(16).fill(address & 0xff), ...config },
    });
  }

  /** Apps of connections that have closed, in order. */
  readonly finished: { index: number; app: AppState }[] = [];

  app(c: TcpConnection): AppState {
    let a = this.apps.get(c);
    if (a === undefined) {
      a = new AppState();
      this.apps.set(c, a);
    }
    return a;
  }

  private note(c: TcpConnection, event: string, log = true): void {
    this.app(c).events.push(event);
    if (log) this.log.push(`${event}:${c.index}`);
  }

  listen(port: number, app?: Partial<AppState>, config: { keepalive?: boolean } = {}): TcpConnection {
    const l = this.stack.listen({ localAddress: this.address, localPort: port, ...config });
    this.listeners.set(port, l);
    Object.assign(this.app(l), app ?? {});
    return l;
  }

  connect(peer: Host, remotePort: number, localPort: number, app?: Partial<AppState>, config: { keepalive?: boolean; congestionControl?: 'newreno' | 'cubic' } = {}): TcpConnection {
    const rxFifo = Fifo.create(this.fifoSize);
    const txFifo = Fifo.create(this.fifoSize);
    // Registered before the SYN goes, as the session layer would.
    const c = this.stack.connect({
      localAddress: this.address, localPort, remoteAddress: peer.address, remotePort, rxFifo, txFifo, ...config,
    });
    this.table.set(key(localPort, peer.address, remotePort), c);
    Object.assign(this.app(c), app ?? {});
    return c;
  }

  /** Writes what fits of the app's stream, then tells TCP. */
  pump(c: TcpConnection): void {
    const app = this.app(c);
    const fifo = c.txFifo;
    if (fifo === null || c.state === TcpState.FREE) return;
    if (app.sent < app.toSend.length) {
      const n = fifo.enqueue(app.toSend, app.sent, app.toSend.length - app.sent);
      app.sent += n;
      if (n > 0) this.stack.send(c);
    }
    if (app.sent === app.toSend.length && (c.state as TcpState) !== TcpState.FREE) {
      if (app.closeWhenSent) {
        app.closeWhenSent = false;
        app.shutdownWhenSent = false;
        this.stack.close(c);
      } else if (app.shutdownWhenSent) {
        app.shutdownWhenSent = false;
        this.stack.shutdown(c);
      }
    }
  }

  /** Reads everything available (unless paused), checks it, tells TCP. */
  drain(c: TcpConnection): void {
    const app = this.app(c);
    const fifo = c.rxFifo;
    if (app.paused || fifo === null) return;
    let total = 0;
    for (;;) {
      const n = fifo.dequeue(this.readBuffer, 0, this.readBuffer.length);
      if (n === 0) break;
      const chunk = this.readBuffer.slice(0, n);
      if (app.expect !== null && app.mismatchAt < 0) {
        const expected = app.expect.subarray(app.receivedBytes, app.receivedBytes + n);
        if (expected.length !== n || !Buffer.from(chunk).equals(Buffer.from(expected))) {
          app.mismatchAt = app.receivedBytes;
        }
      }
      if (app.expect === null) app.received.push(chunk);
      app.receivedBytes += n;
      total += n;
    }
    if (total > 0) this.stack.received(c);
  }

  resume(c: TcpConnection): void {
    this.app(c).paused = false;
    this.drain(c);
  }

  /** Delivers one segment as tcp4-input would. */
  deliver(bytes: Uint8Array, src: number, dst: number): void {
    if (!tcp4ChecksumIsValid(bytes, 0, bytes.length, src, dst)) {
      this.badChecksums++;
      return;
    }
    const localPort = bytes.length >= 4 ? tcpDstPort(bytes, 0) : 0;
    const remotePort = bytes.length >= 4 ? tcpSrcPort(bytes, 0) : 0;
    const c = this.table.get(key(localPort, src, remotePort)) ?? this.listeners.get(localPort) ?? null;
    this.stack.input(c, bytes, 0, bytes.length, src, dst);
  }

  advanceTimers(now: number): void {
    this.wheel.advance(now, (handle) => this.stack.timerExpired(handle));
  }
}

function key(localPort: number, remoteAddress: number, remotePort: number): string {
  return `${localPort} ${remoteAddress} ${remotePort}`;
}

export interface NetOptions {
  configA?: TcpConfig;
  configB?: TcpConfig;
  config?: TcpConfig;
  fifoSize?: number;
  impairments?: Impairments;
}

export class Net {
  now = 0;
  readonly a: Host;
  readonly b: Host;
  /** Held segments when `hold` is on; else the event queue (a binary heap on (at, order)). */
  private queue: Segment[] = [];
  private order = 0;
  hold = false;
  impairments: Required<Impairments>;
  private random: Random;
  private linkFreeAt = new Map<Host, number>();
  /** Called for each segment put on the wire; return false to drop it. */
  filter: ((segment: Segment) => boolean) | null = null;
  segmentsCarried = 0;
  segmentsDropped = 0;
  segmentsDuplicated = 0;
  segmentsReordered = 0;

  constructor(options: NetOptions = {}) {
    this.impairments = { drop: 0, reorder: 0, duplicate: 0, delayMs: 1, rateBps: 0, seed: 1, ...options.impairments };
    this.random = new Random(this.impairments.seed);
    const fifoSize = options.fifoSize ?? 65536;
    this.a = new Host(this, 'A', ADDRESS_A, { ...options.config, ...options.configA }, fifoSize);
    this.b = new Host(this, 'B', ADDRESS_B, { ...options.config, ...options.configB }, fifoSize);
  }

  setImpairments(impairments: Impairments): void {
    this.impairments = { ...this.impairments, ...impairments };
    if (impairments.seed !== undefined) this.random = new Random(impairments.seed);
  }

  peerOf(host: Host): Host {
    return host === this.a ? this.b : this.a;
  }

  transmit(from: Host, bytes: Uint8Array, src: number, dst: number): void {
    const to = this.peerOf(from);
    const segment: Segment = { at: 0, order: this.order++, to, bytes, src, dst };
    if (this.filter !== null && !this.filter(segment)) {
      this.segmentsDropped++;
      return;
    }
    const imp = this.impairments;
    if (this.hold) {
      segment.at = this.now;
      this.queue.push(segment);
      return;
    }
    if (imp.drop > 0 && this.random.next() < imp.drop) {
      this.segmentsDropped++;
      return;
    }
    let departure = this.now;
    if (imp.rateBps > 0) {
      const free = this.linkFreeAt.get(from) ?? 0;
      if (free > departure) departure = free;
      departure += ((bytes.length + 40) * 8 * 1000) / imp.rateBps;
      this.linkFreeAt.set(from, departure);
    }
    segment.at = departure + imp.delayMs;
    if (imp.reorder > 0 && this.random.next() < imp.reorder) {
      this.segmentsReordered++;
      segment.at += 0.2 + this.random.next() * 3 * imp.delayMs;
    }
    this.push(segment);
    if (imp.duplicate > 0 && this.random.next() < imp.duplicate) {
      this.segmentsDuplicated++;
      this.push({ ...segment, order: this.order++, at: segment.at + this.random.next() * imp.delayMs });
    }
  }

  /** Held segments (with `hold` on), in send order. */
  get pending(): readonly Segment[] {
    return this.queue;
  }

  /** Delivers held segments (all, or those `pick` chooses) in send order. */
  deliverHeld(pick: (s: Segment) => boolean = () => true): number {
    const chosen = this.queue.filter(pick);
    this.queue = this.queue.filter((s) => !pick(s));
    for (const s of chosen) {
      this.segmentsCarried++;
      s.to.deliver(s.bytes, s.src, s.dst);
    }
    return chosen.length;
  }

  /** With `hold` on: delivers until nothing is left in flight (no timers run). */
  settle(limit = 10000): void {
    for (let i = 0; i < limit && this.queue.length > 0; i++) this.deliverHeld();
  }

  dropHeld(pick: (s: Segment) => boolean = () => true): number {
    const before = this.queue.length;
    this.queue = this.queue.filter((s) => !pick(s));
    return before - this.queue.length;
  }

  /** Moves the clock to `t`, firing due timers (segments stay held). */
  advanceTo(t: number): void {
    if (t > this.now) this.now = t;
    this.a.advanceTimers(this.now);
    this.b.advanceTimers(this.now);
  }

  /**
   * Runs the network (not in hold mode) until `done()` or nothing is left to happen or the
   * clock passes `limitMs`. Returns whether `done()` held.
   */
  run(done: () => boolean, limitMs = 600_000): boolean {
    while (!done()) {
      const next = Math.min(this.queue.length > 0 ? this.queue[0].at : Infinity, this.a.wheel.nextExpiryMs(), this.b.wheel.nextExpiryMs());
      if (next === Infinity || next > limitMs) return done();
      if (next > this.now) this.now = next;
      while (this.queue.length > 0 && this.queue[0].at <= this.now) {
        const s = this.pop();
        this.segmentsCarried++;
        s.to.deliver(s.bytes, s.src, s.dst);
      }
      this.a.advanceTimers(this.now);
      this.b.advanceTimers(this.now);
    }
    return true;
  }

  private push(s: Segment): void {
    const q = this.queue;
    q.push(s);
    let i = q.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(q[i], q[parent])) break;
      [q[i], q[parent]] = [q[parent], q[i]];
      i = parent;
    }
  }

  private pop(): Segment {
    const q = this.queue;
    const top = q[0];
    const last = q.pop()!;
    if (q.length > 0) {
      q[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < q.length && before(q[l], q[m])) m = l;
        if (r < q.length && before(q[r], q[m])) m = r;
        if (m === i) break;
        [q[i], q[m]] = [q[m], q[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Segment, y: Segment): boolean {
  return x.at < y.at || (x.at === y.at && x.order < y.order);
}

// ---------------------------------------------------------------- fixtures

export const PORT_A = 40000;
export const PORT_B = 80;

/** A listening on nothing, B listening on PORT_B; the wire holds segments. */
export function heldNet(options: NetOptions = {}): Net {
  const net = new Net(options);
  net.hold = true;
  return net;
}

export interface Pair {
  net: Net;
  /** A's connection (the active opener). */
  client: TcpConnection;
  /** B's connection (accepted), when there is one. */
  server: TcpConnection | null;
  listener: TcpConnection;
}

/** Drives a held net to a pair of connections in the named states. */
export function pairIn(state: string, options: NetOptions = {}): Pair {
  const net = heldNet(options);
  const listener = net.b.listen(PORT_B);
  const client = net.a.connect(net.b, PORT_B, PORT_A);
  const server = (): TcpConnection => net.b.accepted[net.b.accepted.length - 1] ?? [...net.b.table.values()][0];
  switch (state) {
    case 'SYN_SENT':
      // The SYN is held, not delivered.
      return { net, client, server: null, listener };
    case 'SYN_RECEIVED': {
      net.deliverHeld(); // SYN → B
      net.dropHeld(); // the SYN-ACK is lost
      return { net, client, server: server(), listener };
    }
  }
  net.settle();
  const s = server();
  assert.equal(client.state, TcpState.ESTABLISHED);
  assert.equal(s.state, TcpState.ESTABLISHED);
  switch (state) {
    case 'ESTABLISHED':
      break;
    case 'FIN_WAIT_1':
      net.a.stack.shutdown(client); // FIN held
      break;
    case 'FIN_WAIT_2':
    case 'CLOSE_WAIT':
      net.a.stack.shutdown(client);
      net.settle();
      break;
    case 'CLOSING':
      net.a.stack.shutdown(client);
      net.b.stack.shutdown(s);
      // Both FINs cross; their ACKs are held.
      net.deliverHeld((seg) => (seg.bytes[13] & 0x01) !== 0);
      break;
    case 'LAST_ACK':
      net.a.stack.shutdown(client);
      net.settle();
      net.b.stack.shutdown(s); // B's FIN held
      break;
    case 'TIME_WAIT':
      net.a.stack.shutdown(client);
      net.settle();
      net.b.stack.shutdown(s);
      net.settle();
      break;
    default:
      throw new Error(`no fixture for ${state}`);
  }
  return { net, client, server: s, listener };
}

/** For each RFC state, the fixture and which connection of the pair is in it. */
export const STATE_FIXTURES: { state: keyof typeof TcpState; make: (o?: NetOptions) => { net: Net; host: Host; connection: TcpConnection } }[] = [
  { state: 'LISTEN', make: (o) => { const p = pairIn('SYN_SENT', o); return { net: p.net, host: p.net.b, connection: p.listener }; } },
  { state: 'SYN_SENT', make: (o) => { const p = pairIn('SYN_SENT', o); return { net: p.net, host: p.net.a, connection: p.client }; } },
  { state: 'SYN_RECEIVED', make: (o) => { const p = pairIn('SYN_RECEIVED', o); return { net: p.net, host: p.net.b, connection: p.server! }; } },
  { state: 'ESTABLISHED', make: (o) => { const p = pairIn('ESTABLISHED', o); return { net: p.net, host: p.net.a, connection: p.client }; } },
  { state: 'FIN_WAIT_1', make: (o) => { const p = pairIn('FIN_WAIT_1', o); return { net: p.net, host: p.net.a, connection: p.client }; } },
  { state: 'FIN_WAIT_2', make: (o) => { const p = pairIn('FIN_WAIT_2', o); return { net: p.net, host: p.net.a, connection: p.client }; } },
  { state: 'CLOSE_WAIT', make: (o) => { const p = pairIn('CLOSE_WAIT', o); return { net: p.net, host: p.net.b, connection: p.server! }; } },
  { state: 'CLOSING', make: (o) => { const p = pairIn('CLOSING', o); return { net: p.net, host: p.net.a, connection: p.client }; } },
  { state: 'LAST_ACK', make: (o) => { const p = pairIn('LAST_ACK', o); return { net: p.net, host: p.net.b, connection: p.server! }; } },
  { state: 'TIME_WAIT', make: (o) => { const p = pairIn('TIME_WAIT', o); return { net: p.net, host: p.net.a, connection: p.client }; } },
];

// ---------------------------------------------------------------- invariants

/** Everything a live connection promises; throws (assert) on the first broken promise. */
export function checkConnection(stack: TcpStack, c: TcpConnection): void {
  const s = c.state;
  assert.ok(s >= TcpState.CLOSED && s <= TcpState.TIME_WAIT, `state ${s}`);
  assert.notEqual(s, TcpState.CLOSED, 'a live connection is never left CLOSED');
  for (let k = 0; k < TCP_TIMER_COUNT; k++) assert.ok(c.timers[k] >= 0);
  if (s === TcpState.LISTEN) {
    assert.ok(c.synBacklog >= 0 && c.synBacklog <= stack.config.synBacklog, `backlog ${c.synBacklog}`);
    return;
  }
  assert.ok(c.rxFifo !== null && c.txFifo !== null, 'fifos');
  assert.ok(seqLeq(c.sndUna, c.sndNxt), `SND.UNA ${c.sndUna} ≤ SND.NXT ${c.sndNxt}`);
  assert.ok(seqLeq(c.sndNxt, c.sndMax), `SND.NXT ${c.sndNxt} ≤ SND.MAX ${c.sndMax}`);
  assert.ok(c.rto > 0 && c.rto <= stack.config.rtoMaxMs, `rto ${c.rto}`);
  if (s === TcpState.SYN_SENT) return;
  const flight = seqSub(c.sndMax, c.sndUna);
  const controlBits = (s === TcpState.SYN_RECEIVED ? 1 : 0) + (c.finSent ? 1 : 0);
  assert.ok(flight <= c.txFifo!.maxDequeue() + controlBits, `flight ${flight} within tx fifo ${c.txFifo!.maxDequeue()} + ${controlBits}`);
  assert.ok(seqLeq(c.rcvNxt, c.rcvAdvertisedEdge) || seqSub(c.rcvNxt, c.rcvAdvertisedEdge) <= 1, 'RCV.NXT within the advertised edge');
  assert.ok(c.sndWnd >= 0 && c.sndWnd < 2 ** 30, `SND.WND ${c.sndWnd}`);
  assert.ok(c.smss > 0 && c.smss <= c.sndMss, `smss ${c.smss}`);
  if (s !== TcpState.SYN_RECEIVED) {
    assert.ok(c.cwnd >= c.smss, `cwnd ${c.cwnd} ≥ smss ${c.smss}`);
    assert.ok(c.ssthresh >= 2 * c.smss, `ssthresh ${c.ssthresh}`);
  }
  const board = c.scoreboard;
  for (let i = 0; i < board.count; i++) {
    assert.ok(seqLt(board.starts[i], board.ends[i]), 'sack block non-empty');
    assert.ok(seqLt(c.sndUna, board.starts[i]) || board.starts[i] === c.sndUna, 'sack block above SND.UNA');
    assert.ok(seqLeq(board.ends[i], c.sndMax), 'sack block below SND.MAX');
    if (i > 0) assert.ok(seqLt(board.ends[i - 1], board.starts[i]), 'sack blocks sorted and apart');
  }
  const rx = c.rxFifo!;
  assert.equal(rx.maxDequeue() + rx.maxEnqueue(), rx.size);
  if (s === TcpState.TIME_WAIT) {
    assert.notEqual(c.timers[TcpTimer.WAIT_CLOSE], 0, 'TIME-WAIT runs its 2MSL timer');
    assert.equal(c.timers[TcpTimer.RETRANSMIT], 0);
  }
}

/** Checks every live connection of both hosts. */
export function checkAll(net: Net): void {
  for (const host of [net.a, net.b]) for (const c of host.stack.connections()) checkConnection(host.stack, c);
}

/** Segments of `flags` (all of them set) among held ones. */
export function heldWith(net: Net, flags: number): Segment[] {
  return net.pending.filter((s) => (s.bytes[13] & flags) === flags);
}

// ---------------------------------------------------------------- hand-made segments

export interface CraftedSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  options?: Partial<TcpOptions>;
  data?: Uint8Array;
}

/** A segment with a valid checksum from `src` to `dst`. */
export function craft(segment: CraftedSegment, src: number, dst: number): Uint8Array {
  const options = newTcpOptions();
  const { sackBlocks, ...rest } = segment.options ?? {};
  Object.assign(options, rest);
  if (sackBlocks !== undefined) options.sackBlocks.set(sackBlocks);
  const data = segment.data ?? new Uint8Array(0);
  const bytes = new Uint8Array(60 + data.length);
  const headerLength = emitTcpHeader({
    srcPort: segment.srcPort, dstPort: segment.dstPort, sequenceNumber: segment.seq >>> 0,
    acknowledgmentNumber: (segment.ack ?? 0) >>> 0, flags: segment.flags, window: segment.window ?? 65535, checksum: 0,
    urgentPointer: 0, options,
  }, bytes, 0);
  bytes.set(data, headerLength);
  const out = bytes.slice(0, headerLength + data.length);
  fillTcp4Checksum(out, 0, out.length, src, dst);
  return out;
}

/** Delivers a hand-made segment to `to`'s connection `c` as if its peer had sent it. */
export function inject(to: Host, c: TcpConnection, segment: Omit<CraftedSegment, 'srcPort' | 'dstPort'>): void {
  to.deliver(craft({ srcPort: c.remotePort, dstPort: c.localPort, ...segment }, c.remoteAddress, c.localAddress), c.remoteAddress, c.localAddress);
}

/** Parsed headers of held segments. */
export function heldHeaders(net: Net): TcpHeader[] {
  return net.pending.map((s) => parseTcpHeader(s.bytes, 0, s.bytes.length)!);
}
