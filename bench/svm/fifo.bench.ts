// The session FIFO's byte throughput: vectors of 16 chunks of 64, 1460 and 9000 bytes (a
// small packet, an MSS at MTU 1500, a jumbo frame's worth) enqueued then dequeued, the source
// at a packet's payload offset in a plain buffer as tcp4-input would hand it over. Next to
// it: the same chunks delivered out of order in pairs (each odd chunk first, then the even
// one that closes the hole, through enqueueAt), and the floor — two plain memcpys per chunk
// between non-shared arrays, which a FIFO in a SharedArrayBuffer cannot reach because V8
// copies into shared memory with relaxed atomic stores (see copyBytes in src/svm/fifo.ts).
// "vector" is chunks per call; the notes give GB/s of stream through the FIFO.

import { Fifo } from '../../src/svm/fifo.ts';
import { allocationCheck, benchReport, runIfMain, vectorBench } from '../harness.ts';

const CHUNKS = 16;
/** Ethernet 14 + IPv4 20 + TCP 32 (with timestamps): where a segment's payload starts. */
const PAYLOAD_OFFSET = 66;
const SIZES = [64, 1460, 9000];

function source(chunk: number): Uint8Array {
  const bytes = new Uint8Array(PAYLOAD_OFFSET + chunk * CHUNKS);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i * 7;
  return bytes;
}

function gbps(chunk: number): (ns: number) => string {
  return (ns) => `${(chunk / ns).toFixed(2)} GB/s`;
}

function inOrder(chunk: number): () => void {
  const fifo = Fifo.create(1 << 20);
  const src = source(chunk);
  const dst = new Uint8Array(chunk * CHUNKS + 13);
  return () => {
    for (let k = 0; k < CHUNKS; k++) fifo.enqueue(src, PAYLOAD_OFFSET + k * chunk, chunk);
    for (let k = 0; k < CHUNKS; k++) fifo.dequeue(dst, 13 + k * chunk, chunk);
  };
}

function outOfOrderPairs(chunk: number): () => void {
  const fifo = Fifo.create(1 << 20);
  const src = source(chunk);
  const dst = new Uint8Array(chunk * CHUNKS + 13);
  return () => {
    for (let k = 0; k < CHUNKS; k += 2) {
      fifo.enqueueAt(chunk, src, PAYLOAD_OFFSET + (k + 1) * chunk, chunk);
      fifo.enqueueAt(0, src, PAYLOAD_OFFSET + k * chunk, chunk);
    }
    for (let k = 0; k < CHUNKS; k++) fifo.dequeue(dst, 13 + k * chunk, chunk);
  };
}

function plainCopies(chunk: number): () => void {
  const ring = new Uint8Array(1 << 20);
  const src = source(chunk);
  const dst = new Uint8Array(chunk * CHUNKS + 13);
  let at = 0;
  return () => {
    for (let k = 0; k < CHUNKS; k++) {
      ring.set(src.subarray(PAYLOAD_OFFSET + k * chunk, PAYLOAD_OFFSET + (k + 1) * chunk), at + k * chunk);
    }
    for (let k = 0; k < CHUNKS; k++) dst.set(ring.subarray(at + k * chunk, at + (k + 1) * chunk), 13 + k * chunk);
    at = (at + CHUNKS * chunk) & 0x7ffff;
  };
}

for (const chunk of SIZES) {
  vectorBench(() => [
    { name: `fifo enqueue+dequeue ${chunk} B`, vector: CHUNKS, packets: CHUNKS, run: inOrder(chunk), note: gbps(chunk) },
    { name: `fifo out-of-order pairs+dequeue ${chunk} B`, vector: CHUNKS, packets: CHUNKS, run: outOfOrderPairs(chunk), note: gbps(chunk) },
    { name: `plain memcpy in+out ${chunk} B (floor)`, vector: CHUNKS, packets: CHUNKS, run: plainCopies(chunk), note: gbps(chunk) },
  ]);
}

benchReport(async () => {
  const lines: string[] = [];
  for (const chunk of SIZES) {
    const { heapDeltaBytes, gcCount } = await allocationCheck(inOrder(chunk), 100_000);
    lines.push(
      `fifo ${chunk} B steady state (100000 vectors of ${CHUNKS}): heap ${(heapDeltaBytes / 1024).toFixed(1)} KiB, ${gcCount} GCs` +
        (chunk > 64 ? ' (copies of more than 64 B make subarray views: see copyBytes)' : ''),
    );
  }
  return lines;
});

await runIfMain(import.meta.url);
