// session-queue: an interrupt-mode input node. An app's tx event interrupts it and its call
// hands the session's data to TCP (segments towards tcp4-output); TCP timers are driven by it
// (a SYN is retransmitted when its timer expires, with no packet arriving); with nothing to do
// it is not polled — the engine sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTcpHeader, TcpFlags } from '../../src/wire/tcp.ts';
import { ip, load, release, runNode } from './ip4-helpers.ts';
import { tcpDatagram, tcpEngine } from './tcp-helpers.ts';

test('session-queue: interrupt mode, not polled while idle', () => {
  const { vm } = tcpEngine();
  const rt = vm.node('session-queue')!;
  assert.equal(rt.state, 'interrupt');
  const calls = rt.calls;
  vm.runUntilIdle();
  vm.runUntilIdle();
  assert.equal(rt.calls, calls);
});

test('session-queue: a tx event is drained into TCP; segments leave for tcp4-output', () => {
  const { vm, host, toOutput } = tcpEngine();
  const app = host.attach({ name: 'srv', callbacks: {} });
  host.listen(app, 0, 80);
  // Handshake by hand: SYN in, SYN-ACK out, ACK in.
  runNode(vm, 'tcp4-input', [load(vm, tcpDatagram({ flags: TcpFlags.SYN, seq: 100, options: { mss: 1460 } }))]);
  const synAck = parseTcpHeader(vm.pool.bytes, vm.pool.current[toOutput[0]], vm.pool.length[toOutput[0]])!;
  release(vm, toOutput.splice(0));
  runNode(vm, 'tcp4-input', [load(vm, tcpDatagram({ flags: TcpFlags.ACK, seq: 101, ack: synAck.sequenceNumber + 1 }))]);
  const session = host.liveSessionList().find((s) => s.listenerIndex >= 0)!;
  assert.ok(session !== undefined, 'accepted');
  session.txFifo!.enqueue(new Uint8Array(3000).fill(7), 0, 3000);
  host.send(session);
  const rt = vm.node('session-queue')!;
  assert.equal(rt.interruptPending, true, 'the tx event interrupted session-queue');
  assert.equal(toOutput.length, 0, 'nothing sent before session-queue runs');
  vm.runOnce();
  assert.equal(toOutput.length, 3, '3000 bytes in three segments of at most 1460');
  let bytes = 0;
  for (const bi of toOutput) bytes += vm.pool.length[bi] - 20;
  assert.equal(bytes, 3000);
  assert.equal(host.eventsPending, 0);
  release(vm, toOutput.splice(0));
});

test('session-queue: TCP timers fire from it (a lost SYN is sent again)', async () => {
  const { vm, host, toOutput } = tcpEngine();
  host.tcp!.config.rtoInitialMs = 30;
  const app = host.attach({ name: 'cln', callbacks: {} });
  host.connect(app, ip('10.10.1.2'), 80);
  assert.equal(toOutput.length, 1, 'the SYN');
  release(vm, toOutput.splice(0));
  vm.start();
  try {
    const start = Date.now();
    while ((toOutput.length as number) === 0 && Date.now() - start < 2000) await new Promise((r) => setTimeout(r, 5));
    assert.equal(toOutput.length, 1, 'the SYN again, after the retransmission timer');
    assert.equal(parseTcpHeader(vm.pool.bytes, vm.pool.current[toOutput[0]], vm.pool.length[toOutput[0]])!.flags, TcpFlags.SYN);
    assert.ok(vm.node('session-queue')!.calls > 0);
  } finally {
    vm.stop();
    release(vm, toOutput.splice(0));
  }
});
