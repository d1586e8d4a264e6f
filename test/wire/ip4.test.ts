import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emitIp4Header, formatIp4Header, formatIpProtocol, IP4_HEADER_LENGTH, Ip4Check, ip4Checksum, ip4DontFragment, ip4Dscp,
  ip4Dst, ip4Ecn, ip4Flags, Ip4Flags, ip4FlagsAndFragmentOffset, ip4FlowHash, ip4FragmentOffset, ip4HeaderCheck,
  ip4HeaderChecksum, ip4HeaderChecksumIsValid, ip4HeaderLength, ip4Identification, ip4Ihl, ip4IsFragment,
  ip4Protocol, ip4Src, ip4Tos, ip4TotalLength, ip4Ttl, ip4Version, IpProtocol, parseIp4Header, setIp4Checksum,
  setIp4Dst, setIp4FlagsAndFragmentOffset, setIp4Identification, setIp4Protocol, setIp4Src, setIp4Tos,
  setIp4TotalLength, setIp4Ttl, type Ip4Header,
} from '../../src/wire/ip4.ts';
import { fromHex, isIntegerIn, randomSlice, record, referenceChecksum, toHex, u16, u32 } from './helpers.ts';

// The IPv4 header example widely used to teach the checksum: UDP 192.168.0.1 -> 192.168.0.199,
// DF set, total length 115, checksum 0xb861.
const TEXTBOOK = fromHex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');

const header = record<Ip4Header>({
  dscp: fc.integer({ min: 0, max: 63 }), ecn: fc.integer({ min: 0, max: 3 }),
  totalLength: fc.integer({ min: 60, max: 0xffff }), identification: u16,
  flags: fc.integer({ min: 0, max: 7 }), fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: fc.integer({ min: 0, max: 255 }), protocol: fc.integer({ min: 0, max: 255 }), src: u32, dst: u32,
  options: fc.integer({ min: 0, max: 10 }).chain((words) => fc.uint8Array({ minLength: 4 * words, maxLength: 4 * words })),
});

/** Random header bytes made valid: version 4, IHL 5..15, total length covering it, right checksum. */
const validHeaderBytes = fc.tuple(fc.integer({ min: 5, max: 15 }), fc.uint8Array({ minLength: 60, maxLength: 60 }), u16)
  .map(([ihl, random, totalLength]) => {
    const bytes = random.slice(0, ihl * 4);
    bytes[0] = 0x40 | ihl;
    const total = Math.max(totalLength, ihl * 4);
    bytes[2] = total >>> 8;
    bytes[3] = total & 0xff;
    bytes[10] = 0;
    bytes[11] = 0;
    const checksum = referenceChecksum(bytes, 0, ihl * 4);
    bytes[10] = checksum >>> 8;
    bytes[11] = checksum & 0xff;
    return bytes;
  });

describe('ip4 accessors', () => {
  it('read every field of the textbook header', () => {
    const b = TEXTBOOK;
    assert.equal(ip4Version(b, 0), 4);
    assert.equal(ip4Ihl(b, 0), 5);
    assert.equal(ip4HeaderLength(b, 0), 20);
    assert.equal(ip4Tos(b, 0), 0);
    assert.equal(ip4TotalLength(b, 0), 115);
    assert.equal(ip4Identification(b, 0), 0);
    assert.equal(ip4FlagsAndFragmentOffset(b, 0), 0x4000);
    assert.equal(ip4Flags(b, 0), Ip4Flags.DONT_FRAGMENT);
    assert.equal(ip4DontFragment(b, 0), true);
    assert.equal(ip4IsFragment(b, 0), false);
    assert.equal(ip4FragmentOffset(b, 0), 0);
    assert.equal(ip4Ttl(b, 0), 64);
    assert.equal(ip4Protocol(b, 0), IpProtocol.UDP);
    assert.equal(ip4Checksum(b, 0), 0xb861);
    assert.equal(ip4Src(b, 0), 0xc0a80001);
    assert.equal(ip4Dst(b, 0), 0xc0a800c7);
    assert.equal(ip4HeaderChecksum(b, 0), 0xb861);
    assert.equal(ip4HeaderChecksumIsValid(b, 0), true);
  });

  it('return addresses as unsigned u32 and split TOS into DSCP and ECN', () => {
    const b = fromHex('45b9 0014 0000 2001 4006 0000 ffff fffe c0a8 0001');
    assert.equal(ip4Src(b, 0), 0xfffffffe);
    assert.equal(ip4Dscp(b, 0), 0x2e); // EF
    assert.equal(ip4Ecn(b, 0), 1);
    assert.equal(ip4IsFragment(b, 0), true);
    assert.equal(ip4Flags(b, 0), Ip4Flags.MORE_FRAGMENTS);
    assert.equal(ip4FragmentOffset(b, 0), 1);
  });

  it('the setters write big-endian at the right places', () => {
    const b = new Uint8Array(24);
    const o = 4;
    b[o] = 0x45;
    setIp4Tos(b, o, 0xb8);
    setIp4TotalLength(b, o, 0x0102);
    setIp4Identification(b, o, 0xbeef);
    setIp4FlagsAndFragmentOffset(b, o, 0x4000);
    setIp4Ttl(b, o, 64);
    setIp4Protocol(b, o, IpProtocol.TCP);
    setIp4Src(b, o, 0x0a000001);
    setIp4Dst(b, o, 0xc0000201);
    setIp4Checksum(b, o, ip4HeaderChecksum(b, o));
    assert.equal(toHex(b.subarray(o)), '45b80102beef40004006' + ip4Checksum(b, o).toString(16).padStart(4, '0') + '0a000001c0000201');
    assert.equal(ip4Checksum(b, o), referenceChecksum(fromHex('45b80102beef400040060000 0a000001c0000201'), 0, 20));
    assert.equal(ip4HeaderCheck(b, o, 0x0102), Ip4Check.BAD_TOTAL_LENGTH); // only 20 bytes there
  });
});

describe('ip4HeaderCheck', () => {
  const packet = new Uint8Array(115);
  packet.set(TEXTBOOK);
  const mutated = (at: number, value: number) => {
    const b = packet.slice();
    b[at] = value;
    return b;
  };

  it('accepts the textbook packet', () => {
    assert.equal(ip4HeaderCheck(packet, 0, 115), Ip4Check.OK);
  });

  it('names what it rejects', () => {
    assert.equal(ip4HeaderCheck(packet, 0, 19), Ip4Check.TOO_SHORT);
    assert.equal(ip4HeaderCheck(packet, 100, 115), Ip4Check.TOO_SHORT); // fewer bytes than claimed
    assert.equal(ip4HeaderCheck(mutated(0, 0x65), 0, 115), Ip4Check.BAD_VERSION);
    assert.equal(ip4HeaderCheck(mutated(0, 0x44), 0, 115), Ip4Check.BAD_IHL);
    assert.equal(ip4HeaderCheck(packet, 0, 114), Ip4Check.BAD_TOTAL_LENGTH);
    assert.equal(ip4HeaderCheck(mutated(3, 0x10), 0, 115), Ip4Check.BAD_TOTAL_LENGTH); // 16 < 20
    assert.equal(ip4HeaderCheck(mutated(8, 0x3f), 0, 115), Ip4Check.BAD_CHECKSUM);
    const shortIhl = fromHex('4f00 0014 0000 0000 4011 0000 0a00 0001 0a00 0002');
    assert.equal(ip4HeaderCheck(shortIhl, 0, 20), Ip4Check.BAD_IHL); // IHL 15 = 60 bytes > 20
  });
});

describe('ip4 representation', () => {
  it('parses the textbook header', () => {
    assert.deepEqual(parseIp4Header(TEXTBOOK, 0, 20), {
      dscp: 0, ecn: 0, totalLength: 115, identification: 0, flags: Ip4Flags.DONT_FRAGMENT, fragmentOffset: 0,
      ttl: 64, protocol: 17, src: 0xc0a80001, dst: 0xc0a800c7, options: new Uint8Array(0),
    });
  });

  it('emits the textbook header, checksum included', () => {
    const bytes = new Uint8Array(20);
    const written = emitIp4Header({
      dscp: 0, ecn: 0, totalLength: 115, identification: 0, flags: Ip4Flags.DONT_FRAGMENT, fragmentOffset: 0,
      ttl: 64, protocol: IpProtocol.UDP, src: 0xc0a80001, dst: 0xc0a800c7, options: new Uint8Array(0),
    }, bytes, 0);
    assert.equal(written, 20);
    assert.deepEqual(bytes, TEXTBOOK);
  });

  it('pads options to 32 bits and counts them in IHL', () => {
    const bytes = new Uint8Array(24);
    const written = emitIp4Header({
      dscp: 0, ecn: 0, totalLength: 24, identification: 1, flags: 0, fragmentOffset: 0,
      ttl: 1, protocol: 2, src: 0x0a000001, dst: 0xe0000016, options: fromHex('940400'),
    }, bytes, 0);
    assert.equal(written, 24);
    assert.equal(bytes[0], 0x46);
    assert.equal(toHex(bytes.subarray(20)), '94040000');
    assert.equal(ip4HeaderCheck(bytes, 0, 24), Ip4Check.OK);
  });

  it('rejects what the check rejects, except a total length beyond the bytes (quoted headers parse)', () => {
    assert.equal(parseIp4Header(TEXTBOOK, 0, 19), null);
    const badSum = TEXTBOOK.slice();
    badSum[11] ^= 1;
    assert.equal(parseIp4Header(badSum, 0, 20), null);
    assert.notEqual(parseIp4Header(TEXTBOOK, 0, 20), null);
  });

  it('parse(emit(h)) = h', () => {
    fc.assert(fc.property(header, fc.nat({ max: 6 }), (h, at) => {
      const bytes = new Uint8Array(at + 60);
      const written = emitIp4Header(h, bytes, at);
      assert.equal(written, 20 + h.options.length);
      assert.deepEqual(parseIp4Header(bytes, at, written), h);
    }), { numRuns: 300 });
  });

  it('emit(parse(x)) = x for any valid header bytes', () => {
    fc.assert(fc.property(validHeaderBytes, (x) => {
      const parsed = parseIp4Header(x, 0, x.length);
      assert.notEqual(parsed, null);
      const again = new Uint8Array(x.length);
      assert.equal(emitIp4Header(parsed!, again, 0), x.length);
      assert.deepEqual(again, x);
    }), { numRuns: 300 });
  });
});

describe('ip4 trace format', () => {
  it('prints the VPP sample packet as VPP does', () => {
    const sample = fromHex('4500 0032 0000 0000 4011 3faf 0a0a 0102 3000 0001');
    assert.equal(formatIp4Header(sample, 0),
      'UDP: 10.10.1.2 -> 48.0.0.1\n  tos 0x00, ttl 64, length 50, checksum 0x3faf dscp CS0 ecn NON_ECN\n  fragment id 0x0000');
  });

  it('adds offset and flags when set', () => {
    assert.equal(formatIp4Header(TEXTBOOK, 0),
      'UDP: 192.168.0.1 -> 192.168.0.199\n  tos 0x00, ttl 64, length 115, checksum 0xb861 dscp CS0 ecn NON_ECN\n'
      + '  fragment id 0x0000 offset 0, flags DONT_FRAGMENT');
    const fragment = fromHex('45b9 0014 abcd 2003 4006 0000 0a00 0001 0a00 0002');
    setIp4Checksum(fragment, 0, ip4HeaderChecksum(fragment, 0));
    assert.match(formatIp4Header(fragment, 0), /^TCP: 10\.0\.0\.1 -> 10\.0\.0\.2\n  tos 0xb9, ttl 64, length 20, checksum 0x[0-9a-f]{4} dscp EF ecn ECT_1\n  fragment id 0xabcd offset 24, flags MORE_FRAGMENTS$/);
  });

  it('shows the checksum it should have when wrong, and unusual IHL', () => {
    const wrong = TEXTBOOK.slice();
    wrong[10] = 0x12;
    wrong[11] = 0x34;
    assert.match(formatIp4Header(wrong, 0), /checksum 0x1234 \(should be 0xb861\) dscp/);
    const withOptions = new Uint8Array(24);
    emitIp4Header({
      dscp: 0, ecn: 3, totalLength: 24, identification: 0, flags: 0, fragmentOffset: 0,
      ttl: 255, protocol: 99, src: 1, dst: 2, options: fromHex('01010100'),
    }, withOptions, 0);
    const text = formatIp4Header(withOptions, 0);
    assert.match(text, /^unknown 99: 0\.0\.0\.1 -> 0\.0\.0\.2\n  version 4, header length 24\n  tos 0x03, ttl 255, length 24, checksum 0x[0-9a-f]{4} dscp CS0 ecn CE\n  fragment id 0x0000$/);
  });

  it('names protocols as VPP does', () => {
    assert.equal(formatIpProtocol(1), 'ICMP');
    assert.equal(formatIpProtocol(47), 'GRE');
    assert.equal(formatIpProtocol(200), 'unknown 200');
  });

  it('says when the header is truncated', () => {
    assert.equal(formatIp4Header(TEXTBOOK, 0, 19), 'IP header truncated');
    assert.equal(formatIp4Header(TEXTBOOK, 5), 'IP header truncated');
  });
});

describe('ip4FlowHash', () => {
  function packet(src: number, dst: number, protocol: number, sport: number, dport: number, fragmentWord = 0): Uint8Array {
    const b = new Uint8Array(28);
    b[0] = 0x45;
    setIp4Src(b, 0, src);
    setIp4Dst(b, 0, dst);
    setIp4Protocol(b, 0, protocol);
    setIp4FlagsAndFragmentOffset(b, 0, fragmentWord);
    b[20] = sport >>> 8; b[21] = sport & 0xff; b[22] = dport >>> 8; b[23] = dport & 0xff;
    return b;
  }

  it('depends on addresses, protocol and, for TCP and UDP, the ports', () => {
    const base = ip4FlowHash(packet(0x0a000001, 0x0a000002, 6, 1234, 80), 0);
    assert.ok(isIntegerIn(base, 0, 0xffffffff));
    assert.equal(ip4FlowHash(packet(0x0a000001, 0x0a000002, 6, 1234, 80), 0), base);
    assert.notEqual(ip4FlowHash(packet(0x0a000003, 0x0a000002, 6, 1234, 80), 0), base);
    assert.notEqual(ip4FlowHash(packet(0x0a000001, 0x0a000004, 6, 1234, 80), 0), base);
    assert.notEqual(ip4FlowHash(packet(0x0a000001, 0x0a000002, 17, 1234, 80), 0), base);
    assert.notEqual(ip4FlowHash(packet(0x0a000001, 0x0a000002, 6, 1235, 80), 0), base);
    assert.notEqual(ip4FlowHash(packet(0x0a000001, 0x0a000002, 6, 1234, 81), 0), base);
    // ICMP has no ports: the bytes there do not count.
    assert.equal(ip4FlowHash(packet(1, 2, 1, 5, 6), 0), ip4FlowHash(packet(1, 2, 1, 7, 8), 0));
  });

  it('leaves the ports out of fragments so all fragments of a flow hash alike', () => {
    const first = packet(1, 2, 17, 1000, 2000, 0x2000);
    const middle = packet(1, 2, 17, 0x4142, 0x4344, 0x2000 | 185);
    assert.equal(ip4FlowHash(first, 0), ip4FlowHash(middle, 0));
  });

  it('spreads sequential flows evenly over 16 buckets', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let port = 0; port < 16000; port++) buckets[ip4FlowHash(packet(0x0a000001, 0x0a000002, 17, 10000 + port, 4789), 0) & 15]++;
    for (const count of buckets) assert.ok(count > 800 && count < 1200, `bucket count ${count}`);
  });

  it('flips about half the output bits when one input bit flips', () => {
    let flipped = 0;
    let trials = 0;
    for (let i = 0; i < 200; i++) {
      const b = packet((i * 2654435761) >>> 0, 0x0a000002, 6, i, 443);
      const before = ip4FlowHash(b, 0);
      for (const byte of [12, 13, 14, 15, 16, 19, 9, 20, 21, 22, 23]) {
        const bit = 1 << (i % 8);
        b[byte] ^= bit;
        let x = (before ^ ip4FlowHash(b, 0)) >>> 0;
        b[byte] ^= bit;
        while (x) { flipped += x & 1; x >>>= 1; }
        trials++;
      }
    }
    const mean = flipped / trials;
    assert.ok(mean > 14 && mean < 18, `mean flipped bits ${mean}`);
  });
});

describe('ip4 on random bytes', () => {
  it('no accessor, check, parser or formatter throws; accessors return in-range integers', () => {
    fc.assert(fc.property(randomSlice, ([bytes, offset, length]) => {
      for (const read of [ip4Version, ip4Ihl, ip4Dscp, ip4Ecn, ip4Flags]) assert.ok(isIntegerIn(read(bytes, offset), 0, 63));
      for (const read of [ip4Tos, ip4Ttl, ip4Protocol]) assert.ok(isIntegerIn(read(bytes, offset), 0, 255));
      for (const read of [ip4TotalLength, ip4Identification, ip4FlagsAndFragmentOffset, ip4FragmentOffset, ip4Checksum, ip4HeaderChecksum]) {
        assert.ok(isIntegerIn(read(bytes, offset), 0, 0xffff));
      }
      for (const read of [ip4Src, ip4Dst, ip4FlowHash]) assert.ok(isIntegerIn(read(bytes, offset), 0, 0xffffffff));
      assert.ok(isIntegerIn(ip4HeaderLength(bytes, offset), 0, 60));
      assert.equal(typeof ip4HeaderChecksumIsValid(bytes, offset), 'boolean');
      assert.equal(typeof ip4IsFragment(bytes, offset), 'boolean');
      assert.equal(typeof ip4DontFragment(bytes, offset), 'boolean');
      const check = ip4HeaderCheck(bytes, offset, length);
      assert.ok(isIntegerIn(check, 0, 5));
      const parsed = parseIp4Header(bytes, offset, length);
      if (check === Ip4Check.OK) assert.notEqual(parsed, null);
      assert.equal(typeof formatIp4Header(bytes, offset, length), 'string');
      assert.equal(typeof formatIp4Header(bytes, offset), 'string');
    }), { numRuns: 1000 });
  });

  it('IP4_HEADER_LENGTH is 20', () => {
    assert.equal(IP4_HEADER_LENGTH, 20);
  });
});
