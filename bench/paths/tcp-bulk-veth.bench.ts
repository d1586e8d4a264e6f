// TCP through the whole graph on one core: the builtin echo apps over a veth pair between two
// VRFs (test/session/topology.ts) — client → tcp4-output → ip4-lookup → ip4-rewrite → veth →
// ethernet-input → ip4-input → ip4-local → tcp4-input → server app, and the echo back —
// 64 MiB each way on one connection, MTU 1500 and 9000, newreno and cubic, reported as
// Gbit/s of payload per direction; next to node:net over the kernel's loopback in the same
// run (one process, echo server and client on one event loop, the same 64 MiB each way).

import { createServer, connect } from 'node:net';
import { runEchoClients } from '../../src/apps/echo.ts';
import { benchReport, runIfMain } from '../harness.ts';
import { SERVER_IP, twoVrfs } from '../../test/session/topology.ts';

const BYTES = 64 << 20;

async function vecnet(cc: 'newreno' | 'cubic', mtu: number): Promise<number> {
  const { vm } = twoVrfs({ cc, mtu, engine: { dataSize: mtu > 2000 ? 9216 : 2048, buffers: 32768 } });
  vm.start();
  try {
    vm.cli(`test echo server uri tcp://${SERVER_IP}/1234 fifo-size 4m appns server secret 1234`);
    const r = await runEchoClients(vm, { uri: `tcp://${SERVER_IP}/1234`, bytes: BYTES, fifoSize: 4 << 20, namespace: 'client', secret: 5678, testTimeoutS: 120 });
    if (r.errors.length > 0) throw new Error(r.errors.join('; '));
    return (BYTES * 8) / r.seconds / 1e9;
  } finally {
    vm.stop();
  }
}

async function nodeNet(): Promise<number> {
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(65536, 0x5a);
    let sent = 0;
    let received = 0;
    const pump = (): void => {
      while (sent < BYTES) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', pump);
    socket.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= BYTES) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', reject);
  });
  const seconds = (performance.now() - start) / 1000;
  server.close();
  return (BYTES * 8) / seconds / 1e9;
}

benchReport(async () => {
  const lines: string[] = [];
  const kernel = await nodeNet();
  lines.push(`node:net echo over kernel loopback, 64 MiB each way: ${kernel.toFixed(2)} Gbit/s per direction`);
  for (const mtu of [1500, 9000]) {
    for (const cc of ['newreno', 'cubic'] as const) {
      const g = await vecnet(cc, mtu);
      lines.push(`vecnet TCP echo over veth (2 VRFs, ${cc}, MTU ${mtu}), 64 MiB each way: ${g.toFixed(2)} Gbit/s per direction (${(g / kernel).toFixed(2)}× node:net)`);
    }
  }
  return lines;
});

await runIfMain(import.meta.url);
