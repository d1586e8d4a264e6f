// The session layer in one engine, as users drive it: two app namespaces in two VRFs joined
// by a veth pair (test/session/topology.ts), the builtin echo apps through the CLI, and small
// apps on the API for what the CLI does not show — refusal by a closed port, orderly close
// from either side, namespace isolation, and an idle engine that sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp4 } from '../../src/wire/address.ts';
import { parseStartupConfig } from '../../src/vlib/startup-conf.ts';
import { createEngine } from '../../src/index.ts';
import { applyHostStackConfig, registerHostStack } from '../../src/host-stack.ts';
import { SessionState, type HostStack } from '../../src/session/host-stack.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import { CLIENT_IP, SERVER_IP, twoVrfs } from './topology.ts';
import { recorder, until, write } from './recorder.ts';

const SERVER = parseIp4(SERVER_IP)!;

async function echoTest(cc: 'newreno' | 'cubic'): Promise<void> {
  const { vm } = twoVrfs({ cc });
  vm.start();
  try {
    vm.cli(`test echo server uri tcp://${SERVER_IP}/1234 fifo-size 512 appns server secret 1234`);
    const bytes = 4 << 20;
    const out = await vm.cliAsync(`test echo clients uri tcp://${SERVER_IP}/1234 nclients 2 bytes 4m fifo-size 512 appns client secret 5678`);
    assert.match(out, /^Finished 2 of 2 connections$/m);
    assert.match(out, new RegExp(`^${4 * bytes} bytes \\(`, 'm'), 'every byte sent and echoed, both clients');
    assert.match(out, /gbit\/second full-duplex/);
    assert.doesNotMatch(out, /error:/);
    const stats = vm.cli('show tcp stats');
    assert.match(stats, /connections accepted/);
  } finally {
    vm.stop();
  }
}

test('echo over a veth pair between two VRFs, newreno: 2 × 4 MiB byte-exact both ways', () => echoTest('newreno'));
test('echo over a veth pair between two VRFs, cubic: 2 × 4 MiB byte-exact both ways', () => echoTest('cubic'));

test('vperf spelling, show app / show app ns / show session verbose', async () => {
  const { vm } = twoVrfs();
  vm.start();
  try {
    vm.cli(`vperf server uri tcp://${SERVER_IP}/5201 appns server secret 1234`);
    assert.equal(vm.cli('show app'), [
      'Index     Name                Namespace                               ',
      '0         vperf_srv_builtin   1                                       ',
    ].join('\n'));
    const ns = vm.cli('show app ns').split('\n');
    assert.match(ns[0], /^Index\s+Secret\s+Interface\s+Table\s+Id$/);
    assert.match(ns[1], /^0\s+0\s+-\s+0\s+default$/);
    assert.match(ns[2], /^1\s+1234\s+-\s+0\s+server$/);
    assert.match(ns[3], /^2\s+5678\s+-\s+1\s+client$/);
    assert.equal(vm.cli('show session verbose'), [
      'Connection                                                  State          Rx-f      Tx-f      ',
      `[0:0][T] ${SERVER_IP}:5201->0.0.0.0:0                         LISTEN         0         0         `,
      'Thread 0: active sessions 1',
    ].join('\n'));
    const out = await vm.cliAsync(`vperf client uri tcp://${SERVER_IP}/5201 bytes 64k appns client secret 5678`);
    assert.match(out, /Finished 1 of 1 connections/);
    // The server's side of the finished connection waits in LAST-ACK or is gone; the client's is in TIME-WAIT or gone.
    assert.match(vm.cli('show session'), /^Thread 0: active sessions \d+$/m);
  } finally {
    vm.stop();
  }
});

test('CLI input errors name the token and change nothing', () => {
  const { vm } = twoVrfs();
  assert.throws(() => vm.cli('app ns add id x secret 1'), /missing if <intfc> or table <id>/);
  assert.throws(() => vm.cli('app ns add id x secret 1 table 77'), /table 77 does not exist/);
  assert.throws(() => vm.cli('app ns add id x secret 1 if nosuch'), /unknown interface 'nosuch'/);
  assert.throws(() => vm.cli('test echo server uri http://1.2.3.4/80'), /bad uri 'http:\/\/1.2.3.4\/80'/);
  assert.throws(() => vm.cli(`test echo server uri tcp://${SERVER_IP}/80 appns server secret 1`), /wrong secret for app namespace 'server'/);
  assert.throws(() => vm.cli('test echo server uri tcp://1.2.3.4/80 appns nosuch'), /app namespace 'nosuch' does not exist/);
  assert.throws(() => vm.cli('session maybe'), /enable or disable/);
  assert.equal(vm.cli('show app'), 'No active server bindings');
  const fresh = createEngine();
  registerHostStack(fresh);
  assert.throws(() => fresh.cli('show session'), /session layer is disabled/);
  assert.throws(() => fresh.cli('test echo server uri tcp://1.2.3.4/80'), /session layer is disabled/);
});

test('startup.conf: session { enable } and tcp { cc-algo newreno } through applyHostStackConfig', () => {
  const config = parseStartupConfig('session { enable } tcp { cc-algo newreno }', 'startup.conf');
  const vm = createEngine();
  applyHostStackConfig(vm, config.session, config.tcp);
  const host = registerHostStack(vm);
  assert.equal(host.enabled, true);
  assert.equal(host.tcp!.config.congestionControl, 'newreno');
  assert.match(vm.cli('show session'), /active sessions 0/);
});

async function pair(vm: Engine, host: HostStack, port: number) {
  const server = recorder(host, `srv${port}`, 'server', 1234);
  const client = recorder(host, `cln${port}`, 'client', 5678);
  host.listen(server.app, 0, port);
  host.connect(client.app, SERVER, port);
  vm.wake();
  await until(() => server.sessions.length === 1 && client.sessions.length === 1);
  return { server, client };
}

test('connect to a closed port: refused (RST), ECONNREFUSED to the app', async () => {
  const { vm, host } = twoVrfs();
  vm.start();
  try {
    const client = recorder(host, 'cln', 'client', 5678);
    host.connect(client.app, SERVER, 9);
    await until(() => client.events.includes('cleanup'));
    assert.deepEqual(client.events, ['connect failed ECONNREFUSED', 'cleanup']);
    assert.equal(vm.errorCounter('tcp4-input', 'no listener for dst port'), 1);
    await assert.rejects(vm.cliAsync(`test echo clients uri tcp://${SERVER_IP}/9 appns client secret 5678`), (e: Error & { code?: string }) => e.code === 'ECONNREFUSED');
  } finally {
    vm.stop();
  }
});

test('namespaces are apart: a listener in one VRF is not reached from another namespace except through the network', async () => {
  const { vm, host } = twoVrfs();
  vm.start();
  try {
    const server = recorder(host, 'srv', 'server', 1234);
    host.listen(server.app, 0, 80);
    const client = recorder(host, 'cln', 'client', 5678);
    // 10.200.2.2 is the client namespace's own address: its table has no listener on 80.
    host.connect(client.app, parseIp4(CLIENT_IP)!, 80);
    await until(() => client.events.includes('cleanup'));
    assert.deepEqual(client.events, ['connect failed ECONNREFUSED', 'cleanup']);
    assert.deepEqual(server.events, []);
  } finally {
    vm.stop();
  }
});

test('orderly close from the server side: data then FIN, both sessions end', async () => {
  const { vm, host } = twoVrfs();
  vm.start();
  try {
    const { server, client } = await pair(vm, host, 7001);
    write(host, server.sessions[0], 'bye from server');
    host.close(server.sessions[0]);
    await until(() => client.events.includes('disconnected'));
    assert.equal(String.fromCharCode(...client.received), 'bye from server');
    host.close(client.sessions[0]);
    // The server (active closer) waits in TIME-WAIT; the client's side is gone after LAST-ACK.
    await until(() => client.events.includes('cleanup'));
    assert.equal(server.sessions[0].connection?.state, 10 /* TIME_WAIT */);
    assert.match(vm.cli('show session verbose'), /TIME_WAIT/);
    // The server app is done with it: it heard `cleanup` and its FIFOs are back, while the
    // connection waits out 2·MSL alone.
    assert.ok(server.events.includes('cleanup'));
    assert.equal(server.app.segments.fifoCount, 0);
    assert.equal(client.app.segments.fifoCount, 0);
  } finally {
    vm.stop();
  }
});

test('orderly close from the client side, and a half-close that still receives', async () => {
  const { vm, host } = twoVrfs();
  vm.start();
  try {
    const { server, client } = await pair(vm, host, 7002);
    write(host, client.sessions[0], 'ping');
    host.shutdown(client.sessions[0]);
    await until(() => server.events.includes('disconnected'));
    assert.equal(String.fromCharCode(...server.received), 'ping');
    // Half-closed: the server may still send.
    write(host, server.sessions[0], 'pong');
    host.close(server.sessions[0]);
    await until(() => client.events.includes('disconnected') && server.events.includes('cleanup'));
    assert.equal(String.fromCharCode(...client.received), 'pong');
    assert.equal(client.sessions[0].state === SessionState.PEER_CLOSED || client.sessions[0].state === SessionState.CLOSING, true);
  } finally {
    vm.stop();
  }
});

test('abort: the peer hears ECONNRESET', async () => {
  const { vm, host } = twoVrfs();
  vm.start();
  try {
    const { server, client } = await pair(vm, host, 7003);
    host.abort(client.sessions[0]);
    await until(() => server.events.includes('cleanup'));
    assert.deepEqual(server.events, ['accepted', 'reset ECONNRESET', 'cleanup']);
  } finally {
    vm.stop();
  }
});

test('an idle engine with an established connection sleeps (no spinning)', async () => {
  const { vm, host } = twoVrfs();
  vm.start();
  try {
    await pair(vm, host, 7004);
    await new Promise((resolve) => setTimeout(resolve, 100)); // delayed ACKs and the like settle
    const loops = vm.loops;
    const cpu = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const used = process.cpuUsage(cpu);
    assert.ok(vm.loops - loops < 10, `${vm.loops - loops} turns in 300 ms of idle`);
    assert.ok(used.user + used.system < 150_000, `${used.user + used.system} µs of CPU in 300 ms of idle`);
  } finally {
    vm.stop();
  }
});
