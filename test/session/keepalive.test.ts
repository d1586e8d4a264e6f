// Idle connections and keepalive (RFC 1122 §4.2.3.6, RFC 9293 §3.8.4) through the whole
// graph: two namespaces in two VRFs joined by the in-engine veth pair
// (test/session/topology.ts), the keepalive timers cut to tens of milliseconds. An idle
// connection with keepalive probes its peer (a segment one below SND.NXT, which the peer
// answers with an ACK as out of window) and stays up; when the peer falls silent — its
// interface goes down — the probes go unanswered and after the last one the app hears
// ETIMEDOUT; an idle connection without keepalive sends nothing and stays ESTABLISHED.
// Also: the `tcp { keepalive-… timewait-time … }` items of startup.conf reach the stack.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp4 } from '../../src/wire/address.ts';
import { parseStartupConfig } from '../../src/vlib/startup-conf.ts';
import { createEngine } from '../../src/index.ts';
import { applyHostStackConfig, registerHostStack } from '../../src/host-stack.ts';
import { TcpState } from '../../src/tcp/connection.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import type { HostStack, Session, SessionErrorCode } from '../../src/session/host-stack.ts';
import { SERVER_IP, twoVrfs } from './topology.ts';
import { until } from './recorder.ts';

const SERVER = parseIp4(SERVER_IP)!;
const IDLE_MS = 40;
const INTERVAL_MS = 20;
const PROBES = 3;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An app that records its events; the session it got, once it has one. */
function recorder(host: HostStack, name: string, namespace: string, secret: number) {
  const events: string[] = [];
  const at: Record<string, number> = {};
  const state = { session: null as Session | null };
  const note = (event: string): void => {
    events.push(event);
    at[event] = performance.now();
  };
  const app = host.attach({
    name, namespace, secret,
    callbacks: {
      accepted: (s) => {
        state.session = s;
        note('accepted');
      },
      connected: (s, error) => {
        if (error === null) state.session = s;
        note(error === null ? 'connected' : `connect failed ${error}`);
      },
      disconnected: () => note('disconnected'),
      reset: (_s, code: SessionErrorCode) => note(`reset ${code}`),
      cleanup: () => note('cleanup'),
    },
  });
  return { app, events, at, state };
}

/** A connection between the two namespaces, established and settled (no ACK pending). */
async function idlePair(vm: Engine, host: HostStack, port: number) {
  const server = recorder(host, `srv${port}`, 'server', 1234);
  const client = recorder(host, `cln${port}`, 'client', 5678);
  host.listen(server.app, 0, port);
  host.connect(client.app, SERVER, port);
  vm.wake();
  await until(() => server.state.session !== null && client.state.session !== null, 'the handshake');
  await sleep(20);
  return { server, client, clientConnection: client.state.session!.connection!, serverConnection: server.state.session!.connection! };
}

function shortKeepalive(host: HostStack): void {
  const config = host.tcp!.config;
  config.keepaliveIdleMs = IDLE_MS;
  config.keepaliveIntervalMs = INTERVAL_MS;
  config.keepaliveProbes = PROBES;
}

/** `show tcp stats`' line for a counter, 0 when absent (zero counters are not shown). */
function tcpStat(vm: Engine, words: string): number {
  const m = new RegExp(`^ (\\d+) ${words}$`, 'm').exec(vm.cli('show tcp stats'));
  return m === null ? 0 : Number(m[1]);
}

/** Drops over every interface, from `show interface`. */
function interfaceDrops(vm: Engine): number {
  let total = 0;
  for (const m of vm.cli('show interface').matchAll(/ drops\s+(\d+)/g)) total += Number(m[1]);
  return total;
}

test('keepalive on an idle connection: probes every idle period, the peer answers, the connection stays up', async () => {
  const { vm, host } = twoVrfs();
  shortKeepalive(host);
  vm.start();
  try {
    const { server, client, clientConnection, serverConnection } = await idlePair(vm, host, 7101);
    const probesBefore = tcpStat(vm, 'keepalive probes');
    const answersBefore = serverConnection.segmentsOut;
    const clientInBefore = clientConnection.segmentsIn;
    assert.equal(probesBefore, 0);
    host.setKeepalive(client.state.session!, true);
    const periods = 8;
    await sleep(periods * IDLE_MS);
    const probes = tcpStat(vm, 'keepalive probes') - probesBefore;
    // One probe per idle period, each answered (which restarts the idle time); timers on a
    // loaded machine may run late, never early.
    assert.ok(probes >= 2 && probes <= periods + 1, `${probes} probes in ${periods} idle periods`);
    assert.ok(serverConnection.segmentsOut - answersBefore >= probes - 1, 'the peer answers every probe');
    assert.ok(clientConnection.segmentsIn - clientInBefore >= probes - 1, 'and the answers arrive');
    assert.ok(tcpStat(vm, 'out of window') >= probes - 1, 'a probe sits below the window: answered as out of window');
    assert.ok(clientConnection.keepaliveProbes <= 1, 'never more than the probe in flight is unanswered');
    assert.equal(clientConnection.state, TcpState.ESTABLISHED);
    assert.equal(serverConnection.state, TcpState.ESTABLISHED);
    assert.deepEqual(client.events, ['connected']);
    assert.deepEqual(server.events, ['accepted']);
    // Keepalive off again: no more probes.
    host.setKeepalive(client.state.session!, false);
    const probesAtOff = tcpStat(vm, 'keepalive probes');
    await sleep(3 * IDLE_MS);
    assert.equal(tcpStat(vm, 'keepalive probes'), probesAtOff);
  } finally {
    vm.stop();
  }
});

test(`keepalive when the peer falls silent: ${PROBES} unanswered probes, then the app hears ETIMEDOUT`, async () => {
  const { vm, host } = twoVrfs();
  shortKeepalive(host);
  vm.start();
  try {
    const { server, client, serverConnection } = await idlePair(vm, host, 7102);
    const serverSegmentsIn = serverConnection.segmentsIn;
    const dropsBefore = interfaceDrops(vm);
    // The server's side of the wire goes down: what the client sends is lost.
    vm.cli('set interface state left down');
    const start = performance.now();
    host.setKeepalive(client.state.session!, true);
    await until(() => client.events.includes('cleanup'), 'the keepalive to give up');
    const elapsed = client.at['reset ETIMEDOUT'] - start;
    assert.deepEqual(client.events, ['connected', 'reset ETIMEDOUT', 'cleanup']);
    assert.equal(tcpStat(vm, 'keepalive probes'), PROBES, 'exactly the configured number of probes');
    // Idle time, then one interval after each probe; timers may fire late, never early.
    assert.ok(elapsed >= IDLE_MS + PROBES * INTERVAL_MS - 2, `reset after ${elapsed.toFixed(1)} ms, expected ≥ ${IDLE_MS + PROBES * INTERVAL_MS}`);
    assert.equal(serverConnection.segmentsIn, serverSegmentsIn, 'nothing reached the silent peer');
    // The probes and the final reset died on the wire (counted as drops at one end or the other).
    await until(() => interfaceDrops(vm) - dropsBefore >= PROBES + 1, 'the reset to reach the wire');
    await sleep(5);
    assert.equal(interfaceDrops(vm) - dropsBefore, PROBES + 1);
    assert.deepEqual(server.events, ['accepted']);
    assert.equal(serverConnection.state, TcpState.ESTABLISHED, 'the peer never heard of it');
    assert.equal(host.sessionCount, 2, 'the listener and the server side are left');
  } finally {
    vm.stop();
  }
});

test('an idle connection without keepalive sends nothing and stays ESTABLISHED', async () => {
  const { vm, host } = twoVrfs();
  shortKeepalive(host);
  vm.start();
  try {
    const { server, client, clientConnection, serverConnection } = await idlePair(vm, host, 7103);
    const segmentsOut = host.tcp!.stats.segmentsOut;
    await sleep(10 * IDLE_MS);
    assert.equal(host.tcp!.stats.segmentsOut, segmentsOut, 'no segment in ten idle periods');
    assert.equal(tcpStat(vm, 'keepalive probes'), 0);
    assert.equal(clientConnection.state, TcpState.ESTABLISHED);
    assert.equal(serverConnection.state, TcpState.ESTABLISHED);
    assert.deepEqual(client.events, ['connected']);
    assert.deepEqual(server.events, ['accepted']);
  } finally {
    vm.stop();
  }
});

test('applyHostStackConfig takes the tcp timer items in seconds, before and after session enable', () => {
  const vm = createEngine();
  applyHostStackConfig(vm, { enable: false }, { ccAlgo: 'cubic', mtu: 1500, keepaliveIdle: 30, keepaliveInterval: 5, keepaliveProbes: 4, timewaitTime: 2 });
  const host = registerHostStack(vm);
  assert.equal(host.enabled, false);
  applyHostStackConfig(vm, { enable: true }, { ccAlgo: 'cubic', mtu: 1500 });
  const config = host.tcp!.config;
  assert.deepEqual(
    [config.keepaliveIdleMs, config.keepaliveIntervalMs, config.keepaliveProbes, config.timeWaitMs],
    [30_000, 5_000, 4, 2_000],
  );
  applyHostStackConfig(vm, { enable: true }, { ccAlgo: 'cubic', mtu: 1500, keepaliveProbes: 9 });
  assert.equal(config.keepaliveProbes, 9, 'the live stack follows');
});

test('startup.conf: tcp { keepalive-idle 7 keepalive-interval 3 keepalive-probes 4 timewait-time 5 syn-backlog 64 no-syn-cookies }', () => {
  const config = parseStartupConfig('session { enable } tcp { keepalive-idle 7 keepalive-interval 3 keepalive-probes 4 timewait-time 5 syn-backlog 64 no-syn-cookies }', 'startup.conf');
  const vm = createEngine();
  applyHostStackConfig(vm, config.session, config.tcp);
  const tcp = registerHostStack(vm).tcp!;
  assert.deepEqual(
    [tcp.config.keepaliveIdleMs, tcp.config.keepaliveIntervalMs, tcp.config.keepaliveProbes, tcp.config.timeWaitMs, tcp.config.synBacklog, tcp.config.synCookies],
    [7000, 3000, 4, 5000, 64, false],
  );
  assert.throws(() => parseStartupConfig('tcp { keepalive-probes 0 }', 'startup.conf'), /keepalive-probes/);
  assert.throws(() => parseStartupConfig('tcp { timewait-time 0.5 }', 'startup.conf'), /timewait-time/);
});
