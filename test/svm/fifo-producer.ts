// Worker side of the fifo test: attaches to the shared segment and writes a known stream in
// uneven chunks, spinning (with short sleeps) while the fifo is full.

import { workerData } from 'node:worker_threads';
import { Fifo } from '../../src/svm/fifo.ts';

const { buffer, offset, total, seed } = workerData as { buffer: SharedArrayBuffer; offset: number; total: number; seed: number };
const fifo = Fifo.attach(buffer, offset);
const bytes = new Uint8Array(total);
let x = seed >>> 0 || 1;
for (let i = 0; i < total; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  bytes[i] = x & 0xff;
}
const nap = new Int32Array(new SharedArrayBuffer(4));
let written = 0;
const deadline = Date.now() + 20_000;
while (written < total && Date.now() < deadline) {
  const n = fifo.enqueue(bytes, written, Math.min(total - written, 1 + (written % 5003)));
  written += n;
  if (n === 0) Atomics.wait(nap, 0, 0, 1);
}
