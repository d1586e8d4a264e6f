import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferFlag, BufferPool, HEADROOM, NONE } from '../../src/vlib/buffer-pool.ts';
import { bytesOfLength } from '../arbitraries.ts';

test('fromBytes/toBytes round-trip packets of any size, chained over as many buffers as it takes', () => {
  fc.assert(
    // The length is drawn explicitly: fast-check's default size keeps arrays short, which
    // would never reach a second buffer.
    fc.property(bytesOfLength(0, 9000, [256, 512, 2048, 4096]), fc.constantFrom(256, 512, 2048), (data, dataSize) => {
      const pool = new BufferPool({ count: 64, dataSize });
      const bi = pool.fromBytes(data);
      assert.notEqual(bi, NONE);
      assert.equal(pool.packetLength(bi), data.length);
      assert.deepEqual(pool.toBytes(bi), data);
      const buffersUsed = Math.max(1, Math.ceil(data.length / dataSize));
      assert.equal(pool.available, 64 - buffersUsed);
      pool.freeChain(bi);
      assert.equal(pool.available, 64, 'the whole chain went back');
      assert.equal(pool.doubleFrees, 0);
    }),
    { numRuns: 200 },
  );
});

test('a packet the pool cannot hold gives NONE and leaks nothing', () => {
  const pool = new BufferPool({ count: 3, dataSize: 256 });
  assert.equal(pool.fromBytes(new Uint8Array(256 * 3 + 1)), NONE);
  assert.equal(pool.available, 3);
  assert.ok(pool.allocFailures > 0);
});

test('linearize copies a chain that fits into its first buffer and frees the rest', () => {
  fc.assert(
    fc.property(bytesOfLength(1, 2048, [2048]), fc.integer({ min: 1, max: 2047 }), (data, cut) => {
      const pool = new BufferPool({ count: 8, dataSize: 2048 });
      // Build a two-buffer chain by hand (split at `cut`), as a device would.
      const first = pool.allocOne();
      const second = pool.allocOne();
      const split = Math.min(cut, data.length);
      pool.bytes.set(data.subarray(0, split), pool.current[first]);
      pool.length[first] = split;
      pool.bytes.set(data.subarray(split), pool.current[second]);
      pool.length[second] = data.length - split;
      pool.appendBuffer(first, first, second);
      assert.equal(pool.packetLength(first), data.length);
      assert.equal(pool.linearize(first), true);
      assert.equal(pool.flags[first] & BufferFlag.NEXT_PRESENT, 0);
      assert.deepEqual(pool.toBytes(first), data);
      assert.equal(pool.available, 7, 'the second buffer was freed');
    }),
    { numRuns: 100 },
  );
  const pool = new BufferPool({ count: 8, dataSize: 256 });
  const big = pool.fromBytes(new Uint8Array(600));
  assert.equal(pool.linearize(big), false, 'larger than one buffer: unchanged');
  assert.equal(pool.packetLength(big), 600);
});

test('alloc hands out fresh metadata, falls short when empty (counted), and free counts double frees', () => {
  const pool = new BufferPool({ count: 4, dataSize: 256 });
  const out = new Uint32Array(8);
  assert.equal(pool.alloc(out, 0, 8), 4);
  assert.equal(pool.allocFailures, 4);
  for (let i = 0; i < 4; i++) {
    const bi = out[i];
    assert.equal(pool.current[bi], pool.dataStart(bi));
    assert.equal(pool.dataStart(bi), bi * pool.stride + HEADROOM);
    assert.equal(pool.length[bi], 0);
    assert.equal(pool.traceSlot[bi], NONE);
  }
  pool.free(out, 0, 4);
  assert.equal(pool.available, 4);
  pool.freeChain(out[0]);
  pool.freeChain(9999);
  assert.equal(pool.doubleFrees, 2, 'a second free and an index out of range are counted, not applied');
  assert.equal(pool.available, 4);
});

test('advance moves into the headroom and back', () => {
  const pool = new BufferPool({ count: 1, dataSize: 256 });
  const bi = pool.fromBytes(new Uint8Array([1, 2, 3, 4]));
  pool.advance(bi, -14);
  assert.equal(pool.length[bi], 18);
  assert.equal(pool.current[bi], pool.dataStart(bi) - 14);
  pool.advance(bi, 16);
  assert.deepEqual([...pool.view(bi)], [3, 4]);
});
