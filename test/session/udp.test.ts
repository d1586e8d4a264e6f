// UDP sessions through the session layer, across the two-VRF veth topology: the echo apps
// over udp:// through the CLI; on the API, an unconnected listener that hears every sender
// (with its address) and answers with sendTo, a connected session that hears only its peer,
// datagram boundaries kept, a full rx FIFO dropping (counted) rather than losing data in the
// FIFO, ports registered with ip4-udp-lookup only while a session uses them, and errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp4 } from '../../src/wire/address.ts';
import { DatagramHeader } from '../../src/session/datagram.ts';
import type { HostStack, Session } from '../../src/session/host-stack.ts';
import { CLIENT_IP, SERVER_IP, twoVrfs } from './topology.ts';
import { until } from './recorder.ts';

const SERVER = parseIp4(SERVER_IP)!;
const CLIENT = parseIp4(CLIENT_IP)!;

interface Heard { length: number; from: string; port: number; text: string }

/** An app that records every datagram it reads (and, with `answer`, sends each back). */
function datagramApp(host: HostStack, name: string, namespace: string, secret: number, options: { answer?: boolean; paused?: boolean; fifoSize?: number } = {}) {
  const heard: Heard[] = [];
  const sessions: Session[] = [];
  const scratch = new Uint8Array(4096);
  const from = new DatagramHeader();
  const state = { paused: options.paused ?? false };
  const read = (s: Session): void => {
    if (state.paused) return;
    for (;;) {
      const n = host.receiveFrom(s, scratch, 0, scratch.length, from);
      if (n < 0) break;
      heard.push({ length: n, from: `${from.remoteAddress >>> 24}.${(from.remoteAddress >>> 16) & 255}.${(from.remoteAddress >>> 8) & 255}.${from.remoteAddress & 255}`, port: from.remotePort, text: new TextDecoder().decode(scratch.subarray(0, n)) });
      if (options.answer) host.sendTo(s, scratch, 0, n, from.remoteAddress, from.remotePort);
    }
  };
  const app = host.attach({
    name, namespace, secret, rxFifoSize: options.fifoSize, txFifoSize: options.fifoSize,
    callbacks: { connected: (s) => sessions.push(s), rx: read },
  });
  return { app, heard, sessions, state, read };
}

function send(host: HostStack, s: Session, text: string, address?: number, port?: number): boolean {
  const bytes = new TextEncoder().encode(text);
  return host.sendTo(s, bytes, 0, bytes.length, address, port);
}

test('udp echo through the CLI across two VRFs: 4 clients × 2 MiB byte-exact', async () => {
  const { vm } = twoVrfs();
  vm.start();
  try {
    vm.cli(`test echo server uri udp://${SERVER_IP}/5000 appns server secret 1234`);
    const out = await vm.cliAsync(`test echo clients uri udp://${SERVER_IP}/5000 nclients 4 bytes 2m appns client secret 5678 test-timeout 20`);
    assert.match(out, /^Finished 4 of 4 connections$/m);
    assert.match(out, new RegExp(`^${4 * 2 * (2 << 20)} bytes \\(`, 'm'));
    assert.doesNotMatch(out, /error:/);
    assert.equal(vm.errorCounter('udp4-input', 'Packets dropped for lack of rx fifo space'), 0);
    assert.ok(vm.errorCounter('udp4-input', 'datagrams received') >= 2 * 4 * Math.ceil((2 << 20) / 1400));
    assert.equal(vm.cli('show tcp stats').trim(), 'Thread 0:', 'no TCP at all');
  } finally {
    vm.stop();
  }
});

test('an unconnected listener hears every sender with its address; a connected session only its peer', async () => {
  const { vm, host } = twoVrfs();
  vm.start();
  try {
    const server = datagramApp(host, 'srv', 'server', 1234, { answer: true });
    const listener = host.listen(server.app, 0, 6000, 'udp');
    const client = datagramApp(host, 'cln', 'client', 5678);
    const a = host.connect(client.app, SERVER, 6000, 0, 'udp');
    const b = host.connect(client.app, SERVER, 6000, 1, 'udp');
    await until(() => client.sessions.length === 2);
    assert.ok(a.localPort !== b.localPort);
    assert.ok(send(host, a, 'one'));
    assert.ok(send(host, a, ''));
    assert.ok(send(host, b, 'x'.repeat(1400)));
    await until(() => server.heard.length === 3 && client.heard.length === 3);
    assert.deepEqual(server.heard.map((h) => [h.length, h.from, h.port]), [[3, CLIENT_IP, a.localPort], [0, CLIENT_IP, a.localPort], [1400, CLIENT_IP, b.localPort]]);
    assert.deepEqual(client.heard.map((h) => h.length).sort((x, y) => x - y), [0, 3, 1400], 'each datagram came back whole, boundaries kept');
    const rows = vm.cli('show session verbose');
    assert.match(rows, /\[0:\d+\]\[U\] 0\.0\.0\.0:6000->0\.0\.0\.0:0\s+LISTEN\s/);
    assert.match(rows, new RegExp(`\\[0:${a.index}\\]\\[U\\] ${CLIENT_IP}:${a.localPort}->${SERVER_IP}:6000\\s+OPENED`));
    // A datagram from the listener's port to b's port from somewhere else than b's peer: not b's.
    const stranger = datagramApp(host, 'stranger', 'server', 1234);
    const other = host.listen(stranger.app, 0, 6001, 'udp');
    assert.ok(send(host, other, 'not for you', CLIENT, b.localPort));
    await until(() => vm.errorCounter('udp4-input', 'no session for datagram') === 1);
    assert.equal(client.heard.length, 3);
    host.close(a);
    host.close(b);
    host.close(listener);
    await until(() => vm.vnet.udpLocal.nodeOf(6000) === undefined && vm.vnet.udpLocal.nodeOf(a.localPort) === undefined);
    assert.equal(vm.vnet.udpLocal.nodeOf(6001), 'udp4-input', 'the other listener still holds its port');
  } finally {
    vm.stop();
  }
});

test('a full rx FIFO drops whole datagrams, counted; what was taken reads back intact', async () => {
  const { vm, host } = twoVrfs();
  vm.start();
  try {
    const server = datagramApp(host, 'srv', 'server', 1234, { paused: true, fifoSize: 4096 });
    const listener = host.listen(server.app, 0, 6100, 'udp');
    const client = datagramApp(host, 'cln', 'client', 5678);
    const s = host.connect(client.app, SERVER, 6100, 0, 'udp');
    await until(() => client.sessions.length === 1);
    for (let i = 0; i < 10; i++) assert.ok(send(host, s, String(i).repeat(1000)));
    // 4096 bytes hold four datagrams of 1000 + a 16-byte header each; the other six are dropped.
    await until(() => vm.errorCounter('udp4-input', 'Packets dropped for lack of rx fifo space') === 6);
    server.state.paused = false;
    server.read(listener);
    assert.deepEqual(server.heard.map((h) => h.text), ['0', '1', '2', '3'].map((d) => d.repeat(1000)));
  } finally {
    vm.stop();
  }
});

test('udp API errors: one clear error each, nothing changed', async () => {
  const { vm, host } = twoVrfs();
  const app = datagramApp(host, 'a', 'server', 1234).app;
  const listener = host.listen(app, 0, 6200, 'udp');
  assert.throws(() => host.listen(app, 0, 6200, 'udp'), { code: 'EADDRINUSE' });
  host.listen(app, 0, 6200, 'tcp'); // the same port over TCP is another listener
  assert.throws(() => host.sendTo(listener, new Uint8Array(1), 0, 1), { code: 'EDESTADDRREQ' });
  assert.throws(() => host.sendTo(listener, new Uint8Array(4096), 0, 4096, CLIENT, 9), { code: 'EMSGSIZE' });
  assert.throws(() => host.listen(app, 0, 0, 'udp'), { code: 'EINVAL' });
  assert.throws(() => host.listen(app, 0, 4789 + 0, 'nope' as 'udp'), { code: 'EINVAL' });
  vm.cli('create vxlan tunnel src 10.200.2.1 dst 10.200.2.9 vni 5');
  assert.throws(() => host.listen(app, 0, 4789, 'udp'), { code: 'EADDRINUSE' }, 'VXLAN holds 4789');
  assert.equal(vm.vnet.udpLocal.nodeOf(4789), 'vxlan4-input');
});
