// Congestion control behind one interface, as VPP's tcp_cc_algorithm_t: the connection core
// owns loss detection and recovery mechanics (duplicate ACKs, NewReno partial ACKs, the SACK
// pipe) and calls the algorithm at four moments — an ACK of new data outside recovery, a
// congestion event (entering fast recovery), the end of recovery, a retransmission timeout.
// The algorithm only moves cwnd and ssthresh (and its own state, kept in fixed fields on the
// connection so every connection has one shape whichever algorithm it runs).
//
// NewReno: RFC 5681 slow start and congestion avoidance (byte counting, RFC 3465 §2.1),
// ssthresh = max(FlightSize / 2, 2·SMSS) on loss, RFC 6582 §3.2 step 3 (option 1) at the end
// of recovery. CUBIC: RFC 9438 with fast convergence and the Reno-friendly region.

/** The fields congestion control reads and writes (a TcpConnection has them all). */
export interface CongestionState {
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow start threshold, bytes. */
  ssthresh: number;
  /** Payload of a full-sized segment, bytes. */
  smss: number;
  /** Bytes acknowledged towards the next congestion avoidance increase (RFC 3465). */
  bytesAckedInAvoidance: number;
  /** Smoothed RTT in ms (0 before the first sample). */
  srtt: number;
  sndUna: number;
  sndMax: number;
  /** CUBIC (RFC 9438 §4): W_max in segments, K in seconds, epoch start in ms (−1: none), cwnd at its start and W_est, in segments. */
  cubicWMax: number;
  cubicK: number;
  cubicEpochStartMs: number;
  cubicEpochCwnd: number;
  cubicWEst: number;
}

export interface CongestionControl {
  readonly name: 'newreno' | 'cubic';
  /** A new connection: initial window (RFC 6928: 10 segments) and ssthresh "arbitrarily high". */
  init(c: CongestionState, initialSegments: number): void;
  /** `acked` bytes of new data acknowledged outside loss recovery. */
  onAck(c: CongestionState, acked: number, nowMs: number): void;
  /** Loss detected by duplicate ACKs or SACK: set ssthresh and cwnd for fast recovery. */
  onCongestion(c: CongestionState, nowMs: number): void;
  /** Fast recovery complete (RFC 6582 full acknowledgment). */
  onRecoveryExit(c: CongestionState, nowMs: number): void;
  /** Retransmission timeout: ssthresh from the loss, cwnd to the loss window (1 SMSS, RFC 5681 §3.1). */
  onTimeout(c: CongestionState, nowMs: number): void;
}

/** ssthresh before the first loss: above any window (RFC 5681 §3.1 "arbitrarily high"). */
export const INITIAL_SSTHRESH = 0x3fffffff;

function flightSize(c: CongestionState): number {
  return (c.sndMax - c.sndUna) >>> 0;
}

/**
 * RFC 5681 §3.1 slow start, counting the bytes acknowledged with no per-ACK limit (RFC 3465
 * §2.2; Linux's tcp_slow_start counts segments the same way): a stretch ACK — one ACK for a
 * segment the veth pair coalesced from many, say — grows the window as the segments it
 * covers would have. It stops at ssthresh, where congestion avoidance takes over.
 */
function slowStart(c: CongestionState, acked: number): void {
  const room = c.ssthresh - c.cwnd;
  c.cwnd += acked < room ? acked : room > c.smss ? room : c.smss;
  if (c.cwnd > INITIAL_SSTHRESH) c.cwnd = INITIAL_SSTHRESH;
}

export const newReno: CongestionControl = {
  name: 'newreno',
  init(c, initialSegments) {
    c.cwnd = initialSegments * c.smss;
    c.ssthresh = INITIAL_SSTHRESH;
    c.bytesAckedInAvoidance = 0;
  },
  onAck(c, acked) {
    if (c.cwnd < c.ssthresh) {
      slowStart(c, acked);
      return;
    }
    // RFC 3465 §2.1: one SMSS per cwnd of bytes acknowledged.
    c.bytesAckedInAvoidance += acked;
    if (c.bytesAckedInAvoidance >= c.cwnd) {
      c.bytesAckedInAvoidance -= c.cwnd;
      c.cwnd += c.smss;
    }
  },
  onCongestion(c) {
    const half = flightSize(c) >>> 1;
    c.ssthresh = half > 2 * c.smss ? half : 2 * c.smss;
    c.cwnd = c.ssthresh;
    c.bytesAckedInAvoidance = 0;
  },
  onRecoveryExit(c) {
    // RFC 6582 §3.2 step 3, option 1: min(ssthresh, max(FlightSize, SMSS) + SMSS).
    const flight = flightSize(c);
    const limit = (flight > c.smss ? flight : c.smss) + c.smss;
    c.cwnd = c.ssthresh < limit ? c.ssthresh : limit;
  },
  onTimeout(c) {
    const half = flightSize(c) >>> 1;
    c.ssthresh = half > 2 * c.smss ? half : 2 * c.smss;
    c.cwnd = c.smss;
    c.bytesAckedInAvoidance = 0;
  },
};

/** RFC 9438 §5: C = 0.4, β_cubic = 0.7, α_cubic = 3(1 − β)/(1 + β). */
const CUBIC_C = 0.4;
const CUBIC_BETA = 0.7;
const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** RFC 9438 §4.6–4.7: W_max with fast convergence, then ssthresh = cwnd·β. */
function cubicReduce(c: CongestionState): void {
  const segments = c.cwnd / c.smss;
  c.cubicWMax = segments < c.cubicWMax ? (segments * (1 + CUBIC_BETA)) / 2 : segments;
  const reduced = Math.floor(c.cwnd * CUBIC_BETA);
  c.ssthresh = reduced > 2 * c.smss ? reduced : 2 * c.smss;
  c.cubicEpochStartMs = -1;
  c.bytesAckedInAvoidance = 0;
}

export const cubic: CongestionControl = {
  name: 'cubic',
  init(c, initialSegments) {
    c.cwnd = initialSegments * c.smss;
    c.ssthresh = INITIAL_SSTHRESH;
    c.bytesAckedInAvoidance = 0;
    c.cubicWMax = 0;
    c.cubicK = 0;
    c.cubicEpochStartMs = -1;
    c.cubicEpochCwnd = 0;
    c.cubicWEst = 0;
  },
  onAck(c, acked, nowMs) {
    if (c.cwnd < c.ssthresh) {
      slowStart(c, acked);
      return;
    }
    const smss = c.smss;
    const cwndSegments = c.cwnd / smss;
    if (c.cubicEpochStartMs < 0) {
      // RFC 9438 §4.2: a congestion avoidance stage starts; K from W_max and cwnd_epoch.
      c.cubicEpochStartMs = nowMs;
      c.cubicEpochCwnd = cwndSegments;
      c.cubicWEst = cwndSegments;
      c.cubicK = c.cubicWMax > cwndSegments ? Math.cbrt((c.cubicWMax - cwndSegments) / CUBIC_C) : 0;
      if (c.cubicWMax < cwndSegments) c.cubicWMax = cwndSegments;
    }
    const t = (nowMs - c.cubicEpochStartMs) / 1000;
    const rtt = c.srtt / 1000;
    // §4.3 Reno-friendly estimate: α_cubic per window until it reaches W_max, then 1.
    const alpha = c.cubicWEst >= c.cubicWMax ? 1 : CUBIC_ALPHA;
    c.cubicWEst += (alpha * (acked / smss)) / cwndSegments;
    const d = t - c.cubicK;
    const wCubicNow = CUBIC_C * d * d * d + c.cubicWMax;
    if (wCubicNow < c.cubicWEst) {
      const est = Math.floor(c.cubicWEst * smss);
      if (est > c.cwnd) c.cwnd = est;
      return;
    }
    // §4.4–4.5: target = W_cubic(t + RTT), clamped to [cwnd, 1.5·cwnd]; cwnd grows by
    // (target − cwnd)/cwnd segments per segment acknowledged.
    const e = t + rtt - c.cubicK;
    let target = CUBIC_C * e * e * e + c.cubicWMax;
    if (target < cwndSegments) target = cwndSegments;
    else if (target > 1.5 * cwndSegments) target = 1.5 * cwndSegments;
    c.bytesAckedInAvoidance += ((target - cwndSegments) / cwndSegments) * acked;
    if (c.bytesAckedInAvoidance >= 1) {
      const grow = Math.floor(c.bytesAckedInAvoidance);
      c.cwnd += grow;
      c.bytesAckedInAvoidance -= grow;
    }
  },
  onCongestion(c) {
    cubicReduce(c);
    c.cwnd = c.ssthresh;
  },
  onRecoveryExit(c) {
    c.cwnd = c.ssthresh;
  },
  onTimeout(c) {
    cubicReduce(c);
    c.cwnd = c.smss;
  },
};

export const congestionControls = { newreno: newReno, cubic } as const;
export type CongestionControlName = keyof typeof congestionControls;
