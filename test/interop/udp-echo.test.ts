// vecnet's UDP sessions against the Linux kernel's UDP (root only; skipped with a message
// otherwise): a TAP into a namespace, vecnet's builtin udp:// echo server on 10.200.8.1, and
// a Python client in the namespace that sends datagrams of assorted sizes (one at a time,
// each awaited, so nothing is lost to a full queue), checks that every one comes back whole
// and from the server's address and port; then vecnet's echo clients against a Python UDP
// echo server in the namespace, byte-exact; and a datagram to a port with no session gets
// Linux an ICMP port unreachable (ConnectionRefusedError on a connected socket).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import { Cleanup, TAG, kernelSkipReason, runAsync } from './kernel.ts';

const skip = kernelSkipReason(['ip', 'python3']);

const CLIENT = `
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((host, port))
ok = 0
for i, size in enumerate([0, 1, 100, 1400, 1472, 512, 7]):
    data = bytes((i * 31 + j) & 0xff for j in range(size))
    s.send(data)
    got, addr = s.recvfrom(4096)
    if got == data and addr == (host, port):
        ok += 1
closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
closed.settimeout(3)
closed.connect((host, port + 1))
closed.send(b'anyone?')
try:
    closed.recv(100)
    refused = 'answered'
except ConnectionRefusedError:
    refused = 'refused'
except socket.timeout:
    refused = 'timeout'
print('echoed', ok, refused)
`;

const SERVER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print('ready', flush=True)
s.settimeout(10)
n = 0
try:
    while True:
        data, addr = s.recvfrom(65536)
        s.sendto(data, addr)
        n += 1
        s.settimeout(1)
except socket.timeout:
    pass
print('served', n)
`;

test('Linux UDP client to vecnet udp echo server, and vecnet udp echo clients to a Linux server, over a tap', { skip: skip ?? false, timeout: 60000 }, async () => {
  const cleanup = new Cleanup();
  const vm = createEngine();
  try {
    const ns = cleanup.netns(`vn-udp-${TAG}`);
    const hostIf = `vudp${TAG}`;
    cleanup.add(() => vm.vnet.devices.closeAll());
    const name = vm.cli(`create tap host-if-name ${hostIf} host-ns ${ns} host-ip4-addr 10.200.8.2/24`).trim();
    vm.cli(`set interface state ${name} up`);
    vm.cli(`set interface ip address ${name} 10.200.8.1/24`);
    vm.cli('session enable');
    vm.cli('test echo server uri udp://10.200.8.1/6001');
    vm.start();
    cleanup.add(() => vm.stop());
    const echo = await runAsync('ip', ['netns', 'exec', ns, 'python3', '-c', CLIENT, '10.200.8.1', '6001'], 30000);
    assert.equal(echo.output.trim(), 'echoed 7 refused', echo.output);

    const server = runAsync('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', SERVER, '10.200.8.2', '6002'], 30000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the server binds
    const out = await vm.cliAsync('test echo clients uri udp://10.200.8.2/6002 nclients 2 bytes 1m test-timeout 15');
    assert.match(out, /^Finished 2 of 2 connections$/m, out);
    assert.match(out, new RegExp(`^${2 * 2 * (1 << 20)} bytes \\(`, 'm'));
    assert.doesNotMatch(out, /error:/);
    // The server stops a second after the last datagram: every one of them went through it.
    const served = await server;
    assert.match(served.output, new RegExp(`served ${2 * Math.ceil((1 << 20) / 1400)}\\b`), served.output);
  } finally {
    await cleanup.run();
  }
});
