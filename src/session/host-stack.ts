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

import { BufferFlag, NONE, OPAQUE_WORDS } from '../vlib/buffer-pool.ts';
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
import { TcpStack, type TcpConfig, type TcpEvents, type TcpTimers } from '../tcp/stack.ts';
import { FifoError, type Fifo } from '../svm/fifo.ts';
import { SegmentManager } from './segment-manager.ts';
import { SessionLookup } from './session-table.ts';
import { IndexQueue } from './index-queue.ts';
import { BufferSegmentSink, OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE, STAGE_CAPACITY } from './segment-sink.ts';
import { DATAGRAM_HEADER_LENGTH, DatagramHeader, peekDatagram, readDatagram, writeDatagram } from './datagram.ts';

export { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE } from './segment-sink.ts';
/** A datagram on its way to udp4-output: local port << 16 | remote port. */
export const OPAQUE_UDP_PORTS = 5;

/** The node ip4-udp-lookup hands the sessions' UDP ports to. */
export const UDP_INPUT_NODE = 'udp4-input';

export type TransportName = 'tcp' | 'udp';

function protocolNumber(name: TransportName): number {
  if (name === 'tcp') return IpProtocol.TCP;
  if (name === 'udp') return IpProtocol.UDP;
  throw new SessionError('EINVAL', `unknown transport '${String(name)}': expected tcp or udp`);
}

/** Two FIFOs from an app's segments, or SessionError ENOMEM (neither is kept). */
function fifoPair(segments: SegmentManager, firstSize: number, secondSize: number): [Fifo, Fifo] {
  try {
    return segments.allocatePair(firstSize, secondSize);
  } catch (error) {
    throw new SessionError('ENOMEM', error instanceof FifoError ? error.message : String(error));
  }
}

function checkPort(port: number): void {
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new SessionError('EINVAL', `bad port ${port}`);
}

export type SessionErrorCode =
  | 'EINVAL' | 'ENOENT' | 'EEXIST' | 'EADDRINUSE' | 'EACCES' | 'ENOMEM' | 'ENOTCONN' | 'ESHUTDOWN'
  | 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EHOSTUNREACH' | 'EADDRNOTAVAIL' | 'ENOTSUP'
  | 'EMSGSIZE' | 'EDESTADDRREQ';

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

/**
 * Events a session waits on in the event ring, run by session-queue in this order. TX is
 * work for the transport (the app wrote to its tx FIFO); the others are calls of the
 * session's app for transports that have no segment processing to hang them on
 * (cut-through, UDP). TCP tells its apps directly, as it processes segments.
 */
export const SessionEvent = {
  ACCEPTED: 1 << 0,
  CONNECTED: 1 << 1,
  TX: 1 << 2,
  RX: 1 << 3,
  TX_SPACE: 1 << 4,
  DISCONNECTED: 1 << 5,
  RESET: 1 << 6,
  CLEANUP: 1 << 7,
} as const;

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
  /** Events waiting for session-queue (SessionEvent bits). */
  events = 0;
  /** The session's index is in the event ring (kept across reuse: the ring may still hold it). */
  queued = false;
  /** Connected FIFO to FIFO with a peer session of this engine: no transport (cut-through). */
  cutThrough = false;
  /** The cut-through peer's session index, −1 for none. */
  peerIndex = -1;
  /** Cut-through: this side has shut down its sending half (the peer was told). */
  sendClosed = false;
  /** Cut-through: this side has closed; both closed → both cleaned up. */
  appClosed = false;
  /** The segments a cut-through pair's FIFOs came from (the server app's). */
  pairSegments: SegmentManager | null = null;
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
  /** Where its sessions' FIFOs live: shared segments, more added as they fill. */
  readonly segments: SegmentManager;
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
  /** Bytes of each of the app's FIFO segments; default enough for 256 sessions' FIFOs, at least 64 MiB. */
  segmentSize?: number;
  callbacks: AppCallbacks;
}

const DEFAULT_FIFO_SIZE = 64 << 10;
const EPHEMERAL_LOW = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_LOW;
/** Sessions whose events session-queue handles per call. */
export const EVENT_BATCH = 256;

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

  // The event ring: indices of sessions with events (Session.events) for session-queue.
  private readonly eventQueue = new IndexQueue();
  // Datagrams for udp4-output, staged like the TCP sink's segments.
  private readonly datagrams = new Uint32Array(STAGE_CAPACITY);
  private datagramCount = 0;
  private readonly txHeader = new DatagramHeader();
  /** Sessions using each UDP port (registered with ip4-udp-lookup while > 0). */
  private readonly udpPortUsers = new Map<number, number>();
  /** The largest datagram a session may send: one buffer's data. */
  readonly maxDatagram: number;

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
    this.maxDatagram = vm.pool.dataSize;
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
      index, name: options.name, namespace: ns, segments: new SegmentManager(`${options.name}-segment`, segmentSize),
      rxFifoSize, txFifoSize, callbacks: options.callbacks, listeners: new Set(),
    };
    this.apps[index] = app;
    return app;
  }

  /** Detaches an app: its sessions are aborted, its listeners closed. */
  detach(app: App): void {
    for (const s of this.sessions) {
      if (s.state === SessionState.FREE || s.appIndex !== app.index) continue;
      // A TCP session the app already closed finishes its orderly close (FIN-WAIT, CLOSING,
      // LAST-ACK, TIME-WAIT) without the app, orphaned so that no callback reaches an app
      // that later takes this slot: VPP's detach disconnects, it never resets.
      if (s.state === SessionState.CLOSING && s.connection !== null) {
        s.appIndex = -1;
        continue;
      }
      this.abort(s);
      // Sessions without a TCP connection end through the event ring; the app goes now, so they end now.
      if ((s.state as SessionState) !== SessionState.FREE && s.connection === null) {
        s.events = 0;
        this.finishSession(s);
      }
    }
    this.flushOutput();
    this.apps[app.index] = undefined;
  }

  // ---------------------------------------------------------------- listen, connect

  /**
   * A listener on address (0: every address of the namespace's fib) and port. A UDP
   * listener is itself the session that receives: every datagram to the port lands in its
   * rx FIFO with the sender's address (VPP's connectionless UDP).
   */
  listen(app: App, address: number, port: number, protocol: TransportName = 'tcp'): Session {
    const tcp = this.requireEnabled();
    checkPort(port);
    const proto = protocolNumber(protocol);
    const fib = app.namespace.fibIndex;
    address >>>= 0;
    if (this.lookup.listeners.get(((fib << 8) | proto) >>> 0, address, 0, port) >= 0) {
      throw new SessionError('EADDRINUSE', `${protocol} ${formatIp4(address)}:${port} is already listening in namespace ${app.namespace.id}`);
    }
    this.refreshTime();
    const s = this.allocateSession(app, fib);
    s.protocol = proto;
    s.state = SessionState.LISTENING;
    s.localAddress = address;
    s.localPort = port;
    if (proto === IpProtocol.UDP) {
      try {
        this.allocateFifos(s, app);
        this.claimUdpPort(port);
      } catch (error) {
        this.discard(s, app);
        throw error;
      }
      this.lookup.addListener(fib, proto, address, port, s.index);
    } else {
      this.lookup.addListener(fib, proto, address, port, s.index);
      s.connection = tcp.listen({ localAddress: address, localPort: port, userData: s.index });
    }
    app.listeners.add(s.index);
    return s;
  }

  /**
   * Opens a session to address:port from the app's namespace. TCP: an active open, or a
   * cut-through pair when the address is the namespace's own and an app of the same
   * namespace listens there. UDP: a connected session (datagrams from its peer only).
   * `connected` follows in every case, also on failure.
   */
  connect(app: App, address: number, port: number, appData = 0, protocol: TransportName = 'tcp'): Session {
    const tcp = this.requireEnabled();
    checkPort(port);
    const proto = protocolNumber(protocol);
    const ns = app.namespace;
    const fib = ns.fibIndex;
    address >>>= 0;
    const local = this.sourceAddressFor(ns, address);
    if (local < 0) throw new SessionError('EHOSTUNREACH', `no route to ${formatIp4(address)} in namespace ${ns.id}`);
    if (proto === IpProtocol.TCP && local === address) {
      const li = this.lookup.lookupListener(fib, proto, address, port);
      const listener = li >= 0 ? this.sessions[li] : undefined;
      if (listener !== undefined && this.apps[listener.appIndex]?.namespace.index === ns.index) {
        return this.connectCutThrough(app, listener, address, port, appData);
      }
    }
    const localPort = this.ephemeralPort(fib, proto, local, address, port);
    this.refreshTime();
    const s = this.allocateSession(app, fib);
    s.protocol = proto;
    s.state = SessionState.CONNECTING;
    s.appData = appData;
    this.setEndpoints(s, local, localPort, address, port);
    try {
      this.allocateFifos(s, app);
      if (proto === IpProtocol.UDP) this.claimUdpPort(localPort);
    } catch (error) {
      this.discard(s, app);
      throw error;
    }
    this.lookup.addSession(fib, proto, local, localPort, address, port, s.index);
    if (proto === IpProtocol.UDP) {
      this.queueEvent(s, SessionEvent.CONNECTED);
      return s;
    }
    this.nodeDepth++;
    try {
      s.connection = tcp.connect({ localAddress: local, localPort, remoteAddress: address, remotePort: port, rxFifo: s.rxFifo!, txFifo: s.txFifo!, userData: s.index });
    } finally {
      this.nodeDepth--;
    }
    this.flushOutput();
    return s;
  }

  /**
   * Cut-through (VPP's application_local): both ends are apps of this engine in one
   * namespace, so the session layer joins them FIFO to FIFO — the client's tx FIFO is the
   * server's rx FIFO and the other way round, both from the server app's segment — and no
   * TCP runs. The apps see the same events as over TCP; only `show session` tells.
   */
  private connectCutThrough(app: App, listener: Session, address: number, port: number, appData: number): Session {
    const server = this.apps[listener.appIndex]!;
    const fib = listener.fibIndex;
    const localPort = this.ephemeralPort(fib, IpProtocol.TCP, address, address, port);
    const c = this.allocateSession(app, fib);
    const s = this.allocateSession(server, fib);
    let up: Fifo;
    let down: Fifo;
    try {
      [up, down] = fifoPair(server.segments, server.rxFifoSize, app.rxFifoSize);
    } catch (error) {
      this.freeSession(c);
      this.freeSession(s);
      throw error;
    }
    c.txFifo = s.rxFifo = up;
    c.rxFifo = s.txFifo = down;
    for (const [one, other] of [[c, s], [s, c]]) {
      one.cutThrough = true;
      one.peerIndex = other.index;
      one.pairSegments = server.segments;
    }
    c.state = SessionState.CONNECTING;
    c.appData = appData;
    s.state = SessionState.ACCEPTING;
    s.listenerIndex = listener.index;
    this.setEndpoints(c, address, localPort, address, port);
    this.setEndpoints(s, address, port, address, localPort);
    this.lookup.addSession(fib, IpProtocol.TCP, address, localPort, address, port, c.index);
    this.lookup.addSession(fib, IpProtocol.TCP, address, port, address, localPort, s.index);
    this.queueEvent(s, SessionEvent.ACCEPTED);
    this.queueEvent(c, SessionEvent.CONNECTED);
    return c;
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

  private ephemeralPort(fib: number, protocol: number, local: number, remote: number, remotePort: number): number {
    const udpLocal = this.vm.vnet.udpLocal;
    for (let tries = 0; tries < EPHEMERAL_COUNT; tries++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port === 65535 ? EPHEMERAL_LOW : port + 1;
      if (this.lookup.lookupSession(fib, protocol, local, port, remote, remotePort) >= 0
        || this.lookup.lookupListener(fib, protocol, local, port) >= 0) continue;
      // A UDP port another node handles (VXLAN's) is not ours to take.
      if (protocol === IpProtocol.UDP && !this.udpPortUsers.has(port) && udpLocal.nodeOf(port) !== undefined) continue;
      return port;
    }
    throw new SessionError('EADDRNOTAVAIL', `no free local port towards ${formatIp4(remote)}:${remotePort}`);
  }

  /** Hands datagrams to `port` to udp4-input while some session uses it. */
  private claimUdpPort(port: number): void {
    const users = this.udpPortUsers.get(port) ?? 0;
    if (users === 0) {
      try {
        this.vm.vnet.udpLocal.register(port, UDP_INPUT_NODE);
      } catch (error) {
        throw new SessionError('EADDRINUSE', error instanceof Error ? error.message : String(error));
      }
    }
    this.udpPortUsers.set(port, users + 1);
  }

  private releaseUdpPort(port: number): void {
    const users = this.udpPortUsers.get(port) ?? 0;
    if (users > 1) {
      this.udpPortUsers.set(port, users - 1);
      return;
    }
    this.udpPortUsers.delete(port);
    this.vm.vnet.udpLocal.unregister(port);
  }

  /** An rx and a tx FIFO of the app's sizes from its segments; ENOMEM when they cannot grow. */
  private allocateFifos(s: Session, app: App): void {
    [s.rxFifo, s.txFifo] = fifoPair(app.segments, app.rxFifoSize, app.txFifoSize);
  }

  /** A session that could not be opened: its FIFOs (if it got them) and its slot go back. */
  private discard(s: Session, app: App): void {
    if (s.rxFifo !== null) app.segments.free(s.rxFifo);
    if (s.txFifo !== null) app.segments.free(s.txFifo);
    this.freeSession(s);
  }

  // ---------------------------------------------------------------- app → session

  /** The app wrote to the session's tx FIFO: a tx event for session-queue (the peer's rx, cut-through). */
  send(s: Session): void {
    if (s.state === SessionState.FREE) return;
    if (s.cutThrough) {
      const peer = this.livePeer(s);
      if (peer !== null) this.queueEvent(peer, SessionEvent.RX);
      return;
    }
    if (s.protocol === IpProtocol.TCP && s.connection === null) return;
    this.queueEvent(s, SessionEvent.TX);
  }

  /**
   * UDP: queues one datagram to address:port (by default a connected session's peer);
   * false when the tx FIFO has no room for it now (the app waits for `txSpace`).
   */
  sendTo(s: Session, payload: Uint8Array, offset: number, length: number, address = s.remoteAddress, port = s.remotePort): boolean {
    if (s.protocol !== IpProtocol.UDP || s.txFifo === null) throw new SessionError('EINVAL', `session ${s.index} is not an open udp session`);
    if (!(Number.isInteger(length) && length >= 0 && length <= this.maxDatagram)) {
      throw new SessionError('EMSGSIZE', `datagram of ${length} bytes: at most ${this.maxDatagram}`);
    }
    if (address === 0 || !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      throw new SessionError('EDESTADDRREQ', `no destination for a datagram on session ${s.index}`);
    }
    let local = s.localAddress;
    if (local === 0) {
      local = this.sourceAddressFor(this.apps[s.appIndex]!.namespace, address >>> 0);
      if (local < 0) throw new SessionError('EHOSTUNREACH', `no route to ${formatIp4(address)}`);
    }
    if (!writeDatagram(s.txFifo, payload, offset, length, address >>> 0, port, local, s.localPort)) return false;
    this.send(s);
    return true;
  }

  /**
   * UDP: takes the next datagram from the rx FIFO — payload into dst (a longer datagram is
   * cut at `max`), sender into `from`. Returns the bytes copied, −1 when none is waiting.
   */
  receiveFrom(s: Session, dst: Uint8Array, offset: number, max: number, from: DatagramHeader): number {
    if (s.protocol !== IpProtocol.UDP || s.rxFifo === null) throw new SessionError('EINVAL', `session ${s.index} is not an open udp session`);
    return readDatagram(s.rxFifo, dst, offset, max, from);
  }

  /** The app took bytes from the rx FIFO: TCP may open the window; a cut-through peer may write. */
  rxConsumed(s: Session): void {
    if (s.cutThrough) {
      const peer = this.livePeer(s);
      if (peer !== null) this.queueEvent(peer, SessionEvent.TX_SPACE);
      return;
    }
    const c = s.connection;
    if (c === null || this.tcp === null) return;
    this.refreshTime();
    this.tcp.received(c);
    this.flushOutput();
  }

  /** Half-close: FIN after the queued data (cut-through: the peer hears `disconnected`). */
  shutdown(s: Session): void {
    if (s.cutThrough) {
      this.closeSending(s);
      return;
    }
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

  /**
   * Orderly close (VPP's disconnect): FIN after queued data; a listener stops listening.
   * A UDP session is gone at once; a cut-through pair when both sides have closed.
   */
  close(s: Session): void {
    if (s.state === SessionState.FREE) return;
    if (s.cutThrough) {
      if (s.appClosed) return;
      this.closeSending(s);
      s.appClosed = true;
      s.state = SessionState.CLOSING;
      const peer = this.livePeer(s);
      if (peer === null || peer.appClosed) {
        this.queueEvent(s, SessionEvent.CLEANUP);
        if (peer !== null) this.queueEvent(peer, SessionEvent.CLEANUP);
      }
      return;
    }
    if (s.protocol === IpProtocol.UDP) {
      if (s.state !== SessionState.LISTENING) s.state = SessionState.CLOSING;
      this.queueEvent(s, SessionEvent.CLEANUP);
      return;
    }
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
    // Closed after a half-close that ended in TIME-WAIT: nothing more for the app.
    if (c.state === TcpState.TIME_WAIT && s.appIndex >= 0) this.releaseFromApp(s);
    this.flushOutput();
  }

  /** Abortive close: RST (cut-through: the peer hears `reset`; UDP: as close). */
  abort(s: Session): void {
    if (s.state === SessionState.FREE) return;
    if (s.cutThrough) {
      const peer = this.livePeer(s);
      s.appClosed = s.sendClosed = true;
      s.state = SessionState.CLOSED;
      this.queueEvent(s, SessionEvent.CLEANUP);
      if (peer !== null) {
        const resetPeer = !peer.appClosed;
        peer.appClosed = peer.sendClosed = true;
        this.queueEvent(peer, resetPeer ? SessionEvent.RESET | SessionEvent.CLEANUP : SessionEvent.CLEANUP);
      }
      return;
    }
    if (s.protocol === IpProtocol.UDP) {
      this.close(s);
      return;
    }
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

  /**
   * TCP keepalive on or off for the session (SO_KEEPALIVE; timing from `tcp { keepalive-… }`).
   * The idle time counts from now. Sessions without TCP under them (cut-through, UDP) have
   * no peer to probe: ENOTSUP.
   */
  setKeepalive(s: Session, enabled: boolean): void {
    const c = s.connection;
    if (c === null || this.tcp === null || c.state === TcpState.LISTEN) {
      throw new SessionError('ENOTSUP', `session ${s.index} has no TCP connection to keep alive`);
    }
    this.refreshTime();
    this.tcp.setKeepalive(c, enabled);
    this.flushOutput();
  }

  /** Cut-through: this side sends no more; the peer hears `disconnected` once. */
  private closeSending(s: Session): void {
    if (s.sendClosed) return;
    s.sendClosed = true;
    const peer = this.livePeer(s);
    if (peer !== null && !peer.appClosed) this.queueEvent(peer, SessionEvent.DISCONNECTED);
  }

  /** A cut-through session's peer while the pair holds, else null. */
  private livePeer(s: Session): Session | null {
    if (s.peerIndex < 0) return null;
    const peer = this.sessions[s.peerIndex];
    return peer.state !== SessionState.FREE && peer.peerIndex === s.index ? peer : null;
  }

  /** UDP in the engine (udp4-input): a datagram landed in the session's rx FIFO. */
  notifyRx(s: Session): void {
    this.queueEvent(s, SessionEvent.RX);
  }

  private queueEvent(s: Session, events: number): void {
    s.events |= events;
    if (s.queued) return;
    s.queued = true;
    this.eventQueue.push(s.index);
    this.interruptQueue();
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
    if (sink.count > 0) {
      this.vm.enqueue('tcp4-output', sink.staged, sink.count);
      sink.count = 0;
    }
    if (sink.resetCount > 0) {
      this.vm.enqueue('tcp4-reset', sink.resets, sink.resetCount);
      sink.resetCount = 0;
    }
    if (this.datagramCount > 0) {
      this.vm.enqueue('udp4-output', this.datagrams, this.datagramCount);
      this.datagramCount = 0;
    }
  }

  /** Outside a node: hand segments over at once. */
  flushOutput(): void {
    if (this.nodeDepth === 0) this.handOver();
  }

  /** session-queue: runs the events of up to EVENT_BATCH sessions; true when more remain. */
  drainEvents(): boolean {
    let budget = EVENT_BATCH;
    while (this.eventQueue.length > 0 && budget-- > 0) {
      const s = this.sessions[this.eventQueue.shift()];
      s.queued = false;
      const events = s.events;
      s.events = 0;
      if (events !== 0 && s.state !== SessionState.FREE) this.runEvents(s, events);
    }
    return this.eventQueue.length > 0;
  }

  get eventsPending(): number {
    return this.eventQueue.length;
  }

  private runEvents(s: Session, events: number): void {
    const callbacks = this.apps[s.appIndex]?.callbacks;
    if ((events & SessionEvent.ACCEPTED) !== 0) {
      if (s.state === SessionState.ACCEPTING) s.state = SessionState.READY;
      callbacks?.accepted?.(s);
    }
    if ((events & SessionEvent.CONNECTED) !== 0) {
      if (s.state === SessionState.CONNECTING) s.state = SessionState.READY;
      callbacks?.connected?.(s, null);
    }
    if ((events & SessionEvent.TX) !== 0) {
      if (s.connection !== null) this.tcp!.send(s.connection);
      else if (s.protocol === IpProtocol.UDP) this.transmitDatagrams(s);
    }
    if ((events & SessionEvent.RX) !== 0) callbacks?.rx?.(s);
    if ((events & SessionEvent.TX_SPACE) !== 0) callbacks?.txSpace?.(s);
    if ((events & SessionEvent.DISCONNECTED) !== 0) {
      if (s.state === SessionState.READY || s.state === SessionState.ACCEPTING) s.state = SessionState.PEER_CLOSED;
      callbacks?.disconnected?.(s);
    }
    if ((events & SessionEvent.RESET) !== 0) {
      s.state = SessionState.CLOSED;
      callbacks?.reset?.(s, 'ECONNRESET');
    }
    if ((events & SessionEvent.CLEANUP) !== 0 && s.state !== SessionState.FREE) this.finishSession(s);
  }

  /**
   * A UDP session's tx event: datagrams from its tx FIFO into pool buffers (payload at the
   * data start; udp4-output prepends the headers), at most EVENT_BATCH per event. With no
   * buffer left the rest wait in the FIFO for the next turn, as a NIC queue would.
   */
  private transmitDatagrams(s: Session): void {
    const tx = s.txFifo;
    if (tx === null) return;
    const pool = this.vm.pool;
    const header = this.txHeader;
    const opaque = pool.opaque;
    let sent = 0;
    while (peekDatagram(tx, header)) {
      if (sent === EVENT_BATCH) {
        this.queueEvent(s, SessionEvent.TX);
        break;
      }
      const bi = pool.allocOne();
      if (bi === NONE) {
        this.queueEvent(s, SessionEvent.TX);
        break;
      }
      tx.drop(DATAGRAM_HEADER_LENGTH);
      const start = pool.dataStart(bi);
      tx.dequeue(pool.bytes, start, header.length);
      pool.current[bi] = start;
      pool.length[bi] = header.length;
      pool.flags[bi] = BufferFlag.LOCALLY_ORIGINATED;
      const base = bi * OPAQUE_WORDS;
      opaque[base + OPAQUE_FIB_INDEX] = s.fibIndex;
      opaque[base + OPAQUE_TCP_LOCAL] = header.localAddress;
      opaque[base + OPAQUE_TCP_REMOTE] = header.remoteAddress;
      opaque[base + OPAQUE_UDP_PORTS] = ((header.localPort << 16) | header.remotePort) >>> 0;
      this.datagrams[this.datagramCount++] = bi;
      if (this.datagramCount === STAGE_CAPACITY) this.handOver();
      sent++;
    }
    if (sent > 0) this.queueEvent(s, SessionEvent.TX_SPACE);
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
      [rx, tx] = fifoPair(app.segments, app.rxFifoSize, app.txFifoSize);
    } catch {
      return false; // no memory: TCP refuses the SYN, counted
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

  /**
   * TIME-WAIT: the app's part is over once it has closed (VPP's session_transport_closed_notify):
   * it hears `cleanup` and its FIFOs go back now, not 2·MSL later, while the connection
   * waits alone. An app that only shut down its side keeps them until it closes.
   */
  timeWait(c: TcpConnection): void {
    const s = this.sessions[c.userData];
    if (s !== undefined && s.connection === c && s.state === SessionState.CLOSING) this.releaseFromApp(s);
  }

  /** The app is done with a session whose connection lingers: `cleanup`, FIFOs back, no app. */
  private releaseFromApp(s: Session): void {
    const app = this.apps[s.appIndex];
    const c = s.connection!;
    app?.callbacks.cleanup?.(s);
    if (app !== undefined) {
      if (s.rxFifo !== null) app.segments.free(s.rxFifo);
      if (s.txFifo !== null) app.segments.free(s.txFifo);
    }
    s.rxFifo = s.txFifo = null;
    c.rxFifo = c.txFifo = null;
    s.appIndex = -1;
  }

  closed(c: TcpConnection): void {
    const s = this.sessions[c.userData];
    if (s === undefined || s.connection !== c) return;
    if (c.state === TcpState.LISTEN) s.state = SessionState.LISTENING;
    this.finishSession(s);
  }

  // ---------------------------------------------------------------- sessions

  /**
   * The end of a session of any transport: out of the lookup table, the app's `cleanup`,
   * its FIFOs back to their segment (a cut-through pair's when the second side ends), and
   * the slot back to the pool.
   */
  private finishSession(s: Session): void {
    const app = this.apps[s.appIndex];
    if (s.state === SessionState.LISTENING) {
      this.lookup.removeListener(s.fibIndex, s.protocol, s.localAddress, s.localPort);
      app?.listeners.delete(s.index);
    } else {
      this.lookup.removeSession(s.fibIndex, s.protocol, s.localAddress, s.localPort, s.remoteAddress, s.remotePort);
    }
    if (s.protocol === IpProtocol.UDP) this.releaseUdpPort(s.localPort);
    s.state = SessionState.CLOSED;
    s.connection = null;
    app?.callbacks.cleanup?.(s);
    if (s.cutThrough) {
      if (this.livePeer(s) === null && s.pairSegments !== null) {
        if (s.rxFifo !== null) s.pairSegments.free(s.rxFifo);
        if (s.txFifo !== null) s.pairSegments.free(s.txFifo);
      }
    } else if (app !== undefined) {
      if (s.rxFifo !== null) app.segments.free(s.rxFifo);
      if (s.txFifo !== null) app.segments.free(s.txFifo);
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
    s.protocol = IpProtocol.TCP;
    s.appData = 0;
    s.rxFifo = null;
    s.txFifo = null;
    s.connection = null;
    s.events = 0;
    s.cutThrough = false;
    s.peerIndex = -1;
    s.sendClosed = false;
    s.appClosed = false;
    s.pairSegments = null;
    this.setEndpoints(s, 0, 0, 0, 0);
    this.liveSessions++;
    return s;
  }

  private freeSession(s: Session): void {
    s.state = SessionState.FREE;
    s.connection = null;
    s.rxFifo = null;
    s.txFifo = null;
    s.appIndex = -1;
    s.events = 0;
    s.peerIndex = -1;
    s.pairSegments = null;
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
