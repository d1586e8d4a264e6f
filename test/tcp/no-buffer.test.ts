// ESTABLISHED, sending into a sink that refuses (no buffer): output stops instead of asking
// the sink forever, nothing leaves the tx FIFO unsent, and the transfer completes once the
// sink accepts again — on the ACKs of what did go out, or on the retransmit timer when
// nothing went out at all.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpState, type TcpConnection } from '../../src/tcp/connection.ts';
import type { TcpSegmentSink } from '../../src/tcp/stack.ts';
import { checkAll, Net, PORT_A, PORT_B, streamBytes, type Host } from './helpers.ts';

/**
 * Wraps `host`'s sink so it accepts `allowance.segments` more segments, then refuses. A sink
 * asked again and again after refusing is the bug under test: that throws rather than hangs.
 */
function gateSink(host: Host): { segments: number; refusals: number } {
  const gate = { segments: Infinity, refusals: 0 };
  const sink = (host.stack as unknown as { sink: TcpSegmentSink }).sink;
  const reserve = sink.reserve;
  sink.reserve = (room) => {
    if (gate.segments <= 0) {
      gate.refusals++;
      if (gate.refusals > 1000) throw new Error('the stack keeps asking a sink that refuses');
      return -1;
    }
    gate.segments--;
    return reserve(room);
  };
  return gate;
}

function established(): { net: Net; client: TcpConnection; gate: { segments: number; refusals: number }; data: Uint8Array } {
  const data = streamBytes(200_000, 7);
  const net = new Net({ fifoSize: 256 * 1024 });
  const gate = gateSink(net.a);
  net.b.listen(PORT_B, { expect: data });
  const client = net.a.connect(net.b, PORT_B, PORT_A);
  assert.ok(net.run(() => client.state === TcpState.ESTABLISHED && net.b.accepted.length === 1));
  return { net, client, gate, data };
}

function finish(net: Net, client: TcpConnection, data: Uint8Array): void {
  const server = net.b.app(net.b.accepted[0]);
  assert.ok(net.run(() => server.receivedBytes === data.length), `received ${server.receivedBytes} of ${data.length}`);
  assert.equal(server.mismatchAt, -1, 'the stream arrives byte-exact');
  assert.ok(net.run(() => client.sndUna === client.sndMax && client.txFifo!.maxDequeue() === 0));
  checkAll(net);
}

test('no buffer: the sink refuses after 3 segments; output returns, the rest waits in the tx FIFO, and goes on the ACKs', () => {
  const { net, client, gate, data } = established();
  const noBuffer0 = net.a.stack.stats.noBuffer;
  const out0 = net.a.stack.stats.segmentsOut;
  gate.segments = 3;
  const app = net.a.app(client);
  app.toSend = data;
  net.a.pump(client);
  assert.equal(net.a.stack.stats.segmentsOut - out0, 3, 'three segments went');
  assert.equal(gate.refusals, 1, 'output stopped at the first refusal');
  assert.equal(net.a.stack.stats.noBuffer - noBuffer0, 1, 'counted');
  assert.equal(client.txFifo!.maxDequeue(), app.sent, 'everything written is still in the tx FIFO');
  assert.equal(client.sndMax - client.sndUna, 3 * client.smss, 'SND.MAX covers only what went out');
  gate.segments = Infinity;
  finish(net, client, data);
});

test('no buffer: the sink refuses everything with nothing in flight; the retransmit timer sends it once the sink accepts', () => {
  const { net, client, gate, data } = established();
  gate.segments = 0;
  const app = net.a.app(client);
  app.toSend = data;
  net.a.pump(client);
  assert.equal(gate.refusals, 1);
  assert.equal(client.sndMax, client.sndUna, 'nothing went');
  const timeouts0 = net.a.stack.stats.timeouts;
  // The timer fires into a sink that still refuses: it is armed again, and counts no loss.
  net.advanceTo(net.now + client.rto + 1);
  assert.equal(gate.refusals, 2);
  assert.equal(net.a.stack.stats.timeouts, timeouts0, 'a refused send is not a timeout');
  gate.segments = Infinity;
  finish(net, client, data);
});
