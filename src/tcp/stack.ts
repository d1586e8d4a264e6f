// The TCP connection core, independent of the graph: it owns a pool of connections and
// processes one segment at a time — RFC 9293 §3.10.7 "SEGMENT ARRIVES" for every state,
// RFC 5961 challenge ACKs, RFC 7323 window scale, timestamps and PAWS, RFC 2018/6675 SACK
// loss recovery, RFC 6582 NewReno, RFC 6298 retransmission timing with Karn's rule, delayed
// ACK, persist and keepalive timers, TIME-WAIT, a SYN backlog with SYN cookies beyond it
// (syn-cookie.ts). Whoever owns the 4-tuple lookup (the session layer, tcp4-input) finds
// the connection and calls `input`; segments go out through
// a sink that hands over a buffer (bytes + offset) per segment; timers are handles on a timer
// wheel whose expiry comes back as `timerExpired(userHandle)`; apps hear of progress through
// `TcpEvents`, delivered after a segment or timer is fully processed (so an app may call back
// into the stack from any event). Data moves through the session FIFOs: received bytes go
// straight to their place in the rx FIFO (out-of-order ones too, reassembly is the FIFO's),
// the advertised window is the rx FIFO's free space, and segments are cut from the tx FIFO,
// whose head is SND.UNA.
//
// Per segment nothing is allocated: the parsed segment lives in scratch fields of the stack,
// options parse into one reused TcpOptions, output options into another. Checksums are the
// caller's: verify before `input`, fill in the sink (devices may offload them).

import { randomBytes } from 'node:crypto';
import {
  clearTcpOptions, emitTcpOptions, newTcpOptions, parseTcpOptionsInto, setTcpAcknowledgmentNumber, setTcpChecksum,
  setTcpDataOffset, setTcpDstPort, setTcpFlags, setTcpSequenceNumber, setTcpSrcPort, setTcpUrgentPointer, setTcpWindow,
  tcpAcknowledgmentNumber, TcpCheck, tcpDstPort, tcpFlags, TcpFlags, tcpHeaderCheck, tcpHeaderLength, tcpOptionsLength,
  tcpSequenceNumber, tcpSrcPort, tcpWindow, TCP_HEADER_LENGTH, TCP_MAX_SACK_BLOCKS, type TcpOptions,
} from '../wire/tcp.ts';
import { FIFO_NO_INTERVAL, type Fifo, type FifoByteSource } from '../svm/fifo.ts';
import { congestionControls, type CongestionControl, type CongestionControlName } from './congestion.ts';
import { TcpConnection, TcpEvent, TcpState, TcpTimer, TCP_TIMER_COUNT, type TcpErrorCode } from './connection.ts';
import { IsnGenerator } from './isn.ts';
import {
  decodeSynCookie, decodeSynCookieTsEcr, deriveSynCookieKey, encodeSynCookie, encodeSynCookieTsVal, synCookieMss,
  synCookieMssIndex, synCookieOurWscale, synCookiePeerWscale, synCookieSackPermitted, synCookieTimestamps,
  SYN_COOKIE_INVALID, SYN_COOKIE_LIFETIME_MS, type SynCookieKey,
} from './syn-cookie.ts';
import { DUP_THRESH } from './sack.ts';
import { seqGeq, seqGt, seqInWindow, seqLeq, seqLt, seqSub } from './seq.ts';

/** The timer wheel as TCP uses it (src/vlib/timer-wheel.ts's TimerWheel fits). */
export interface TcpTimers {
  /** Starts a timer reporting `userHandle` after `delayMs`; returns a non-zero handle. */
  start(delayMs: number, userHandle: number): number;
  stop(handle: number): unknown;
}

/** Where segments go. One `reserve` then one `send` per segment. */
export interface TcpSegmentSink {
  /** The array `reserve`'s offsets point into. */
  readonly bytes: Uint8Array;
  /** Room for a segment of up to `room` bytes (TCP header + payload); its offset in `bytes`, or −1 (not sent, counted). */
  reserve(room: number): number;
  /** The largest `room` reserve can give (a buffer's data size), when it has one: segments are cut to fit. */
  readonly maxSegmentRoom?: number;
  /**
   * The segment of `length` bytes at the reserved offset is complete except for its checksum,
   * from localAddress to remoteAddress; `connection` is null for a stateless reply (a reset,
   * a SYN cookie's SYN-ACK), routed back the way the segment it answers came.
   */
  send(length: number, connection: TcpConnection | null, localAddress: number, remoteAddress: number): void;
}

/**
 * What apps (the session layer) hear. Every connection from `connect`, and every child for
 * which `incoming` returned true, gets exactly one `closed` as its last event; after it
 * returns the connection object is reused.
 */
export interface TcpEvents {
  /**
   * A SYN for `listener` — or, when the backlog was full, an ACK returning a valid SYN cookie: give
   * `child` its FIFOs (and userData) and return true, or false to refuse it. Do not call the stack from here.
   */
  incoming(listener: TcpConnection, child: TcpConnection): boolean;
  /** A passive open reached ESTABLISHED (`listener` is null if the listener closed meanwhile). */
  accepted(listener: TcpConnection | null, connection: TcpConnection): void;
  /** An active open (or a simultaneous one) reached ESTABLISHED. */
  connected(connection: TcpConnection): void;
  /** An active open failed: ECONNREFUSED (reset) or ETIMEDOUT (no answer). */
  connectFailed(connection: TcpConnection, code: TcpErrorCode): void;
  /** New in-order bytes in the rx FIFO. */
  received(connection: TcpConnection): void;
  /** ACKs freed space in the tx FIFO. */
  sendSpace(connection: TcpConnection): void;
  /** The peer's FIN arrived: no more data will come. */
  peerClosed(connection: TcpConnection): void;
  /** The connection was reset (ECONNRESET) or timed out (ETIMEDOUT). */
  reset(connection: TcpConnection, code: TcpErrorCode): void;
  /**
   * The connection entered TIME-WAIT: from now on the stack reads neither FIFO (its ACKs
   * advertise the window last advertised), so the owner may take them back and set them to
   * null while the connection waits out 2·MSL on its own (VPP frees the session here).
   */
  timeWait?(connection: TcpConnection): void;
  /** The connection is gone; release its FIFOs. */
  closed(connection: TcpConnection): void;
}

export interface TcpConfig {
  /** The MSS we announce (MTU − 40). */
  mss?: number;
  congestionControl?: CongestionControlName;
  /** Initial window in segments (RFC 6928). */
  initialWindowSegments?: number;
  windowScaling?: boolean;
  timestamps?: boolean;
  sack?: boolean;
  rtoInitialMs?: number;
  rtoMinMs?: number;
  rtoMaxMs?: number;
  delayedAckMs?: number;
  /** 2·MSL. */
  timeWaitMs?: number;
  finWait2TimeoutMs?: number;
  /** SYN (and SYN-ACK) retransmissions before giving up. */
  synRetries?: number;
  /** Data retransmission timeouts in a row before giving up (Linux tcp_retries2). */
  dataRetries?: number;
  keepaliveIdleMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveProbes?: number;
  /** Children in SYN-RECEIVED per listener; SYNs beyond it get a SYN cookie, or are dropped without cookies. */
  synBacklog?: number;
  /** Answer SYNs beyond the backlog with SYN cookies (RFC 4987 §3.6; Linux tcp_syncookies=1). */
  synCookies?: boolean;
  /** Challenge ACKs per second, stack-wide (RFC 5961 §7). */
  challengeAckLimit?: number;
  /** Blocks the SACK scoreboard holds. */
  sackBlocks?: number;
  /** Key for RFC 6528 ISNs; random when absent. */
  isnSecret?: Uint8Array;
}

const DEFAULTS = {
  mss: 1460,
  congestionControl: 'cubic' as CongestionControlName,
  initialWindowSegments: 10,
  windowScaling: true,
  timestamps: true,
  sack: true,
  rtoInitialMs: 1000,
  rtoMinMs: 200,
  rtoMaxMs: 60_000,
  delayedAckMs: 40,
  timeWaitMs: 60_000,
  finWait2TimeoutMs: 60_000,
  synRetries: 6,
  dataRetries: 15,
  keepaliveIdleMs: 7_200_000,
  keepaliveIntervalMs: 75_000,
  keepaliveProbes: 9,
  synBacklog: 1024,
  synCookies: true,
  challengeAckLimit: 1000,
  sackBlocks: 32,
};
export type ResolvedTcpConfig = typeof DEFAULTS;

/** Counters for `show tcp stats`, one field each (fixed shape). */
export class TcpStats {
  segmentsIn = 0;
  segmentsOut = 0;
  malformed = 0;
  resetsSent = 0;
  resetsReceived = 0;
  challengeAcks = 0;
  challengeAcksSuppressed = 0;
  pawsDropped = 0;
  outOfWindow = 0;
  ackForUnsent = 0;
  duplicateAcks = 0;
  fastRetransmits = 0;
  /** Retransmissions found lost in SACK recovery (data sent after them was SACKed): sent again. */
  lostRetransmits = 0;
  /** Tail loss probes sent (RFC 8985 §7): a segment after 2·SRTT of silence, instead of waiting for the RTO. */
  tailLossProbes = 0;
  /** Recoveries started by a probe's ACK: the data before the probe was lost. */
  probeRecoveries = 0;
  timeouts = 0;
  segmentsRetransmitted = 0;
  bytesRetransmitted = 0;
  outOfOrderSegments = 0;
  outOfOrderDropped = 0;
  duplicateSegments = 0;
  synBacklogDrops = 0;
  /** SYN-ACKs sent with a cookie for ISN (the backlog was full). */
  synCookiesSent = 0;
  /** ACKs to a listener whose cookie checked: connections made from them. */
  synCookiesValidated = 0;
  /** ACKs to a listener, after cookies were sent, whose cookie did not check (answered with a reset). */
  synCookiesFailed = 0;
  incomingRefused = 0;
  /** Segments for no connection, answered with a reset. */
  refused = 0;
  connectionsOpened = 0;
  connectionsAccepted = 0;
  connectionsEstablished = 0;
  noBuffer = 0;
  zeroWindowProbes = 0;
  keepaliveProbes = 0;
  delayedAcks = 0;
}

export interface TcpConnectParams {
  localAddress: number;
  localPort: number;
  remoteAddress: number;
  remotePort: number;
  rxFifo: Fifo;
  txFifo: Fifo;
  keepalive?: boolean;
  congestionControl?: CongestionControlName;
  mss?: number;
  userData?: number;
}

export interface TcpListenParams {
  localAddress: number;
  localPort: number;
  keepalive?: boolean;
  congestionControl?: CongestionControlName;
  mss?: number;
  userData?: number;
}

export class TcpApiError extends Error {
  override readonly name = 'TcpApiError';
  readonly code: TcpErrorCode;
  constructor(code: TcpErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** RFC 9293 §3.7.1: the MSS assumed when the peer sends none. */
const DEFAULT_MSS = 536;
/** Smallest MSS taken from a peer (Linux TCP_MIN_MSS): leaves room for 40 bytes of options. */
const MIN_MSS = 88;
/** RFC 7323 §5.5: TS.Recent older than 24 days is invalid for PAWS. */
const PAWS_IDLE_MS = 24 * 86_400_000;
const TIMESTAMPS_OPTION_LENGTH = 12;
/**
 * The shortest probe timeout (Linux: 10 ms). In-engine RTTs are microseconds, and a turn of
 * a busy engine can take longer than 10 ms while an ACK waits in a queue behind the timers:
 * 20 ms keeps such spurious probes rare and still repairs a tail loss ten times sooner than
 * the 200 ms RTO.
 */
const PROBE_MIN_MS = 20;
const MAX_WINDOW_SHIFT = 14;

const { SYN, ACK, FIN, RST, PSH } = TcpFlags;

/** Smallest shift that fits `bytes` in the 16-bit window field (RFC 7323 §2.3: at most 14). */
export function windowShiftFor(bytes: number): number {
  let shift = 0;
  while (shift < MAX_WINDOW_SHIFT && bytes >>> shift > 0xffff) shift++;
  return shift;
}

export class TcpStack {
  readonly config: ResolvedTcpConfig;
  readonly stats = new TcpStats();
  private readonly timers: TcpTimers;
  private readonly sink: TcpSegmentSink;
  private readonly events: TcpEvents;
  private readonly clock: () => number;
  private readonly isnGenerator: IsnGenerator;
  private readonly synCookieKey: SynCookieKey;
  private readonly pool: TcpConnection[] = [];
  private readonly freeSlots: number[] = [];
  private live = 0;

  // The segment being processed.
  private nowMs = 0;
  private segSeq = 0;
  private segAck = 0;
  private segFlags = 0;
  private segWindow = 0;
  private segDataOffset = 0;
  private segDataLength = 0;
  private segBytes: Uint8Array = new Uint8Array(0);
  /** Where the payload is when it does not follow the header in segBytes (a chained segment). */
  private segPayload: FifoByteSource | null = null;
  private readonly segOptions: TcpOptions = newTcpOptions();
  private readonly outOptions: TcpOptions = newTcpOptions();

  private challengeAckWindowMs = -Infinity;
  private challengeAcksInWindow = 0;

  constructor(options: { timers: TcpTimers; sink: TcpSegmentSink; events: TcpEvents; clock: () => number; config?: TcpConfig }) {
    const { isnSecret, ...rest } = options.config ?? {};
    this.config = { ...DEFAULTS };
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) (this.config as Record<string, unknown>)[key] = value;
    }
    if (!(this.config.congestionControl in congestionControls)) {
      throw new TcpApiError('EINVAL', `unknown congestion control ${this.config.congestionControl}: expected newreno or cubic`);
    }
    if (!(this.config.mss >= MIN_MSS && this.config.mss <= 65495)) throw new TcpApiError('EINVAL', `invalid mss ${this.config.mss}: expected ${MIN_MSS}..65495`);
    this.timers = options.timers;
    this.sink = options.sink;
    this.events = options.events;
    this.clock = options.clock;
    // One secret for RFC 6528 ISNs and, through a derived key, for SYN cookies.
    const secret = isnSecret ?? randomBytes(16);
    this.isnGenerator = new IsnGenerator(secret);
    this.synCookieKey = deriveSynCookieKey(secret);
  }

  /** Connections in use (listeners included). */
  get connectionCount(): number {
    return this.live;
  }

  /** The connection in pool slot `index`, or undefined. */
  connection(index: number): TcpConnection | undefined {
    const c = this.pool[index];
    return c !== undefined && c.state !== TcpState.FREE ? c : undefined;
  }

  /** Every live connection (control path: show commands, tests). */
  connections(): TcpConnection[] {
    return this.pool.filter((c) => c.state !== TcpState.FREE);
  }

  // ================================================================ app API

  /** Active open: sends a SYN. The FIFOs are the session's; `connected` or `connectFailed` follows. */
  connect(params: TcpConnectParams): TcpConnection {
    if (params.rxFifo === undefined || params.txFifo === undefined) throw new TcpApiError('EINVAL', 'connect needs an rx and a tx fifo');
    this.nowMs = this.clock();
    const c = this.allocate();
    c.localAddress = params.localAddress >>> 0;
    c.localPort = params.localPort & 0xffff;
    c.remoteAddress = params.remoteAddress >>> 0;
    c.remotePort = params.remotePort & 0xffff;
    c.rxFifo = params.rxFifo;
    c.txFifo = params.txFifo;
    c.userData = params.userData ?? -1;
    this.setupFromParams(c, params);
    c.offeredWscale = this.config.windowScaling ? windowShiftFor(c.rxFifo.size) : -1;
    c.offeredTimestamps = this.config.timestamps;
    c.offeredSack = this.config.sack;
    c.iss = this.isnGenerator.isn(c.localAddress, c.localPort, c.remoteAddress, c.remotePort, this.nowMs);
    c.sndUna = c.iss;
    c.sndNxt = c.iss;
    c.sndMax = c.iss;
    c.recoverSeq = c.iss;
    c.state = TcpState.SYN_SENT;
    this.stats.connectionsOpened++;
    this.sendSyn(c);
    return c;
  }

  /** Passive open: a connection in LISTEN; `incoming` is asked for each SYN. */
  listen(params: TcpListenParams): TcpConnection {
    this.nowMs = this.clock();
    const c = this.allocate();
    c.localAddress = params.localAddress >>> 0;
    c.localPort = params.localPort & 0xffff;
    c.userData = params.userData ?? -1;
    this.setupFromParams(c, params);
    c.state = TcpState.LISTEN;
    return c;
  }

  /** The app put data in the tx FIFO. */
  send(c: TcpConnection): void {
    if (c.state === TcpState.FREE) return;
    this.nowMs = this.clock();
    this.output(c);
    this.flush(c);
  }

  /** The app took data from the rx FIFO: announce the opened window when it grew enough. */
  received(c: TcpConnection): void {
    if (c.state !== TcpState.ESTABLISHED && c.state !== TcpState.FIN_WAIT_1 && c.state !== TcpState.FIN_WAIT_2) return;
    this.nowMs = this.clock();
    const fifo = c.rxFifo!;
    let current = seqSub(c.rcvAdvertisedEdge, c.rcvNxt);
    if (current < 0) current = 0;
    const free = fifo.maxEnqueue();
    // As Linux's tcp_cleanup_rbuf: a window update of its own only when the advertised window
    // has fallen to half the buffer and the read at least doubles it (and by SWS avoidance's
    // minimum); otherwise the next ACK carries the new window.
    const threshold = Math.min(fifo.size >>> 1, c.rcvMss);
    if (2 * current <= fifo.size && free >= 2 * current && free - current >= threshold) this.sendAck(c);
    this.flush(c);
  }

  /** Half-close: a FIN follows the data already queued (RFC 9293 §3.10.4). */
  shutdown(c: TcpConnection): void {
    this.nowMs = this.clock();
    this.queueFin(c);
    this.flush(c);
  }

  /**
   * Full close: like shutdown, and the app reads no more — unread data, or data arriving
   * later, is answered with a reset (RFC 1122 §4.2.2.13). A listener stops listening.
   */
  close(c: TcpConnection): void {
    this.nowMs = this.clock();
    switch (c.state) {
      case TcpState.FREE:
      case TcpState.CLOSED:
        return;
      case TcpState.LISTEN:
        this.closeListener(c);
        break;
      case TcpState.SYN_SENT:
        this.terminate(c, 0);
        break;
      default:
        c.appClosed = true;
        if (c.rxFifo !== null && c.rxFifo.maxDequeue() > 0 && this.isSynchronizedOpen(c)) {
          this.sendResetFor(c);
          this.terminate(c, 0);
          break;
        }
        this.queueFin(c);
        if (c.state === TcpState.FIN_WAIT_2) this.startTimer(c, TcpTimer.WAIT_CLOSE, this.config.finWait2TimeoutMs);
    }
    this.flush(c);
  }

  /** Abortive close: RST to the peer (when synchronized), then gone. */
  abort(c: TcpConnection): void {
    if (c.state === TcpState.FREE || c.state === TcpState.CLOSED) return;
    this.nowMs = this.clock();
    if (c.state === TcpState.LISTEN) {
      this.closeListener(c);
    } else {
      if (c.state !== TcpState.SYN_SENT && c.state !== TcpState.TIME_WAIT) this.sendResetFor(c);
      this.terminate(c, 0);
    }
    this.flush(c);
  }

  /** Turns keepalive on or off for a connection. */
  setKeepalive(c: TcpConnection, enabled: boolean): void {
    c.keepalive = enabled;
    if (!enabled) this.stopTimer(c, TcpTimer.KEEPALIVE);
    else if (c.state === TcpState.ESTABLISHED || c.state === TcpState.CLOSE_WAIT) {
      this.startTimer(c, TcpTimer.KEEPALIVE, this.config.keepaliveIdleMs);
    }
  }

  // ================================================================ segment arrives

  /**
   * One segment: the TCP header at `offset`, `length` bytes of header and data, from
   * srcAddress to dstAddress, checksum already verified. `connection` is what the 4-tuple
   * lookup found (an established connection or a listener), null for nothing — then a reset
   * goes back (RFC 9293 §3.10.7.1). Never throws on segment contents. `payload`, when given,
   * holds the data (from its first byte) that `bytes` holds only the header of: `length` still
   * counts header and data.
   */
  input(connection: TcpConnection | null, bytes: Uint8Array, offset: number, length: number, srcAddress: number, dstAddress: number, payload: FifoByteSource | null = null): void {
    this.nowMs = this.clock();
    this.stats.segmentsIn++;
    this.segPayload = payload;
    if (payload === null && length > bytes.length - offset) length = bytes.length - offset;
    if (tcpHeaderCheck(bytes, offset, length) !== TcpCheck.OK) {
      this.stats.malformed++;
      return;
    }
    const headerLength = tcpHeaderLength(bytes, offset);
    if (!parseTcpOptionsInto(bytes, offset + TCP_HEADER_LENGTH, headerLength - TCP_HEADER_LENGTH, this.segOptions)) {
      this.stats.malformed++;
      return;
    }
    this.segBytes = bytes;
    this.segSeq = tcpSequenceNumber(bytes, offset);
    this.segAck = tcpAcknowledgmentNumber(bytes, offset);
    this.segFlags = tcpFlags(bytes, offset);
    this.segWindow = tcpWindow(bytes, offset);
    this.segDataOffset = offset + headerLength;
    this.segDataLength = length - headerLength;
    if (connection === null || connection.state === TcpState.FREE || connection.state === TcpState.CLOSED) {
      this.replyToClosed(tcpDstPort(bytes, offset), tcpSrcPort(bytes, offset), dstAddress >>> 0, srcAddress >>> 0);
      return;
    }
    connection.segmentsIn++;
    switch (connection.state) {
      case TcpState.LISTEN:
        this.listenInput(connection, tcpSrcPort(bytes, offset), srcAddress >>> 0, dstAddress >>> 0);
        break;
      case TcpState.SYN_SENT:
        this.synSentInput(connection);
        break;
      default:
        this.synchronizedInput(connection);
    }
    this.flush(connection);
  }

  /** RFC 9293 §3.10.7.1: no connection. Never a reset for a reset. */
  private replyToClosed(localPort: number, remotePort: number, localAddress: number, remoteAddress: number): void {
    const flags = this.segFlags;
    if (flags & RST) return;
    this.stats.refused++;
    if (flags & ACK) {
      this.sendReset(localAddress, localPort, remoteAddress, remotePort, this.segAck, 0, RST, null);
    } else {
      const length = this.segDataLength + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
      this.sendReset(localAddress, localPort, remoteAddress, remotePort, 0, (this.segSeq + length) >>> 0, RST | ACK, null);
    }
  }

  /** RFC 9293 §3.10.7.2. */
  private listenInput(listener: TcpConnection, remotePort: number, remoteAddress: number, localAddress: number): void {
    const flags = this.segFlags;
    if (flags & RST) return;
    if (flags & ACK) {
      // The third segment of a handshake answered with a cookie? Only looked for while one
      // sent lately may still be valid (Linux's tcp_synq_no_recent_overflow).
      if (!(flags & SYN) && this.config.synCookies && this.nowMs - listener.synCookieSentAtMs <= SYN_COOKIE_LIFETIME_MS) {
        this.synCookieAckInput(listener, remotePort, remoteAddress, localAddress);
        return;
      }
      this.sendReset(localAddress, listener.localPort, remoteAddress, remotePort, this.segAck, 0, RST, null);
      return;
    }
    if (!(flags & SYN)) return;
    if (listener.synBacklog >= this.config.synBacklog) {
      if (this.config.synCookies) this.sendSynCookie(listener, remotePort, remoteAddress, localAddress);
      else this.stats.synBacklogDrops++;
      return;
    }
    const c = this.child(listener, remotePort, remoteAddress, localAddress);
    if (c === null) return;
    listener.synBacklog++;
    listener.rxFifoSizeHint = c.rxFifo!.size;
    c.irs = this.segSeq;
    c.rcvNxt = (this.segSeq + 1) >>> 0;
    c.lastAckSent = c.rcvNxt;
    const o = this.segOptions;
    c.offeredTimestamps = this.config.timestamps;
    c.offeredSack = this.config.sack;
    c.offeredWscale = this.config.windowScaling && o.windowScale >= 0 ? windowShiftFor(c.rxFifo!.size) : -1;
    this.negotiate(c);
    c.iss = this.isnGenerator.isn(c.localAddress, c.localPort, c.remoteAddress, c.remotePort, this.nowMs);
    c.sndUna = c.iss;
    c.sndNxt = c.iss;
    c.sndMax = c.iss;
    c.recoverSeq = c.iss;
    c.lastReceiveMs = this.nowMs;
    this.sendSyn(c);
  }

  /** A connection for a listener's new peer, in SYN-RECEIVED with the app's FIFOs; null (counted) when the app refuses it. */
  private child(listener: TcpConnection, remotePort: number, remoteAddress: number, localAddress: number): TcpConnection | null {
    const c = this.allocate();
    c.state = TcpState.SYN_RECEIVED;
    c.listener = listener;
    c.localAddress = localAddress;
    c.localPort = listener.localPort;
    c.remoteAddress = remoteAddress;
    c.remotePort = remotePort;
    c.keepalive = listener.keepalive;
    c.cc = listener.cc;
    c.rcvMss = listener.rcvMss;
    c.userData = listener.userData;
    if (!this.events.incoming(listener, c) || c.rxFifo === null || c.txFifo === null) {
      this.release(c);
      this.stats.incomingRefused++;
      return null;
    }
    return c;
  }

  /**
   * RFC 4987 §3.6: the backlog is full, so the SYN gets a SYN-ACK whose ISN is a cookie
   * (syn-cookie.ts) and nothing is kept; the peer's SYN retransmission, if this SYN-ACK is
   * lost, gets another. Its options: our MSS; with timestamps only, window scale and SACK as
   * negotiated, their state in our TSval. Sized for the listener's last child's rx FIFO, as the
   * connection's own FIFO comes only with the ACK.
   */
  private sendSynCookie(listener: TcpConnection, remotePort: number, remoteAddress: number, localAddress: number): void {
    const config = this.config;
    const o = this.segOptions;
    const clientIsn = this.segSeq;
    const timestamps = config.timestamps && o.timestamps;
    const iss = encodeSynCookie(this.synCookieKey, localAddress, listener.localPort, remoteAddress, remotePort, clientIsn,
      synCookieMssIndex(o.mss >= 0 ? o.mss : DEFAULT_MSS), timestamps, this.nowMs);
    const out = this.outOptions;
    out.mss = listener.rcvMss;
    out.windowScale = -1;
    out.sackPermitted = false;
    out.timestamps = false;
    out.sackBlockCount = 0;
    if (timestamps) {
      const peerWscale = config.windowScaling && o.windowScale >= 0 ? o.windowScale : -1;
      const ourWscale = peerWscale >= 0 ? windowShiftFor(listener.rxFifoSizeHint) : 0;
      out.windowScale = peerWscale >= 0 ? ourWscale : -1;
      out.sackPermitted = config.sack && o.sackPermitted;
      out.timestamps = true;
      out.tsVal = encodeSynCookieTsVal(this.nowMs, peerWscale, out.sackPermitted, ourWscale);
      out.tsEcr = o.tsVal;
    }
    const headerLength = TCP_HEADER_LENGTH + tcpOptionsLength(out);
    const at = this.sink.reserve(headerLength);
    if (at < 0) {
      this.stats.noBuffer++;
      return;
    }
    const bytes = this.sink.bytes;
    // RFC 7323 §2.2: the window in a SYN is not scaled.
    const window = listener.rxFifoSizeHint < 0xffff ? listener.rxFifoSizeHint : 0xffff;
    this.writeHeader(bytes, at, listener.localPort, remotePort, iss, (clientIsn + 1) >>> 0, headerLength, SYN | ACK, window);
    emitTcpOptions(out, bytes, at + TCP_HEADER_LENGTH);
    listener.synCookieSentAtMs = this.nowMs;
    this.stats.synCookiesSent++;
    this.stats.segmentsOut++;
    listener.segmentsOut++;
    // A stateless answer, as a reset is: the sink routes it back the way the SYN came.
    this.sink.send(headerLength, null, localAddress, remoteAddress);
  }

  /**
   * An ACK to a listener while cookies may be out: SEG.ACK − 1 a valid cookie for SEG.SEQ − 1
   * makes the connection straight in ESTABLISHED, with the MSS, window scales, SACK and
   * timestamps the cookie recorded, `incoming` and `accepted` to the app as for any passive
   * open, and the rest of the segment (data, FIN) processed as in ESTABLISHED. Anything else
   * is what RFC 9293 §3.10.7.2 says of an ACK in LISTEN: <SEQ=SEG.ACK><CTL=RST>.
   */
  private synCookieAckInput(listener: TcpConnection, remotePort: number, remoteAddress: number, localAddress: number): void {
    const config = this.config;
    const o = this.segOptions;
    const seq = this.segSeq;
    const ack = this.segAck;
    const data = decodeSynCookie(this.synCookieKey, localAddress, listener.localPort, remoteAddress, remotePort, (seq - 1) >>> 0,
      (ack - 1) >>> 0, this.nowMs);
    let options = SYN_COOKIE_INVALID;
    let valid = data !== SYN_COOKIE_INVALID;
    if (valid && synCookieTimestamps(data)) {
      // RFC 7323 §3.2: timestamps were agreed, so every segment carries them — with our TSval
      // echoed, whose low bits are the options. Options we would not have offered are forged.
      options = config.timestamps && o.timestamps ? decodeSynCookieTsEcr(o.tsEcr) : SYN_COOKIE_INVALID;
      valid = options !== SYN_COOKIE_INVALID
        && (config.sack || !synCookieSackPermitted(options))
        && (config.windowScaling || synCookiePeerWscale(options) < 0);
    }
    if (!valid) {
      this.stats.synCookiesFailed++;
      this.sendReset(localAddress, listener.localPort, remoteAddress, remotePort, ack, 0, RST, null);
      return;
    }
    this.stats.synCookiesValidated++;
    const c = this.child(listener, remotePort, remoteAddress, localAddress);
    if (c === null) {
      // The peer believes it is connected: tell it otherwise.
      this.sendReset(localAddress, listener.localPort, remoteAddress, remotePort, ack, 0, RST, null);
      return;
    }
    listener.rxFifoSizeHint = c.rxFifo!.size;
    c.irs = (seq - 1) >>> 0;
    c.rcvNxt = seq;
    c.lastAckSent = seq;
    c.iss = (ack - 1) >>> 0;
    c.sndUna = ack;
    c.sndNxt = ack;
    c.sndMax = ack;
    c.recoverSeq = c.iss;
    c.synTransmits = 1;
    // negotiate() from what the cookie kept rather than from a SYN.
    const peerMss = synCookieMss(data);
    c.sndMss = peerMss < c.rcvMss ? peerMss : c.rcvMss;
    c.offeredTimestamps = options !== SYN_COOKIE_INVALID;
    c.timestampsEnabled = c.offeredTimestamps;
    if (c.timestampsEnabled) {
      c.tsRecent = o.tsVal;
      c.tsRecentAtMs = this.nowMs;
    }
    c.offeredSack = c.timestampsEnabled && synCookieSackPermitted(options);
    c.sackEnabled = c.offeredSack;
    const peerWscale = c.timestampsEnabled ? synCookiePeerWscale(options) : -1;
    if (peerWscale >= 0) {
      c.sndWscale = peerWscale;
      c.rcvWscale = synCookieOurWscale(options);
      c.offeredWscale = c.rcvWscale;
    }
    c.smss = c.sndMss - (c.timestampsEnabled ? TIMESTAMPS_OPTION_LENGTH : 0);
    // What the cookie SYN-ACK offered, at most (it was sized for a FIFO like this one).
    const free = c.rxFifo!.maxEnqueue();
    c.rcvAdvertisedEdge = (seq + (free < 0xffff ? free : 0xffff)) >>> 0;
    this.setSendWindow(c, this.segWindow << c.sndWscale, seq, ack);
    // No RTT sample: TSecr's low bits are options, not time (RFC 6298 §2.1 until one comes).
    this.establish(c, TcpEvent.ACCEPTED);
    this.synchronizedInput(c);
    this.flush(c);
  }

  /** RFC 9293 §3.10.7.3. */
  private synSentInput(c: TcpConnection): void {
    const flags = this.segFlags;
    const ack = this.segAck;
    const hasAck = (flags & ACK) !== 0;
    if (hasAck && (seqLeq(ack, c.iss) || seqGt(ack, c.sndMax))) {
      if (!(flags & RST)) this.sendReset(c.localAddress, c.localPort, c.remoteAddress, c.remotePort, ack, 0, RST, c);
      return;
    }
    if (flags & RST) {
      // RFC 5961 §3.2: in SYN-SENT a reset is believed only when it acknowledges our SYN.
      if (hasAck) {
        this.stats.resetsReceived++;
        c.error = 'ECONNREFUSED';
        this.terminate(c, TcpEvent.CONNECT_FAILED);
      }
      return;
    }
    if (!(flags & SYN)) return;
    c.irs = this.segSeq;
    c.rcvNxt = (this.segSeq + 1) >>> 0;
    c.rcvAdvertisedEdge = c.rcvNxt;
    c.lastAckSent = c.rcvNxt;
    this.negotiate(c);
    if (hasAck) {
      c.sndUna = ack;
      // RFC 7323 §2.2: the window in a SYN segment is never scaled.
      this.setSendWindow(c, this.segWindow, this.segSeq, ack);
      if (c.synTransmits === 1) this.rttSample(c, this.nowMs - c.rttStartMs);
      this.establish(c, TcpEvent.CONNECTED);
      c.ackNow = true;
      this.output(c);
      if (c.ackNow) this.sendAck(c);
    } else {
      // Simultaneous open (RFC 9293 Figure 8): SYN-RECEIVED, our SYN again with an ACK.
      c.state = TcpState.SYN_RECEIVED;
      this.sendSyn(c);
    }
  }

  /** RFC 9293 §3.10.7.4: SYN-RECEIVED and every synchronized state. */
  private synchronizedInput(c: TcpConnection): void {
    let flags = this.segFlags;
    let seq = this.segSeq;
    const ack = this.segAck;
    let dataLength = this.segDataLength;
    const o = this.segOptions;
    c.lastReceiveMs = this.nowMs;
    c.keepaliveProbes = 0;

    if (c.state === TcpState.SYN_RECEIVED && flags & SYN && seq === c.irs) {
      if (!(flags & ACK)) {
        // Their SYN again: our SYN-ACK was lost.
        if (!(flags & RST)) this.sendSyn(c);
        return;
      }
      // Simultaneous open: their SYN-ACK. The SYN is old; what counts is the ACK.
      flags &= ~SYN;
      seq = (seq + 1) >>> 0;
    }

    // RFC 7323 §5.3 PAWS, tolerating one tick as Linux does: under reordering a newer segment
    // (a retransmission) can raise TS.Recent past valid older ones still on their way.
    if (c.timestampsEnabled && o.timestamps && !(flags & RST) && seqLt((o.tsVal + 1) >>> 0, c.tsRecent) && this.nowMs - c.tsRecentAtMs < PAWS_IDLE_MS) {
      this.stats.pawsDropped++;
      this.sendAck(c);
      return;
    }

    // First: the acceptability test.
    let window = seqSub(c.rcvAdvertisedEdge, c.rcvNxt);
    if (window < 0) window = 0;
    const segmentLength = dataLength + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    let acceptable: boolean;
    // A bare segment exactly at the right edge is acceptable, as in Linux's tcp_sequence: with
    // RFC 9293's strict `<`, two ends whose full windows were both lost would answer each
    // other's ACK forever (each ACK's SEQ is at the other's right edge).
    if (segmentLength === 0) acceptable = window === 0 ? seq === c.rcvNxt : seqInWindow(seq, c.rcvNxt, window + 1);
    else if (window === 0) acceptable = false;
    else acceptable = seqInWindow(seq, c.rcvNxt, window) || seqInWindow((seq + segmentLength - 1) >>> 0, c.rcvNxt, window);
    if (!acceptable) {
      if (window === 0 && seq === c.rcvNxt && !(flags & (RST | SYN))) {
        // A zero window still takes ACKs (RFC 9293 §3.10.7.4), and a bare FIN needs no room.
        if (dataLength > 0) {
          dataLength = 0;
          flags &= ~FIN;
          c.ackNow = true;
        }
      } else {
        // TIME-WAIT: the peer's FIN again (our ACK was lost) restarts 2·MSL (RFC 9293 §3.10.7.4).
        if (c.state === TcpState.TIME_WAIT && flags & FIN && ((seq + dataLength + 1) >>> 0) === c.rcvNxt) {
          this.startTimer(c, TcpTimer.WAIT_CLOSE, this.config.timeWaitMs);
        }
        if (!(flags & RST)) {
          this.stats.outOfWindow++;
          if (dataLength > 0) this.stats.duplicateSegments++;
          this.sendAck(c);
        }
        return;
      }
    }

    // Second: RST (RFC 5961 §3.2: only an exact match resets; in-window gets a challenge).
    if (flags & RST) {
      if (seq === c.rcvNxt) this.resetReceived(c);
      else this.challengeAck(c);
      return;
    }

    // RFC 7323 §4.3: TS.Recent follows the segment that Last.ACK.sent covers.
    if (c.timestampsEnabled && o.timestamps && seqGeq(o.tsVal, c.tsRecent) && seqLeq(seq, c.lastAckSent)) {
      c.tsRecent = o.tsVal;
      c.tsRecentAtMs = this.nowMs;
    }

    // Fourth: SYN (RFC 5961 §4.2).
    if (flags & SYN) {
      this.challengeAck(c);
      return;
    }

    // Fifth: ACK.
    if (!(flags & ACK)) return;
    if (c.state === TcpState.SYN_RECEIVED) {
      if (!(seqGt(ack, c.sndUna) && seqLeq(ack, c.sndMax))) {
        this.sendReset(c.localAddress, c.localPort, c.remoteAddress, c.remotePort, ack, 0, RST, c);
        return;
      }
      c.sndUna = ack;
      this.setSendWindow(c, this.segWindow << c.sndWscale, seq, ack);
      if (c.synTransmits === 1) this.rttSample(c, this.nowMs - c.rttStartMs);
      if (c.listener !== null) c.listener.synBacklog--;
      this.establish(c, c.listener !== null ? TcpEvent.ACCEPTED : TcpEvent.CONNECTED);
    } else {
      // RFC 5961 §5.2: SND.UNA − MAX.SND.WND ≤ SEG.ACK ≤ SND.NXT, else discard with an ACK.
      if (seqGt(ack, c.sndMax)) {
        this.stats.ackForUnsent++;
        this.sendAck(c);
        return;
      }
      if (seqLt(ack, (c.sndUna - c.maxSndWnd) >>> 0)) {
        this.challengeAck(c);
        return;
      }
      this.processAck(c, seq, ack, dataLength, flags);
      if (c.state === TcpState.CLOSED) return;
    }

    // Seventh: segment text.
    if (dataLength > 0) {
      const state = c.state;
      if (state === TcpState.ESTABLISHED || state === TcpState.FIN_WAIT_1 || state === TcpState.FIN_WAIT_2) {
        if (c.appClosed) {
          // RFC 1122 §4.2.2.13: data for an app that has closed is lost; say so.
          this.sendResetFor(c);
          this.terminate(c, 0);
          return;
        }
        this.receiveData(c, seq, dataLength);
      }
    }

    // Eighth: FIN.
    if (flags & FIN) this.receiveFin(c, (seq + dataLength) >>> 0);
    else if (c.peerFinPending && c.peerFinSeq === c.rcvNxt) this.receiveFin(c, c.peerFinSeq);

    this.output(c);
    if (c.ackNow || c.segmentsUnacked >= 2) this.sendAck(c);
    else if (c.segmentsUnacked > 0 && c.timers[TcpTimer.DELAYED_ACK] === 0) {
      this.startTimer(c, TcpTimer.DELAYED_ACK, this.config.delayedAckMs);
    }
  }

  /** ACK processing for synchronized states (RFC 9293 §3.10.7.4 fifth, RFC 5681, 6582, 6675). */
  private processAck(c: TcpConnection, seq: number, ack: number, dataLength: number, flags: number): void {
    const o = this.segOptions;
    const windowBytes = this.segWindow << c.sndWscale;
    let windowChanged = false;
    if (seqLt(c.sndWl1, seq) || (c.sndWl1 === seq && seqLeq(c.sndWl2, ack))) {
      windowChanged = windowBytes !== c.sndWnd;
      this.setSendWindow(c, windowBytes, seq, ack);
    }

    if (seqGt(ack, c.sndUna)) {
      const acked = (ack - c.sndUna) >>> 0;
      const finAcked = c.finSent && seqGt(ack, c.finSeq);
      const dataAcked = finAcked ? acked - 1 : acked;
      if (dataAcked > 0) c.txFifo!.drop(dataAcked);
      // RTT: timestamps echo the segment that moved the peer's RCV.NXT, retransmission or
      // not (RFC 7323 §4.1); without them, Karn's rule via the one timed segment.
      if (c.timestampsEnabled && o.timestamps && o.tsEcr !== 0) {
        const sample = (Math.floor(this.nowMs) - o.tsEcr) >>> 0;
        if (sample < 0x7fffffff) this.rttSample(c, sample);
      } else if (c.rttTiming && seqGeq(ack, c.rttSeq)) {
        c.rttTiming = false;
        this.rttSample(c, this.nowMs - c.rttStartMs);
      }
      c.retransmitCount = 0;
      c.sndUna = ack;
      if (seqLt(c.sndNxt, ack)) c.sndNxt = ack;
      if (c.sackEnabled) {
        c.scoreboard.advance(ack);
        if (o.sackBlockCount > 0) c.scoreboard.update(o.sackBlocks, o.sackBlockCount, ack, c.sndMax);
      }
      if (c.inRecovery) {
        if (seqGeq(ack, c.recoverSeq)) {
          c.inRecovery = false;
          c.dupAcks = 0;
          c.cc.onRecoveryExit(c, this.nowMs);
        } else if (c.sackEnabled) {
          this.detectLostRetransmit(c);
        } else {
          // RFC 6582 §3.2 step 5: partial ACK — retransmit the next hole, deflate by what was acked.
          this.retransmitSegment(c, ack, c.smss);
          c.cwnd = c.cwnd > dataAcked ? c.cwnd - dataAcked : 0;
          if (dataAcked >= c.smss) c.cwnd += c.smss;
          if (c.cwnd < c.smss) c.cwnd = c.smss;
        }
      } else {
        c.dupAcks = 0;
        // Grow only a window that was in use (RFC 7661's concern; Linux tcp_is_cwnd_limited):
        // in slow start while the flight was over half of cwnd, after it while nearly all.
        const flight = acked + seqSub(c.sndMax, ack);
        const limited = c.cwnd < c.ssthresh ? 2 * flight > c.cwnd : flight + c.smss >= c.cwnd;
        if (dataAcked > 0 && limited) c.cc.onAck(c, dataAcked, this.nowMs);
      }
      // RFC 6298 §5.2–5.3.
      c.probeOut = false;
      if (c.sndMax === c.sndUna) this.stopTimer(c, TcpTimer.RETRANSMIT);
      else this.armRetransmitTimer(c);
      if (dataAcked > 0) c.pendingEvents |= TcpEvent.SEND_SPACE;
      if (finAcked) {
        switch (c.state) {
          case TcpState.FIN_WAIT_1:
            c.state = TcpState.FIN_WAIT_2;
            this.stopTimer(c, TcpTimer.RETRANSMIT);
            if (c.appClosed) this.startTimer(c, TcpTimer.WAIT_CLOSE, this.config.finWait2TimeoutMs);
            break;
          case TcpState.CLOSING:
            this.enterTimeWait(c);
            break;
          case TcpState.LAST_ACK:
            this.terminate(c, 0);
            break;
        }
      }
      return;
    }

    if (ack !== c.sndUna) return;
    // RFC 5681 §2 duplicate ACK; RFC 6675 §5: an ACK with new SACK information counts too.
    let newSack = false;
    if (c.sackEnabled && o.sackBlockCount > 0) newSack = c.scoreboard.update(o.sackBlocks, o.sackBlockCount, c.sndUna, c.sndMax);
    if (c.sndMax === c.sndUna) return;
    if (!(newSack || (dataLength === 0 && !(flags & FIN) && !windowChanged))) return;
    c.dupAcks++;
    this.stats.duplicateAcks++;
    if (!c.inRecovery) {
      // RFC 8985 §7.4: the probe's ACK shows data above a hole; what was sent before the probe,
      // 2·SRTT and more before it, is lost (RACK's time rule in its simplest case).
      const probeAnswered = c.probeOut && c.sackEnabled && c.scoreboard.count > 0
        && seqGeq(c.scoreboard.highSacked(c.sndUna), c.probeHighSeq);
      if (probeAnswered && seqGeq(c.sndUna, c.recoverSeq)) this.stats.probeRecoveries++;
      const lost = probeAnswered || c.dupAcks >= DUP_THRESH || (c.sackEnabled && c.scoreboard.firstHoleLost(c.sndUna, c.smss));
      // RFC 6582 §3.2 step 2 (and RFC 6675 §5.1 after a timeout): not again until everything
      // sent before the last recovery or timeout is acknowledged — recoverSeq is one past it.
      if (lost && seqGeq(c.sndUna, c.recoverSeq)) this.enterRecovery(c);
    } else if (c.sackEnabled) {
      if (newSack) this.detectLostRetransmit(c);
    } else {
      c.cwnd += c.smss;
    }
  }

  /**
   * SACK recovery: the first hole, already retransmitted in this recovery (HighRxt is past
   * SND.UNA), was lost again when the peer SACKs data sent after the latest retransmission
   * (RFC 8985 §6.2's "sent before a delivered segment", applied to retransmissions, as
   * Linux's tcp_mark_lost_retrans did before RACK). Without this only the retransmission
   * timer repairs a lost retransmission. The holes go again from SND.UNA (HighRxt back to
   * it); the congestion response of this recovery stands (RFC 6675 §5).
   */
  private detectLostRetransmit(c: TcpConnection): void {
    if (!seqGt(c.highRxt, c.sndUna) || !seqGt(c.scoreboard.highSacked(c.sndUna), c.rxtSndMax)) return;
    c.highRxt = c.sndUna;
    this.stats.lostRetransmits++;
  }

  private enterRecovery(c: TcpConnection): void {
    this.stats.fastRetransmits++;
    c.inRecovery = true;
    c.probeOut = false;
    c.recoverSeq = c.sndMax;
    c.cc.onCongestion(c, this.nowMs);
    c.rttTiming = false;
    if (c.sackEnabled) {
      c.highRxt = c.sndUna;
      // RFC 6675 §5 step 4.3, then the pipe loop in output.
      const end = c.scoreboard.count > 0 ? c.scoreboard.starts[0] : c.sndMax;
      const room = seqSub(end, c.sndUna);
      this.retransmitSegment(c, c.sndUna, room < c.smss && room > 0 ? room : c.smss);
    } else {
      // RFC 6582 §3.2 step 3: retransmit, cwnd = ssthresh + 3·SMSS.
      c.cwnd = c.ssthresh + DUP_THRESH * c.smss;
      this.retransmitSegment(c, c.sndUna, c.smss);
    }
    this.startTimer(c, TcpTimer.RETRANSMIT, c.rto);
  }

  /** Places data at its offset in the rx FIFO and decides how soon to ACK. */
  private receiveData(c: TcpConnection, seq: number, dataLength: number): void {
    let offset = seqSub(seq, c.rcvNxt);
    let start = this.segDataOffset;
    let length = dataLength;
    if (offset < 0) {
      // Partly old: RFC 9293 §3.10.7.4 trims to the window.
      start -= offset;
      length += offset;
      offset = 0;
      if (length <= 0) {
        c.ackNow = true;
        return;
      }
    }
    const fifo = c.rxFifo!;
    const hadHoles = fifo.intervalCount > 0;
    const payload = this.segPayload;
    const advance = payload === null
      ? fifo.enqueueAt(offset, this.segBytes, start, length)
      : fifo.enqueueAtFrom(offset, payload, start - this.segDataOffset, length);
    if (advance === FIFO_NO_INTERVAL) {
      this.stats.outOfOrderDropped++;
      c.ackNow = true;
      return;
    }
    if (advance > 0) {
      c.rcvNxt = (c.rcvNxt + advance) >>> 0;
      c.pendingEvents |= TcpEvent.RECEIVED;
      // RFC 5681 §4.2: an ACK at once when a segment fills a hole; else every second one. A
      // segment larger than our MSS is several coalesced ones (a device merged them, as GRO
      // does): it counts as two, so it is acknowledged at once (Linux: more than one full
      // frame since the last ACK).
      if (hadHoles) c.ackNow = true;
      else c.segmentsUnacked += length > c.rcvMss ? 2 : 1;
    } else {
      // Out of order (or past the buffer): a duplicate ACK at once, with SACK blocks.
      this.stats.outOfOrderSegments++;
      c.recentOutOfOrderSeq = seq;
      c.ackNow = true;
    }
  }

  /** The peer's FIN at `finSeq` (RFC 9293 §3.10.7.4 eighth). */
  private receiveFin(c: TcpConnection, finSeq: number): void {
    if (finSeq !== c.rcvNxt) {
      if (seqGt(finSeq, c.rcvNxt)) {
        // Ahead of missing data: kept until the hole fills.
        c.peerFinPending = true;
        c.peerFinSeq = finSeq;
      }
      c.ackNow = true;
      return;
    }
    c.peerFinPending = false;
    c.ackNow = true;
    switch (c.state) {
      case TcpState.SYN_RECEIVED:
      case TcpState.ESTABLISHED:
        c.rcvNxt = (c.rcvNxt + 1) >>> 0;
        c.state = TcpState.CLOSE_WAIT;
        c.pendingEvents |= TcpEvent.PEER_CLOSED;
        break;
      case TcpState.FIN_WAIT_1:
        c.rcvNxt = (c.rcvNxt + 1) >>> 0;
        c.state = TcpState.CLOSING;
        c.pendingEvents |= TcpEvent.PEER_CLOSED;
        break;
      case TcpState.FIN_WAIT_2:
        c.rcvNxt = (c.rcvNxt + 1) >>> 0;
        c.pendingEvents |= TcpEvent.PEER_CLOSED;
        this.enterTimeWait(c);
        break;
      default:
        // CLOSE-WAIT, CLOSING, LAST-ACK: already seen. TIME-WAIT: restart 2·MSL.
        if (c.state === TcpState.TIME_WAIT) this.startTimer(c, TcpTimer.WAIT_CLOSE, this.config.timeWaitMs);
    }
  }

  private resetReceived(c: TcpConnection): void {
    this.stats.resetsReceived++;
    switch (c.state) {
      case TcpState.SYN_RECEIVED:
        if (c.listener !== null) {
          // A passive open goes back to LISTEN: the child just disappears.
          this.terminate(c, 0);
        } else {
          c.error = 'ECONNREFUSED';
          this.terminate(c, TcpEvent.CONNECT_FAILED);
        }
        return;
      case TcpState.ESTABLISHED:
      case TcpState.FIN_WAIT_1:
      case TcpState.FIN_WAIT_2:
      case TcpState.CLOSE_WAIT:
        c.error = 'ECONNRESET';
        this.terminate(c, TcpEvent.RESET);
        return;
      default:
        this.terminate(c, 0);
    }
  }

  /** RFC 5961 §7: challenge ACKs, rate limited stack-wide. */
  private challengeAck(c: TcpConnection): void {
    if (this.nowMs - this.challengeAckWindowMs >= 1000) {
      this.challengeAckWindowMs = this.nowMs;
      this.challengeAcksInWindow = 0;
    }
    if (this.challengeAcksInWindow >= this.config.challengeAckLimit) {
      this.stats.challengeAcksSuppressed++;
      return;
    }
    this.challengeAcksInWindow++;
    this.stats.challengeAcks++;
    this.sendAck(c);
  }

  // ================================================================ output

  /** Sends what the windows allow: new data (or go-back-N after a timeout), the FIN, SACK recovery. */
  private output(c: TcpConnection): void {
    const state = c.state;
    if (state !== TcpState.ESTABLISHED && state !== TcpState.CLOSE_WAIT && state !== TcpState.FIN_WAIT_1
      && state !== TcpState.CLOSING && state !== TcpState.LAST_ACK) return;
    if (c.inRecovery && c.sackEnabled) {
      this.sackRecoveryOutput(c);
      return;
    }
    while (this.sendNext(c, false)) { /* one segment per call */ }
  }

  /**
   * Sends one segment from SND.NXT (new data, or old data again after a timeout) or the FIN,
   * if the windows allow. Returns true when something went out; false when nothing may go or
   * the sink refused (no buffer), which ends `output`'s loop — the data stays in the tx FIFO
   * and goes on the next output or timer. `once`: ignore the sender SWS rule (one segment,
   * for SACK recovery's rule 2).
   */
  private sendNext(c: TcpConnection, once: boolean): boolean {
    const fifo = c.txFifo!;
    const fifoOffset = seqSub(c.sndNxt, c.sndUna);
    const available = fifo.maxDequeue() - fifoOffset;
    if (available <= 0) {
      if (c.finQueued && available === 0 && (!c.finSent || c.sndNxt === c.finSeq)) {
        return this.sendSegment(c, c.sndNxt, ACK | FIN, 0, 0);
      }
      return false;
    }
    // RFC 3042 limited transmit: one more segment per duplicate ACK, before recovery.
    let congestionWindow = c.cwnd;
    if (!c.inRecovery && c.dupAcks > 0 && c.dupAcks < DUP_THRESH) congestionWindow += c.dupAcks * c.smss;
    // In SACK recovery the pipe (RFC 6675 §5 step C) has already let this segment go: cwnd
    // bounds the data in the network, not the span from SND.UNA, so only the peer's window
    // limits it here. Bounded by the span instead, a sender whose flight exceeds the reduced
    // cwnd sends nothing new, no SACK can then show a lost retransmission, and only the
    // retransmission timer ends the recovery.
    const window = c.inRecovery && c.sackEnabled ? c.sndWnd : congestionWindow < c.sndWnd ? congestionWindow : c.sndWnd;
    const usable = window - fifoOffset;
    const maxPayload = this.payloadLimit(c);
    let length = available < maxPayload ? available : maxPayload;
    if (usable < length) length = usable;
    if (length <= 0) {
      if (c.sndWnd - fifoOffset <= 0 && c.sndMax === c.sndUna && c.timers[TcpTimer.PERSIST] === 0) this.startPersist(c);
      return false;
    }
    // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a short segment only with nothing in flight.
    if (!once && length < maxPayload && length < available && fifoOffset > 0) return false;
    // A full segment with more behind it ends where the next one's first byte in the tx FIFO
    // agrees mod 8 with where its payload goes in the buffer (after a header of 20 or 32
    // bytes): copies out of (and, at the peer, into) shared memory then go by words, ~1.7×
    // faster than bytewise (1448 B: 126 vs 200 ns). The up to 7 bytes go in the last segment
    // of what is queued, and only when it has room for them: never one segment more.
    if (length === maxPayload && length < available && length > 64) {
      const shift = (fifo.headAlignment(fifoOffset + length) - (c.timestampsEnabled ? 32 : 20)) & 7;
      const last = (available - length) % maxPayload;
      if (shift !== 0 && last !== 0 && last + shift <= maxPayload) length -= shift;
    }
    let flags = ACK;
    if (length === available) {
      flags |= PSH;
      if (c.finQueued && (!c.finSent || ((c.sndNxt + length) >>> 0) === c.finSeq)) flags |= FIN;
    }
    return this.sendSegment(c, c.sndNxt, flags, fifoOffset, length);
  }

  /** RFC 6675 §5: while cwnd − pipe ≥ SMSS, NextSeg: lost holes (rule 1), new data (2), other holes (3). */
  private sackRecoveryOutput(c: TcpConnection): void {
    const board = c.scoreboard;
    for (let guard = 0; guard < 1024; guard++) {
      const pipe = board.pipe(c.sndUna, c.sndMax, c.highRxt, c.smss);
      if (c.cwnd - pipe < c.smss) return;
      let seq = board.nextRetransmit(c.sndUna, c.highRxt, c.smss, true);
      if (seq < 0) {
        if (this.sendNext(c, true)) continue;
        seq = board.nextRetransmit(c.sndUna, c.highRxt, c.smss, false);
        if (seq < 0) return;
      }
      const room = seqSub(board.holeEnd, seq);
      if (this.retransmitSegment(c, seq, room < c.smss ? room : c.smss) === 0) return;
    }
  }

  /** Sends [seq, seq + up to maxLength) again (with the FIN if it ends there); returns sequence space sent. */
  private retransmitSegment(c: TcpConnection, seq: number, maxLength: number): number {
    const fifoOffset = seqSub(seq, c.sndUna);
    let length = c.txFifo!.maxDequeue() - fifoOffset;
    // Only bytes sent before: past SND.MAX is new data, for sendNext (which moves SND.NXT and
    // SND.MAX). Sent from here, the peer may acknowledge it, and every ACK after that would be
    // beyond SND.MAX, dropped as acknowledging unsent data: the connection would stall.
    const sentBefore = seqSub(c.finSent ? c.finSeq : c.sndMax, seq);
    if (length > sentBefore) length = sentBefore;
    const limit = this.payloadLimit(c);
    if (length > maxLength) length = maxLength;
    if (length > limit) length = limit;
    let flags = ACK;
    if (length < 0) length = 0;
    if (c.finSent && ((seq + length) >>> 0) === c.finSeq) flags |= FIN;
    if (length === 0 && !(flags & FIN)) return 0;
    const sent = length + (flags & FIN ? 1 : 0);
    if (!this.emit(c, seq, flags, fifoOffset, length)) return 0;
    this.stats.segmentsRetransmitted++;
    c.rxtSndMax = c.sndMax;
    this.stats.bytesRetransmitted += length;
    c.segmentsRetransmitted++;
    c.bytesRetransmitted += length;
    c.rttTiming = false;
    const end = (seq + sent) >>> 0;
    if (seqGt(end, c.highRxt)) c.highRxt = end;
    if (c.timers[TcpTimer.RETRANSMIT] === 0) this.startTimer(c, TcpTimer.RETRANSMIT, c.rto);
    return sent;
  }

  /**
   * Sends a segment at `seq` (≥ the old SND.NXT after a timeout) and advances SND.NXT/SND.MAX.
   * False when the sink refused: nothing moves, and the retransmit timer is armed so the
   * segment is tried again even when nothing is in flight to bring an ACK.
   */
  private sendSegment(c: TcpConnection, seq: number, flags: number, fifoOffset: number, length: number): boolean {
    if (!this.emit(c, seq, flags, fifoOffset, length)) {
      if (c.timers[TcpTimer.RETRANSMIT] === 0) this.startTimer(c, TcpTimer.RETRANSMIT, c.rto);
      return false;
    }
    const retransmission = seqLt(seq, c.sndMax);
    if (retransmission) {
      this.stats.segmentsRetransmitted++;
      this.stats.bytesRetransmitted += length;
      c.segmentsRetransmitted++;
      c.bytesRetransmitted += length;
      c.rttTiming = false;
    } else if (!c.timestampsEnabled && !c.rttTiming && length > 0) {
      c.rttTiming = true;
      c.rttSeq = (seq + length) >>> 0;
      c.rttStartMs = this.nowMs;
    }
    let next = (seq + length) >>> 0;
    if (flags & FIN) {
      c.finSent = true;
      c.finSeq = next;
      next = (next + 1) >>> 0;
    }
    c.sndNxt = next;
    if (seqGt(next, c.sndMax)) c.sndMax = next;
    if (c.timers[TcpTimer.RETRANSMIT] === 0) this.armRetransmitTimer(c);
    return true;
  }

  /** The payload a segment can carry now: SND.MSS less this segment's options. */
  private payloadLimit(c: TcpConnection): number {
    let limit = c.smss;
    // An MSS larger than the sink's buffers (MTU 9000 over 2 KiB buffers): smaller segments
    // rather than none at all. Room for the largest header (60 bytes) is kept.
    const room = this.sink.maxSegmentRoom;
    if (room !== undefined && limit > room - 60) limit = room - 60;
    if (c.sackEnabled && c.rxFifo !== null) {
      const blocks = c.rxFifo.intervalCount;
      if (blocks > 0) {
        const max = c.timestampsEnabled ? TCP_MAX_SACK_BLOCKS - 1 : TCP_MAX_SACK_BLOCKS;
        limit -= 4 + 8 * (blocks < max ? blocks : max);
      }
    }
    return limit;
  }

  private sendAck(c: TcpConnection): void {
    // SND.MAX, not a rewound SND.NXT: the peer's window holds everything ever sent.
    this.emit(c, c.sndMax, ACK, 0, 0);
  }

  /** SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) at ISS, with the options being offered or accepted. */
  private sendSyn(c: TcpConnection): void {
    const synAck = c.state === TcpState.SYN_RECEIVED;
    const o = this.outOptions;
    clearTcpOptions(o);
    o.mss = c.rcvMss;
    if (synAck) {
      o.windowScale = c.offeredWscale >= 0 ? c.rcvWscale : -1;
      o.sackPermitted = c.sackEnabled;
      o.timestamps = c.timestampsEnabled;
      o.tsEcr = c.tsRecent;
    } else {
      o.windowScale = c.offeredWscale;
      o.sackPermitted = c.offeredSack;
      o.timestamps = c.offeredTimestamps;
    }
    o.tsVal = Math.floor(this.nowMs) >>> 0;
    const headerLength = TCP_HEADER_LENGTH + tcpOptionsLength(o);
    const at = this.sink.reserve(headerLength);
    c.synTransmits++;
    if (c.synTransmits === 1) c.rttStartMs = this.nowMs;
    c.sndNxt = (c.iss + 1) >>> 0;
    c.sndMax = c.sndNxt;
    this.startTimer(c, TcpTimer.RETRANSMIT, c.rto);
    if (at < 0) {
      this.stats.noBuffer++;
      return;
    }
    const bytes = this.sink.bytes;
    // RFC 7323 §2.2: the window in a SYN is not scaled.
    const free = c.rxFifo!.maxEnqueue();
    const window = free < 0xffff ? free : 0xffff;
    if (synAck) c.rcvAdvertisedEdge = (c.rcvNxt + window) >>> 0;
    this.writeHeader(bytes, at, c.localPort, c.remotePort, c.iss, synAck ? c.rcvNxt : 0, headerLength, synAck ? SYN | ACK : SYN, window);
    emitTcpOptions(o, bytes, at + TCP_HEADER_LENGTH);
    this.transmit(c, headerLength);
    if (synAck) this.ackSent(c);
  }

  /**
   * Writes one segment at `seq` with `length` bytes from `fifoOffset` past the tx FIFO's
   * head, our timestamps and SACK blocks, and the current window. False when the sink had no
   * buffer (counted; a timer will try again).
   */
  private emit(c: TcpConnection, seq: number, flags: number, fifoOffset: number, length: number): boolean {
    const o = this.outOptions;
    // Only what emitTcpOptions reads (clearTcpOptions also zeroes the SACK edges: 4 % of a bulk transfer).
    o.mss = -1;
    o.windowScale = -1;
    o.sackPermitted = false;
    o.timestamps = false;
    o.sackBlockCount = 0;
    if (c.timestampsEnabled) {
      o.timestamps = true;
      o.tsVal = Math.floor(this.nowMs) >>> 0;
      o.tsEcr = c.tsRecent;
    }
    if (c.sackEnabled && flags & ACK && c.rxFifo !== null && c.rxFifo.intervalCount > 0) this.fillSackBlocks(c, o);
    const headerLength = TCP_HEADER_LENGTH + tcpOptionsLength(o);
    const at = this.sink.reserve(headerLength + length);
    if (at < 0) {
      this.stats.noBuffer++;
      return false;
    }
    const bytes = this.sink.bytes;
    this.writeHeader(bytes, at, c.localPort, c.remotePort, seq, flags & ACK ? c.rcvNxt : 0, headerLength, flags, this.windowToAdvertise(c));
    emitTcpOptions(o, bytes, at + TCP_HEADER_LENGTH);
    if (length > 0) c.txFifo!.peek(fifoOffset, bytes, at + headerLength, length);
    this.transmit(c, headerLength + length);
    if (flags & ACK) this.ackSent(c);
    return true;
  }

  private writeHeader(bytes: Uint8Array, at: number, srcPort: number, dstPort: number, seq: number, ack: number, headerLength: number, flags: number, window: number): void {
    setTcpSrcPort(bytes, at, srcPort);
    setTcpDstPort(bytes, at, dstPort);
    setTcpSequenceNumber(bytes, at, seq);
    setTcpAcknowledgmentNumber(bytes, at, ack);
    setTcpDataOffset(bytes, at, headerLength >>> 2);
    setTcpFlags(bytes, at, flags);
    setTcpWindow(bytes, at, window);
    setTcpChecksum(bytes, at, 0);
    setTcpUrgentPointer(bytes, at, 0);
  }

  private transmit(c: TcpConnection, length: number): void {
    c.segmentsOut++;
    this.stats.segmentsOut++;
    this.sink.send(length, c, c.localAddress, c.remoteAddress);
  }

  private ackSent(c: TcpConnection): void {
    c.lastAckSent = c.rcvNxt;
    c.segmentsUnacked = 0;
    c.ackNow = false;
    if (c.timers[TcpTimer.DELAYED_ACK] !== 0) this.stopTimer(c, TcpTimer.DELAYED_ACK);
  }

  /**
   * The window field: the rx FIFO's free space, but (RFC 9293 §3.8.6.2.2, receiver SWS
   * avoidance) the right edge only moves when it can move by min(buffer / 2, MSS); scaled
   * down rounding up, so the edge never moves left.
   */
  private windowToAdvertise(c: TcpConnection): number {
    const fifo = c.rxFifo;
    let current = seqSub(c.rcvAdvertisedEdge, c.rcvNxt);
    if (current < 0) current = 0;
    let window = current;
    // Without a FIFO (TIME-WAIT, the owner took it back): the window last advertised, as
    // Linux's time-wait sockets keep it.
    if (fifo !== null) {
      const free = fifo.maxEnqueue();
      const threshold = (fifo.size >>> 1) < c.rcvMss ? fifo.size >>> 1 : c.rcvMss;
      if (free - current >= threshold) window = free;
    }
    const shift = c.rcvWscale;
    let field = (window + (1 << shift) - 1) >>> shift;
    if (field > 0xffff) field = 0xffff;
    const edge = (c.rcvNxt + field * (1 << shift)) >>> 0;
    if (seqGt(edge, c.rcvAdvertisedEdge)) c.rcvAdvertisedEdge = edge;
    return field;
  }

  /** SACK blocks from the rx FIFO's out-of-order intervals, the most recent one first (RFC 2018 §4). */
  private fillSackBlocks(c: TcpConnection, o: TcpOptions): void {
    const fifo = c.rxFifo!;
    const count = fifo.intervalCount;
    const max = c.timestampsEnabled ? TCP_MAX_SACK_BLOCKS - 1 : TCP_MAX_SACK_BLOCKS;
    const blocks = o.sackBlocks;
    const recent = seqSub(c.recentOutOfOrderSeq, c.rcvNxt);
    let first = -1;
    for (let i = 0; i < count; i++) {
      const offset = fifo.intervalOffset(i);
      if (recent >= offset && recent < offset + fifo.intervalLength(i)) {
        first = i;
        break;
      }
    }
    let n = 0;
    if (first >= 0) {
      const offset = fifo.intervalOffset(first);
      blocks[0] = (c.rcvNxt + offset) >>> 0;
      blocks[1] = (c.rcvNxt + offset + fifo.intervalLength(first)) >>> 0;
      n = 1;
    }
    for (let i = 0; i < count && n < max; i++) {
      if (i === first) continue;
      const offset = fifo.intervalOffset(i);
      blocks[2 * n] = (c.rcvNxt + offset) >>> 0;
      blocks[2 * n + 1] = (c.rcvNxt + offset + fifo.intervalLength(i)) >>> 0;
      n++;
    }
    o.sackBlockCount = n;
  }

  /** A reset with no options; `connection` is only passed on to the sink. */
  private sendReset(localAddress: number, localPort: number, remoteAddress: number, remotePort: number, seq: number, ack: number, flags: number, connection: TcpConnection | null): void {
    const at = this.sink.reserve(TCP_HEADER_LENGTH);
    if (at < 0) {
      this.stats.noBuffer++;
      return;
    }
    this.writeHeader(this.sink.bytes, at, localPort, remotePort, seq, ack, TCP_HEADER_LENGTH, flags, 0);
    this.stats.resetsSent++;
    this.stats.segmentsOut++;
    this.sink.send(TCP_HEADER_LENGTH, connection, localAddress, remoteAddress);
  }

  /** RST for a synchronized connection being aborted: <SEQ=SND.MAX><ACK=RCV.NXT><CTL=RST,ACK>. */
  private sendResetFor(c: TcpConnection): void {
    this.sendReset(c.localAddress, c.localPort, c.remoteAddress, c.remotePort, c.sndMax, c.rcvNxt, RST | ACK, c);
  }

  // ================================================================ timers

  /** The timer wheel fired `userHandle` (connection index · 8 + TcpTimer kind). */
  timerExpired(userHandle: number): void {
    const c = this.pool[userHandle >>> 3];
    const kind = userHandle & 7;
    if (c === undefined || kind >= TCP_TIMER_COUNT || c.timers[kind] === 0) return;
    c.timers[kind] = 0;
    this.nowMs = this.clock();
    switch (kind) {
      case TcpTimer.RETRANSMIT:
        if (c.probeArmed) this.probeTimeout(c);
        else this.retransmitTimeout(c);
        break;
      case TcpTimer.DELAYED_ACK:
        if (c.segmentsUnacked > 0 || c.ackNow) {
          this.stats.delayedAcks++;
          this.sendAck(c);
        }
        break;
      case TcpTimer.PERSIST:
        this.persistTimeout(c);
        break;
      case TcpTimer.KEEPALIVE:
        this.keepaliveTimeout(c);
        break;
      case TcpTimer.WAIT_CLOSE:
        // TIME-WAIT over, or FIN-WAIT-2 of a closed app timed out.
        this.terminate(c, 0);
        break;
    }
    this.flush(c);
  }

  /** RFC 6298 §5.4–5.7, RFC 5681 §3.1 loss window, go-back-N from SND.UNA. */
  private retransmitTimeout(c: TcpConnection): void {
    const config = this.config;
    if (c.state === TcpState.SYN_SENT || c.state === TcpState.SYN_RECEIVED) {
      if (c.synTransmits > config.synRetries) {
        if (c.state === TcpState.SYN_RECEIVED && c.listener !== null) {
          this.terminate(c, 0);
        } else {
          c.error = 'ETIMEDOUT';
          this.terminate(c, TcpEvent.CONNECT_FAILED);
        }
        return;
      }
      this.backoff(c);
      this.sendSyn(c);
      return;
    }
    if (c.state === TcpState.TIME_WAIT || c.state === TcpState.FIN_WAIT_2) return;
    if (c.sndMax === c.sndUna) {
      // Nothing in flight: the timer was armed by a segment the sink refused. Not a loss.
      this.output(c);
      return;
    }
    c.retransmitCount++;
    if (c.retransmitCount > config.dataRetries) {
      this.sendResetFor(c);
      c.error = 'ETIMEDOUT';
      this.terminate(c, TcpEvent.RESET);
      return;
    }
    this.stats.timeouts++;
    c.probeOut = false;
    c.cc.onTimeout(c, this.nowMs);
    c.recoverSeq = c.sndMax;
    c.inRecovery = false;
    c.dupAcks = 0;
    // RFC 2018 §8: after a timeout the receiver may have reneged: forget the scoreboard.
    c.scoreboard.clear();
    c.highRxt = c.sndUna;
    c.sndNxt = c.sndUna;
    c.rttTiming = false;
    this.backoff(c);
    this.output(c);
    // Nothing went (the peer's window is closed): send the first segment anyway, as a probe.
    if (c.sndNxt === c.sndUna) this.retransmitSegment(c, c.sndUna, c.smss);
    this.startTimer(c, TcpTimer.RETRANSMIT, c.rto);
  }

  /**
   * The retransmission timer for data in flight: the RTO, or — with SACK, outside recovery,
   * no probe out and an RTT measured — a probe timeout of 2·SRTT (plus the peer's delayed-ACK
   * allowance when one segment is out) when that comes first (RFC 8985 §7.2). The probe then
   * makes the peer's SACKs show a tail loss that would otherwise wait for the RTO.
   */
  private armRetransmitTimer(c: TcpConnection): void {
    c.probeArmed = false;
    if (c.sackEnabled && !c.inRecovery && !c.probeOut && c.srtt > 0 && c.retransmitCount === 0) {
      let pto = 2 * c.srtt;
      if (seqSub(c.sndMax, c.sndUna) <= c.smss) pto += this.config.delayedAckMs;
      if (pto < PROBE_MIN_MS) pto = PROBE_MIN_MS;
      if (pto < c.rto) {
        c.probeArmed = true;
        this.startTimer(c, TcpTimer.RETRANSMIT, pto);
        return;
      }
    }
    this.startTimer(c, TcpTimer.RETRANSMIT, c.rto);
  }

  /**
   * RFC 8985 §7.3: the probe timer fired — one segment goes out, new data if the windows let
   * it, else the last segment sent once more — and the RTO stands behind it.
   */
  private probeTimeout(c: TcpConnection): void {
    c.probeArmed = false;
    const state = c.state;
    if (c.sndMax === c.sndUna || (state !== TcpState.ESTABLISHED && state !== TcpState.CLOSE_WAIT)) {
      if (c.sndMax !== c.sndUna) this.startTimer(c, TcpTimer.RETRANSMIT, c.rto);
      return;
    }
    this.stats.tailLossProbes++;
    c.probeOut = true;
    if (!this.sendNext(c, true)) {
      const flight = seqSub(c.sndMax, c.sndUna);
      const length = flight < c.smss ? flight : c.smss;
      this.retransmitSegment(c, (c.sndMax - length) >>> 0, length);
    }
    c.probeHighSeq = c.sndMax;
    this.startTimer(c, TcpTimer.RETRANSMIT, c.rto);
  }

  private backoff(c: TcpConnection): void {
    c.rto = Math.min(c.rto * 2, this.config.rtoMaxMs);
  }

  private startPersist(c: TcpConnection): void {
    const delay = Math.min(Math.max(c.rto, this.config.rtoMinMs) * 2 ** c.persistBackoff, this.config.rtoMaxMs);
    this.startTimer(c, TcpTimer.PERSIST, delay);
  }

  /**
   * Zero-window probe: as Linux does, a segment one byte below SND.UNA that the peer cannot
   * accept, so it answers with an ACK carrying its current window. Repeats with backoff for
   * as long as the window stays shut (RFC 9293 §3.8.6.1: never gives up while answered).
   */
  private persistTimeout(c: TcpConnection): void {
    if (!this.isSynchronizedOpen(c) && c.state !== TcpState.LAST_ACK && c.state !== TcpState.CLOSING) return;
    const available = c.txFifo!.maxDequeue() - seqSub(c.sndNxt, c.sndUna);
    if (c.sndWnd > 0 || available <= 0) {
      c.persistBackoff = 0;
      this.output(c);
      return;
    }
    this.stats.zeroWindowProbes++;
    this.emit(c, (c.sndUna - 1) >>> 0, ACK, 0, 0);
    if (c.persistBackoff < 16) c.persistBackoff++;
    this.startPersist(c);
  }

  private keepaliveTimeout(c: TcpConnection): void {
    if (!c.keepalive || (c.state !== TcpState.ESTABLISHED && c.state !== TcpState.CLOSE_WAIT)) return;
    const config = this.config;
    const idle = this.nowMs - c.lastReceiveMs;
    if (idle < config.keepaliveIdleMs && c.keepaliveProbes === 0) {
      this.startTimer(c, TcpTimer.KEEPALIVE, config.keepaliveIdleMs - idle);
      return;
    }
    if (c.keepaliveProbes >= config.keepaliveProbes) {
      this.sendResetFor(c);
      c.error = 'ETIMEDOUT';
      this.terminate(c, TcpEvent.RESET);
      return;
    }
    // RFC 9293 §3.8.4: a segment with SEG.SEQ = SND.NXT − 1 elicits an ACK.
    this.stats.keepaliveProbes++;
    c.keepaliveProbes++;
    this.emit(c, (c.sndUna - 1) >>> 0, ACK, 0, 0);
    this.startTimer(c, TcpTimer.KEEPALIVE, config.keepaliveIntervalMs);
  }

  private startTimer(c: TcpConnection, kind: number, delayMs: number): void {
    const running = c.timers[kind];
    if (running !== 0) this.timers.stop(running);
    c.timers[kind] = this.timers.start(delayMs, c.index * 8 + kind);
  }

  private stopTimer(c: TcpConnection, kind: number): void {
    const running = c.timers[kind];
    if (running !== 0) {
      this.timers.stop(running);
      c.timers[kind] = 0;
    }
  }

  // ================================================================ state changes

  private setupFromParams(c: TcpConnection, params: { keepalive?: boolean; congestionControl?: CongestionControlName; mss?: number }): void {
    c.keepalive = params.keepalive ?? false;
    const name = params.congestionControl ?? this.config.congestionControl;
    const cc: CongestionControl | undefined = congestionControls[name];
    if (cc === undefined) throw new TcpApiError('EINVAL', `unknown congestion control ${name}: expected newreno or cubic`);
    c.cc = cc;
    const mss = params.mss ?? this.config.mss;
    if (!(mss >= MIN_MSS && mss <= 65495)) throw new TcpApiError('EINVAL', `invalid mss ${mss}: expected ${MIN_MSS}..65495`);
    c.rcvMss = mss;
    c.rto = this.config.rtoInitialMs;
  }

  /** Options from the peer's SYN (or SYN-ACK) against what we offered. */
  private negotiate(c: TcpConnection): void {
    const o = this.segOptions;
    let peerMss = o.mss >= 0 ? o.mss : DEFAULT_MSS;
    if (peerMss < MIN_MSS) peerMss = MIN_MSS;
    c.sndMss = peerMss < c.rcvMss ? peerMss : c.rcvMss;
    c.timestampsEnabled = c.offeredTimestamps && o.timestamps;
    if (c.timestampsEnabled) {
      c.tsRecent = o.tsVal;
      c.tsRecentAtMs = this.nowMs;
    }
    c.sackEnabled = c.offeredSack && o.sackPermitted;
    if (c.offeredWscale >= 0 && o.windowScale >= 0) {
      c.sndWscale = o.windowScale < MAX_WINDOW_SHIFT ? o.windowScale : MAX_WINDOW_SHIFT;
      c.rcvWscale = c.offeredWscale;
    } else {
      c.sndWscale = 0;
      c.rcvWscale = 0;
      c.offeredWscale = -1;
    }
    c.smss = c.sndMss - (c.timestampsEnabled ? TIMESTAMPS_OPTION_LENGTH : 0);
  }

  private establish(c: TcpConnection, event: number): void {
    c.state = TcpState.ESTABLISHED;
    this.stopTimer(c, TcpTimer.RETRANSMIT);
    c.retransmitCount = 0;
    // RFC 6298 §5.7: a lost SYN leaves RTO at its backed-off value until a sample; RFC 5681
    // §3.1: the initial window is one segment after a lost SYN.
    c.cc.init(c, c.synTransmits > 1 ? 1 : this.config.initialWindowSegments);
    c.pendingEvents |= event;
    if (c.finQueued) c.state = TcpState.FIN_WAIT_1;
    this.stats.connectionsEstablished++;
    if (event === TcpEvent.ACCEPTED) this.stats.connectionsAccepted++;
    if (c.keepalive) this.startTimer(c, TcpTimer.KEEPALIVE, this.config.keepaliveIdleMs);
  }

  private setSendWindow(c: TcpConnection, windowBytes: number, seq: number, ack: number): void {
    c.sndWnd = windowBytes;
    c.sndWl1 = seq;
    c.sndWl2 = ack;
    if (windowBytes > c.maxSndWnd) c.maxSndWnd = windowBytes;
    if (windowBytes > 0 && c.timers[TcpTimer.PERSIST] !== 0) {
      this.stopTimer(c, TcpTimer.PERSIST);
      c.persistBackoff = 0;
    }
  }

  /** RFC 6298 §2. */
  private rttSample(c: TcpConnection, sample: number): void {
    if (!(sample >= 0)) return;
    if (!c.rttMeasured) {
      c.srtt = sample;
      c.rttvar = sample / 2;
      c.rttMeasured = true;
    } else {
      const delta = c.srtt > sample ? c.srtt - sample : sample - c.srtt;
      c.rttvar = 0.75 * c.rttvar + 0.25 * delta;
      c.srtt = 0.875 * c.srtt + 0.125 * sample;
    }
    const variance = 4 * c.rttvar > 1 ? 4 * c.rttvar : 1;
    let rto = c.srtt + variance;
    if (rto < this.config.rtoMinMs) rto = this.config.rtoMinMs;
    if (rto > this.config.rtoMaxMs) rto = this.config.rtoMaxMs;
    c.rto = rto;
  }

  private queueFin(c: TcpConnection): void {
    switch (c.state) {
      case TcpState.LISTEN:
        this.terminate(c, 0);
        return;
      case TcpState.SYN_SENT:
      case TcpState.SYN_RECEIVED:
        // RFC 9293 §3.10.4: queued until ESTABLISHED, which then becomes FIN-WAIT-1.
        c.finQueued = true;
        return;
      case TcpState.ESTABLISHED:
        c.state = TcpState.FIN_WAIT_1;
        break;
      case TcpState.CLOSE_WAIT:
        c.state = TcpState.LAST_ACK;
        break;
      default:
        return;
    }
    c.finQueued = true;
    this.stopTimer(c, TcpTimer.KEEPALIVE);
    this.output(c);
  }

  private enterTimeWait(c: TcpConnection): void {
    c.state = TcpState.TIME_WAIT;
    c.pendingEvents |= TcpEvent.TIME_WAIT;
    this.stopTimer(c, TcpTimer.RETRANSMIT);
    this.stopTimer(c, TcpTimer.PERSIST);
    this.stopTimer(c, TcpTimer.KEEPALIVE);
    this.startTimer(c, TcpTimer.WAIT_CLOSE, this.config.timeWaitMs);
  }

  private isSynchronizedOpen(c: TcpConnection): boolean {
    const s = c.state;
    return s === TcpState.ESTABLISHED || s === TcpState.FIN_WAIT_1 || s === TcpState.FIN_WAIT_2 || s === TcpState.CLOSE_WAIT;
  }

  /** Ends a connection: timers stop, state CLOSED; `event` (and CLOSED) go to the app at flush, then the slot is freed. */
  private terminate(c: TcpConnection, event: number): void {
    if (c.state === TcpState.SYN_RECEIVED && c.listener !== null) c.listener.synBacklog--;
    for (let kind = 0; kind < TCP_TIMER_COUNT; kind++) this.stopTimer(c, kind);
    c.state = TcpState.CLOSED;
    c.pendingEvents |= event | TcpEvent.CLOSED;
  }

  private closeListener(listener: TcpConnection): void {
    for (const child of this.pool) {
      if (child.listener !== listener || child.state === TcpState.FREE) continue;
      if (child.state === TcpState.SYN_RECEIVED) {
        this.sendResetFor(child);
        this.terminate(child, 0);
        this.flush(child);
      } else {
        child.listener = null;
      }
    }
    this.terminate(listener, 0);
  }

  /** Delivers a connection's pending events in order; after CLOSED the slot is freed. */
  private flush(c: TcpConnection): void {
    const events = this.events;
    while (c.pendingEvents !== 0) {
      const pending = c.pendingEvents;
      const bit = pending & -pending;
      c.pendingEvents = pending & ~bit;
      switch (bit) {
        case TcpEvent.CONNECTED:
          events.connected(c);
          break;
        case TcpEvent.ACCEPTED:
          events.accepted(c.listener, c);
          break;
        case TcpEvent.RECEIVED:
          events.received(c);
          break;
        case TcpEvent.SEND_SPACE:
          events.sendSpace(c);
          break;
        case TcpEvent.PEER_CLOSED:
          events.peerClosed(c);
          break;
        case TcpEvent.RESET:
          events.reset(c, c.error ?? 'ECONNRESET');
          break;
        case TcpEvent.CONNECT_FAILED:
          events.connectFailed(c, c.error ?? 'ECONNREFUSED');
          break;
        case TcpEvent.TIME_WAIT:
          if (c.state === TcpState.TIME_WAIT) events.timeWait?.(c);
          break;
        case TcpEvent.CLOSED:
          c.pendingEvents = 0;
          events.closed(c);
          this.release(c);
          return;
      }
    }
  }

  private allocate(): TcpConnection {
    const index = this.freeSlots.pop();
    let c: TcpConnection;
    if (index === undefined) {
      c = new TcpConnection(this.pool.length, this.config.sackBlocks);
      this.pool.push(c);
    } else {
      c = this.pool[index];
    }
    c.reset();
    c.state = TcpState.CLOSED;
    this.live++;
    return c;
  }

  private release(c: TcpConnection): void {
    for (let kind = 0; kind < TCP_TIMER_COUNT; kind++) this.stopTimer(c, kind);
    c.state = TcpState.FREE;
    c.listener = null;
    c.rxFifo = null;
    c.txFifo = null;
    this.freeSlots.push(c.index);
    this.live--;
  }
}
