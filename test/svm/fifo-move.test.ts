// The FIFO's copy paths that take bytes from something other than one array, against a
// plain model: `moveTo` (head of one FIFO to the tail of another, as an echo does) across
// both rings' wraparound and the destination's out-of-order intervals; `enqueueAtFrom` with a
// source split in pieces (a chain of packet buffers) gives the same FIFO as `enqueueAt`; and
// `copyBytes` between two shared arrays at any relative alignment, and alignment queries.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { copyBytes, Fifo, FifoSegment, type FifoByteSource } from '../../src/svm/fifo.ts';

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed * 17 + (i >>> 8)) & 0xff;
  return out;
}

function drain(fifo: Fifo): Uint8Array {
  const out = new Uint8Array(fifo.maxDequeue());
  fifo.dequeue(out, 0, out.length);
  return out;
}

test('moveTo: any sequence of writes, moves and reads keeps both streams exact across wraparound', () => {
  fc.assert(fc.property(
    fc.integer({ min: 64, max: 5000 }), fc.integer({ min: 64, max: 5000 }),
    fc.array(fc.tuple(fc.constantFrom('write', 'move', 'read'), fc.integer({ min: 0, max: 6000 })), { maxLength: 60 }),
    (sizeA, sizeB, ops) => {
      const segment = new FifoSegment(1 << 16);
      const a = segment.allocate(sizeA);
      const b = Fifo.create(sizeB); // another segment: set, not copyWithin
      const sent: number[] = [];
      let moved = 0;
      const got: number[] = [];
      let seed = 0;
      for (const [op, n] of ops) {
        if (op === 'write') {
          const data = bytes(n, seed++);
          const took = a.enqueue(data, 0, data.length);
          for (let i = 0; i < took; i++) sent.push(data[i]);
        } else if (op === 'move') {
          const expected = Math.min(n, a.maxDequeue(), b.maxEnqueue());
          assert.equal(a.moveTo(b, n), expected);
          moved += expected;
        } else {
          const out = new Uint8Array(Math.min(n, b.maxDequeue()));
          b.dequeue(out, 0, out.length);
          got.push(...out);
        }
        assert.equal(a.maxDequeue(), sent.length - moved);
      }
      got.push(...drain(b));
      assert.deepEqual(got, sent.slice(0, moved));
      assert.deepEqual([...drain(a)], sent.slice(moved));
    },
  ), { numRuns: 200, seed: 71 });
});

test('moveTo: into a FIFO with out-of-order bytes the tail takes them in; within one segment', () => {
  const segment = new FifoSegment(1 << 16);
  const a = segment.allocate(4096);
  const b = segment.allocate(4096);
  const data = bytes(3000, 1);
  b.enqueueAt(1000, data, 1000, 500); // early bytes [1000, 1500)
  a.enqueue(data, 0, 1000);
  assert.equal(a.moveTo(b, 1000), 1000);
  assert.equal(b.maxDequeue(), 1500, 'the tail ran over the interval');
  assert.equal(b.intervalCount, 0);
  assert.deepEqual(drain(b), data.subarray(0, 1500));
  assert.equal(a.moveTo(a, 10), 0, 'not onto itself');
});

class Pieces implements FifoByteSource {
  constructor(readonly parts: Uint8Array[]) {}
  copyTo(offset: number, dst: Uint8Array, dstOffset: number, length: number): void {
    for (const part of this.parts) {
      if (offset >= part.length) {
        offset -= part.length;
        continue;
      }
      const take = Math.min(part.length - offset, length);
      dst.set(part.subarray(offset, offset + take), dstOffset);
      dstOffset += take;
      length -= take;
      offset = 0;
      if (length === 0) return;
    }
  }
}

test('enqueueAtFrom: a source in pieces gives what enqueueAt gives from one array, in any order', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 3000 }).chain((n) => fc.tuple(
      fc.constant(n),
      fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: 800 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 6 })), { maxLength: 30 }),
      fc.integer({ min: 0, max: 2000 }),
    )),
    ([n, segments, skew]) => {
      const data = bytes(n, 3);
      const one = Fifo.create(4096);
      const split = Fifo.create(4096);
      // Move both tails away from 0 so that writes wrap.
      const pad = new Uint8Array(skew);
      for (const f of [one, split]) {
        f.enqueue(pad, 0, skew);
        f.dequeue(pad, 0, skew);
      }
      for (const [at, length, cuts] of segments) {
        const len = Math.min(length, n - at);
        const parts: Uint8Array[] = [];
        let k = 0;
        for (let done = 0; done < len; k++) {
          const take = Math.min(cuts[k % cuts.length], len - done);
          parts.push(data.slice(at + done, at + done + take));
          done += take;
        }
        // Nothing is dequeued meanwhile: the bytes held are the stream's received prefix.
        const rel = at - one.maxDequeue();
        if (rel < 0) continue;
        assert.equal(split.enqueueAtFrom(rel, new Pieces(parts), 0, len), one.enqueueAt(rel, data, at, len));
        assert.equal(split.maxDequeue(), one.maxDequeue());
        assert.deepEqual(split.intervals(), one.intervals());
      }
      assert.deepEqual(drain(split), drain(one));
    },
  ), { numRuns: 200, seed: 72 });
});

test('copyBytes: between two shared arrays at every relative alignment, and plain/shared mixes', () => {
  const a = new Uint8Array(new SharedArrayBuffer(40000));
  const b = new Uint8Array(new SharedArrayBuffer(40000));
  const p = new Uint8Array(40000);
  const data = bytes(40000, 9);
  a.set(data);
  p.set(data);
  for (const n of [65, 1448, 8948, 20000]) {
    for (let s = 0; s < 8; s++) {
      for (let d = 0; d < 8; d++) {
        b.fill(0);
        copyBytes(a, 100 + s, b, 200 + d, n);
        assert.deepEqual(b.subarray(200 + d, 200 + d + n), data.subarray(100 + s, 100 + s + n), `shared→shared ${n} ${s}/${d}`);
        assert.equal(b[199 + d], 0);
        assert.equal(b[200 + d + n], 0);
        const q = new Uint8Array(40000);
        copyBytes(a, 100 + s, q, 200 + d, n);
        assert.deepEqual(q.subarray(200 + d, 200 + d + n), data.subarray(100 + s, 100 + s + n), `shared→plain ${n} ${s}/${d}`);
        b.fill(0);
        copyBytes(p, 100 + s, b, 200 + d, n);
        assert.deepEqual(b.subarray(200 + d, 200 + d + n), data.subarray(100 + s, 100 + s + n), `plain→shared ${n} ${s}/${d}`);
      }
    }
  }
});

test('headAlignment and tailAlignment: the address mod 8 of the byte a copy starts at', () => {
  const segment = new FifoSegment(1 << 16);
  segment.allocate(13); // the next FIFO starts 8-aligned whatever came before
  const fifo = segment.allocate(1000);
  const base = fifo.data.byteOffset;
  assert.equal(base & 7, 0);
  const pad = new Uint8Array(997);
  fifo.enqueue(pad, 0, 997);
  fifo.dequeue(pad, 0, 990);
  // head at ring index 990, tail at 997 % 1000.
  assert.equal(fifo.headAlignment(0), (base + 990) & 7);
  assert.equal(fifo.headAlignment(15), (base + 5) & 7, 'wraps at the ring end');
  assert.equal(fifo.tailAlignment(0), (base + 997) & 7);
  assert.equal(fifo.tailAlignment(3), base & 7);
  assert.equal(fifo.tailAlignment(-1), 0);
  assert.equal(fifo.tailAlignment(1000), 0);
});
