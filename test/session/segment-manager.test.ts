// An app's FIFO memory: a segment manager adds a segment when the ones it has are full, gives
// a FIFO back to the segment it came from, and hands out a session's two FIFOs together or
// not at all.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo, FifoError } from '../../src/svm/fifo.ts';
import { SegmentManager } from '../../src/session/segment-manager.ts';

test('segments are added as they fill; FIFOs go back where they came from', () => {
  const segments = new SegmentManager('app', Fifo.bytesFor(4096));
  const a = segments.allocate(4096);
  const b = segments.allocate(4096);
  assert.equal(segments.segments.length, 2, 'the second FIFO needed a second segment');
  assert.notEqual(a.buffer, b.buffer);
  segments.free(a);
  const c = segments.allocate(4096);
  assert.equal(c.buffer, a.buffer, 'the freed block is reused');
  assert.equal(segments.segments.length, 2);
  assert.equal(segments.fifoCount, 2);
  assert.throws(() => segments.free(Fifo.create(4096)), FifoError);
});

test('a pair comes whole or not at all: the first FIFO goes back when the second does not fit', () => {
  const segments = new SegmentManager('app', Fifo.bytesFor(4096));
  const [rx, tx] = segments.allocatePair(4096, 4096);
  assert.equal(rx.size + tx.size, 8192);
  assert.equal(segments.fifoCount, 2);
  // 8 KiB never fits a segment sized for 4 KiB.
  assert.throws(() => segments.allocatePair(4096, 8192), (e: FifoError) => e.code === 'ENOMEM');
  assert.equal(segments.fifoCount, 2, 'nothing kept from the failed pair');
});
