// Cut-through: two apps of one engine in one app namespace are joined FIFO to FIFO — no TCP
// segment, no graph — and see the same events as over TCP. The tests drive it as users do
// (the echo apps through the CLI, small apps on the API) and check what tells it apart:
// `show session verbose` ([CT:T]) and TCP's nodes never running. Apps in another namespace
// of the same table still reach the listener, through TCP over the engine's own addresses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import { hostStackOf } from '../../src/host-stack.ts';
import { parseIp4 } from '../../src/wire/address.ts';
import type { Session } from '../../src/session/host-stack.ts';
import { recorder, until, write } from './recorder.ts';

const ADDRESS = '10.0.9.1';
const SERVER = parseIp4(ADDRESS)!;

/** One engine, a loopback with 10.0.9.1/24 in table 0, namespaces `tenant` and `other` on table 0. */
function oneTable() {
  const vm = createEngine({ buffers: 8192 });
  const host = hostStackOf(vm);
  for (const line of [
    'session enable',
    'create loopback interface',
    'set interface state loop0 up',
    `set interface ip address loop0 ${ADDRESS}/24`,
    'app ns add id tenant secret 42 table 0',
    'app ns add id other secret 43 table 0',
  ]) vm.cli(line);
  return { vm, host };
}

function tcpNodeCalls(vm: ReturnType<typeof oneTable>['vm']): number {
  return vm.node('tcp4-input')!.calls + vm.node('tcp4-output')!.calls;
}

test('cut-through echo through the CLI: 2 × 8 MiB byte-exact, and no TCP segment at all', async () => {
  const { vm } = oneTable();
  vm.start();
  try {
    vm.cli(`test echo server uri tcp://${ADDRESS}/1234 appns tenant secret 42`);
    const out = await vm.cliAsync(`test echo clients uri tcp://${ADDRESS}/1234 nclients 2 bytes 8m appns tenant secret 42`);
    assert.match(out, /^Finished 2 of 2 connections$/m);
    assert.match(out, new RegExp(`^${4 * (8 << 20)} bytes \\(`, 'm'));
    assert.doesNotMatch(out, /error:/);
    assert.equal(tcpNodeCalls(vm), 0, 'tcp4-input and tcp4-output never ran');
    await until(() => vm.cli('show session') === 'Thread 0: active sessions 1', 'only the listener left', 2000);
  } finally {
    vm.stop();
  }
});

test('cut-through sessions in show session verbose; data both ways; close from the client, then the server', async () => {
  const { vm, host } = oneTable();
  vm.start();
  try {
    const server = recorder(host, 'srv', 'tenant', 42);
    const client = recorder(host, 'cln', 'tenant', 42);
    const segmentFifos = server.app.segments.fifoCount;
    host.listen(server.app, 0, 80);
    host.connect(client.app, SERVER, 80);
    await until(() => server.sessions.length === 1 && client.sessions.length === 1);
    const c = client.sessions[0];
    const s = server.sessions[0];
    assert.equal(c.cutThrough && s.cutThrough, true);
    const rows = vm.cli('show session verbose').split('\n');
    assert.match(rows[1], /^\[0:0\]\[T\] 0\.0\.0\.0:80->0\.0\.0\.0:0\s+LISTEN\s/);
    assert.match(rows[2], new RegExp(`^\\[0:${c.index}\\]\\[CT:T\\] ${ADDRESS}:${c.localPort}->${ADDRESS}:80\\s+ESTABLISHED\\s`));
    assert.match(rows[3], new RegExp(`^\\[0:${s.index}\\]\\[CT:T\\] ${ADDRESS}:80->${ADDRESS}:${c.localPort}\\s+ESTABLISHED\\s`));
    assert.equal(rows[4], 'Thread 0: active sessions 3');

    write(host, c, 'hello server');
    write(host, s, 'hello client');
    await until(() => server.received.length === 12 && client.received.length === 12);
    assert.equal(String.fromCharCode(...server.received), 'hello server');
    assert.equal(String.fromCharCode(...client.received), 'hello client');

    write(host, c, 'last words');
    host.close(c);
    await until(() => server.events.includes('disconnected'));
    assert.equal(String.fromCharCode(...server.received.slice(12)), 'last words', 'data before the close arrives first');
    assert.deepEqual(client.events, ['connected']);
    host.close(s);
    await until(() => client.events.includes('cleanup') && server.events.includes('cleanup'));
    assert.deepEqual(server.events, ['accepted', 'disconnected', 'cleanup']);
    assert.equal(server.app.segments.fifoCount, segmentFifos, 'the pair\'s FIFOs are back in the server\'s segment');
    assert.equal(vm.cli('show session'), 'Thread 0: active sessions 1');
    assert.equal(tcpNodeCalls(vm), 0);
  } finally {
    vm.stop();
  }
});

test('cut-through half-close: the side that shut down still receives', async () => {
  const { vm, host } = oneTable();
  vm.start();
  try {
    const server = recorder(host, 'srv', 'tenant', 42);
    const client = recorder(host, 'cln', 'tenant', 42);
    host.listen(server.app, SERVER, 81);
    host.connect(client.app, SERVER, 81);
    await until(() => server.sessions.length === 1 && client.sessions.length === 1);
    write(host, client.sessions[0], 'ping');
    host.shutdown(client.sessions[0]);
    await until(() => server.events.includes('disconnected'));
    assert.equal(String.fromCharCode(...server.received), 'ping');
    write(host, server.sessions[0], 'pong');
    host.close(server.sessions[0]);
    await until(() => client.events.includes('disconnected'));
    assert.equal(String.fromCharCode(...client.received), 'pong');
    host.close(client.sessions[0]);
    await until(() => client.events.includes('cleanup') && server.events.includes('cleanup'));
  } finally {
    vm.stop();
  }
});

test('cut-through abort: the peer hears ECONNRESET; detaching an app resets its peers', async () => {
  const { vm, host } = oneTable();
  vm.start();
  try {
    const server = recorder(host, 'srv', 'tenant', 42);
    const client = recorder(host, 'cln', 'tenant', 42);
    host.listen(server.app, 0, 82);
    host.connect(client.app, SERVER, 82);
    host.connect(client.app, SERVER, 82);
    await until(() => server.sessions.length === 2 && client.sessions.length === 2);
    host.abort(client.sessions[0]);
    await until(() => server.events.includes('cleanup'));
    assert.deepEqual(server.events, ['accepted', 'accepted', 'reset ECONNRESET', 'cleanup']);
    host.detach(server.app);
    await until(() => client.events.includes('reset ECONNRESET'));
    await until(() => client.events.filter((e) => e === 'cleanup').length === 2);
    assert.equal(vm.cli('show session'), 'Thread 0: active sessions 0');
  } finally {
    vm.stop();
  }
});

test('another namespace on the same table reaches the listener through TCP, not cut-through', async () => {
  const { vm, host } = oneTable();
  vm.start();
  try {
    const server = recorder(host, 'srv', 'tenant', 42);
    const client = recorder(host, 'cln', 'other', 43);
    host.listen(server.app, 0, 83);
    host.connect(client.app, SERVER, 83);
    await until(() => server.sessions.length === 1 && client.sessions.length === 1);
    assert.equal(client.sessions[0].cutThrough, false);
    assert.ok(client.sessions[0].connection !== null, 'a TCP connection under the session');
    write(host, client.sessions[0], 'over tcp');
    await until(() => server.received.length === 8);
    assert.equal(String.fromCharCode(...server.received), 'over tcp');
    assert.ok(tcpNodeCalls(vm) > 0, 'segments went through tcp4-input/tcp4-output');
    assert.doesNotMatch(vm.cli('show session verbose'), /\[CT:/);
  } finally {
    vm.stop();
  }
});

test('cut-through flow control: a reader that stops makes the writer wait, nothing lost', async () => {
  const { vm, host } = oneTable();
  vm.start();
  try {
    let paused = true;
    const got: number[] = [];
    const scratch = new Uint8Array(65536);
    const serverApp = host.attach({
      name: 'slow', namespace: 'tenant', secret: 42, rxFifoSize: 4096, txFifoSize: 4096,
      callbacks: {
        rx: (s) => {
          if (paused) return;
          const n = s.rxFifo!.dequeue(scratch, 0, scratch.length);
          for (let i = 0; i < n; i++) got.push(scratch[i]);
          host.rxConsumed(s);
        },
      },
    });
    const accepted: Session[] = [];
    serverApp.callbacks.accepted = (s) => accepted.push(s);
    host.listen(serverApp, 0, 84);
    const total = 20000;
    const data = new Uint8Array(total).map((_, i) => (i * 7) & 0xff);
    let sent = 0;
    let spaceEvents = 0;
    const clientApp = host.attach({
      name: 'fast', namespace: 'tenant', secret: 42,
      callbacks: {
        connected: (s) => push(s),
        txSpace: (s) => {
          spaceEvents++;
          push(s);
        },
      },
    });
    const push = (s: Session): void => {
      const n = s.txFifo!.enqueue(data, sent, total - sent);
      sent += n;
      if (n > 0) host.send(s);
    };
    host.connect(clientApp, SERVER, 84);
    await until(() => accepted.length === 1 && sent > 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(sent, 4096, 'the writer filled the reader\'s 4 KiB FIFO and waits');
    // The reader resumes: it reads what waits, and each read gives the writer room again.
    paused = false;
    serverApp.callbacks.rx!(accepted[0]);
    await until(() => got.length === total);
    assert.deepEqual(Uint8Array.from(got), data);
    assert.ok(spaceEvents > 0);
  } finally {
    vm.stop();
  }
});
