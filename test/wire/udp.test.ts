import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emitUdpHeader, fillUdp4Checksum, formatUdpHeader, parseUdpHeader, setUdpChecksum, setUdpDstPort, setUdpLength,
  setUdpSrcPort, udp4Checksum, udp4ChecksumIsValid, UDP_HEADER_LENGTH, UdpCheck, udpChecksum, udpChecksumUpdate16,
  udpDstPort, udpHeaderCheck, udpLength, udpSrcPort, type UdpHeader,
} from '../../src/wire/udp.ts';
import { checksumSum, ip4PseudoHeaderSum } from '../../src/wire/checksum.ts';
import { fromHex, isIntegerIn, pseudoHeaderBytes, randomSliceUpTo, record, referenceChecksum, toHex, u16, u32 } from './helpers.ts';
import { bytesOfLength } from '../arbitraries.ts';

// The UDP datagram of VPP's show trace sample: 10.10.1.2:1234 -> 48.0.0.1:5678, 22 bytes of
// 0x00..0x15, checksum 0x3b2c as VPP printed it.
const SRC = 0x0a0a0102;
const DST = 0x30000001;
const SAMPLE = fromHex('04d2 162e 001e 3b2c 000102030405060708090a0b0c0d0e0f101112131415');

/** The reference: checksum over pseudo-header + datagram with the field zeroed, 0 sent as 0xffff. */
function referenceUdpChecksum(datagram: Uint8Array, src: number, dst: number): number {
  const copy = datagram.slice();
  copy[6] = 0;
  copy[7] = 0;
  const all = new Uint8Array(12 + copy.length);
  all.set(pseudoHeaderBytes(src, dst, 17, copy.length));
  all.set(copy, 12);
  const checksum = referenceChecksum(all, 0, all.length);
  return checksum === 0 ? 0xffff : checksum;
}

// Payloads up to a jumbo frame's, past the 128 bytes where the checksum takes its word loop.
const datagram = fc.tuple(u16, u16, bytesOfLength(0, 9000, [120])).map(([sport, dport, payload]) => {
  const bytes = new Uint8Array(8 + payload.length);
  setUdpSrcPort(bytes, 0, sport);
  setUdpDstPort(bytes, 0, dport);
  setUdpLength(bytes, 0, bytes.length);
  bytes.set(payload, 8);
  return bytes;
});

describe('udp', () => {
  it('reads the sample datagram and verifies its checksum with the pseudo-header', () => {
    assert.equal(udpSrcPort(SAMPLE, 0), 1234);
    assert.equal(udpDstPort(SAMPLE, 0), 5678);
    assert.equal(udpLength(SAMPLE, 0), 30);
    assert.equal(udpChecksum(SAMPLE, 0), 0x3b2c);
    assert.equal(udp4ChecksumIsValid(SAMPLE, 0, 30, SRC, DST), true);
    assert.equal(udp4ChecksumIsValid(SAMPLE, 0, 30, SRC, DST + 1), false);
    assert.equal(udp4Checksum(SAMPLE, 0, 30, SRC, DST), 0x3b2c);
    assert.equal(referenceUdpChecksum(SAMPLE, SRC, DST), 0x3b2c);
    assert.deepEqual(parseUdpHeader(SAMPLE, 0, 30), { srcPort: 1234, dstPort: 5678, length: 30, checksum: 0x3b2c });
    assert.equal(formatUdpHeader(SAMPLE, 0), 'UDP: 1234 -> 5678\n  length 30, checksum 0x3b2c');
  });

  it('constructs the sample: header, payload, then the checksum', () => {
    const bytes = new Uint8Array(30);
    assert.equal(emitUdpHeader({ srcPort: 1234, dstPort: 5678, length: 30, checksum: 0 }, bytes, 0), UDP_HEADER_LENGTH);
    for (let i = 0; i < 22; i++) bytes[8 + i] = i;
    fillUdp4Checksum(bytes, 0, 30, SRC, DST);
    assert.equal(toHex(bytes), toHex(SAMPLE));
  });

  it('treats checksum 0 as none sent, and sends a computed 0 as 0xffff (RFC 768)', () => {
    const none = SAMPLE.slice();
    setUdpChecksum(none, 0, 0);
    assert.equal(udp4ChecksumIsValid(none, 0, 30, 1, 2), true);
    // Choose the last payload word so the sum with the field zeroed is all ones.
    const bytes = new Uint8Array(12);
    setUdpSrcPort(bytes, 0, 7);
    setUdpDstPort(bytes, 0, 9);
    setUdpLength(bytes, 0, 12);
    const partial = checksumSum(bytes, 0, 12, ip4PseudoHeaderSum(SRC, DST, 17, 12));
    const word = 0xffff - partial;
    bytes[10] = word >>> 8;
    bytes[11] = word & 0xff;
    fillUdp4Checksum(bytes, 0, 12, SRC, DST);
    assert.equal(udpChecksum(bytes, 0), 0xffff);
    assert.equal(udp4ChecksumIsValid(bytes, 0, 12, SRC, DST), true);
    assert.equal(udp4Checksum(bytes, 0, 12, SRC, DST), 0xffff);
  });

  it('names what it rejects', () => {
    assert.equal(udpHeaderCheck(SAMPLE, 0, 30), UdpCheck.OK);
    assert.equal(udpHeaderCheck(SAMPLE, 0, 7), UdpCheck.TOO_SHORT);
    assert.equal(udpHeaderCheck(SAMPLE, 0, 29), UdpCheck.BAD_LENGTH);
    const short = SAMPLE.slice();
    setUdpLength(short, 0, 7);
    assert.equal(udpHeaderCheck(short, 0, 30), UdpCheck.BAD_LENGTH);
    assert.equal(parseUdpHeader(short, 0, 30), null);
    assert.equal(formatUdpHeader(SAMPLE, 0, 7), 'UDP header truncated');
  });

  it('fill and compute agree with the reference on any datagram and addresses', () => {
    fc.assert(fc.property(datagram, u32, u32, (bytes, src, dst) => {
      const expected = referenceUdpChecksum(bytes, src, dst);
      assert.equal(udp4Checksum(bytes, 0, bytes.length, src, dst), expected);
      fillUdp4Checksum(bytes, 0, bytes.length, src, dst);
      assert.equal(udpChecksum(bytes, 0), expected);
      assert.equal(udp4ChecksumIsValid(bytes, 0, bytes.length, src, dst), true);
    }), { numRuns: 300 });
  });

  it('an incremental port rewrite equals a full recompute', () => {
    fc.assert(fc.property(datagram, u32, u32, fc.boolean(), u16, (bytes, src, dst, source, port) => {
      fillUdp4Checksum(bytes, 0, bytes.length, src, dst);
      const old = source ? udpSrcPort(bytes, 0) : udpDstPort(bytes, 0);
      const updated = udpChecksumUpdate16(udpChecksum(bytes, 0), old, port);
      if (source) setUdpSrcPort(bytes, 0, port);
      else setUdpDstPort(bytes, 0, port);
      assert.equal(updated, referenceUdpChecksum(bytes, src, dst));
    }), { numRuns: 500 });
    assert.equal(udpChecksumUpdate16(0, 1234, 4321), 0);
  });

  it('round-trips: parse(emit(h)) = h and emit(parse(x)) = x', () => {
    fc.assert(fc.property(record<UdpHeader>({ srcPort: u16, dstPort: u16, length: fc.integer({ min: 8, max: 40 }), checksum: u16 }),
      (h) => {
        const bytes = new Uint8Array(40);
        emitUdpHeader(h, bytes, 0);
        const parsed = parseUdpHeader(bytes, 0, 40);
        assert.deepEqual(parsed, h);
        const again = new Uint8Array(40);
        emitUdpHeader(parsed!, again, 0);
        assert.deepEqual(again, bytes);
      }));
  });

  it('random bytes never make an accessor, check, parser or formatter throw', () => {
    fc.assert(fc.property(randomSliceUpTo(300), u32, u32, ([bytes, offset, length], src, dst) => {
      for (const read of [udpSrcPort, udpDstPort, udpLength, udpChecksum]) assert.ok(isIntegerIn(read(bytes, offset), 0, 0xffff));
      assert.ok(isIntegerIn(udp4Checksum(bytes, offset, length, src, dst), 1, 0xffff));
      assert.equal(typeof udp4ChecksumIsValid(bytes, offset, length, src, dst), 'boolean');
      const check = udpHeaderCheck(bytes, offset, length);
      assert.equal(parseUdpHeader(bytes, offset, length) === null, check !== UdpCheck.OK);
      assert.equal(typeof formatUdpHeader(bytes, offset, length), 'string');
      assert.equal(typeof formatUdpHeader(bytes, offset), 'string');
    }), { numRuns: 1000 });
  });
});
