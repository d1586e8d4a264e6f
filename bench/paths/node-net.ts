// node:net over the kernel's loopback, the yardstick the host-stack benches put next to
// vecnet in the same run: an echo of `bytes` each way on one connection (server and client
// on this process's event loop), and a ping-pong of small messages for round-trip latency.

import { createServer, connect, type Server } from 'node:net';

async function listening(onSocket: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Echo of `bytes` each way; Gbit/s of payload per direction. */
export async function nodeNetEchoGbps(bytes: number): Promise<number> {
  const { server, port } = await listening((socket) => socket.pipe(socket));
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(65536, 0x5a);
    let sent = 0;
    let received = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', pump);
    socket.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= bytes) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', reject);
  });
  const seconds = (performance.now() - start) / 1000;
  server.close();
  return (bytes * 8) / seconds / 1e9;
}

/** Mean round trip of a `size`-byte message echoed back, over `rounds` rounds; µs. */
export async function nodeNetRoundTripUs(rounds: number, size: number): Promise<number> {
  const { server, port } = await listening((socket) => socket.pipe(socket));
  const message = Buffer.alloc(size, 0x42);
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  let start = 0;
  await new Promise<void>((resolve) => {
    let done = 0;
    let pending = 0;
    socket.on('data', (d: Buffer) => {
      pending += d.length;
      while (pending >= size) {
        pending -= size;
        done++;
        if (done === 1) start = performance.now(); // the first round warms the path
        if (done === rounds + 1) return resolve();
        socket.write(message);
      }
    });
    socket.write(message);
  });
  const us = ((performance.now() - start) * 1000) / rounds;
  socket.destroy();
  server.close();
  return us;
}
