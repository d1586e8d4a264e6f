// Datagram framing in a FIFO: whatever sequence of datagrams is written and read, in any
// interleaving, every datagram the FIFO took reads back whole and in order with its
// addresses, a datagram that does not fit is refused whole (nothing half-written), and the
// FIFO never holds more than its size. A read with a short buffer truncates the datagram
// and discards its rest, as recvfrom does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Fifo } from '../../src/svm/fifo.ts';
import { DATAGRAM_HEADER_LENGTH, DatagramHeader, readDatagram, writeDatagram } from '../../src/session/datagram.ts';

const datagram = fc.record({
  payload: fc.integer({ min: 0, max: 3000 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  remoteAddress: fc.nat({ max: 0xffffffff }),
  remotePort: fc.integer({ min: 0, max: 65535 }),
  localAddress: fc.nat({ max: 0xffffffff }),
  localPort: fc.integer({ min: 0, max: 65535 }),
});
type Datagram = typeof datagram extends fc.Arbitrary<infer T> ? T : never;

test('property: datagrams read back whole, in order, with their addresses; refused whole when they do not fit', () => {
  fc.assert(fc.property(
    fc.integer({ min: 64, max: 16384 }),
    fc.array(fc.oneof(datagram.map((d) => ({ write: d })), fc.constant({ read: true })), { minLength: 1, maxLength: 80 }),
    (size, ops) => {
      const fifo = Fifo.create(size);
      const queued: Datagram[] = [];
      const header = new DatagramHeader();
      const dst = new Uint8Array(4096);
      for (const op of ops) {
        if ('write' in op) {
          const d = op.write;
          const fits = fifo.maxEnqueue() >= DATAGRAM_HEADER_LENGTH + d.payload.length;
          const before = fifo.maxDequeue();
          const took = writeDatagram(fifo, d.payload, 0, d.payload.length, d.remoteAddress, d.remotePort, d.localAddress, d.localPort);
          assert.equal(took, fits);
          assert.equal(fifo.maxDequeue(), before + (took ? DATAGRAM_HEADER_LENGTH + d.payload.length : 0));
          if (took) queued.push(d);
        } else {
          const n = readDatagram(fifo, dst, 0, dst.length, header);
          const d = queued.shift();
          if (d === undefined) {
            assert.equal(n, -1);
            continue;
          }
          assert.equal(n, d.payload.length);
          assert.deepEqual(dst.subarray(0, n), d.payload);
          assert.deepEqual([header.length, header.remoteAddress, header.remotePort, header.localAddress, header.localPort],
            [d.payload.length, d.remoteAddress, d.remotePort, d.localAddress, d.localPort]);
        }
        assert.ok(fifo.maxDequeue() <= size);
      }
    },
  ), { numRuns: 300 });
});

test('a short read truncates the datagram and discards the rest; the next one is intact', () => {
  const fifo = Fifo.create(4096);
  const header = new DatagramHeader();
  assert.ok(writeDatagram(fifo, new Uint8Array(100).fill(1), 0, 100, 1, 2, 3, 4));
  assert.ok(writeDatagram(fifo, new Uint8Array(5).fill(2), 0, 5, 5, 6, 7, 8));
  const dst = new Uint8Array(10);
  assert.equal(readDatagram(fifo, dst, 0, 10, header), 10);
  assert.equal(header.length, 100, 'the header tells the datagram was longer');
  assert.equal(readDatagram(fifo, dst, 0, 10, header), 5);
  assert.deepEqual(dst.subarray(0, 5), new Uint8Array(5).fill(2));
  assert.equal(header.remotePort, 6);
  assert.equal(readDatagram(fifo, dst, 0, 10, header), -1);
  assert.equal(fifo.maxDequeue(), 0);
});
