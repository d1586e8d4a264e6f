// vecnet's TCP against the Linux kernel's (root only; skipped with a message otherwise): a TAP
// into a namespace, vecnet's builtin echo server on 10.200.7.1, and a Python client in the
// namespace that streams 16 MiB and reads the echo at the same time, checks every byte, then
// half-closes and reads to EOF (the server closes after the client: orderly close from both
// sides). A connect to a closed port is refused as Linux sees it (ECONNREFUSED from our RST).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import { Cleanup, TAG, kernelSkipReason, runAsync } from './kernel.ts';

const skip = kernelSkipReason(['ip', 'python3']);

const CLIENT = `
import socket, sys, threading, hashlib
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if size < 0:
    try:
        socket.create_connection((host, port), timeout=5)
        print('connected')
    except ConnectionRefusedError:
        print('refused')
    sys.exit(0)
pattern = bytes((i * 131 + (i >> 8)) & 0xff for i in range(65536))
s = socket.create_connection((host, port), timeout=20)
def send():
    left = size
    while left > 0:
        n = min(left, len(pattern))
        s.sendall(pattern[:n])
        left -= n
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
got = 0
ok = True
while True:
    data = s.recv(262144)
    if not data:
        break
    for off in range(0, len(data), 65536):
        chunk = data[off:off + 65536]
        start = (got + off) % 65536
        expect = (pattern + pattern)[start:start + len(chunk)]
        if chunk != expect:
            ok = False
    got += len(data)
t.join()
s.close()
print('echoed', got, 'ok' if ok and got == size else 'MISMATCH')
`;

test('Linux client to vecnet echo server over a tap: 16 MiB byte-exact both ways, closes from both sides, RST to a closed port', { skip: skip ?? false, timeout: 60000 }, async () => {
  const cleanup = new Cleanup();
  const vm = createEngine();
  try {
    const ns = cleanup.netns(`vn-tcp-${TAG}`);
    const hostIf = `vtcp${TAG}`;
    cleanup.add(() => vm.vnet.devices.closeAll());
    const name = vm.cli(`create tap host-if-name ${hostIf} host-ns ${ns} host-ip4-addr 10.200.7.2/24`).trim();
    vm.cli(`set interface state ${name} up`);
    vm.cli(`set interface ip address ${name} 10.200.7.1/24`);
    vm.cli('session enable');
    vm.cli('test echo server uri tcp://10.200.7.1/5201 fifo-size 1m');
    vm.start();
    cleanup.add(() => vm.stop());
    const size = 16 << 20;
    const echo = await runAsync('ip', ['netns', 'exec', ns, 'python3', '-c', CLIENT, '10.200.7.1', '5201', String(size)], 50000);
    assert.equal(echo.output.trim(), `echoed ${size} ok`, echo.output);
    const refused = await runAsync('ip', ['netns', 'exec', ns, 'python3', '-c', CLIENT, '10.200.7.1', '5202', '-1'], 20000);
    assert.equal(refused.output.trim(), 'refused');
    const stats = vm.cli('show tcp stats');
    assert.match(stats, /connections accepted/);
  } finally {
    await cleanup.run();
  }
});
