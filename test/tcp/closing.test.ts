// Closing: FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT from their
// fixtures; orderly close from either side, half-close with data still flowing the other
// way, simultaneous close, abortive close, RFC 1122 resets for data that an app will never
// read, and the timers that end TIME-WAIT and an orphaned FIN-WAIT-2.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TcpState, TcpTimer } from '../../src/tcp/connection.ts';
import { TcpFlags } from '../../src/wire/tcp.ts';
import { checkAll, heldHeaders, inject, pairIn, streamBytes } from './helpers.ts';

const { ACK, FIN, RST } = TcpFlags;

describe('tcp orderly close', () => {
  it('client closes first: FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT; server CLOSE-WAIT → LAST-ACK → gone', () => {
    const { net, client, server } = pairIn('ESTABLISHED', { config: { timeWaitMs: 5000 } });
    net.a.stack.close(client);
    assert.equal(client.state, TcpState.FIN_WAIT_1);
    const [fin] = heldHeaders(net);
    assert.equal(fin.flags, FIN | ACK);
    net.deliverHeld();
    assert.equal(server!.state, TcpState.CLOSE_WAIT);
    assert.ok(net.b.app(server!).peerClosed);
    net.deliverHeld();
    assert.equal(client.state, TcpState.FIN_WAIT_2);
    assert.notEqual(client.timers[TcpTimer.WAIT_CLOSE], 0, 'a closed app does not wait in FIN-WAIT-2 forever');
    net.b.stack.close(server!);
    assert.equal(server!.state, TcpState.LAST_ACK);
    net.deliverHeld();
    assert.equal(client.state, TcpState.TIME_WAIT);
    net.deliverHeld();
    assert.equal(server!.state, TcpState.FREE);
    assert.deepEqual(net.b.log, ['incoming:1', 'accepted:1', 'peer-closed:1', 'closed:1']);
    net.advanceTo(net.now + 4999);
    assert.equal(client.state, TcpState.TIME_WAIT);
    net.advanceTo(net.now + 1);
    assert.equal(client.state, TcpState.FREE);
    assert.deepEqual(net.a.log, ['connected:0', 'peer-closed:0', 'closed:0']);
    assert.equal(net.a.stack.connectionCount, 0);
    assert.equal(net.b.stack.connectionCount, 1, 'only the listener');
  });

  it('server closes first, after its data: the client reads all of it, then the FIN', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    const data = streamBytes(200_000, 1);
    Object.assign(net.b.app(server!), { toSend: data, closeWhenSent: true });
    net.b.pump(server!);
    net.settle();
    assert.equal(client.state, TcpState.CLOSE_WAIT);
    assert.deepEqual(net.a.app(client).text(), data);
    assert.equal(server!.state, TcpState.FIN_WAIT_2);
    net.a.stack.close(client);
    net.settle();
    assert.equal(client.state, TcpState.FREE);
    assert.equal(server!.state, TcpState.TIME_WAIT);
  });

  it('half-close: the side that shut down keeps receiving until the peer is done', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    const up = streamBytes(30_000, 2);
    const down = streamBytes(300_000, 3);
    Object.assign(net.a.app(client), { toSend: up, shutdownWhenSent: true });
    net.a.pump(client);
    net.settle();
    assert.equal(client.state, TcpState.FIN_WAIT_2);
    assert.equal(server!.state, TcpState.CLOSE_WAIT);
    assert.deepEqual(net.b.app(server!).text(), up);
    // The server answers after the client's FIN: all of it arrives in FIN-WAIT-2.
    Object.assign(net.b.app(server!), { toSend: down, closeWhenSent: true });
    net.b.pump(server!);
    net.settle();
    assert.deepEqual(net.a.app(client).text(), down);
    assert.equal(client.state, TcpState.TIME_WAIT);
    assert.equal(server!.state, TcpState.FREE);
    assert.equal(client.timers[TcpTimer.WAIT_CLOSE] !== 0, true);
  });

  it('simultaneous close: both FIN-WAIT-1, the FINs cross, CLOSING, then both TIME-WAIT', () => {
    const { net, client, server } = pairIn('CLOSING');
    assert.equal(client.state, TcpState.CLOSING);
    assert.equal(server!.state, TcpState.CLOSING);
    assert.ok(net.a.app(client).peerClosed && net.b.app(server!).peerClosed);
    net.settle();
    assert.equal(client.state, TcpState.TIME_WAIT);
    assert.equal(server!.state, TcpState.TIME_WAIT);
    checkAll(net);
  });
});

describe('tcp states FIN-WAIT-1, LAST-ACK, CLOSING: the FIN is retransmitted until acknowledged', () => {
  for (const state of ['FIN_WAIT_1', 'LAST_ACK', 'CLOSING'] as const) {
    it(state, () => {
      const pair = pairIn(state);
      const { net } = pair;
      const c = state === 'LAST_ACK' ? pair.server! : pair.client;
      const host = state === 'LAST_ACK' ? net.b : net.a;
      net.dropHeld();
      const una = c.sndUna;
      net.advanceTo(net.now + c.rto);
      const again = heldHeaders(net).filter((h) => h.flags & FIN);
      assert.equal(again.length, 1 + (state === 'CLOSING' ? 1 : 0), 'the FIN again');
      assert.equal(again.find((h) => h.srcPort === c.localPort)!.sequenceNumber, una);
      net.settle();
      assert.ok(c.state === TcpState.TIME_WAIT || c.state === TcpState.FREE || c.state === TcpState.FIN_WAIT_2);
      checkAll(net);
      assert.equal(host.badChecksums, 0);
    });
  }
});

describe('tcp state TIME-WAIT', () => {
  it('re-acknowledges a retransmitted FIN and restarts 2·MSL', () => {
    const { net, client, server } = pairIn('TIME_WAIT', { config: { timeWaitMs: 10_000 } });
    const finSeq = (client.rcvNxt - 1) >>> 0;
    net.advanceTo(net.now + 6000);
    inject(net.a, client, { seq: finSeq, ack: client.sndNxt, flags: FIN | ACK });
    const [ack] = heldHeaders(net);
    assert.equal(ack.flags, ACK);
    assert.equal(ack.acknowledgmentNumber, client.rcvNxt);
    net.advanceTo(net.now + 6000);
    assert.equal(client.state, TcpState.TIME_WAIT, 'restarted: 12 s after entering, still waiting');
    net.advanceTo(net.now + 10_000);
    assert.equal(client.state, TcpState.FREE);
    assert.equal(server!.state, TcpState.FREE);
  });

  it('challenges a SYN; an exact RST ends it early', () => {
    const { net, client } = pairIn('TIME_WAIT');
    inject(net.a, client, { seq: client.rcvNxt, flags: 0x02 });
    assert.equal(heldHeaders(net)[0].flags, ACK);
    inject(net.a, client, { seq: client.rcvNxt, flags: RST });
    assert.equal(client.state, TcpState.FREE);
    assert.deepEqual(net.a.log.slice(-1), ['closed:0']);
  });
});

describe('tcp state FIN-WAIT-2 and CLOSE-WAIT', () => {
  it('FIN-WAIT-2 of a closed app times out; a half-closed one waits', () => {
    const closed = pairIn('ESTABLISHED', { config: { finWait2TimeoutMs: 30_000 } });
    closed.net.a.stack.close(closed.client);
    closed.net.settle();
    assert.equal(closed.client.state, TcpState.FIN_WAIT_2);
    closed.net.advanceTo(closed.net.now + 30_000);
    assert.equal(closed.client.state, TcpState.FREE);

    const half = pairIn('FIN_WAIT_2', { config: { finWait2TimeoutMs: 30_000 } });
    assert.equal(half.client.timers[TcpTimer.WAIT_CLOSE], 0);
    half.net.advanceTo(half.net.now + 600_000);
    assert.equal(half.client.state, TcpState.FIN_WAIT_2);
  });

  it('CLOSE-WAIT still sends; data from the peer after its FIN is not taken', () => {
    const { net, client, server } = pairIn('CLOSE_WAIT');
    const data = streamBytes(20_000, 4);
    Object.assign(net.b.app(server!), { toSend: data });
    net.b.pump(server!);
    net.settle();
    assert.deepEqual(net.a.app(client).text(), data);
    inject(net.b, server!, { seq: server!.rcvNxt, ack: server!.sndNxt, flags: ACK, data: new Uint8Array(10) });
    assert.equal(net.b.app(server!).receivedBytes, 0);
    assert.equal(server!.state, TcpState.CLOSE_WAIT);
  });
});

describe('tcp abortive close and RFC 1122 resets', () => {
  it('abort sends a RST: the peer sees ECONNRESET', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    net.a.stack.abort(client);
    assert.equal(client.state, TcpState.FREE);
    const [rst] = heldHeaders(net);
    assert.equal(rst.flags, RST | ACK);
    net.deliverHeld();
    assert.equal(server!.state, TcpState.FREE);
    assert.deepEqual(net.b.log.slice(-2), ['reset ECONNRESET:1', 'closed:1']);
    assert.deepEqual(net.a.log.slice(-1), ['closed:0']);
  });

  it('close with unread data resets the connection', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    net.b.app(server!).paused = true;
    Object.assign(net.a.app(client), { toSend: streamBytes(1000, 5) });
    net.a.pump(client);
    net.settle();
    net.b.stack.close(server!);
    assert.equal(server!.state, TcpState.FREE);
    net.settle();
    assert.equal(client.state, TcpState.FREE);
    assert.equal(net.a.finished[0].app.error, 'ECONNRESET');
  });

  it('data arriving after close is answered with a reset', () => {
    const { net, client, server } = pairIn('ESTABLISHED');
    net.b.stack.close(server!);
    net.settle();
    assert.equal(server!.state, TcpState.FIN_WAIT_2);
    Object.assign(net.a.app(client), { toSend: streamBytes(1000, 6) });
    net.a.pump(client);
    net.settle();
    assert.equal(server!.state, TcpState.FREE);
    assert.equal(client.state, TcpState.FREE);
    assert.equal(net.a.finished[0].app.error, 'ECONNRESET');
  });

  it('abort of a connection in SYN-SENT sends nothing', () => {
    const { net, client } = pairIn('SYN_SENT');
    net.dropHeld();
    net.a.stack.abort(client);
    assert.equal(net.pending.length, 0);
    assert.deepEqual(net.a.log, ['closed:0']);
  });
});
