// The session layer of one engine (VPP's session_main + app_main): app namespaces bound to
// a VRF, attached apps with their FIFO segment, sessions with an rx and a tx FIFO, the
// session lookup tables per fib, and the glue to the TCP core — its segment sink (buffers
// from the engine's pool, handed to `tcp4-output`), its timers (a TimerWheel of its own,
// advanced by `session-queue` and `tcp4-input`, the engine woken by one engine timer set to
// the wheel's next expiry: vm.startTimer allocates a closure per call, too costly per TCP
// timer) and its events, turned into calls of the app's callbacks.
//
// Apps here are builtin apps (VPP's session_cb_vft): callbacks run inside the engine.
// What the app does back — data written to the tx FIFO (`send`), data taken from the rx
// FIFO (`received`), shutdown, close, abort — goes through this class; `send` only queues a
// tx event that `session-queue` drains in bounded batches, so an app writing in a loop
// does not run TCP once per write.
//
// Segments the stack emits while a node runs are staged and handed to `tcp4-output` when
// the node's frame is done (`flushOutput`); from outside a node they go at once.

import { BufferFlag, NONE, OPAQUE_WORDS, type BufferPool } from '../vlib/buffer-pool.ts';
import type { Engine } from '../vlib/engine.ts';
import type { NodeRuntime } from '../vlib/node-runtime.ts';
import { TimerWheel } from '../vlib/timer-wheel.ts';
import { OPAQUE_FIB_INDEX } from '../vnet/ip4-opaque.ts';
import { AdjacencyKind } from '../vnet/fib/adjacency.ts';
import type {} from '../vnet/vnet.ts';
import { formatIp4 } from '../wire/address.ts';
import { IpProtocol } from '../wire/ip4.ts';
import type { CongestionControlName } from '../tcp/congestion.ts';
import { TcpConnection, TcpState, type TcpErrorCode } from '../tcp/connection.ts';
import { TcpStack, type TcpConfig, type TcpEvents, type TcpSegmentSink, type TcpTimers } from '../tcp/stack.ts';
import { FifoError, FifoSegment, type Fifo } from '../svm/fifo.ts';
import { SessionLookup } from './session-table.ts';

/** Opaque words of a segment on its way to tcp4-output: local and remote address. */
export const OPAQUE_TCP_LOCAL = 3;
export const OPAQUE_TCP_REMOTE = 4;

export type SessionErrorCode =
  | 'EINVAL' | 'ENOENT' | 'EEXIST' | 'EADDRINUSE' | 'EACCES' | 'ENOMEM' | 'ENOTCONN' | 'ESHUTDOWN'
  | 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EHOSTUNREACH' | 'EADDRNOTAVAIL' | 'ENOTSUP';

export class SessionError extends Error {
  override readonly name = 'SessionError';
  readonly code: SessionErrorCode;
  constructor(code: SessionErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export const SessionState = {
  FREE: 0,
  LISTENING: 1,
  CONNECTING: 2,
  ACCEPTING: 3,
  READY: 4,
  /** The peer sent FIN: no more data will come. */
  PEER_CLOSED: 5,
  /** The app closed (or shut down) its side. */
  CLOSING: 6,
  CLOSED: 7,
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];
const SESSION_STATE_NAMES = ['FREE', 'LISTENING', 'CONNECTING', 'ACCEPTING', 'READY', 'PEER_CLOSED', 'CLOSING', 'CLOSED'];

/** One session: fixed shape, reused from the pool. */
export class Session {
  readonly index: number;
  state: SessionState = SessionState.FREE;
  appIndex = -1;
  fibIndex = 0;
  protocol: number = IpProtocol.TCP;
  connection: TcpConnection | null = null;
  rxFifo: Fifo | null = null;
  txFifo: Fifo | null = null;
  /** For an accepted session, the listener session's index; −1 otherwise. */
  listenerIndex = -1;
  /** A tx event is queued for session-queue. */
  txPending = false;
  /** Whatever the app wants to keep with the session. */
  appData = 0;
  /** Endpoints as the lookup table holds them (kept after the connection goes). */
  localAddress = 0;
  localPort = 0;
  remoteAddress = 0;
  remotePort = 0;
  constructor(index: number) {
    this.index = index;
  }
}

/** What a builtin app hears (VPP's session_cb_vft). Every callback is optional. */
export interface AppCallbacks {
  /** A passive open completed on one of the app's listeners. */
  accepted?(session: Session): void;
  /** An active open finished: `error` null on success. */
  connected?(session: Session, error: SessionErrorCode | null): void;
  /** New bytes in the session's rx FIFO. */
  rx?(session: Session): void;
  /** The peer acknowledged data: room in the tx FIFO. */
  txSpace?(session: Session): void;
  /** The peer closed its side (FIN). */
  disconnected?(session: Session): void;
  /** The connection was reset or timed out. */
  reset?(session: Session, code: SessionErrorCode): void;
  /** The session is gone; its FIFOs are freed after this returns. */
  cleanup?(session: Session): void;
}

export interface AppNamespace {
  readonly id: string;
  readonly index: number;
  readonly secret: number;
  readonly fibIndex: number;
  /** The interface the namespace is bound to, or −1 when bound to a table. */
  readonly swIfIndex: number;
}

export interface App {
  readonly index: number;
  readonly name: string;
  readonly namespace: AppNamespace;
  readonly segment: FifoSegment;
  readonly rxFifoSize: number;
  readonly txFifoSize: number;
  readonly callbacks: AppCallbacks;
  /** Listener session indices. */
  readonly listeners: Set<number>;
}

export interface AttachOptions {
  name: string;
  namespace?: string;
  secret?: number;
  rxFifoSize?: number;
  txFifoSize?: number;
  /** Bytes of the app's FIFO segment; default enough for 256 sessions' FIFOs, at least 64 MiB. */
  segmentSize?: number;
  callbacks: AppCallbacks;
}

const DEFAULT_FIFO_SIZE = 64 << 10;
const EPHEMERAL_LOW = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_LOW;
/** Sessions whose tx event session-queue handles per call. */
export const TX_EVENT_BATCH = 256;
const STAGE_CAPACITY = 256;

/**
 * The TCP segment sink: a pool buffer per segment, the TCP header at the start of its data
 * area (tcp4-output prepends the IPv4 header into the headroom). A segment for which no
 * buffer is left is written into a spare buffer and dropped, counted, as a NIC would drop
 * it: the stack's retransmission recovers, and its send loop always sees room.
 */
export class BufferSegmentSink implements TcpSegmentSink {
  readonly bytes: Uint8Array;
  readonly staged = new Uint32Array(STAGE_CAPACITY);
  count = 0;
  /** Fib of a segment sent with no connection (a reset): the fib of the segment being answered. */
  fibForReset = 0;
  noBuffer = 0;
  private reserved = NONE;
  /** Taken from the pool by `session enable` (not before: an engine without TCP keeps every buffer). */
  private spare = NONE;
  private readonly maxRoom: number;

  constructor(private readonly pool: BufferPool, private readonly host: HostStack) {
    this.bytes = pool.bytes;
    this.maxRoom = pool.dataSize;
  }

  /** Reserves the spare buffer that absorbs segments when the pool is empty. */
  takeSpare(): boolean {
    if (this.spare === NONE) this.spare = this.pool.allocOne();
    return this.spare !== NONE;
  }

  reserve(room: number): number {
    if (room > this.maxRoom || this.spare === NONE) return -1;
    let bi = this.pool.allocOne();
    if (bi === NONE) {
      this.noBuffer++;
      bi = this.spare;
    }
    this.reserved = bi;
    return this.pool.dataStart(bi);
  }

  send(length: number, connection: TcpConnection | null, localAddress: number, remoteAddress: number): void {
    const bi = this.reserved;
    this.reserved = NONE;
    if (bi === this.spare || bi === NONE) return;
    const pool = this.pool;
    pool.length[bi] = length;
    pool.flags[bi] = BufferFlag.LOCALLY_ORIGINATED;
    const base = bi * OPAQUE_WORDS;
    const opaque = pool.opaque;
    opaque[base + OPAQUE_TCP_LOCAL] = localAddress;
    opaque[base + OPAQUE_TCP_REMOTE] = remoteAddress;
    opaque[base + OPAQUE_FIB_INDEX] = connection === null ? this.fibForReset : this.host.fibOfConnection(connection);
    this.staged[this.count++] = bi;
    if (this.count === STAGE_CAPACITY) this.host.handOver();
  }
}

/** The TCP wheel as the stack sees it: every start may move the engine timer earlier. */
class WheelTimers implements TcpTimers {
  constructor(private readonly host: HostStack, private readonly wheel: TimerWheel) {}
  start(delayMs: number, userHandle: number): number {
    const handle = this.wheel.start(delayMs, userHandle);
    this.host.timerStarted(this.wheel.nowMs + delayMs);
    return handle;
  }
  stop(handle: number): boolean {
    return this.wheel.stop(handle);
  }
}

export class HostStack implements TcpEvents {
  enabled = false;
  /** `tcp { cc-algo }` and other TCP settings, taken when the layer is enabled. */
  readonly tcpConfig: TcpConfig = { congestionControl: 'cubic' };
  tcp: TcpStack | null = null;
  readonly lookup = new SessionLookup();
  readonly wheel: TimerWheel;
  readonly sink: BufferSegmentSink;
  readonly namespaces = new Map<string, AppNamespace>();
  readonly apps: (App | undefined)[] = [];
  readonly sessions: Session[] = [];
  private readonly freeSessions: number[] = [];
  private liveSessions = 0;
  /** The time TCP sees, refreshed at each entry (VPP: vlib_time_now once per frame). */
  nowMs = 0;

  // Tx events: a ring of session indices.
  private txRing = new Int32Array(1024);
  private txHead = 0;
  private txCount = 0;

  // The one engine timer standing for the wheel's next expiry.
  private engineTimer = -1;
  private engineTimerDueMs = Infinity;
  private readonly onEngineTimer = (): void => {
    this.engineTimer = -1;
    this.engineTimerDueMs = Infinity;
    this.interruptQueue();
  };
  private readonly fireTcpTimer = (userHandle: number): void => {
    this.tcp!.timerExpired(userHandle);
  };
  private advancing = false;
  /** > 0 while a node runs: segments wait for the node's end. */
  private nodeDepth = 0;
  private queueNode: NodeRuntime | undefined;
  private nextEphemeral = EPHEMERAL_LOW + Math.floor(Math.random() * EPHEMERAL_COUNT);
  private readonly clock = (): number => this.nowMs;

  constructor(readonly vm: Engine) {
    this.nowMs = vm.nowMs();
    this.wheel = new TimerWheel({ tickMs: 1, now: this.nowMs });
    this.sink = new BufferSegmentSink(vm.pool, this);
    this.namespaces.set('default', { id: 'default', index: 0, secret: 0, fibIndex: 0, swIfIndex: -1 });
  }

  // ---------------------------------------------------------------- enable, namespaces, apps

  /** `session enable`: creates the TCP stack and hands TCP from ip4-local to tcp4-input. */
  enable(): void {
    if (this.enabled) return;
    if (!this.sink.takeSpare()) throw new SessionError('ENOMEM', 'session enable: no buffer left for the TCP segment sink');
    this.tcp = new TcpStack({ timers: new WheelTimers(this, this.wheel), sink: this.sink, events: this, clock: this.clock, config: this.tcpConfig });
    if (this.vm.node('ip4-local') !== undefined && this.vm.node('tcp4-input') !== undefined) this.vm.addNext('ip4-local', 'tcp4-input');
    this.enabled = true;
  }

  /** `tcp { cc-algo }`: the algorithm of connections opened from now on. */
  setCongestionControl(name: CongestionControlName): void {
    if (name !== 'newreno' && name !== 'cubic') throw new SessionError('EINVAL', `unknown cc-algo '${name}': expected newreno or cubic`);
    this.tcpConfig.congestionControl = name;
    if (this.tcp !== null) this.tcp.config.congestionControl = name;
  }

  /** `app ns add id <name> secret <n> (if <intfc> | table <id>)`. */
  addNamespace(id: string, secret: number, binding: { swIfIndex: number } | { tableId: number }): AppNamespace {
    const vnet = this.vm.vnet;
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new SessionError('EINVAL', `bad namespace id '${id}'`);
    if (!(Number.isInteger(secret) && secret >= 0 && secret <= Number.MAX_SAFE_INTEGER)) throw new SessionError('EINVAL', `bad secret ${secret}`);
    let fibIndex: number;
    let swIfIndex = -1;
    if ('swIfIndex' in binding) {
      swIfIndex = binding.swIfIndex;
      if (!(swIfIndex >= 0 && swIfIndex < vnet.interfaces.count) || vnet.interfaces.exists[swIfIndex] === 0) {
        throw new SessionError('ENOENT', `unknown interface index ${swIfIndex}`);
      }
      fibIndex = vnet.interfaces.fibIndex[swIfIndex];
    } else {
      fibIndex = vnet.fib.fibIndexOf(binding.tableId);
      if (fibIndex < 0) throw new SessionError('ENOENT', `table ${binding.tableId} does not exist (create it with 'ip table add ${binding.tableId}')`);
    }
    const existing = this.namespaces.get(id);
    const ns: AppNamespace = { id, index: existing?.index ?? this.namespaces.size, secret, fibIndex, swIfIndex };
    this.namespaces.set(id, ns);
    return ns;
  }

  /** Attaches a builtin app; EACCES when the namespace secret is wrong. */
  attach(options: AttachOptions): App {
    this.requireEnabled();
    const nsId = options.namespace ?? 'default';
    const ns = this.namespaces.get(nsId);
    if (ns === undefined) throw new SessionError('ENOENT', `app namespace '${nsId}' does not exist`);
    if (ns.index !== 0 && (options.secret ?? 0) !== ns.secret) throw new SessionError('EACCES', `wrong secret for app namespace '${nsId}'`);
    for (const a of this.apps) if (a !== undefined && a.name === options.name) throw new SessionError('EEXIST', `an app named '${options.name}' is attached`);
    const rxFifoSize = options.rxFifoSize ?? DEFAULT_FIFO_SIZE;
    const txFifoSize = options.txFifoSize ?? DEFAULT_FIFO_SIZE;
    for (const size of [rxFifoSize, txFifoSize]) {
      if (!(Number.isInteger(size) && size >= 4096 && size <= 1 << 30)) throw new SessionError('EINVAL', `bad fifo size ${size}: expected 4096..${1 << 30}`);
    }
    const segmentSize = options.segmentSize ?? Math.min(2 ** 32, Math.max(64 << 20, 256 * (rxFifoSize + txFifoSize + 1024)));
    let index = this.apps.indexOf(undefined);
    if (index < 0) index = this.apps.length;
    const app: App = {
      index, name: options.name, namespace: ns, segment: new FifoSegment(segmentSize, `${options.name}-segment`),
      rxFifoSize, txFifoSize, callbacks: options.callbacks, listeners: new Set(),
    };
    this.apps[index] = app;
    return app;
  }

  /** Detaches an app: its sessions are aborted, its listeners closed. */
  detach(app: App): void {
    for (const s of this.sessions) {
      if (s.state !== SessionState.FREE && s.appIndex === app.index) this.abort(s);
    }
    this.flushOutput();
    this.apps[app.index] = undefined;
  }

  // ---------------------------------------------------------------- listen, connect

  /** A listener on address (0: every address of the namespace's fib) and port. */
  listen(app: App, address: number, port: number): Session {
    const tcp = this.requireEnabled();
    if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new SessionError('EINVAL', `bad port ${port}`);
    const fib = app.namespace.fibIndex;
    if (this.lookup.lookupListener(fib, IpProtocol.TCP, address >>> 0, port) >= 0 && this.listenerExact(fib, address, port)) {
      throw new SessionError('EADDRINUSE', `tcp ${formatIp4(address)}:${port} is already listening in namespace ${app.namespace.id}`);
    }
    this.refreshTime();
    const s = this.allocateSession(app, fib);
    s.state = SessionState.LISTENING;
    s.localAddress = address >>> 0;
    s.localPort = port;
    this.lookup.addListener(fib, IpProtocol.TCP, address >>> 0, port, s.index);
    s.connection = tcp.listen({ localAddress: address, localPort: port, userData: s.index });
    app.listeners.add(s.index);
    return s;
  }

  private listenerExact(fib: number, address: number, port: number): boolean {
    return this.lookup.listeners.get(((fib << 8) | IpProtocol.TCP) >>> 0, address >>> 0, 0, port) >= 0;
  }

  /** Active open to address:port from the namespace; `connected` follows (also on failure). */
  connect(app: App, address: number, port: number, appData = 0): Session {
    const tcp = this.requireEnabled();
    if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new SessionError('EINVAL', `bad port ${port}`);
    const fib = app.namespace.fibIndex;
    const local = this.sourceAddressFor(app.namespace, address >>> 0);
    if (local < 0) throw new SessionError('EHOSTUNREACH', `no route to ${formatIp4(address)} in namespace ${app.namespace.id}`);
    const localPort = this.ephemeralPort(fib, local, address >>> 0, port);
    this.refreshTime();
    const s = this.allocateSession(app, fib);
    s.state = SessionState.CONNECTING;
    s.appData = appData;
    try {
      s.rxFifo = app.segment.allocate(app.rxFifoSize);
      s.txFifo = app.segment.allocate(app.txFifoSize);
    } catch (error) {
      this.freeSession(s);
      throw new SessionError('ENOMEM', error instanceof FifoError ? error.message : String(error));
    }
    this.setEndpoints(s, local, localPort, address >>> 0, port);
    this.lookup.addSession(fib, IpProtocol.TCP, local, localPort, address >>> 0, port, s.index);
    this.nodeDepth++;
    try {
      s.connection = tcp.connect({ localAddress: local, localPort, remoteAddress: address, remotePort: port, rxFifo: s.rxFifo, txFifo: s.txFifo, userData: s.index });
    } finally {
      this.nodeDepth--;
    }
    this.flushOutput();
    return s;
  }

  /** The source address for a connection from the namespace to `remote`, or −1. */
  sourceAddressFor(ns: AppNamespace, remote: number): number {
    const vnet = this.vm.vnet;
    if (ns.swIfIndex >= 0) {
      const a = vnet.sourceAddressFor(ns.swIfIndex, remote);
      if (a >= 0) return a >>> 0;
    }
    if (!vnet.fib.hasTable(ns.fibIndex)) return -1;
    const lb = vnet.fib.lookup(ns.fibIndex, remote);
    const adj = vnet.loadBalances.buckets[vnet.loadBalances.start[lb]];
    const kind = vnet.adjacencies.kind[adj];
    if (kind === AdjacencyKind.LOCAL) return remote >>> 0;
    if (kind === AdjacencyKind.DROP) return -1;
    const a = vnet.sourceAddressFor(vnet.adjacencies.swIfIndex[adj], remote);
    return a >= 0 ? a >>> 0 : -1;
  }

  private ephemeralPort(fib: number, local: number, remote: number, remotePort: number): number {
    for (let tries = 0; tries < EPHEMERAL_COUNT; tries++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port === 65535 ? EPHEMERAL_LOW : port + 1;
      if (this.lookup.lookupSession(fib, IpProtocol.TCP, local, port, remote, remotePort) < 0
        && this.lookup.lookupListener(fib, IpProtocol.TCP, local, port) < 0) return port;
    }
    throw new SessionError('EADDRNOTAVAIL', `no free local port towards ${formatIp4(remote)}:${remotePort}`);
  }

  // ---------------------------------------------------------------- app → session

  /** The app wrote to the session's tx FIFO: queue a tx event for session-queue. */
  send(s: Session): void {
    if (s.txPending || s.connection === null) return;
    s.txPending = true;
    if (this.txCount === this.txRing.length) {
      const grown = new Int32Array(this.txRing.length * 2);
      for (let i = 0; i < this.txCount; i++) grown[i] = this.txRing[(this.txHead + i) % this.txRing.length];
      this.txRing = grown;
      this.txHead = 0;
    }
    this.txRing[(this.txHead + this.txCount) % this.txRing.length] = s.index;
    this.txCount++;
    this.interruptQueue();
  }

  /** The app took bytes from the rx FIFO: TCP may open the window. */
  rxConsumed(s: Session): void {
    const c = s.connection;
    if (c === null || this.tcp === null) return;
    this.refreshTime();
    this.tcp.received(c);
    this.flushOutput();
  }

  /** Half-close: FIN after the queued data. */
  shutdown(s: Session): void {
    const c = s.connection;
    if (c === null || this.tcp === null) return;
    this.refreshTime();
    this.nodeDepth++;
    try {
      this.tcp.send(c);
      this.tcp.shutdown(c);
    } finally {
      this.nodeDepth--;
    }
    this.flushOutput();
  }

  /** Orderly close (VPP's disconnect): FIN after queued data; a listener stops listening. */
  close(s: Session): void {
    const c = s.connection;
    if (c === null || this.tcp === null) return;
    this.refreshTime();
    if (s.state !== SessionState.LISTENING) s.state = SessionState.CLOSING;
    this.nodeDepth++;
    try {
      if (c.state !== TcpState.LISTEN) this.tcp.send(c);
      this.tcp.close(c);
    } finally {
      this.nodeDepth--;
    }
    this.flushOutput();
  }

  /** Abortive close: RST. */
  abort(s: Session): void {
    const c = s.connection;
    if (c === null || this.tcp === null) return;
    this.refreshTime();
    this.nodeDepth++;
    try {
      this.tcp.abort(c);
    } finally {
      this.nodeDepth--;
    }
    this.flushOutput();
  }

  // ---------------------------------------------------------------- the nodes' side

  /** Called by tcp4-input and session-queue at the start of a frame: time, due TCP timers. */
  beginNode(): void {
    this.nodeDepth++;
    this.nowMs = this.vm.nowMs();
    this.advanceTimers();
  }

  /** At the end of a node's frame: staged segments to tcp4-output, the engine timer re-armed. */
  endNode(): void {
    this.nodeDepth--;
    this.flushOutput();
  }

  /** Segments staged so far go to tcp4-output now (the sink's stage is full, or a frame ended). */
  handOver(): void {
    const sink = this.sink;
    if (sink.count === 0) return;
    this.vm.enqueue('tcp4-output', sink.staged, sink.count);
    sink.count = 0;
  }

  /** Outside a node: hand segments over at once. */
  flushOutput(): void {
    if (this.nodeDepth === 0) this.handOver();
  }

  /** session-queue: runs up to TX_EVENT_BATCH tx events; true when more remain. */
  drainTxEvents(): boolean {
    const tcp = this.tcp;
    if (tcp === null) return false;
    let budget = TX_EVENT_BATCH;
    const ring = this.txRing;
    while (this.txCount > 0 && budget-- > 0) {
      const si = ring[this.txHead];
      this.txHead = this.txHead + 1 === ring.length ? 0 : this.txHead + 1;
      this.txCount--;
      const s = this.sessions[si];
      s.txPending = false;
      const c = s.connection;
      if (c !== null) tcp.send(c);
    }
    return this.txCount > 0;
  }

  get txEventsPending(): number {
    return this.txCount;
  }

  /** Fires due TCP timers (not re-entrantly: a callback that reaches here returns at once). */
  advanceTimers(): void {
    if (this.advancing || this.tcp === null) return;
    this.advancing = true;
    try {
      this.wheel.advance(this.nowMs, this.fireTcpTimer);
    } finally {
      this.advancing = false;
    }
    this.armEngineTimer();
  }

  /** The stack started a timer due at `dueMs`. */
  timerStarted(dueMs: number): void {
    if (dueMs + 1 < this.engineTimerDueMs) this.armEngineTimer();
  }

  /** One engine timer for the wheel's earliest expiry, so an idle engine sleeps until then. */
  private armEngineTimer(): void {
    const due = this.wheel.nextExpiryMs();
    if (due === this.engineTimerDueMs) return;
    if (this.engineTimer >= 0) {
      this.vm.stopTimer(this.engineTimer);
      this.engineTimer = -1;
      this.engineTimerDueMs = Infinity;
    }
    if (!Number.isFinite(due)) return;
    this.engineTimerDueMs = due;
    this.engineTimer = this.vm.startTimer(Math.max(0, due - this.vm.nowMs()), this.onEngineTimer);
  }

  private interruptQueue(): void {
    if (this.queueNode === undefined) this.queueNode = this.vm.node('session-queue');
    if (this.queueNode !== undefined) this.vm.interrupt(this.queueNode);
  }

  private refreshTime(): void {
    const now = this.vm.nowMs();
    if (now > this.nowMs) this.nowMs = now;
    if (this.nodeDepth === 0) this.advanceTimers();
  }

  fibOfConnection(c: TcpConnection): number {
    const s = this.sessions[c.userData];
    return s === undefined ? 0 : s.fibIndex;
  }

  // ---------------------------------------------------------------- TCP events

  incoming(listener: TcpConnection, child: TcpConnection): boolean {
    const ls = this.sessions[listener.userData];
    const app = ls === undefined ? undefined : this.apps[ls.appIndex];
    if (ls === undefined || app === undefined) return false;
    let rx: Fifo;
    let tx: Fifo;
    try {
      rx = app.segment.allocate(app.rxFifoSize);
    } catch {
      return false;
    }
    try {
      tx = app.segment.allocate(app.txFifoSize);
    } catch {
      app.segment.free(rx);
      return false;
    }
    const s = this.allocateSession(app, ls.fibIndex);
    s.state = SessionState.ACCEPTING;
    s.listenerIndex = ls.index;
    s.rxFifo = rx;
    s.txFifo = tx;
    s.connection = child;
    this.setEndpoints(s, child.localAddress, child.localPort, child.remoteAddress, child.remotePort);
    this.lookup.addSession(s.fibIndex, IpProtocol.TCP, child.localAddress, child.localPort, child.remoteAddress, child.remotePort, s.index);
    child.rxFifo = rx;
    child.txFifo = tx;
    child.userData = s.index;
    return true;
  }

  accepted(_listener: TcpConnection | null, c: TcpConnection): void {
    const s = this.sessions[c.userData];
    s.state = SessionState.READY;
    this.apps[s.appIndex]?.callbacks.accepted?.(s);
  }

  connected(c: TcpConnection): void {
    const s = this.sessions[c.userData];
    s.state = SessionState.READY;
    this.apps[s.appIndex]?.callbacks.connected?.(s, null);
  }

  connectFailed(c: TcpConnection, code: TcpErrorCode): void {
    const s = this.sessions[c.userData];
    s.state = SessionState.CLOSED;
    this.apps[s.appIndex]?.callbacks.connected?.(s, code === 'EINVAL' ? 'ECONNREFUSED' : code);
  }

  received(c: TcpConnection): void {
    const s = this.sessions[c.userData];
    this.apps[s.appIndex]?.callbacks.rx?.(s);
  }

  sendSpace(c: TcpConnection): void {
    const s = this.sessions[c.userData];
    this.apps[s.appIndex]?.callbacks.txSpace?.(s);
  }

  peerClosed(c: TcpConnection): void {
    const s = this.sessions[c.userData];
    if (s.state === SessionState.READY || s.state === SessionState.ACCEPTING) s.state = SessionState.PEER_CLOSED;
    this.apps[s.appIndex]?.callbacks.disconnected?.(s);
  }

  reset(c: TcpConnection, code: TcpErrorCode): void {
    const s = this.sessions[c.userData];
    s.state = SessionState.CLOSED;
    this.apps[s.appIndex]?.callbacks.reset?.(s, code === 'EINVAL' ? 'ECONNRESET' : code);
  }

  closed(c: TcpConnection): void {
    const s = this.sessions[c.userData];
    if (s === undefined || s.connection !== c) return;
    const app = this.apps[s.appIndex];
    if (c.state === TcpState.LISTEN || s.state === SessionState.LISTENING) {
      this.lookup.removeListener(s.fibIndex, IpProtocol.TCP, s.localAddress, s.localPort);
      app?.listeners.delete(s.index);
    } else {
      this.lookup.removeSession(s.fibIndex, IpProtocol.TCP, s.localAddress, s.localPort, s.remoteAddress, s.remotePort);
    }
    s.state = SessionState.CLOSED;
    s.connection = null;
    app?.callbacks.cleanup?.(s);
    if (app !== undefined) {
      if (s.rxFifo !== null) app.segment.free(s.rxFifo);
      if (s.txFifo !== null) app.segment.free(s.txFifo);
    }
    this.freeSession(s);
  }

  // ---------------------------------------------------------------- sessions

  private allocateSession(app: App, fib: number): Session {
    const index = this.freeSessions.pop();
    let s: Session;
    if (index === undefined) {
      s = new Session(this.sessions.length);
      this.sessions.push(s);
    } else {
      s = this.sessions[index];
    }
    s.appIndex = app.index;
    s.fibIndex = fib;
    s.listenerIndex = -1;
    s.txPending = false;
    s.appData = 0;
    s.rxFifo = null;
    s.txFifo = null;
    s.connection = null;
    this.liveSessions++;
    return s;
  }

  private freeSession(s: Session): void {
    s.state = SessionState.FREE;
    s.connection = null;
    s.rxFifo = null;
    s.txFifo = null;
    s.appIndex = -1;
    this.freeSessions.push(s.index);
    this.liveSessions--;
  }

  private setEndpoints(s: Session, local: number, localPort: number, remote: number, remotePort: number): void {
    s.localAddress = local >>> 0;
    s.localPort = localPort;
    s.remoteAddress = remote >>> 0;
    s.remotePort = remotePort;
  }

  get sessionCount(): number {
    return this.liveSessions;
  }

  /** Live sessions (control path). */
  liveSessionList(): Session[] {
    return this.sessions.filter((s) => s.state !== SessionState.FREE);
  }

  stateName(s: Session): string {
    return SESSION_STATE_NAMES[s.state];
  }

  private requireEnabled(): TcpStack {
    if (!this.enabled || this.tcp === null) throw new SessionError('ENOTSUP', 'session layer is disabled (use \'session enable\')');
    return this.tcp;
  }
}

const hostStacks = new WeakMap<Engine, HostStack>();

/** The engine's session layer, made on first use. */
export function hostStackOf(vm: Engine): HostStack {
  let h = hostStacks.get(vm);
  if (h === undefined) {
    h = new HostStack(vm);
    hostStacks.set(vm, h);
  }
  return h;
}

/** The engine's session layer if one was made (nodes use this: no layer, no sessions). */
export function existingHostStack(vm: Engine): HostStack | undefined {
  return hostStacks.get(vm);
}
