// A TCP connection's state (RFC 9293 §3.3.1's TCB), as one fixed-shape object per pool slot:
// every field is set in the constructor and reset for reuse, so V8 keeps one hidden class and
// the per-segment code stays monomorphic. The logic that moves these fields lives in
// stack.ts; this module owns the names — states, timers, pending app events — and the
// field list, each with the RFC's name where it has one.
//
// Memory per connection matters (the issue asks for 100 000 idle connections in 1 GiB of
// heap), so two parts are kept small: the SACK scoreboard is made on first use (a connection
// that never sends data never has one, and reuse of the slot drops it), and the timer handles
// are a view on a chunk of words shared with other connections instead of an array buffer of
// their own. Measured with bench/paths/tcp-idle-memory.bench.ts (100 000 idle pairs): 1.54 kB
// of heap per connection end with its session (FIFO objects excluded) before, 1.04 kB after.

import type { Fifo } from '../svm/fifo.ts';
import { newReno, type CongestionControl, type CongestionState } from './congestion.ts';
import { SackScoreboard } from './sack.ts';

/** RFC 9293 §3.3.2 states. FREE marks a pool slot not in use. */
export const TcpState = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
  FREE: 11,
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

/** Names as VPP's `show session verbose` prints them. */
export const TCP_STATE_NAMES: readonly string[] = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RCVD', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2',
  'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT', 'FREE',
];

/** Timers per connection; a timer's user handle is connection index · 8 + kind. */
export const TcpTimer = {
  /** RFC 6298 retransmission (and SYN / SYN-ACK retransmission). */
  RETRANSMIT: 0,
  DELAYED_ACK: 1,
  /** Zero-window probes (RFC 9293 §3.8.6.1). */
  PERSIST: 2,
  KEEPALIVE: 3,
  /** TIME-WAIT's 2·MSL, and the FIN-WAIT-2 timeout of a fully closed connection. */
  WAIT_CLOSE: 4,
} as const;
export const TCP_TIMER_COUNT = 5;

/** App events gathered while a segment or timer is processed, delivered once it is done. */
export const TcpEvent = {
  CONNECTED: 1 << 0,
  ACCEPTED: 1 << 1,
  RECEIVED: 1 << 2,
  SEND_SPACE: 1 << 3,
  PEER_CLOSED: 1 << 4,
  RESET: 1 << 5,
  CONNECT_FAILED: 1 << 6,
  CLOSED: 1 << 7,
  /** Entered TIME-WAIT: the stack reads neither FIFO any more (delivered after PEER_CLOSED). */
  TIME_WAIT: 1 << 8,
} as const;

export type TcpErrorCode = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EINVAL';

export class TcpConnection implements CongestionState {
  /** Pool slot; stable while the connection lives. */
  readonly index: number;
  state: TcpState = TcpState.FREE;
  /** For a child of a listener, the listener; null otherwise. */
  listener: TcpConnection | null = null;
  /** Set by the owner (the session layer): whatever it maps this connection to. */
  userData = -1;

  // Endpoints (IPv4 addresses as unsigned 32-bit numbers).
  localAddress = 0;
  localPort = 0;
  remoteAddress = 0;
  remotePort = 0;

  rxFifo: Fifo | null = null;
  txFifo: Fifo | null = null;

  // Send sequence space (RFC 9293 §3.3.1).
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** Highest sequence number sent + 1: SND.NXT moves back to SND.UNA after a timeout (go-back-N), this does not. */
  sndMax = 0;
  /** Send window, bytes (scaled). */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Largest window the peer has offered (RFC 5961 §5.2 MAX.SND.WND; sender SWS avoidance). */
  maxSndWnd = 0;
  /** Peer's window scale shift, applied to windows it sends (RFC 7323 §2.3). */
  sndWscale = 0;

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  /** RCV.NXT + the window last advertised: never moved left (RFC 9293 §3.8.6.2.2). */
  rcvAdvertisedEdge = 0;
  /** Our window scale shift, applied to windows we send. */
  rcvWscale = 0;

  // Options.
  /** The MSS we announce. */
  rcvMss = 1460;
  /** min(peer's MSS, ours): a segment's payload plus options. */
  sndMss = 536;
  /** Payload of a full segment after the options every segment carries (SMSS). */
  smss = 536;
  timestampsEnabled = false;
  sackEnabled = false;
  /** RFC 7323 §4.3 TS.Recent and Last.ACK.sent. */
  tsRecent = 0;
  tsRecentAtMs = 0;
  lastAckSent = 0;
  /** What we offered in our SYN (window scale: the shift, −1 for none). */
  offeredWscale = -1;
  offeredTimestamps = false;
  offeredSack = false;

  // Closing.
  /** The app asked for a FIN (shutdown or close). */
  finQueued = false;
  /** Our FIN has gone out at least once, at finSeq. */
  finSent = false;
  finSeq = 0;
  /** The app closed fully (not just shutdown): data arriving now is answered with RST (RFC 1122 §4.2.2.13). */
  appClosed = false;
  /** A FIN from the peer arrived ahead of data still missing, at peerFinSeq. */
  peerFinPending = false;
  peerFinSeq = 0;

  // RTT and retransmission (RFC 6298).
  srtt = 0;
  rttvar = 0;
  /** A first RTT sample has been taken (RFC 6298 §2.2 vs §2.3). */
  rttMeasured = false;
  rto = 1000;
  /** Timeouts in a row without progress (backoff exponent, give-up count). */
  retransmitCount = 0;
  /** Karn's rule without timestamps: one timed segment, acked when SEG.ACK passes rttSeq. */
  rttTiming = false;
  rttSeq = 0;
  rttStartMs = 0;
  /** Times the SYN (or SYN-ACK) was sent. */
  synTransmits = 0;

  // Congestion control and loss recovery.
  cc: CongestionControl = newReno;
  cwnd = 0;
  ssthresh = 0;
  bytesAckedInAvoidance = 0;
  cubicWMax = 0;
  cubicK = 0;
  cubicEpochStartMs = -1;
  cubicEpochCwnd = 0;
  cubicWEst = 0;
  dupAcks = 0;
  inRecovery = false;
  /** RFC 6582 "recover" / RFC 6675 RecoveryPoint. */
  recoverSeq = 0;
  /** RFC 6675 HighRxt: highest byte retransmitted in this recovery + 1. */
  highRxt = 0;
  /**
   * SND.MAX when the latest retransmission went out: once the peer SACKs data beyond it
   * while the first hole stays, that hole's retransmission was lost (RFC 8985's rule that a
   * segment sent before a delivered one is lost, applied to retransmissions).
   */
  rxtSndMax = 0;
  /** The retransmission timer stands for a probe timeout (RFC 8985 §7.2), not the RTO. */
  probeArmed = false;
  /** A tail loss probe is out, not yet answered by an ACK that advanced SND.UNA. */
  probeOut = false;
  /** SND.MAX when the probe went out. */
  probeHighSeq = 0;
  /** The scoreboard once made (see `scoreboard`); null again after reset. */
  private board: SackScoreboard | null = null;
  /** Blocks a scoreboard holds: one object per capacity, shared by reference (reset leaves it). */
  private readonly sackCapacity: { readonly blocks: number };

  // Receiver: ACK policy and SACK blocks.
  /** In-order segments received since the last ACK sent (delayed ACK: ACK every second one). */
  segmentsUnacked = 0;
  /** An ACK must go out before processing ends. */
  ackNow = false;
  /** First byte of the most recent out-of-order segment: its block leads the SACK option (RFC 2018 §4). */
  recentOutOfOrderSeq = 0;

  // Timers: wheel handles by TcpTimer kind, 0 when not running.
  readonly timers: Int32Array = timerWords();
  persistBackoff = 0;
  keepalive = false;
  keepaliveProbes = 0;
  lastReceiveMs = 0;

  // App notification.
  pendingEvents = 0;
  error: TcpErrorCode | null = null;
  /** Children of a listener in SYN-RECEIVED (the backlog). */
  synBacklog = 0;
  /** A listener: when it last answered with a SYN cookie (−Infinity: never). */
  synCookieSentAtMs = -Infinity;
  /** A listener: its last child's rx FIFO size, which sizes a cookie SYN-ACK's window and scale. */
  rxFifoSizeHint = 65536;

  // Counters shown per connection.
  segmentsIn = 0;
  segmentsOut = 0;
  bytesRetransmitted = 0;
  segmentsRetransmitted = 0;

  constructor(index: number, sackCapacity = 32) {
    this.index = index;
    this.sackCapacity = capacityOf(sackCapacity);
  }

  /**
   * The sender's SACK scoreboard (RFC 6675), made on first use: the stack reaches it only
   * once data has been acknowledged with SACK on, so an idle connection never pays for it.
   */
  get scoreboard(): SackScoreboard {
    let board = this.board;
    if (board === null) {
      board = new SackScoreboard(this.sackCapacity.blocks);
      this.board = board;
    }
    return board;
  }

  /** Back to the state of a new object, for reuse from the pool (same fields, same shape). */
  reset(): void {
    if (template === null) {
      template = new TcpConnection(-1, 1);
      resetKeys = Object.keys(template).filter((k) => k !== 'index' && k !== 'sackCapacity' && k !== 'timers');
    }
    const self = this as unknown as Record<string, unknown>;
    const from = template as unknown as Record<string, unknown>;
    // The scoreboard goes with the rest (board ← null): the next user of the slot may never need one.
    for (const key of resetKeys) self[key] = from[key];
    this.timers.fill(0);
  }
}

let template: TcpConnection | null = null;
let resetKeys: string[] = [];

const capacities = new Map<number, { readonly blocks: number }>();

function capacityOf(blocks: number): { readonly blocks: number } {
  let capacity = capacities.get(blocks);
  if (capacity === undefined) {
    capacity = Object.freeze({ blocks });
    capacities.set(blocks, capacity);
  }
  return capacity;
}

/**
 * Timer handle words for one connection: a view on the current chunk, which holds
 * TIMER_CHUNK connections' words. A view of its own costs ~90 bytes less than an Int32Array
 * with its own (on-heap) buffer; a chunk is freed when no connection uses it any more. Each
 * connection gets fresh words, so stacks sharing the process never share a word.
 */
const TIMER_CHUNK = 1024;
let timerChunk: ArrayBuffer | null = null;
let timerChunkUsed = TIMER_CHUNK;

function timerWords(): Int32Array {
  if (timerChunkUsed === TIMER_CHUNK) {
    timerChunk = new ArrayBuffer(TIMER_CHUNK * TCP_TIMER_COUNT * 4);
    timerChunkUsed = 0;
  }
  const words = new Int32Array(timerChunk!, timerChunkUsed * TCP_TIMER_COUNT * 4, TCP_TIMER_COUNT);
  timerChunkUsed++;
  return words;
}
