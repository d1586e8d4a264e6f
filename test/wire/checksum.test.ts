import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checksumFold, checksumSum, checksumUpdate16, checksumUpdate32, internetChecksum,
  ip4DecrementTtlUpdateChecksum, ip4PseudoHeaderSum,
} from '../../src/wire/checksum.ts';
import { emitIp4Header, ip4HeaderChecksum, type Ip4Header } from '../../src/wire/ip4.ts';
import { fromHex, pseudoHeaderBytes, record, referenceChecksum, referenceSum, u16, u32 } from './helpers.ts';
import { bytesOfLength } from '../arbitraries.ts';

/** Where checksumSum switches from its byte loop to its word loop (WORD_LOOP_MIN_BYTES). */
const LOOP_EDGE = [128];

/** A valid 20-byte ip4 header (version 4, IHL 5) with random fields and a correct checksum. */
const ip4HeaderBytes = record({
  dscp: fc.integer({ min: 0, max: 63 }), ecn: fc.integer({ min: 0, max: 3 }), totalLength: u16,
  identification: u16, flags: fc.integer({ min: 0, max: 7 }), fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: fc.integer({ min: 0, max: 255 }), protocol: fc.integer({ min: 0, max: 255 }), src: u32, dst: u32,
}).map((fields) => {
  const bytes = new Uint8Array(20);
  emitIp4Header({ ...fields, options: new Uint8Array(0) } satisfies Ip4Header, bytes, 0);
  return bytes;
});

function word(bytes: Uint8Array, index: number): number {
  return (bytes[2 * index] << 8) | bytes[2 * index + 1];
}

function setWord(bytes: Uint8Array, index: number, value: number): void {
  bytes[2 * index] = value >>> 8;
  bytes[2 * index + 1] = value & 0xff;
}

describe('internet checksum (RFC 1071)', () => {
  it('matches the numerical example of RFC 1071 §3', () => {
    const bytes = fromHex('00 01 f2 03 f4 f5 f6 f7');
    assert.equal(checksumSum(bytes, 0, 8, 0), 0xddf2);
    assert.equal(internetChecksum(bytes, 0, 8), 0x220d);
  });

  it('checks the header of a real frame: VPP sample 10.10.1.2 -> 48.0.0.1, checksum 0x3faf', () => {
    const header = fromHex('4500 0032 0000 0000 4011 3faf 0a0a 0102 3000 0001');
    assert.equal(checksumSum(header, 0, 20, 0), 0xffff);
    header[10] = 0;
    header[11] = 0;
    assert.equal(internetChecksum(header, 0, 20), 0x3faf);
  });

  it('pads an odd last byte with zero', () => {
    assert.equal(checksumSum(fromHex('12 34 56'), 0, 3, 0), 0x1234 + 0x5600);
  });

  it('equals the reference on any range, alignment and length, both loops', () => {
    fc.assert(fc.property(
      bytesOfLength(0, 1600, LOOP_EDGE), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 0xffff }), fc.nat({ max: 3 }),
      (data, a, b, initial, shift) => {
        // Place the data at an odd or even byteOffset inside a larger buffer.
        const backing = new Uint8Array(data.length + 8);
        backing.set(data, shift);
        const view = backing.subarray(shift, shift + data.length);
        const offset = data.length === 0 ? 0 : a % data.length;
        const length = data.length - offset === 0 ? 0 : b % (data.length - offset + 1);
        assert.equal(checksumSum(view, offset, length, initial), referenceSum(data, offset, length, initial));
        assert.equal(internetChecksum(view, offset, length, initial), referenceChecksum(data, offset, length, initial));
      }), { numRuns: 400 });
  });

  it('reads through a SharedArrayBuffer the same way', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(2048));
    for (let i = 0; i < shared.length; i++) shared[i] = (i * 151) & 0xff;
    assert.equal(checksumSum(shared, 14, 1500, 0), referenceSum(shared, 14, 1500));
    assert.equal(checksumSum(shared, 15, 1499, 0), referenceSum(shared, 15, 1499));
  });

  it('chains partial sums at even boundaries', () => {
    fc.assert(fc.property(bytesOfLength(2, 600, LOOP_EDGE), fc.nat(), (data, cut) => {
      const split = (cut % data.length) & ~1;
      const first = checksumSum(data, 0, split, 0);
      assert.equal(checksumSum(data, split, data.length - split, first), checksumSum(data, 0, data.length, 0));
    }));
  });

  it('cuts a range that runs past the bytes, never throws', () => {
    const bytes = fromHex('0102 0304');
    assert.equal(checksumSum(bytes, 2, 100, 0), 0x0304);
    assert.equal(checksumSum(bytes, -2, 4, 0), 0x0102);
    assert.equal(checksumSum(bytes, 10, 4, 0x1234), 0x1234);
  });

  it('folds carries end-around', () => {
    assert.equal(checksumFold(0x1ffff), 0x0001);
    assert.equal(checksumFold(0x2fffd), 0xffff);
    assert.equal(checksumFold(0xffffffff), 0xffff);
  });
});

describe('pseudo-header sum', () => {
  it('equals the reference sum of the 12 pseudo-header bytes', () => {
    fc.assert(fc.property(u32, u32, fc.integer({ min: 0, max: 255 }), u16, (src, dst, protocol, length) => {
      const bytes = pseudoHeaderBytes(src, dst, protocol, length);
      assert.equal(ip4PseudoHeaderSum(src, dst, protocol, length), referenceSum(bytes, 0, 12));
    }));
  });
});

describe('incremental update (RFC 1624)', () => {
  it('checksumUpdate16 equals a full recompute for any changed header word', () => {
    fc.assert(fc.property(ip4HeaderBytes, fc.integer({ min: 1, max: 9 }), u16, (header, index, value) => {
      fc.pre(index !== 5); // word 5 is the checksum itself
      const updated = checksumUpdate16(word(header, 5), word(header, index), value);
      setWord(header, index, value);
      assert.equal(updated, ip4HeaderChecksum(header, 0));
      setWord(header, 5, 0);
      assert.equal(updated, referenceChecksum(header, 0, 20));
    }), { numRuns: 500 });
  });

  it('RFC 1624 §4 example: eqn. 3 gives 0x0000 where eqn. 2 would give 0xffff', () => {
    // HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 (the RFC's own numbers): HC' = 0x0000.
    assert.equal(checksumUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000);
  });

  it('checksumUpdate32 equals a full recompute for a rewritten address', () => {
    fc.assert(fc.property(ip4HeaderBytes, fc.boolean(), u32, (header, source, address) => {
      const at = source ? 12 : 16;
      const old = ((header[at] << 24) | (header[at + 1] << 16) | (header[at + 2] << 8) | header[at + 3]) >>> 0;
      const updated = checksumUpdate32(word(header, 5), old, address);
      header[at] = address >>> 24;
      header[at + 1] = (address >>> 16) & 0xff;
      header[at + 2] = (address >>> 8) & 0xff;
      header[at + 3] = address & 0xff;
      setWord(header, 5, 0);
      assert.equal(updated, referenceChecksum(header, 0, 20));
    }), { numRuns: 500 });
  });

  it('the TTL fast path equals a full recompute and decrements TTL', () => {
    fc.assert(fc.property(ip4HeaderBytes, fc.nat({ max: 40 }), (header, at) => {
      fc.pre(header[8] > 0);
      const bytes = new Uint8Array(at + 20);
      bytes.set(header, at);
      const ttl = header[8];
      assert.equal(ip4DecrementTtlUpdateChecksum(bytes, at), ttl - 1);
      assert.equal(bytes[at + 8], ttl - 1);
      const stored = word(bytes.subarray(at), 5);
      setWord(bytes.subarray(at), 5, 0);
      assert.equal(stored, referenceChecksum(bytes, at, 20));
    }), { numRuns: 1000 });
  });

  it('the TTL fast path on the VPP sample gives the rewritten header VPP printed (ttl 63, 0x40af)', () => {
    const header = fromHex('4500 0032 0000 0000 4011 3faf 0a0a 0102 3000 0001');
    assert.equal(ip4DecrementTtlUpdateChecksum(header, 0), 63);
    assert.equal(header[8], 63);
    assert.equal(word(header, 5), 0x40af);
  });

  it('the TTL fast path leaves TTL 0 alone and never throws past the end', () => {
    const header = fromHex('4500 0032 0000 0000 0011 7faf 0a0a 0102 3000 0001');
    assert.equal(ip4DecrementTtlUpdateChecksum(header, 0), 0);
    assert.equal(word(header, 5), 0x7faf);
    assert.equal(ip4DecrementTtlUpdateChecksum(new Uint8Array(4), 0), 0);
    assert.equal(ip4DecrementTtlUpdateChecksum(new Uint8Array(4), 100), 0);
  });
});
