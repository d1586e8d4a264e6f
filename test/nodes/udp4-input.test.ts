// udp4-input on datagrams as ip4-udp-lookup leaves them (current at the payload, IPv4 header
// at l3): a datagram for a listener lands whole in its rx FIFO with the sender's address
// and the app gets an rx event; a connected session wins over the listener for its peer; no
// session and a full FIFO are counted drops; random datagrams never throw and every buffer
// is accounted for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hostStackOf } from '../../src/host-stack.ts';
import { DatagramHeader } from '../../src/session/datagram.ts';
import { errorsOf, ip, ip4, ip4Engine, load, release, runNode, udp } from './ip4-helpers.ts';

function udpEngine() {
  const { vm } = ip4Engine([], 4096);
  vm.cli('session enable');
  const host = hostStackOf(vm);
  const app = host.attach({ name: 'app', rxFifoSize: 4096, txFifoSize: 4096, callbacks: {} });
  const listener = host.listen(app, 0, 5678, 'udp');
  return { vm, host, app, listener };
}

/** A datagram to 10.10.1.1:dstPort as ip4-udp-lookup hands it on. */
function delivered(vm: ReturnType<typeof udpEngine>['vm'], data: Uint8Array, srcPort = 1234, dstPort = 5678, src = '10.10.1.2'): number {
  const bi = load(vm, ip4({ src, dst: '10.10.1.1', protocol: 17, payload: udp({ src, dst: '10.10.1.1', srcPort, dstPort, data, checksum: 'good' }) }));
  vm.pool.advance(bi, 28);
  return bi;
}

test('udp4-input: a datagram for a listener lands whole in its rx FIFO with the sender; the app hears rx', () => {
  const { vm, host, listener } = udpEngine();
  const data = Uint8Array.from({ length: 300 }, (_, i) => i * 3);
  const run = runNode(vm, 'udp4-input', [delivered(vm, data)]);
  assert.deepEqual(run.next, [], 'taken: freed by the node');
  const header = new DatagramHeader();
  const got = new Uint8Array(1000);
  assert.equal(host.receiveFrom(listener, got, 0, got.length, header), 300);
  assert.deepEqual(got.subarray(0, 300), data);
  assert.equal(header.remoteAddress, ip('10.10.1.2'));
  assert.equal(header.remotePort, 1234);
  assert.equal(header.localAddress, ip('10.10.1.1'));
  assert.equal(header.localPort, 5678);
  assert.equal(host.eventsPending, 1, 'an rx event for the app');
  assert.equal(errorsOf(vm, 'udp4-input')['datagrams received'], 1);
});

test('udp4-input: a connected session takes its peer\'s datagrams; others go to the listener', () => {
  const { vm, host, app, listener } = udpEngine();
  const connected = host.connect(app, ip('10.10.1.2'), 1234, 0, 'udp');
  const port = connected.localPort;
  runNode(vm, 'udp4-input', [delivered(vm, new Uint8Array(10), 1234, port), delivered(vm, new Uint8Array(20), 1235, port)]);
  assert.equal(connected.rxFifo!.maxDequeue(), 16 + 10);
  assert.equal(listener.rxFifo!.maxDequeue(), 0, 'the listener is on 5678, not on the connected session\'s port');
  assert.equal(errorsOf(vm, 'udp4-input')['no session for datagram'], 1, 'a stranger to the connected port: no session');
});

test('udp4-input: no session and a full FIFO are counted drops', () => {
  const { vm } = udpEngine();
  vm.vnet.udpLocal.register(7000, 'udp4-input'); // a port with no session behind it
  const full = Array.from({ length: 5 }, () => delivered(vm, new Uint8Array(1000)));
  const run = runNode(vm, 'udp4-input', [delivered(vm, new Uint8Array(5), 1, 7000), ...full]);
  assert.deepEqual(run.next, ['error-drop', 'error-drop'], 'four of 1016 bytes fit a 4096-byte FIFO; the fifth does not');
  assert.deepEqual(errorsOf(vm, 'udp4-input'), { 'datagrams received': 4, 'no session for datagram': 1, 'Packets dropped for lack of rx fifo space': 1 });
  release(vm, run.buffers);
});

test('udp4-input: random datagrams never throw; every buffer is freed or dropped', () => {
  const { vm, listener } = udpEngine();
  const start = vm.pool.available;
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 1800 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    fc.integer({ min: 1, max: 65535 }),
    fc.integer({ min: -28, max: 40 }),
    (data, srcPort, shift) => {
      const bi = delivered(vm, data, srcPort);
      vm.pool.current[bi] += shift > 0 ? 0 : shift; // headers out of place, sometimes
      const run = runNode(vm, 'udp4-input', [bi]);
      release(vm, run.buffers);
      listener.rxFifo!.drop(listener.rxFifo!.maxDequeue());
    },
  ), { numRuns: 300 });
  assert.equal(vm.pool.available, start);
});
