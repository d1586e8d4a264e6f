// ESTABLISHED: data both ways, the ACK policy (delayed, immediate on reordering, SACK
// blocks), the window following the rx FIFO with persist probes, RFC 5961 challenge ACKs,
// PAWS, retransmission timeouts with backoff, fast retransmit with SACK and with NewReno,
// keepalive. Fixtures hold segments for the exact cases; a running network (1 ms each way)
// for the flows.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TcpState, TcpTimer } from '../../src/tcp/connection.ts';
import { TcpFlags } from '../../src/wire/tcp.ts';
import { checkAll, heldHeaders, inject, Net, pairIn, PORT_A, PORT_B, streamBytes, type Segment } from './helpers.ts';

const { SYN, ACK, RST, PSH } = TcpFlags;

/** A running network with an established pair. */
function runningPair(options: ConstructorParameters<typeof Net>[0] = {}) {
  const net = new Net({ impairments: { delayMs: 1 }, ...options });
  const listener = net.b.listen(PORT_B);
  const client = net.a.connect(net.b, PORT_B, PORT_A);
  assert.ok(net.run(() => net.b.accepted.length === 1 && client.state === TcpState.ESTABLISHED));
  return { net, client, server: net.b.accepted[0], listener };
}

function dataSegments(net: Net, from: 'a' | 'b'): (s: Segment) => boolean {
  const host = from === 'a' ? net.b : net.a;
  return (s) => s.to === host && s.bytes.length > ((s.bytes[12] >>> 4) << 2);
}

describe('tcp state ESTABLISHED: data and ACKs', () => {
  it('carries data both ways byte-exact and reports it to the apps', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    const up = streamBytes(100_000, 1);
    const down = streamBytes(70_000, 2);
    net.a.app(client).toSend = up;
    net.b.app(server!).toSend = down;
    net.a.pump(client);
    net.b.pump(server!);
    net.settle();
    // The last segments each way wait for the delayed ACK.
    net.advanceTo(net.now + 40);
    net.settle();
    assert.deepEqual(net.b.app(server!).text(), up);
    assert.deepEqual(net.a.app(client).text(), down);
    assert.equal(client.sndUna, client.sndMax);
    assert.equal(server!.sndUna, server!.sndMax);
    checkAll(net);
  });

  it('delays the ACK of a lone segment, ACKs every second segment at once', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    net.a.app(client).toSend = streamBytes(100, 3);
    net.a.pump(client);
    net.deliverHeld();
    assert.equal(net.pending.length, 0, 'no ACK yet');
    assert.notEqual(server!.timers[TcpTimer.DELAYED_ACK], 0);
    net.advanceTo(net.now + 39);
    assert.equal(net.pending.length, 0);
    net.advanceTo(net.now + 1);
    const [ack] = heldHeaders(net);
    assert.equal(ack.flags, ACK);
    assert.equal(ack.acknowledgmentNumber, server!.rcvNxt);
    net.settle();
    // Two full segments: the second is ACKed immediately.
    net.a.app(client).toSend = streamBytes(2 * client.smss, 4);
    net.a.app(client).sent = 0;
    net.a.pump(client);
    assert.equal(net.pending.length, 2);
    net.deliverHeld();
    assert.equal(heldHeaders(net).length, 1);
    assert.equal(net.b.stack.stats.delayedAcks, 1);
  });

  it('answers an out-of-order segment at once with a SACK block, and the hole fill at once', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    net.a.app(client).toSend = streamBytes(3 * client.smss, 5);
    net.a.pump(client);
    assert.equal(net.pending.length, 3);
    // Lose the first, deliver the third, then the second.
    const [first, second, third] = net.pending;
    net.dropHeld((s) => s === first);
    net.deliverHeld((s) => s === third);
    const toA = () => heldHeaders(net).filter((h) => h.dstPort === PORT_A);
    const [dupAck] = toA();
    assert.equal(dupAck.acknowledgmentNumber, server!.rcvNxt);
    assert.equal(dupAck.options.sackBlockCount, 1);
    assert.equal(dupAck.options.sackBlocks[0], (client.sndUna + 2 * client.smss) >>> 0);
    assert.equal(dupAck.options.sackBlocks[1], (client.sndUna + 3 * client.smss) >>> 0);
    net.dropHeld((s) => s.to === net.a);
    net.deliverHeld((s) => s === second);
    const [secondAck] = toA();
    assert.equal(secondAck.options.sackBlockCount, 1, 'still one block: [smss, 3·smss)');
    assert.equal(secondAck.options.sackBlocks[0], (client.sndUna + client.smss) >>> 0);
    net.dropHeld();
    // The first arrives (retransmitted by hand): the hole closes, ACK at once, no SACK.
    inject(net.b, server!, { seq: client.sndUna, ack: server!.sndNxt, flags: ACK, data: streamBytes(client.smss, 5) });
    const [fullAck] = heldHeaders(net);
    assert.equal(fullAck.acknowledgmentNumber, client.sndMax);
    assert.equal(fullAck.options.sackBlockCount, 0);
    assert.deepEqual(net.b.app(server!).text(), streamBytes(3 * client.smss, 5));
  });

  it('answers a segment outside the window with an ACK and drops it', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    inject(net.b, server!, { seq: client.sndNxt + 10_000_000, ack: server!.sndNxt, flags: ACK | PSH, data: new Uint8Array(10) });
    const [ack] = heldHeaders(net);
    assert.equal(ack.acknowledgmentNumber, server!.rcvNxt);
    assert.equal(net.b.app(server!).receivedBytes, 0);
    assert.equal(net.b.stack.stats.outOfWindow, 1);
  });

  it('answers an ACK of data never sent with an ACK and ignores it (RFC 5961 §5.2)', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    const una = server!.sndUna;
    inject(net.b, server!, { seq: client.sndNxt, ack: server!.sndMax + 5000, flags: ACK });
    assert.equal(server!.sndUna, una);
    assert.equal(heldHeaders(net).length, 1);
    assert.equal(net.b.stack.stats.ackForUnsent, 1);
  });
});

describe('tcp state ESTABLISHED: RFC 5961 and RFC 7323 defences', () => {
  it('challenges a RST in the window that is not exact, believes the exact one', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    inject(net.b, server!, { seq: client.sndNxt + 100, flags: RST });
    assert.equal(server!.state, TcpState.ESTABLISHED);
    const [challenge] = heldHeaders(net);
    assert.equal(challenge.flags, ACK);
    assert.equal(challenge.acknowledgmentNumber, server!.rcvNxt);
    assert.equal(net.b.stack.stats.challengeAcks, 1);
    net.dropHeld();
    inject(net.b, server!, { seq: client.sndNxt + 10_000_000, flags: RST });
    assert.equal(net.pending.length, 0, 'a RST outside the window is dropped silently');
    inject(net.b, server!, { seq: client.sndNxt, flags: RST });
    assert.equal(server!.state, TcpState.FREE);
    assert.deepEqual(net.b.log.slice(-2), ['reset ECONNRESET:1', 'closed:1']);
  });

  it('challenges a SYN on an established connection, whatever its sequence number', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    inject(net.b, server!, { seq: client.sndNxt, flags: SYN });
    inject(net.b, server!, { seq: client.sndNxt - 5_000_000, flags: SYN });
    assert.equal(server!.state, TcpState.ESTABLISHED);
    // The second is outside the window: an ACK for that reason, before the SYN check.
    assert.equal(heldHeaders(net).length, 2);
    assert.equal(net.b.stack.stats.challengeAcks, 1);
  });

  it('rate-limits challenge ACKs stack-wide', () => {
    const { net, client, server } = pairIn('ESTABLISHED', { configB: { challengeAckLimit: 3 } });
    for (let i = 0; i < 10; i++) inject(net.b, server!, { seq: client.sndNxt + 1 + i, flags: RST });
    assert.equal(heldHeaders(net).length, 3);
    assert.equal(net.b.stack.stats.challengeAcksSuppressed, 7);
    net.advanceTo(net.now + 1000);
    inject(net.b, server!, { seq: client.sndNxt + 1, flags: RST });
    assert.equal(heldHeaders(net).length, 4);
  });

  it('PAWS drops a segment with an old timestamp and ACKs it', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    net.advanceTo(5000);
    net.a.app(client).toSend = streamBytes(10, 6);
    net.a.pump(client);
    net.settle();
    const recent = server!.tsRecent;
    assert.ok(recent >= 5000);
    inject(net.b, server!, {
      seq: client.sndNxt, ack: server!.sndNxt, flags: ACK, data: new Uint8Array(5),
      options: { timestamps: true, tsVal: recent - 1000, tsEcr: 0 },
    });
    assert.equal(net.b.stack.stats.pawsDropped, 1);
    assert.equal(net.b.app(server!).receivedBytes, 10);
    assert.equal(heldHeaders(net).length, 1);
  });
});

describe('tcp state ESTABLISHED: window, persist, timeouts, recovery', () => {
  it('the window follows the rx FIFO; a shut window gets probes with backoff until it opens', () => {
    const { net, client, server } = runningPair({ fifoSize: 16384 });
    net.b.app(server).paused = true;
    const data = streamBytes(100_000, 7);
    net.a.app(client).toSend = data;
    net.b.app(server).expect = data;
    net.a.pump(client);
    net.run(() => false, net.now + 30_000);
    assert.equal(server.rxFifo!.maxEnqueue(), 0, 'receiver full');
    assert.equal(client.sndWnd, 0);
    assert.equal(client.sndUna, client.sndMax, 'everything sent was acked');
    const probes = net.a.stack.stats.zeroWindowProbes;
    // rto 200 ms doubling: 0.4, 0.8, 1.6, 3.2, 6.4, 12.8 s … within 30 s about six probes.
    assert.ok(probes >= 4 && probes <= 8, `probes ${probes}`);
    assert.equal(client.state, TcpState.ESTABLISHED);
    net.b.resume(server);
    assert.ok(net.run(() => net.b.app(server).receivedBytes === data.length));
    assert.equal(net.b.app(server).mismatchAt, -1);
    assert.equal(net.a.stack.stats.timeouts, 0);
    checkAll(net);
  });

  it('probes once, then retransmits on timeout with exponential backoff, and recovers when the path heals', () => {
    const { net, client, server } = runningPair();
    const data = streamBytes(50_000, 8);
    net.b.app(server).expect = data;
    const sentAt: number[] = [];
    net.filter = (s) => {
      if (s.to === net.b && s.bytes.length > 32) sentAt.push(net.now);
      return net.now > 10_000;
    };
    const start = net.now;
    net.a.app(client).toSend = data;
    net.a.pump(client);
    assert.ok(net.run(() => net.b.app(server).receivedBytes === data.length, 100_000));
    const retransmits = sentAt.filter((t) => t > start + 1).map((t) => Math.round(t - start));
    // First a tail loss probe at 2·SRTT (RFC 8985 §7), then the RTO behind it — 200 ms (the
    // handshake's sample, floored at rtoMin) — doubling: +0.2, +0.4, +0.8, +1.6, +3.2 s.
    const times = [...new Set(retransmits)].slice(0, 6);
    assert.ok(times[0] < 200, `a probe before the RTO (at ${times[0]} ms)`);
    assert.deepEqual(times.slice(1).map((t, i) => t - times[i]), [200, 400, 800, 1600, 3200]);
    assert.equal(net.a.stack.stats.tailLossProbes, 1, 'one probe: no more until an ACK moves SND.UNA');
    assert.equal(net.b.app(server).mismatchAt, -1);
    assert.ok(net.a.stack.stats.timeouts >= 4);
  });

  it('gives up after dataRetries timeouts with ETIMEDOUT and a reset', () => {
    const { net, client } = runningPair({ config: { dataRetries: 3 } });
    net.filter = () => false;
    net.a.app(client).toSend = streamBytes(1000, 9);
    net.a.pump(client);
    net.run(() => client.state === TcpState.FREE);
    assert.deepEqual(net.a.log.slice(-2), ['reset ETIMEDOUT:0', 'closed:0']);
    assert.equal(net.a.stack.stats.timeouts, 3);
  });

  for (const sack of [true, false]) {
    it(`fast retransmit and recovery of one lost segment (${sack ? 'SACK, RFC 6675' : 'NewReno, RFC 6582'})`, () => {
      const { net, client, server } = runningPair({ config: { sack, congestionControl: 'newreno' }, fifoSize: 1 << 20 });
      const data = streamBytes(300_000, 10);
      net.b.app(server).expect = data;
      let count = 0;
      const isData = dataSegments(net, 'a');
      net.filter = (s) => !(isData(s) && ++count === 20);
      net.a.app(client).toSend = data;
      net.a.pump(client);
      assert.ok(net.run(() => net.b.app(server).receivedBytes === data.length));
      const stats = net.a.stack.stats;
      assert.equal(stats.fastRetransmits, 1);
      assert.equal(stats.timeouts, 0);
      assert.equal(stats.segmentsRetransmitted, 1);
      assert.ok(!client.inRecovery);
      assert.equal(net.b.app(server).mismatchAt, -1);
      checkAll(net);
    });
  }

  it('recovers several losses in one window with SACK without a timeout', () => {
    const { net, client, server } = runningPair({ fifoSize: 1 << 20 });
    const data = streamBytes(400_000, 11);
    net.b.app(server).expect = data;
    let count = 0;
    const isData = dataSegments(net, 'a');
    net.filter = (s) => !(isData(s) && [30, 33, 36, 40].includes(++count));
    net.a.app(client).toSend = data;
    net.a.pump(client);
    assert.ok(net.run(() => net.b.app(server).receivedBytes === data.length));
    assert.equal(net.a.stack.stats.timeouts, 0);
    assert.equal(net.a.stack.stats.fastRetransmits, 1, 'one recovery episode');
    assert.equal(net.a.stack.stats.segmentsRetransmitted, 4);
  });
});

describe('tcp state ESTABLISHED: keepalive', () => {
  it('probes an idle connection; an answering peer keeps it up', () => {
    const { net, client } = runningPair({ configA: { keepaliveIdleMs: 60_000, keepaliveIntervalMs: 5_000, keepaliveProbes: 3 } });
    net.a.stack.setKeepalive(client, true);
    net.run(() => false, net.now + 600_000);
    assert.equal(client.state, TcpState.ESTABLISHED);
    assert.ok(net.a.stack.stats.keepaliveProbes >= 9, `${net.a.stack.stats.keepaliveProbes} probes in 10 min`);
  });

  it('resets with ETIMEDOUT when the peer stops answering', () => {
    const { net, client } = runningPair({ configA: { keepaliveIdleMs: 60_000, keepaliveIntervalMs: 5_000, keepaliveProbes: 3 } });
    net.a.stack.setKeepalive(client, true);
    const start = net.now;
    net.filter = (s) => s.to === net.b && false;
    net.run(() => client.state === TcpState.FREE);
    // Idle 60 s, then 3 probes 5 s apart, then the reset.
    assert.equal(Math.round(net.now - start), 75_000);
    assert.deepEqual(net.a.log.slice(-2), ['reset ETIMEDOUT:0', 'closed:0']);
  });
});

describe('ESTABLISHED: both windows full and both lost', () => {
  it('a bare ACK at the right edge of the window is acceptable: no ACK war', () => {
    const { net, client, server } = pairIn('ESTABLISHED', { fifoSize: 4096 });
    const data = new Uint8Array(4096).fill(7);
    client.txFifo!.enqueue(data, 0, data.length);
    net.a.stack.send(client);
    server!.txFifo!.enqueue(data, 0, data.length);
    net.b.stack.send(server!);
    assert.ok(net.pending.length >= 4, 'a full window each way on the wire');
    net.dropHeld();
    // Something makes A send a bare ACK (here a keepalive-style probe from B, one below RCV.NXT):
    // its SEQ sits at B's right edge, and B's answer at A's.
    inject(net.a, client, { seq: (client.rcvNxt - 1) >>> 0, ack: client.sndNxt, flags: TcpFlags.ACK, window: 4096 });
    const before = net.a.stack.stats.segmentsOut + net.b.stack.stats.segmentsOut;
    net.settle(1000);
    const exchanged = net.a.stack.stats.segmentsOut + net.b.stack.stats.segmentsOut - before;
    assert.ok(exchanged <= 4, `${exchanged} segments exchanged (out of window: A ${net.a.stack.stats.outOfWindow}, B ${net.b.stack.stats.outOfWindow})`);
  });
});

describe('ESTABLISHED: tail loss probe (RFC 8985 §7)', () => {
  it('a lost tail is found by a probe after 2·SRTT, not by the RTO', () => {
    const { net, client, server } = runningPair();
    const data = streamBytes(20 * 1448, 21);
    net.b.app(server).expect = data;
    // The last two data segments of the first flight are lost.
    const firstSends = new Set<number>();
    net.filter = (s) => {
      if (s.to !== net.b || s.bytes.length <= 32) return true;
      const seq = ((s.bytes[4] << 24) | (s.bytes[5] << 16) | (s.bytes[6] << 8) | s.bytes[7]) >>> 0;
      const offset = (seq - client.iss - 1) >>> 0;
      if (offset >= 18 * 1448 && !firstSends.has(offset)) {
        firstSends.add(offset);
        return false;
      }
      return true;
    };
    const start = net.now;
    net.a.app(client).toSend = data;
    net.a.pump(client);
    assert.ok(net.run(() => net.b.app(server).receivedBytes === data.length, 10_000));
    const stats = net.a.stack.stats;
    assert.equal(net.b.app(server).mismatchAt, -1);
    assert.equal(stats.timeouts, 0, 'no retransmission timeout');
    assert.ok(stats.tailLossProbes >= 1);
    assert.ok(net.now - start < 200, `repaired in ${net.now - start} ms, before an RTO (200 ms) could fire`);
  });

  it('a probe whose ACK shows a hole before it starts recovery (the data sent before it is lost)', () => {
    const { net, client, server } = runningPair();
    const data = streamBytes(3 * 1448, 22);
    net.b.app(server).expect = data;
    // A three-segment flight whose first two segments are lost: one SACK alone cannot start
    // fast recovery (three duplicate ACKs, or three segments SACKed, are needed).
    let dropped = 0;
    net.filter = (s) => {
      if (s.to !== net.b || s.bytes.length <= 32 || dropped >= 2) return true;
      dropped++;
      return false;
    };
    const start = net.now;
    net.a.app(client).toSend = data;
    net.a.pump(client);
    assert.ok(net.run(() => net.b.app(server).receivedBytes === data.length, 10_000));
    const stats = net.a.stack.stats;
    assert.equal(net.b.app(server).mismatchAt, -1);
    assert.equal(stats.timeouts, 0);
    assert.equal(stats.probeRecoveries, 1);
    assert.ok(net.now - start < 200, `repaired in ${net.now - start} ms`);
  });
});
