// The session FIFO against models: a plain array queue for enqueue/dequeue/peek/drop across
// wraparound, and for out-of-order reassembly a per-byte "received" map whose contiguous
// prefix is where the tail must be. Properties: any order, duplication and overlap of
// segments reassembles to the exact stream; the interval list stays sorted, disjoint,
// within the free space and within its bound; a refused segment changes nothing; a worker
// thread attached to the same segment produces while this thread consumes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { copyBytes, Fifo, FIFO_NO_INTERVAL, FifoError, FifoSegment } from '../../src/svm/fifo.ts';

function stream(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Every structural promise the FIFO makes, checked from its public surface. */
function checkInvariants(fifo: Fifo): void {
  const used = fifo.maxDequeue();
  const free = fifo.maxEnqueue();
  assert.ok(used >= 0 && used <= fifo.size, `used ${used}`);
  assert.equal(used + free, fifo.size);
  assert.ok(fifo.intervalCount <= fifo.maxIntervals, 'interval bound');
  let previousEnd = 0;
  for (let i = 0; i < fifo.intervalCount; i++) {
    const offset = fifo.intervalOffset(i);
    const length = fifo.intervalLength(i);
    assert.ok(length > 0, 'empty interval');
    // Strictly after the previous one with a gap (touching intervals are merged), and after the tail.
    assert.ok(offset > previousEnd || (i === 0 && offset > 0), `interval ${i} at ${offset} after ${previousEnd}`);
    assert.ok(offset + length <= free, 'interval beyond the free space');
    previousEnd = offset + length;
  }
}

describe('fifo: in-order enqueue, dequeue, peek, drop', () => {
  it('starts empty and fills to exactly its size', () => {
    const fifo = Fifo.create(100);
    assert.equal(fifo.maxDequeue(), 0);
    assert.equal(fifo.maxEnqueue(), 100);
    assert.ok(fifo.isEmpty());
    const bytes = stream(150, 1);
    assert.equal(fifo.enqueue(bytes, 0, 150), 100);
    assert.ok(fifo.isFull());
    assert.equal(fifo.enqueue(bytes, 0, 1), 0);
    const out = new Uint8Array(150);
    assert.equal(fifo.dequeue(out, 0, 150), 100);
    assert.deepEqual(out.subarray(0, 100), bytes.subarray(0, 100));
    assert.ok(fifo.isEmpty());
  });

  it('peek at an offset leaves bytes in place; drop discards from the head', () => {
    const fifo = Fifo.create(64);
    const bytes = stream(64, 2);
    fifo.enqueue(bytes, 0, 50);
    const out = new Uint8Array(20);
    assert.equal(fifo.peek(10, out, 0, 20), 20);
    assert.deepEqual(out, bytes.subarray(10, 30));
    assert.equal(fifo.peek(45, out, 0, 20), 5);
    assert.equal(fifo.peek(50, out, 0, 20), 0);
    assert.equal(fifo.maxDequeue(), 50);
    assert.equal(fifo.drop(30), 30);
    assert.equal(fifo.peek(0, out, 0, 20), 20);
    assert.deepEqual(out, bytes.subarray(30, 50));
    assert.equal(fifo.drop(1000), 20);
    assert.equal(fifo.drop(1), 0);
  });

  it('matches an array queue under random operations across wraparound', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('enqueue' as const), n: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ kind: fc.constant('dequeue' as const), n: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ kind: fc.constant('peek' as const), offset: fc.integer({ min: 0, max: 300 }), n: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ kind: fc.constant('drop' as const), n: fc.integer({ min: 0, max: 300 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 257 }), fc.array(op, { maxLength: 100, size: 'max' }), (size, ops) => {
        const fifo = Fifo.create(size);
        const source = stream(40000, size);
        let written = 0;
        const model: number[] = [];
        const out = new Uint8Array(300);
        for (const o of ops) {
          if (o.kind === 'enqueue') {
            const n = fifo.enqueue(source, written, o.n);
            assert.equal(n, Math.min(o.n, size - model.length));
            for (let i = 0; i < n; i++) model.push(source[written + i]);
            written += n;
          } else if (o.kind === 'dequeue') {
            const n = fifo.dequeue(out, 0, o.n);
            assert.equal(n, Math.min(o.n, model.length));
            assert.deepEqual([...out.subarray(0, n)], model.splice(0, n));
          } else if (o.kind === 'peek') {
            const n = fifo.peek(o.offset, out, 0, o.n);
            const expected = model.slice(o.offset, o.offset + o.n);
            assert.equal(n, expected.length);
            assert.deepEqual([...out.subarray(0, n)], expected);
          } else {
            assert.equal(fifo.drop(o.n), Math.min(o.n, model.length));
            model.splice(0, o.n);
          }
          assert.equal(fifo.maxDequeue(), model.length);
          checkInvariants(fifo);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('copies correctly at every relative alignment and length (short, aligned, scratch path)', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(40000));
    const plain = stream(40000, 9);
    for (const n of [1, 63, 64, 65, 200, 1460, 9000, 20000]) {
      for (let a = 0; a < 8; a++) {
        for (let b = 0; b < 8; b++) {
          shared.fill(0);
          copyBytes(plain, a + 3, shared, b + 11, n);
          assert.deepEqual(shared.subarray(b + 11, b + 11 + n), plain.subarray(a + 3, a + 3 + n));
          assert.equal(shared[b + 10], 0);
          assert.equal(shared[b + 11 + n], 0);
          const back = new Uint8Array(n + 16);
          copyBytes(shared, b + 11, back, a, n);
          assert.deepEqual(back.subarray(a, a + n), plain.subarray(a + 3, a + 3 + n));
        }
      }
    }
  });
});

describe('fifo: out-of-order segments', () => {
  it('keeps early data in place and advances the tail over it when the hole fills', () => {
    const fifo = Fifo.create(1000);
    const bytes = stream(1000, 3);
    assert.equal(fifo.enqueueAt(100, bytes, 100, 50), 0);
    assert.equal(fifo.enqueueAt(300, bytes, 300, 100), 0);
    assert.deepEqual(fifo.intervals(), [{ offset: 100, length: 50 }, { offset: 300, length: 100 }]);
    // Touching merges.
    assert.equal(fifo.enqueueAt(150, bytes, 150, 20), 0);
    assert.deepEqual(fifo.intervals(), [{ offset: 100, length: 70 }, { offset: 300, length: 100 }]);
    assert.equal(fifo.maxDequeue(), 0);
    assert.equal(fifo.outOfOrderBytes(), 170);
    // Filling [0, 100) takes in the first interval.
    assert.equal(fifo.enqueueAt(0, bytes, 0, 100), 170);
    assert.deepEqual(fifo.intervals(), [{ offset: 130, length: 100 }]);
    // One segment bridging to and past the second.
    assert.equal(fifo.enqueueAt(0, bytes, 170, 200), 230);
    assert.equal(fifo.intervalCount, 0);
    const out = new Uint8Array(400);
    assert.equal(fifo.dequeue(out, 0, 400), 400);
    assert.deepEqual(out, bytes.subarray(0, 400));
  });

  it('cuts bytes beyond the free space and refuses a new interval past the bound', () => {
    const fifo = Fifo.create(100, { maxIntervals: 2 });
    const bytes = stream(200, 4);
    assert.equal(fifo.enqueueAt(100, bytes, 0, 10), 0);
    assert.equal(fifo.intervalCount, 0);
    assert.equal(fifo.enqueueAt(90, bytes, 90, 50), 0);
    assert.deepEqual(fifo.intervals(), [{ offset: 90, length: 10 }]);
    assert.equal(fifo.enqueueAt(10, bytes, 10, 5), 0);
    assert.equal(fifo.enqueueAt(30, bytes, 30, 5), FIFO_NO_INTERVAL);
    // Still fine when it merges with a held interval.
    assert.equal(fifo.enqueueAt(15, bytes, 15, 5), 0);
    assert.deepEqual(fifo.intervals(), [{ offset: 10, length: 10 }, { offset: 90, length: 10 }]);
    assert.equal(fifo.enqueueAt(0, bytes, 0, 100), 100);
    assert.ok(fifo.isFull());
  });

  it('reassembles any order, duplication and overlap of segments to the exact stream, with interleaved dequeues', () => {
    // Segments placed relative to the tail, half of them on an 8-byte grid so that segments
    // often touch exactly (the merge edge cases), some behind the tail (old duplicates).
    const segment = fc.oneof(
      fc.record({ offset: fc.integer({ min: -40, max: 320 }), length: fc.integer({ min: 1, max: 120 }) }),
      fc.record({ offset: fc.integer({ min: -5, max: 40 }), length: fc.integer({ min: 1, max: 15 }) })
        .map((s) => ({ offset: s.offset * 8, length: s.length * 8 })),
    );
    const step = fc.oneof(
      { weight: 5, arbitrary: segment.map((s) => ({ kind: 'segment' as const, ...s })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }).map((n) => ({ kind: 'dequeue' as const, n })) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 300 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 1500 }),
        fc.array(step, { minLength: 10, maxLength: 150, size: 'max' }),
        (size, maxIntervals, total, steps) => {
          const fifo = Fifo.create(size, { maxIntervals });
          const bytes = stream(total, total * 31 + size);
          const have = new Uint8Array(total + 1);
          let received = 0;
          let consumed = 0;
          const out = new Uint8Array(total);
          const deliver = (start: number, length: number): void => {
            let a = start < 0 ? 0 : start;
            let b = Math.min(total, start + length);
            if (b <= received || a >= total) return;
            if (a < received) a = received;
            const free = fifo.maxEnqueue();
            if (a - received >= free) return;
            b = Math.min(b, received + free);
            // The model's runs past the tail before, and whether [a, b) touches one.
            let runs = 0;
            for (let i = received + 1; i < received + free; i++) if (have[i] && !have[i - 1]) runs++;
            let touches = a === received;
            for (let i = Math.max(received, a - 1); i < Math.min(total, b + 1) && !touches; i++) if (have[i]) touches = true;
            const result = fifo.enqueueAt(a - received, bytes, a, b - a);
            if (!touches && runs === maxIntervals) {
              assert.equal(result, FIFO_NO_INTERVAL);
              return;
            }
            assert.notEqual(result, FIFO_NO_INTERVAL);
            for (let i = a; i < b; i++) have[i] = 1;
            let next = received;
            while (next < total && have[next]) next++;
            assert.equal(result, next - received, 'tail advance');
            received = next;
          };
          for (const s of steps) {
            if (s.kind === 'segment') deliver(received + s.offset, s.length);
            else consumed += fifo.dequeue(out, consumed, s.n);
            checkInvariants(fifo);
            assert.equal(fifo.maxDequeue(), received - consumed);
            // Out-of-order bytes sit where they belong in the ring.
            for (let i = 0; i < fifo.intervalCount; i++) {
              const offset = fifo.intervalOffset(i);
              for (let k = 0; k < fifo.intervalLength(i); k++) {
                const position = (fifo.header[1] + offset + k) % fifo.size;
                assert.equal(fifo.data[position], bytes[received + offset + k]);
                assert.equal(have[received + offset + k], 1);
              }
            }
          }
          // Then the rest in order, so every run ends with the whole stream read out.
          while (consumed < total) {
            deliver(received, total - received);
            consumed += fifo.dequeue(out, consumed, total);
          }
          assert.deepEqual(out, bytes);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('fifo: segments and threads', () => {
  it('carves fifos from a segment, reuses freed blocks, and reports ENOMEM', () => {
    const segment = new FifoSegment(Fifo.bytesFor(1000) * 2 + 8);
    const a = segment.allocate(1000);
    const b = segment.allocate(1000);
    assert.equal(segment.fifoCount, 2);
    assert.throws(() => segment.allocate(1000), (e: unknown) => e instanceof FifoError && e.code === 'ENOMEM');
    a.enqueue(stream(10, 1), 0, 10);
    segment.free(a);
    assert.throws(() => Fifo.attach(segment.buffer, a.offset), (e: unknown) => e instanceof FifoError && e.code === 'EINVAL');
    assert.throws(() => segment.free(a), (e: unknown) => e instanceof FifoError && e.code === 'EINVAL');
    const c = segment.allocate(1000);
    assert.equal(c.offset, a.offset);
    assert.ok(c.isEmpty());
    assert.notEqual(b.offset, c.offset);
    assert.throws(() => Fifo.create(0), (e: unknown) => e instanceof FifoError && e.code === 'EINVAL');
    assert.throws(() => Fifo.create(2 ** 31), /invalid fifo size/);
  });

  it('an attached view shares head, tail and intervals', () => {
    const fifo = Fifo.create(64);
    const other = Fifo.attach(fifo.buffer, fifo.offset);
    const bytes = stream(64, 5);
    fifo.enqueueAt(10, bytes, 10, 5);
    assert.deepEqual(other.intervals(), [{ offset: 10, length: 5 }]);
    fifo.enqueue(bytes, 0, 10);
    const out = new Uint8Array(15);
    assert.equal(other.dequeue(out, 0, 15), 15);
    assert.deepEqual(out, bytes.subarray(0, 15));
    assert.equal(fifo.maxDequeue(), 0);
  });

  it('a worker produces a 4 MiB stream through a shared fifo while this thread consumes', async () => {
    const total = 4 << 20;
    const fifo = Fifo.create(65536 + 13);
    // A worker does not inherit tsx's loader: register it, then import the TypeScript entry.
    const entry = new URL('./fifo-producer.ts', import.meta.url).href;
    const worker = new Worker(
      `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`,
      { eval: true, workerData: { buffer: fifo.buffer, offset: fifo.offset, total, seed: 77 } },
    );
    const exited = new Promise<number>((resolve, reject) => {
      worker.once('exit', resolve);
      worker.once('error', reject);
    });
    const expected = stream(total, 77);
    const out = new Uint8Array(total);
    let consumed = 0;
    const deadline = Date.now() + 20_000;
    while (consumed < total && Date.now() < deadline) {
      const n = fifo.dequeue(out, consumed, 1 + (consumed % 7919));
      consumed += n;
      if (n === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(await exited, 0);
    assert.equal(consumed, total);
    assert.ok(Buffer.from(out).equals(Buffer.from(expected)), 'stream differs');
  });
});
