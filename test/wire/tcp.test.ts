import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  clearTcpOptions, emitTcpHeader, emitTcpOptions, fillTcp4Checksum, formatTcpFlags, formatTcpHeader, newTcpOptions,
  parseTcpHeader, parseTcpOptions, parseTcpOptionsInto, setTcpAcknowledgmentNumber, setTcpChecksum, setTcpDataOffset,
  setTcpDstPort, setTcpFlags, setTcpSequenceNumber, setTcpSrcPort, setTcpUrgentPointer, setTcpWindow, tcp4Checksum,
  tcp4ChecksumIsValid, tcpAcknowledgmentNumber, TcpCheck, tcpChecksum, tcpDataOffset, tcpDstPort, tcpFindOption,
  TcpFlags, tcpFlags, tcpHeaderCheck, tcpHeaderLength, TcpOptionKind, tcpOptionsLength, tcpSequenceNumber,
  tcpSrcPort, tcpUrgentPointer, tcpWindow, type TcpHeader, type TcpOptions,
} from '../../src/wire/tcp.ts';
import { checksumUpdate16, checksumUpdate32 } from '../../src/wire/checksum.ts';
import { fromHex, isIntegerIn, pseudoHeaderBytes, randomSlice, record, referenceChecksum, toHex, u16, u32, u8 } from './helpers.ts';
import { bytesOfLength } from '../arbitraries.ts';

const SRC = 0x0a000001;
const DST = 0x0a000002;

// A SYN as Linux sends it, 10.0.0.1:45678 -> 10.0.0.2:80: MSS 1460, SACK permitted,
// timestamps (TSval 123456, TSecr 0), NOP, window scale 7; window 64240.
const SYN_HEX = 'b26e 0050 12345678 00000000 a002 faf0 0000 0000'
  + '020405b4 0402 080a 0001e240 00000000 01 030307';

function referenceTcpChecksum(segment: Uint8Array, src: number, dst: number): number {
  const copy = segment.slice();
  copy[16] = 0;
  copy[17] = 0;
  const all = new Uint8Array(12 + copy.length);
  all.set(pseudoHeaderBytes(src, dst, 6, copy.length));
  all.set(copy, 12);
  return referenceChecksum(all, 0, all.length);
}

function syn(): Uint8Array {
  const bytes = fromHex(SYN_HEX);
  const checksum = referenceTcpChecksum(bytes, SRC, DST);
  bytes[16] = checksum >>> 8;
  bytes[17] = checksum & 0xff;
  return bytes;
}

function options(fields: Partial<TcpOptions> & { sack?: number[] }): TcpOptions {
  const o = newTcpOptions();
  const { sack, ...rest } = fields;
  Object.assign(o, rest);
  if (sack) {
    o.sackBlocks.set(sack);
    o.sackBlockCount = sack.length / 2;
  }
  return o;
}

/** Any option set emit can lay out in 40 bytes, in canonical form. */
const optionsArbitrary = fc.record({
  mss: fc.option(u16, { nil: -1 }), windowScale: fc.option(fc.integer({ min: 0, max: 14 }), { nil: -1 }),
  sackPermitted: fc.boolean(), timestamps: fc.option(fc.tuple(u32, u32), { nil: null }),
  sack: fc.array(fc.tuple(u32, u32), { maxLength: 4 }),
}).map((r) => options({
  mss: r.mss, windowScale: r.windowScale, sackPermitted: r.sackPermitted,
  timestamps: r.timestamps !== null, tsVal: r.timestamps?.[0] ?? 0, tsEcr: r.timestamps?.[1] ?? 0,
  sack: r.sack.flat(),
})).filter((o) => tcpOptionsLength(o) >= 0);

const headerArbitrary = fc.tuple(record<Omit<TcpHeader, 'options'>>({
  srcPort: u16, dstPort: u16, sequenceNumber: u32, acknowledgmentNumber: u32, flags: u8, window: u16,
  checksum: u16, urgentPointer: u16,
}), optionsArbitrary).map(([fields, opts]): TcpHeader => ({ ...fields, options: opts }));

describe('tcp accessors', () => {
  it('read every field of a real SYN', () => {
    const b = syn();
    assert.equal(tcpSrcPort(b, 0), 45678);
    assert.equal(tcpDstPort(b, 0), 80);
    assert.equal(tcpSequenceNumber(b, 0), 0x12345678);
    assert.equal(tcpAcknowledgmentNumber(b, 0), 0);
    assert.equal(tcpDataOffset(b, 0), 10);
    assert.equal(tcpHeaderLength(b, 0), 40);
    assert.equal(tcpFlags(b, 0), TcpFlags.SYN);
    assert.equal(tcpWindow(b, 0), 64240);
    assert.equal(tcpUrgentPointer(b, 0), 0);
    assert.equal(tcp4ChecksumIsValid(b, 0, 40, SRC, DST), true);
    assert.equal(tcp4ChecksumIsValid(b, 0, 40, SRC, DST ^ 1), false);
    assert.equal(tcp4Checksum(b, 0, 40, SRC, DST), tcpChecksum(b, 0));
  });

  it('the setters write where the accessors read', () => {
    const b = new Uint8Array(22);
    setTcpSrcPort(b, 2, 1);
    setTcpDstPort(b, 2, 2);
    setTcpSequenceNumber(b, 2, 0xfffffffe);
    setTcpAcknowledgmentNumber(b, 2, 0x80000000);
    setTcpDataOffset(b, 2, 5);
    setTcpFlags(b, 2, TcpFlags.SYN | TcpFlags.ACK);
    setTcpWindow(b, 2, 0x1000);
    setTcpChecksum(b, 2, 0xbeef);
    setTcpUrgentPointer(b, 2, 0x0102);
    assert.equal(toHex(b), '00000001 0002 fffffffe 80000000 5012 1000 beef 0102'.replace(/ /g, ''));
    assert.equal(tcpSequenceNumber(b, 2), 0xfffffffe);
    assert.equal(tcpAcknowledgmentNumber(b, 2), 0x80000000);
  });

  it('an incremental port or sequence rewrite equals a full recompute', () => {
    fc.assert(fc.property(headerArbitrary, bytesOfLength(0, 9000, [120]), u32, u16, (h, payload, seq, port) => {
      const bytes = new Uint8Array(60 + payload.length);
      const headerLength = emitTcpHeader(h, bytes, 0);
      bytes.set(payload, headerLength);
      const segment = bytes.subarray(0, headerLength + payload.length);
      fillTcp4Checksum(segment, 0, segment.length, SRC, DST);
      let checksum = checksumUpdate32(tcpChecksum(segment, 0), tcpSequenceNumber(segment, 0), seq);
      checksum = checksumUpdate16(checksum, tcpDstPort(segment, 0), port);
      setTcpSequenceNumber(segment, 0, seq);
      setTcpDstPort(segment, 0, port);
      assert.equal(checksum, referenceTcpChecksum(segment, SRC, DST));
    }), { numRuns: 300 });
  });
});

describe('tcpHeaderCheck', () => {
  it('names what it rejects', () => {
    const b = syn();
    assert.equal(tcpHeaderCheck(b, 0, 40), TcpCheck.OK);
    assert.equal(tcpHeaderCheck(b, 0, 19), TcpCheck.TOO_SHORT);
    assert.equal(tcpHeaderCheck(b, 0, 39), TcpCheck.BAD_DATA_OFFSET);
    b[12] = 0x40;
    assert.equal(tcpHeaderCheck(b, 0, 40), TcpCheck.BAD_DATA_OFFSET);
    assert.equal(parseTcpHeader(b, 0, 40), null);
  });
});

describe('tcp options', () => {
  it('parses the SYN options', () => {
    assert.deepEqual(parseTcpOptions(syn(), 20, 20),
      options({ mss: 1460, sackPermitted: true, timestamps: true, tsVal: 123456, tsEcr: 0, windowScale: 7 }));
  });

  it('parses SACK blocks and skips unknown options by their length', () => {
    const bytes = fromHex('0101 0512 0000000100000002 0000000300000004 1e04abcd 0101 080a 00000005 00000006');
    assert.deepEqual(parseTcpOptions(bytes, 0, bytes.length),
      options({ sack: [1, 2, 3, 4], timestamps: true, tsVal: 5, tsEcr: 6 }));
  });

  it('stops at End of Option List', () => {
    assert.deepEqual(parseTcpOptions(fromHex('020405b4 00 ff ff ff'), 0, 8), options({ mss: 1460 }));
    assert.deepEqual(parseTcpOptions(fromHex('01010101'), 0, 4), options({}));
    assert.deepEqual(parseTcpOptions(new Uint8Array(0), 0, 0), options({}));
  });

  it('rejects malformed lists, without throwing', () => {
    const malformed = [
      '0200',                 // zero length
      '0201',                 // length 1
      '1e00',                 // unknown kind, zero length
      '0204 05',              // length past the end
      '1e08 0000',            // unknown kind, length past the end
      '01 02',                // kind without a length byte
      '020305 00',            // MSS with length 3
      '03040700',             // window scale with length 4
      '0403 00 00',           // SACK permitted with length 3
      '0808 000000000000',    // timestamps with length 8
      '0509 0000000000000000 00', // SACK with length 9
      '050b' + '00'.repeat(9), // SACK with length 11, not 2 + 8n
      '0502 0000',            // SACK without a block
      '052a' + '00'.repeat(40), // SACK with 5 blocks
    ];
    for (const hex of malformed) {
      const bytes = fromHex(hex);
      assert.equal(parseTcpOptions(bytes, 0, bytes.length), null, hex);
    }
    const reused = newTcpOptions();
    assert.equal(parseTcpOptionsInto(fromHex('0200'), 0, 2, reused), false);
    assert.equal(parseTcpOptionsInto(fromHex('020405b4'), 0, 2, reused), false); // length past the given range
    assert.equal(parseTcpOptionsInto(fromHex('020405b4'), 0, 4, reused), true);
    assert.equal(reused.mss, 1460);
    assert.equal(parseTcpOptionsInto(fromHex('020405b4'), 2, 4, reused), false); // runs past the bytes
  });

  it('emits the SYN options in the layout Linux uses', () => {
    const out = new Uint8Array(20);
    const opts = options({ mss: 1460, sackPermitted: true, timestamps: true, tsVal: 123456, tsEcr: 0, windowScale: 7 });
    assert.equal(tcpOptionsLength(opts), 20);
    assert.equal(emitTcpOptions(opts, out, 0), 20);
    assert.equal(toHex(out), toHex(syn().subarray(20, 40)));
    assert.equal(toHex(out), '020405b40402080a0001e24000000000' + '01030307');
  });

  it('lays out every combination aligned to 32 bits, and refuses more than 40 bytes', () => {
    const out = new Uint8Array(40);
    assert.equal(emitTcpOptions(options({ sackPermitted: true }), out, 0), 4);
    assert.equal(toHex(out.subarray(0, 4)), '01010402');
    assert.equal(emitTcpOptions(options({ timestamps: true, tsVal: 1, tsEcr: 2, sack: [10, 20] }), out, 0), 24);
    assert.equal(toHex(out.subarray(0, 24)), '0101080a0000000100000002' + '0101050a0000000a00000014');
    const tooMany = options({ mss: 1, timestamps: true, windowScale: 1, sack: [1, 2, 3, 4, 5, 6, 7, 8] });
    assert.equal(tcpOptionsLength(tooMany), -1);
    out.fill(0xee);
    assert.equal(emitTcpOptions(tooMany, out, 0), -1);
    assert.ok(out.every((b) => b === 0xee));
  });

  it('round-trips: parse(emit(o)) = o and emit(parse(x)) = x', () => {
    fc.assert(fc.property(optionsArbitrary, (opts) => {
      const bytes = new Uint8Array(40);
      const length = emitTcpOptions(opts, bytes, 0);
      assert.equal(length % 4, 0);
      const parsed = parseTcpOptions(bytes, 0, length);
      assert.deepEqual(parsed, opts);
      const again = new Uint8Array(40);
      assert.equal(emitTcpOptions(parsed!, again, 0), length);
      assert.deepEqual(again, bytes);
    }), { numRuns: 500 });
  });

  it('parses into one reused object without leftovers from the last segment', () => {
    const reused = newTcpOptions();
    parseTcpOptionsInto(syn(), 20, 20, reused);
    assert.equal(reused.timestamps, true);
    parseTcpOptionsInto(fromHex('0101050a0000000a00000014'), 0, 12, reused);
    assert.deepEqual(reused, options({ sack: [10, 20] }));
    clearTcpOptions(reused);
    assert.deepEqual(reused, newTcpOptions());
  });

  it('finds one option without parsing them all', () => {
    const b = syn();
    assert.equal(tcpFindOption(b, 0, TcpOptionKind.TIMESTAMPS), 26);
    assert.equal(tcpFindOption(b, 0, TcpOptionKind.WINDOW_SCALE), 37);
    assert.equal(tcpFindOption(b, 0, TcpOptionKind.SACK), -1);
    b[21] = 0; // MSS length 0: the list is malformed from there
    assert.equal(tcpFindOption(b, 0, TcpOptionKind.TIMESTAMPS), -1);
  });
});

describe('tcp representation', () => {
  it('parses the SYN and emits it back byte for byte', () => {
    const b = syn();
    const parsed = parseTcpHeader(b, 0, 40);
    assert.deepEqual(parsed, {
      srcPort: 45678, dstPort: 80, sequenceNumber: 0x12345678, acknowledgmentNumber: 0, flags: TcpFlags.SYN,
      window: 64240, checksum: tcpChecksum(b, 0), urgentPointer: 0,
      options: options({ mss: 1460, sackPermitted: true, timestamps: true, tsVal: 123456, tsEcr: 0, windowScale: 7 }),
    });
    const out = new Uint8Array(40);
    assert.equal(emitTcpHeader({ ...parsed!, checksum: 0 }, out, 0), 40);
    fillTcp4Checksum(out, 0, 40, SRC, DST);
    assert.deepEqual(out, b);
  });

  it('round-trips: parse(emit(h)) = h and emit(parse(x)) = x', () => {
    fc.assert(fc.property(headerArbitrary, fc.nat({ max: 5 }), (h, at) => {
      const bytes = new Uint8Array(at + 60);
      const length = emitTcpHeader(h, bytes, at);
      assert.equal(length, 20 + tcpOptionsLength(h.options));
      const parsed = parseTcpHeader(bytes, at, length);
      assert.deepEqual(parsed, h);
      const again = new Uint8Array(at + 60);
      emitTcpHeader(parsed!, again, at);
      assert.deepEqual(again, bytes);
    }), { numRuns: 300 });
  });

  it('refuses to emit options over 40 bytes', () => {
    const out = new Uint8Array(80);
    assert.equal(emitTcpHeader({
      srcPort: 1, dstPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4, flags: 0x10, window: 5, checksum: 0, urgentPointer: 0,
      options: options({ mss: 1, timestamps: true, windowScale: 1, sack: [1, 2, 3, 4, 5, 6, 7, 8] }),
    }, out, 0), -1);
  });
});

describe('tcp trace format', () => {
  it('prints the SYN as VPP does', () => {
    const b = syn();
    assert.equal(formatTcpHeader(b, 0), 'TCP: 45678 -> 80\n  seq. 0x12345678 ack 0x00000000\n'
      + `  flags 0x02 SYN, tcp header: 40 bytes\n  window 64240, checksum 0x${toHex(b.subarray(16, 18))}`);
    assert.equal(formatTcpFlags(0x12), '0x12 SYN ACK');
    assert.equal(formatTcpFlags(0xff), '0xff FIN SYN RST PSH ACK URG ECE CWR');
    assert.equal(formatTcpFlags(0), '0x00');
    assert.equal(formatTcpHeader(b, 0, 19), 'TCP header truncated');
  });
});

describe('tcp on random bytes', () => {
  it('no accessor, check, parser or formatter throws', () => {
    const reused = newTcpOptions();
    fc.assert(fc.property(randomSlice, u8, ([bytes, offset, length], kind) => {
      for (const read of [tcpSrcPort, tcpDstPort, tcpWindow, tcpChecksum, tcpUrgentPointer]) assert.ok(isIntegerIn(read(bytes, offset), 0, 0xffff));
      for (const read of [tcpSequenceNumber, tcpAcknowledgmentNumber]) assert.ok(isIntegerIn(read(bytes, offset), 0, 0xffffffff));
      assert.ok(isIntegerIn(tcpFlags(bytes, offset), 0, 255));
      assert.ok(isIntegerIn(tcpHeaderLength(bytes, offset), 0, 60));
      assert.ok(isIntegerIn(tcp4Checksum(bytes, offset, length, SRC, DST), 0, 0xffff));
      const check = tcpHeaderCheck(bytes, offset, length);
      const parsed = parseTcpHeader(bytes, offset, length);
      if (check !== TcpCheck.OK) assert.equal(parsed, null);
      assert.equal(typeof parseTcpOptionsInto(bytes, offset, length, reused), 'boolean');
      const found = tcpFindOption(bytes, offset, kind);
      assert.ok(found === -1 || (found >= offset + 20 && found < bytes.length && bytes[found] === kind));
      assert.equal(typeof formatTcpHeader(bytes, offset, length), 'string');
    }), { numRuns: 1000 });
  });

  it('random option lists either parse or are rejected, never throw', () => {
    fc.assert(fc.property(bytesOfLength(0, 40), (bytes) => {
      const parsed = parseTcpOptions(bytes, 0, bytes.length);
      if (parsed !== null) assert.ok(parsed.sackBlockCount <= 4);
    }), { numRuns: 2000 });
  });
});
