// Opening: CLOSED (resets for nobody), LISTEN, SYN-SENT and SYN-RECEIVED, each from its
// fixture, plus option negotiation and simultaneous open. Segments are held on the wire so
// each test decides what arrives, what is lost, and what a peer sends by hand.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TcpState } from '../../src/tcp/connection.ts';
import { TcpFlags } from '../../src/wire/tcp.ts';
import { ADDRESS_A, ADDRESS_B, checkAll, craft, heldHeaders, heldNet, inject, pairIn, PORT_A, PORT_B } from './helpers.ts';

const { SYN, ACK, RST, FIN } = TcpFlags;

describe('tcp handshake: options', () => {
  it('negotiates MSS, window scale, SACK-permitted and timestamps', () => {
    const net = heldNet({ fifoSize: 512 * 1024 });
    net.b.listen(PORT_B);
    const client = net.a.connect(net.b, PORT_B, PORT_A);
    const [syn] = heldHeaders(net);
    assert.equal(syn.flags, SYN);
    assert.equal(syn.options.mss, 1460);
    // 512 KiB is 8 · 65536: a shift of 3 leaves it one short of fitting 16 bits.
    assert.equal(syn.options.windowScale, 4);
    assert.ok(syn.options.sackPermitted);
    assert.ok(syn.options.timestamps);
    assert.equal(syn.options.tsEcr, 0);
    assert.equal(syn.window, 65535, 'the SYN window is not scaled');
    net.deliverHeld();
    const [synAck] = heldHeaders(net);
    assert.equal(synAck.flags, SYN | ACK);
    assert.equal(synAck.acknowledgmentNumber, (syn.sequenceNumber + 1) >>> 0);
    assert.equal(synAck.options.windowScale, 4);
    assert.ok(synAck.options.sackPermitted && synAck.options.timestamps);
    assert.equal(synAck.options.tsEcr, syn.options.tsVal);
    net.settle();
    const server = net.b.accepted[0];
    for (const c of [client, server]) {
      assert.equal(c.state, TcpState.ESTABLISHED);
      assert.ok(c.timestampsEnabled && c.sackEnabled);
      assert.equal(c.sndWscale, 4);
      assert.equal(c.rcvWscale, 4);
      assert.equal(c.sndMss, 1460);
      assert.equal(c.smss, 1448, 'MSS less the timestamps option');
    }
    assert.deepEqual(net.a.log, ['connected:0']);
    assert.deepEqual(net.b.log, ['incoming:1', 'accepted:1']);
  });

  it('accepts none of what the peer does not offer, and takes the smaller MSS', () => {
    const net = heldNet({ configA: { timestamps: false, sack: false, windowScaling: false, mss: 1000 } });
    net.b.listen(PORT_B);
    const client = net.a.connect(net.b, PORT_B, PORT_A);
    net.deliverHeld();
    const [synAck] = heldHeaders(net);
    assert.equal(synAck.options.mss, 1460);
    assert.equal(synAck.options.windowScale, -1);
    assert.ok(!synAck.options.sackPermitted && !synAck.options.timestamps);
    net.settle();
    const server = net.b.accepted[0];
    for (const c of [client, server]) {
      assert.ok(!c.timestampsEnabled && !c.sackEnabled);
      assert.equal(c.sndWscale, 0);
      assert.equal(c.rcvWscale, 0);
      assert.equal(c.sndMss, 1000);
      assert.equal(c.smss, 1000);
    }
  });

  it('assumes 536 when the SYN carries no MSS, and never less than 88', () => {
    const net = heldNet();
    net.b.listen(PORT_B);
    net.b.deliver(craft({ srcPort: 5555, dstPort: PORT_B, seq: 1000, flags: SYN }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    net.b.deliver(craft({ srcPort: 5556, dstPort: PORT_B, seq: 1000, flags: SYN, options: { mss: 1 } }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    const [first, second] = net.b.stack.connections().filter((c) => c.state === TcpState.SYN_RECEIVED);
    assert.equal(first.sndMss, 536);
    assert.equal(second.sndMss, 88);
  });
});

describe('tcp state CLOSED: segments for no connection', () => {
  it('answers a SYN to a closed port with RST|ACK, and the connect fails with ECONNREFUSED', () => {
    const net = heldNet();
    const client = net.a.connect(net.b, 9, PORT_A);
    net.deliverHeld();
    const [rst] = heldHeaders(net);
    assert.equal(rst.flags, RST | ACK);
    assert.equal(rst.sequenceNumber, 0);
    assert.equal(rst.acknowledgmentNumber, (client.iss + 1) >>> 0);
    net.deliverHeld();
    assert.equal(client.state, TcpState.FREE);
    assert.deepEqual(net.a.log, ['connect-failed ECONNREFUSED:0', 'closed:0']);
    assert.equal(net.b.stack.stats.refused, 1);
  });

  it('answers an ACK with <SEQ=SEG.ACK><CTL=RST> and never answers a RST', () => {
    const net = heldNet();
    net.b.deliver(craft({ srcPort: 1, dstPort: 2, seq: 5, ack: 777, flags: ACK, data: new Uint8Array(10) }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    const [rst] = heldHeaders(net);
    assert.equal(rst.flags, RST);
    assert.equal(rst.sequenceNumber, 777);
    assert.equal(rst.srcPort, 2);
    assert.equal(rst.dstPort, 1);
    net.dropHeld();
    net.b.deliver(craft({ srcPort: 1, dstPort: 2, seq: 5, ack: 777, flags: RST | ACK }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    assert.equal(net.pending.length, 0);
  });
});

describe('tcp state LISTEN', () => {
  it('resets an ACK, ignores a RST and segments without SYN', () => {
    const net = heldNet();
    const listener = net.b.listen(PORT_B);
    net.b.deliver(craft({ srcPort: 7, dstPort: PORT_B, seq: 1, ack: 99, flags: ACK }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    const [rst] = heldHeaders(net);
    assert.equal(rst.flags, RST);
    assert.equal(rst.sequenceNumber, 99);
    net.dropHeld();
    net.b.deliver(craft({ srcPort: 7, dstPort: PORT_B, seq: 1, flags: RST }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    net.b.deliver(craft({ srcPort: 7, dstPort: PORT_B, seq: 1, flags: FIN }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    assert.equal(net.pending.length, 0);
    assert.equal(listener.state, TcpState.LISTEN);
    assert.equal(net.b.stack.connectionCount, 1);
  });

  it('bounds the SYN backlog and counts the SYNs it drops', () => {
    const net = heldNet({ configB: { synBacklog: 2, synCookies: false } });
    const listener = net.b.listen(PORT_B);
    for (let port = 1; port <= 3; port++) {
      net.b.deliver(craft({ srcPort: port, dstPort: PORT_B, seq: 1, flags: SYN }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    }
    assert.equal(listener.synBacklog, 2);
    assert.equal(net.b.stack.stats.synBacklogDrops, 1);
    assert.equal(heldHeaders(net).length, 2, 'two SYN-ACKs');
    // A completed handshake frees a backlog place.
    const synAck = heldHeaders(net)[0];
    net.b.deliver(craft({ srcPort: 1, dstPort: PORT_B, seq: 2, ack: synAck.sequenceNumber + 1, flags: ACK }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    assert.equal(listener.synBacklog, 1);
    checkAll(net);
  });

  it('closing a listener resets its half-open children and leaves established ones alone', () => {
    const { net, client, listener, server } = pairIn('ESTABLISHED');
    net.b.deliver(craft({ srcPort: 9, dstPort: PORT_B, seq: 1, flags: SYN }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    net.dropHeld();
    net.b.stack.close(listener);
    assert.equal(listener.state, TcpState.FREE);
    assert.equal(heldHeaders(net).filter((h) => h.flags & RST).length, 1);
    assert.equal(server!.state, TcpState.ESTABLISHED);
    assert.equal(server!.listener, null);
    assert.equal(client.state, TcpState.ESTABLISHED);
  });
});

describe('tcp state SYN-SENT', () => {
  it('retransmits the SYN with exponential backoff and gives up with ETIMEDOUT', () => {
    const { net, client } = pairIn('SYN_SENT', { config: { synRetries: 3 } });
    const sentAt: number[] = [0];
    net.dropHeld();
    for (let t = 1; t <= 20_000; t++) {
      net.advanceTo(t);
      if (net.dropHeld() > 0) sentAt.push(t);
      if (client.state === TcpState.FREE) break;
    }
    assert.deepEqual(sentAt, [0, 1000, 3000, 7000]);
    assert.deepEqual(net.a.log, ['connect-failed ETIMEDOUT:0', 'closed:0']);
  });

  it('ignores a RST whose ACK does not acknowledge the SYN; believes one that does', () => {
    const { net, client } = pairIn('SYN_SENT');
    net.dropHeld();
    inject(net.a, client, { seq: 0, ack: client.iss, flags: RST | ACK });
    inject(net.a, client, { seq: 0, flags: RST });
    assert.equal(client.state, TcpState.SYN_SENT);
    inject(net.a, client, { seq: 0, ack: client.iss + 1, flags: RST | ACK });
    assert.equal(client.state, TcpState.FREE);
    assert.equal(net.a.finished[0].app.error, 'ECONNREFUSED');
  });

  it('resets a SYN-ACK that acknowledges something never sent', () => {
    const { net, client } = pairIn('SYN_SENT');
    net.dropHeld();
    inject(net.a, client, { seq: 500, ack: client.iss + 7, flags: SYN | ACK });
    const [rst] = heldHeaders(net);
    assert.equal(rst.flags, RST);
    assert.equal(rst.sequenceNumber, (client.iss + 7) >>> 0);
    assert.equal(client.state, TcpState.SYN_SENT);
  });

  it('a shutdown before the handshake completes sends the FIN once ESTABLISHED', () => {
    const { net, client } = pairIn('SYN_SENT');
    net.a.stack.shutdown(client);
    assert.equal(client.state, TcpState.SYN_SENT);
    net.settle();
    assert.equal(client.state, TcpState.FIN_WAIT_2);
    assert.equal(net.b.accepted[0].state, TcpState.CLOSE_WAIT);
  });

  it('simultaneous open: SYNs cross, both pass SYN-RECEIVED to ESTABLISHED', () => {
    const net = heldNet();
    const a = net.a.connect(net.b, 2000, 1000);
    const b = net.b.connect(net.a, 1000, 2000);
    assert.equal(heldHeaders(net).length, 2);
    net.deliverHeld();
    assert.equal(a.state, TcpState.SYN_RECEIVED);
    assert.equal(b.state, TcpState.SYN_RECEIVED);
    const synAcks = heldHeaders(net);
    assert.ok(synAcks.every((h) => h.flags === (SYN | ACK)));
    net.settle();
    assert.equal(a.state, TcpState.ESTABLISHED);
    assert.equal(b.state, TcpState.ESTABLISHED);
    assert.deepEqual(net.a.log, ['connected:0']);
    assert.deepEqual(net.b.log, ['connected:0']);
    assert.ok(a.timestampsEnabled && a.sackEnabled && a.sndWscale === b.rcvWscale);
    checkAll(net);
  });
});

describe('tcp state SYN-RECEIVED', () => {
  it('retransmits a lost SYN-ACK, then establishes', () => {
    const { net, client, server } = pairIn('SYN_RECEIVED');
    assert.equal(server!.state, TcpState.SYN_RECEIVED);
    net.advanceTo(1000);
    // Both sides time out at 1 s: the client's SYN and the server's SYN-ACK go again.
    assert.deepEqual(heldHeaders(net).map((h) => h.flags), [SYN, SYN | ACK]);
    net.settle();
    assert.equal(client.state, TcpState.ESTABLISHED);
    assert.equal(server!.state, TcpState.ESTABLISHED);
    for (const c of [client, server!]) {
      assert.equal(c.rto, 2000, 'RTO stays backed off: no RTT sample from a retransmitted SYN (Karn)');
      assert.equal(c.cwnd, c.smss, 'initial window of one segment after a retransmitted SYN (RFC 5681 §3.1)');
    }
  });

  it('answers a retransmitted SYN with the SYN-ACK again', () => {
    const { net, client, server } = pairIn('SYN_RECEIVED');
    inject(net.b, server!, { seq: client.iss, flags: SYN });
    const [synAck] = heldHeaders(net);
    assert.equal(synAck.flags, SYN | ACK);
    assert.equal(synAck.sequenceNumber, server!.iss);
  });

  it('a RST in SYN-RECEIVED sends a passive open back to LISTEN', () => {
    const { net, client, server, listener } = pairIn('SYN_RECEIVED');
    inject(net.b, server!, { seq: client.iss + 1, flags: RST });
    assert.equal(server!.state, TcpState.FREE);
    assert.equal(listener.state, TcpState.LISTEN);
    assert.equal(listener.synBacklog, 0);
    assert.deepEqual(net.b.log, ['incoming:1', 'closed:1']);
  });

  it('resets an ACK that does not acknowledge the SYN-ACK', () => {
    const { net, client, server } = pairIn('SYN_RECEIVED');
    inject(net.b, server!, { seq: client.iss + 1, ack: server!.iss + 5, flags: ACK });
    const [rst] = heldHeaders(net);
    assert.equal(rst.flags, RST);
    assert.equal(rst.sequenceNumber, (server!.iss + 5) >>> 0);
    assert.equal(server!.state, TcpState.SYN_RECEIVED);
  });

  it('gives up on a handshake that never completes, silently', () => {
    const { net, server, listener } = pairIn('SYN_RECEIVED', { config: { synRetries: 2 } });
    for (let t = 0; t <= 10_000 && server!.state !== TcpState.FREE; t += 100) {
      net.advanceTo(t);
      net.dropHeld();
    }
    assert.equal(server!.state, TcpState.FREE);
    assert.equal(listener.synBacklog, 0);
    assert.deepEqual(net.b.log, ['incoming:1', 'closed:1']);
  });
});
