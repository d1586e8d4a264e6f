// Congestion control by itself: NewReno's slow start, avoidance and reductions (RFC 5681,
// RFC 6582), CUBIC's window curve, β reduction, fast convergence and Reno-friendly region
// (RFC 9438), driven by synthetic ACK clocks. Plus the ISN generator (RFC 6528) and the
// connection pool's reset.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cubic, INITIAL_SSTHRESH, newReno, type CongestionState } from '../../src/tcp/congestion.ts';
import { IsnGenerator } from '../../src/tcp/isn.ts';
import { TcpConnection } from '../../src/tcp/connection.ts';

const SMSS = 1000;

function state(): CongestionState {
  return {
    cwnd: 0, ssthresh: 0, smss: SMSS, bytesAckedInAvoidance: 0, srtt: 100, sndUna: 0, sndMax: 0,
    cubicWMax: 0, cubicK: 0, cubicEpochStartMs: -1, cubicEpochCwnd: 0, cubicWEst: 0,
  };
}

/** One RTT of ACKs: a full window acknowledged in SMSS steps at time `now`. */
function ackWindow(c: CongestionState, cc: typeof newReno, now: number): void {
  const segments = Math.floor(c.cwnd / SMSS);
  for (let i = 0; i < segments; i++) cc.onAck(c, SMSS, now);
}

describe('tcp congestion control: NewReno', () => {
  it('slow start doubles per RTT from IW10 (bytes acknowledged, up to ssthresh), avoidance adds one SMSS per RTT', () => {
    const c = state();
    newReno.init(c, 10);
    assert.equal(c.cwnd, 10 * SMSS);
    assert.equal(c.ssthresh, INITIAL_SSTHRESH);
    ackWindow(c, newReno, 0);
    assert.equal(c.cwnd, 20 * SMSS);
    newReno.onAck(c, 5 * SMSS, 0);
    assert.equal(c.cwnd, 25 * SMSS, 'a stretch ACK counts every byte it acknowledges (RFC 3465, as Linux)');
    c.ssthresh = 27 * SMSS;
    newReno.onAck(c, 5 * SMSS, 0);
    assert.equal(c.cwnd, 27 * SMSS, 'slow start stops at ssthresh');
    c.ssthresh = c.cwnd = 21 * SMSS;
    ackWindow(c, newReno, 0);
    assert.equal(c.cwnd, 22 * SMSS);
  });

  it('halves the flight on loss, one segment on timeout, RFC 6582 option 1 at recovery exit', () => {
    const c = state();
    newReno.init(c, 10);
    c.cwnd = 40 * SMSS;
    c.sndUna = 1000;
    c.sndMax = 1000 + 30 * SMSS;
    newReno.onCongestion(c, 0);
    assert.equal(c.ssthresh, 15 * SMSS);
    assert.equal(c.cwnd, 15 * SMSS);
    c.sndUna = c.sndMax - 3 * SMSS;
    newReno.onRecoveryExit(c, 0);
    assert.equal(c.cwnd, 4 * SMSS, 'min(ssthresh, flight + SMSS)');
    c.sndMax = c.sndUna + SMSS;
    newReno.onTimeout(c, 0);
    assert.equal(c.ssthresh, 2 * SMSS, 'never below 2·SMSS');
    assert.equal(c.cwnd, SMSS);
  });
});

describe('tcp congestion control: CUBIC (RFC 9438)', () => {
  it('reduces by β = 0.7 and regrows along W(t) = C(t − K)³ + W_max, reaching W_max at K', () => {
    const c = state();
    cubic.init(c, 10);
    c.cwnd = 100 * SMSS;
    cubic.onCongestion(c, 0);
    assert.equal(c.ssthresh, 70 * SMSS);
    assert.equal(c.cwnd, 70 * SMSS);
    assert.equal(c.cubicWMax, 100);
    cubic.onRecoveryExit(c, 0);
    // K = cbrt(W_max (1 − β) / C) = cbrt(75) ≈ 4.22 s. ACK a window per 100 ms RTT.
    const k = Math.cbrt(75);
    const samples: { t: number; w: number; est: number }[] = [];
    for (let now = 0; now <= 8000; now += 100) {
      ackWindow(c, cubic, now);
      samples.push({ t: now / 1000, w: c.cwnd / SMSS, est: c.cubicWEst });
    }
    assert.ok(Math.abs(c.cubicK - k) < 1e-9, `K ${c.cubicK}`);
    const atK = samples.find((s) => s.t >= k)!;
    assert.ok(Math.abs(atK.w - 100) < 5, `cwnd at K: ${atK.w}`);
    // Concave below W_max, convex above: growth slows towards K, then speeds up.
    const growth = (from: number, to: number) => samples.find((s) => s.t >= to)!.w - samples.find((s) => s.t >= from)!.w;
    assert.ok(growth(0, 1) > growth(3, 4), 'concave region');
    assert.ok(growth(7, 8) > growth(5, 6), 'convex region');
    // Never beyond W_cubic(t + RTT) or the Reno-friendly estimate, whichever is larger (§4.3–4.4).
    for (const s of samples) {
      const target = 0.4 * (s.t + 0.1 - k) ** 3 + 100;
      assert.ok(s.w <= Math.max(target, s.est, 70) + 2, `cwnd ${s.w} above W(t + RTT) ${target} and W_est ${s.est} at ${s.t}`);
    }
  });

  it('fast convergence: a loss below the previous W_max lowers W_max further', () => {
    const c = state();
    cubic.init(c, 10);
    c.cwnd = 100 * SMSS;
    cubic.onCongestion(c, 0);
    c.cwnd = 80 * SMSS;
    cubic.onCongestion(c, 0);
    assert.ok(Math.abs(c.cubicWMax - 80 * 0.85) < 1e-9, `W_max ${c.cubicWMax}`);
    cubic.onTimeout(c, 0);
    assert.equal(c.cwnd, SMSS);
    assert.ok(c.ssthresh >= 2 * SMSS);
  });

  it('in the Reno-friendly region (short RTT, small W_max) grows at least like Reno', () => {
    const c = state();
    c.srtt = 1;
    cubic.init(c, 10);
    c.cwnd = 20 * SMSS;
    cubic.onCongestion(c, 0);
    cubic.onRecoveryExit(c, 0);
    const start = c.cwnd;
    // 50 RTTs of 1 ms: CUBIC's own curve barely moves; W_est (α = 3(1−β)/(1+β) per RTT) does.
    for (let now = 0; now < 50; now++) ackWindow(c, cubic, now);
    assert.ok(c.cwnd >= start + 0.5 * 50 * SMSS * 0.9, `cwnd ${c.cwnd / SMSS} segments`);
    assert.ok(c.cwnd >= Math.floor(c.cubicWEst * SMSS) - SMSS);
  });
});

describe('tcp ISNs (RFC 6528)', () => {
  it('depend on the key and the 4-tuple, and advance with a 4 µs clock', () => {
    const key = new Uint8Array(16).fill(7);
    const g = new IsnGenerator(key);
    const a = g.isn(0x0a000001, 1000, 0x0a000002, 80, 0);
    assert.equal(g.isn(0x0a000001, 1000, 0x0a000002, 80, 0), a);
    assert.equal(g.isn(0x0a000001, 1000, 0x0a000002, 80, 1), (a + 250) >>> 0);
    assert.notEqual(g.isn(0x0a000001, 1001, 0x0a000002, 80, 0), a);
    assert.notEqual(new IsnGenerator(new Uint8Array(16).fill(8)).isn(0x0a000001, 1000, 0x0a000002, 80, 0), a);
    assert.notEqual(new IsnGenerator().isn(0x0a000001, 1000, 0x0a000002, 80, 0), new IsnGenerator().isn(0x0a000001, 1000, 0x0a000002, 80, 0));
  });
});

describe('tcp connection pool', () => {
  it('reset brings a used connection back to a new one, field for field', () => {
    const fresh = new TcpConnection(3);
    const used = new TcpConnection(3);
    const record = used as unknown as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (typeof record[key] === 'number' && key !== 'index') record[key] = 12345;
      if (typeof record[key] === 'boolean') record[key] = !record[key];
    }
    used.timers[2] = 99;
    used.scoreboard.update(Uint32Array.from([10, 20]), 1, 0, 100);
    used.reset();
    assert.deepEqual(Object.keys(used), Object.keys(fresh), 'same fields, same order (one hidden class)');
    for (const key of Object.keys(fresh)) {
      if (key === 'scoreboard' || key === 'timers') continue;
      assert.deepEqual(record[key], (fresh as unknown as Record<string, unknown>)[key], key);
    }
    assert.equal(used.timers[2], 0);
    assert.equal(used.scoreboard.count, 0);
  });
});
