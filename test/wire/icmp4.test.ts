import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emitIcmp4DestinationUnreachable, emitIcmp4Error, emitIcmp4ErrorPacket, emitIcmp4Message, emitIcmp4TimeExceeded,
  formatIcmp4Header, formatIcmp4TypeAndCode, ICMP4_RFC1812_MAX_QUOTE, Icmp4Check, icmp4Check,
  icmp4Checksum, icmp4Code, icmp4ComputeChecksum, icmp4EchoIdentifier, icmp4EchoRequestToReply, icmp4EchoRestOfHeader,
  icmp4EchoSequence, icmp4ErrorAllowed, icmp4NextHopMtu, icmp4RestOfHeader, icmp4Type, Icmp4TimeExceededCode,
  Icmp4Type, Icmp4UnreachableCode, parseIcmp4Message, setIcmp4Checksum, setIcmp4Code, setIcmp4RestOfHeader,
  setIcmp4Type, type Icmp4Message,
} from '../../src/wire/icmp4.ts';
import { emitIp4Header, Ip4Check, ip4Dst, ip4HeaderCheck, ip4Protocol, ip4Src, ip4TotalLength, ip4Ttl, IpProtocol } from '../../src/wire/ip4.ts';
import { fromHex, isIntegerIn, randomSliceUpTo, record, referenceChecksum, toHex, u16, u32, u8 } from './helpers.ts';
import { bytesOfLength } from '../arbitraries.ts';

// The echo request Windows' ping sends first: id 1, seq 1, 32 bytes "abcdefghijklmnopqrstuvwabcdefghi",
// checksum 0x4d5a as every capture of it shows.
const ECHO_REQUEST = fromHex('0800 4d5a 0001 0001 6162636465666768696a6b6c6d6e6f7071727374757677616263646566676869');

// The UDP packet of VPP's show trace sample (ip4 + udp + 22 bytes of 0x00..0x15).
const SAMPLE_UDP = fromHex('4500 0032 0000 0000 4011 3faf 0a0a 0102 3000 0001 04d2 162e 001e 3b2c'
  + '000102030405060708090a0b0c0d0e0f101112131415');

const message = record<Icmp4Message>({
  type: u8, code: u8, restOfHeader: u32, data: bytesOfLength(0, 1500, [120]),
});

describe('icmp4 accessors and check', () => {
  it('read the real echo request, whose checksum verifies', () => {
    assert.equal(icmp4Type(ECHO_REQUEST, 0), Icmp4Type.ECHO_REQUEST);
    assert.equal(icmp4Code(ECHO_REQUEST, 0), 0);
    assert.equal(icmp4Checksum(ECHO_REQUEST, 0), 0x4d5a);
    assert.equal(icmp4EchoIdentifier(ECHO_REQUEST, 0), 1);
    assert.equal(icmp4EchoSequence(ECHO_REQUEST, 0), 1);
    assert.equal(icmp4RestOfHeader(ECHO_REQUEST, 0), 0x00010001);
    assert.equal(icmp4ComputeChecksum(ECHO_REQUEST, 0, 40), 0x4d5a);
    assert.equal(icmp4Check(ECHO_REQUEST, 0, 40), Icmp4Check.OK);
  });

  it('names what it rejects', () => {
    assert.equal(icmp4Check(ECHO_REQUEST, 0, 7), Icmp4Check.TOO_SHORT);
    assert.equal(icmp4Check(ECHO_REQUEST, 0, 41), Icmp4Check.TOO_SHORT);
    assert.equal(icmp4Check(ECHO_REQUEST, 0, 39), Icmp4Check.BAD_CHECKSUM);
    const corrupt = ECHO_REQUEST.slice();
    corrupt[20] ^= 0x40;
    assert.equal(icmp4Check(corrupt, 0, 40), Icmp4Check.BAD_CHECKSUM);
  });

  it('the setters write where the accessors read', () => {
    const b = new Uint8Array(10);
    setIcmp4Type(b, 2, 3);
    setIcmp4Code(b, 2, 4);
    setIcmp4Checksum(b, 2, 0xabcd);
    setIcmp4RestOfHeader(b, 2, 0x000005dc);
    assert.equal(toHex(b), '00000304abcd000005dc');
    assert.equal(icmp4NextHopMtu(b, 2), 1500);
    assert.equal(icmp4EchoRestOfHeader(0x1234, 0xfffe), 0x1234fffe);
  });
});

describe('icmp4 representation', () => {
  it('parses the real echo request', () => {
    assert.deepEqual(parseIcmp4Message(ECHO_REQUEST, 0, 40), {
      type: 8, code: 0, restOfHeader: 0x00010001, data: new TextEncoder().encode('abcdefghijklmnopqrstuvwabcdefghi'),
    });
    assert.equal(parseIcmp4Message(ECHO_REQUEST, 0, 39), null);
  });

  it('emits the real echo request byte for byte', () => {
    const bytes = new Uint8Array(40);
    const written = emitIcmp4Message({
      type: Icmp4Type.ECHO_REQUEST, code: 0, restOfHeader: icmp4EchoRestOfHeader(1, 1),
      data: new TextEncoder().encode('abcdefghijklmnopqrstuvwabcdefghi'),
    }, bytes, 0);
    assert.equal(written, 40);
    assert.deepEqual(bytes, ECHO_REQUEST);
  });

  it('round-trips: parse(emit(m)) = m and emit(parse(x)) = x', () => {
    fc.assert(fc.property(message, fc.nat({ max: 5 }), (m, at) => {
      const bytes = new Uint8Array(at + 8 + m.data.length);
      const written = emitIcmp4Message(m, bytes, at);
      assert.equal(referenceChecksum(bytes, at, written), 0);
      const parsed = parseIcmp4Message(bytes, at, written);
      assert.deepEqual(parsed, m);
      const again = new Uint8Array(bytes.length);
      emitIcmp4Message(parsed!, again, at);
      assert.deepEqual(again, bytes);
    }), { numRuns: 300 });
  });
});

describe('echo reply in place', () => {
  it('turns the real request into its reply: type 0, checksum 0x555a', () => {
    const bytes = ECHO_REQUEST.slice();
    assert.equal(icmp4EchoRequestToReply(bytes, 0), true);
    assert.equal(icmp4Type(bytes, 0), Icmp4Type.ECHO_REPLY);
    assert.equal(icmp4Checksum(bytes, 0), 0x555a);
    assert.equal(icmp4Check(bytes, 0, 40), Icmp4Check.OK);
    assert.deepEqual(bytes.subarray(4), ECHO_REQUEST.subarray(4));
    assert.equal(icmp4EchoRequestToReply(bytes, 0), false); // already a reply: untouched
    assert.equal(icmp4Checksum(bytes, 0), 0x555a);
  });

  it('the incremental checksum equals a full recompute for any request', () => {
    fc.assert(fc.property(u16, u16, bytesOfLength(0, 1500, [120]), (id, seq, data) => {
      const bytes = new Uint8Array(8 + data.length);
      emitIcmp4Message({ type: 8, code: 0, restOfHeader: icmp4EchoRestOfHeader(id, seq), data }, bytes, 0);
      icmp4EchoRequestToReply(bytes, 0);
      const stored = icmp4Checksum(bytes, 0);
      setIcmp4Checksum(bytes, 0, 0);
      assert.equal(stored, referenceChecksum(bytes, 0, bytes.length));
    }), { numRuns: 500 });
  });
});

describe('icmp4 error messages', () => {
  const router = 0x0a0a0101;

  it('time exceeded quotes the IP header and 8 bytes, from the router to the sender', () => {
    const out = new Uint8Array(100);
    const length = emitIcmp4TimeExceeded(out, 0, router, SAMPLE_UDP, 0, SAMPLE_UDP.length);
    assert.equal(length, 20 + 8 + 28);
    assert.equal(ip4HeaderCheck(out, 0, length), Ip4Check.OK);
    assert.equal(ip4TotalLength(out, 0), 56);
    assert.equal(ip4Protocol(out, 0), IpProtocol.ICMP);
    assert.equal(ip4Src(out, 0), router);
    assert.equal(ip4Dst(out, 0), 0x0a0a0102);
    assert.equal(ip4Ttl(out, 0), 64);
    assert.equal(icmp4Check(out, 20, 36), Icmp4Check.OK);
    assert.equal(toHex(out.subarray(20, 28)), '0b00' + toHex(out.subarray(22, 24)) + '00000000');
    assert.equal(icmp4Code(out, 20), Icmp4TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT);
    assert.deepEqual(out.subarray(28, 56), SAMPLE_UDP.subarray(0, 28));
    assert.equal(formatIcmp4Header(out, 20), `ICMP time_exceeded ttl_exceeded_in_transit checksum 0x${toHex(out.subarray(22, 24))}`);
  });

  it('fragmentation needed carries the next-hop MTU (RFC 1191)', () => {
    const out = new Uint8Array(100);
    const length = emitIcmp4DestinationUnreachable(out, 0, router, Icmp4UnreachableCode.FRAGMENTATION_NEEDED,
      SAMPLE_UDP, 0, SAMPLE_UDP.length, 1400);
    assert.equal(length, 56);
    assert.equal(icmp4Type(out, 20), Icmp4Type.DESTINATION_UNREACHABLE);
    assert.equal(icmp4RestOfHeader(out, 20), 1400);
    assert.equal(icmp4Check(out, 20, 36), Icmp4Check.OK);
    assert.match(formatIcmp4Header(out, 20), /^ICMP destination_unreachable fragmentation_needed_and_dont_fragment_set checksum 0x[0-9a-f]{4} mtu 1400$/);
  });

  it('quotes up to 576 bytes in all under RFC 1812, never past total length or the bytes there', () => {
    const big = new Uint8Array(1000);
    emitIp4Header({ dscp: 0, ecn: 0, totalLength: 1000, identification: 7, flags: 0, fragmentOffset: 0, ttl: 1,
      protocol: 17, src: 0x0a000009, dst: 0x0b000001, options: new Uint8Array(0) }, big, 0);
    const out = new Uint8Array(1100);
    assert.equal(emitIcmp4ErrorPacket(out, 0, router, 11, 0, 0, big, 0, 1000, ICMP4_RFC1812_MAX_QUOTE), 576);
    assert.equal(emitIcmp4ErrorPacket(out, 0, router, 11, 0, 0, big, 0, 300, ICMP4_RFC1812_MAX_QUOTE), 328);
    assert.equal(emitIcmp4ErrorPacket(out, 0, router, 11, 0, 0, SAMPLE_UDP, 0, 50, ICMP4_RFC1812_MAX_QUOTE), 78);
    assert.equal(icmp4Check(out, 20, 58), Icmp4Check.OK);
  });

  it('builds the same message in place, prepended to the original in one buffer', () => {
    const apart = new Uint8Array(100);
    const expected = emitIcmp4TimeExceeded(apart, 0, router, SAMPLE_UDP, 0, 50);
    const shared = new Uint8Array(128);
    shared.set(SAMPLE_UDP, 28);
    assert.equal(emitIcmp4TimeExceeded(shared, 0, router, shared, 28, 50), expected);
    assert.deepEqual(shared.subarray(0, expected), apart.subarray(0, expected));
    // And over it, the quote moving forwards past the new headers.
    const over = new Uint8Array(128);
    over.set(SAMPLE_UDP, 0);
    assert.equal(emitIcmp4TimeExceeded(over.subarray(0), 0, router, over.subarray(0, 64), 0, 50), expected);
    assert.deepEqual(over.subarray(0, expected), apart.subarray(0, expected));
  });

  it('writes the bare ICMP message too, and refuses an original without an IP header', () => {
    const out = new Uint8Array(64);
    assert.equal(emitIcmp4Error(out, 0, 3, 3, 0, SAMPLE_UDP, 0, SAMPLE_UDP.length), 36);
    assert.equal(icmp4Check(out, 0, 36), Icmp4Check.OK);
    assert.equal(emitIcmp4Error(out, 0, 3, 3, 0, SAMPLE_UDP, 0, 19), 0);
    assert.equal(emitIcmp4Error(out, 0, 3, 3, 0, fromHex('4400 0014 0000 0000 4011 0000 0000 0000 0000 0000'), 0, 20), 0);
    assert.equal(emitIcmp4Error(new Uint8Array(30), 0, 3, 3, 0, SAMPLE_UDP, 0, 50), 0); // no room
  });

  it('follows RFC 1812 §4.3.2.7 on when not to send an error', () => {
    const make = (src: number, dst: number, protocol: number, fragmentOffset: number, icmpType = 8) => {
      const b = new Uint8Array(28);
      emitIp4Header({ dscp: 0, ecn: 0, totalLength: 28, identification: 0, flags: 0, fragmentOffset, ttl: 1, protocol, src, dst,
        options: new Uint8Array(0) }, b, 0);
      b[20] = icmpType;
      return b;
    };
    assert.equal(icmp4ErrorAllowed(make(0x0a000001, 0x0a000002, 17, 0), 0, 28), true);
    assert.equal(icmp4ErrorAllowed(make(0x0a000001, 0x0a000002, 1, 0, Icmp4Type.ECHO_REQUEST), 0, 28), true);
    assert.equal(icmp4ErrorAllowed(make(0x0a000001, 0x0a000002, 1, 0, Icmp4Type.DESTINATION_UNREACHABLE), 0, 28), false);
    assert.equal(icmp4ErrorAllowed(make(0x0a000001, 0x0a000002, 1, 0, Icmp4Type.TIME_EXCEEDED), 0, 28), false);
    assert.equal(icmp4ErrorAllowed(make(0x0a000001, 0x0a000002, 17, 10), 0, 28), false);
    assert.equal(icmp4ErrorAllowed(make(0x0a000001, 0xffffffff, 17, 0), 0, 28), false);
    assert.equal(icmp4ErrorAllowed(make(0x0a000001, 0xe0000001, 17, 0), 0, 28), false);
    assert.equal(icmp4ErrorAllowed(make(0x00000000, 0x0a000002, 17, 0), 0, 28), false);
    assert.equal(icmp4ErrorAllowed(make(0x7f000001, 0x0a000002, 17, 0), 0, 28), false);
    assert.equal(icmp4ErrorAllowed(make(0xe0000005, 0x0a000002, 17, 0), 0, 28), false);
    assert.equal(icmp4ErrorAllowed(make(0x0a000001, 0x0a000002, 1, 0), 0, 20), false); // type not there
  });
});

describe('icmp4 trace format', () => {
  it('prints type, code, checksum and the echo id and seq', () => {
    assert.equal(formatIcmp4Header(ECHO_REQUEST, 0), 'ICMP echo_request checksum 0x4d5a id 1 seq 1');
    assert.equal(formatIcmp4Header(ECHO_REQUEST, 0, 4), 'ICMP echo_request checksum 0x4d5a');
    assert.equal(formatIcmp4Header(ECHO_REQUEST, 0, 3), 'ICMP header truncated');
    assert.equal(formatIcmp4Header(fromHex('0501 0000 0a000001'), 0), 'ICMP redirect host_redirect checksum 0x0000 gateway 10.0.0.1');
    assert.equal(formatIcmp4TypeAndCode(3, 3), 'destination_unreachable port_unreachable');
    assert.equal(formatIcmp4TypeAndCode(8, 5), 'echo_request');
    assert.equal(formatIcmp4TypeAndCode(99, 0), 'unknown 0x63');
  });
});

describe('icmp4 on random bytes', () => {
  it('no accessor, check, parser, builder or formatter throws', () => {
    const out = new Uint8Array(700);
    // Slices past the 576 bytes an ICMP error may quote at most.
    fc.assert(fc.property(randomSliceUpTo(700), fc.integer({ min: -2, max: 600 }), ([bytes, offset, length], maxQuote) => {
      for (const read of [icmp4Type, icmp4Code]) assert.ok(isIntegerIn(read(bytes, offset), 0, 255));
      for (const read of [icmp4Checksum, icmp4EchoIdentifier, icmp4EchoSequence, icmp4NextHopMtu]) assert.ok(isIntegerIn(read(bytes, offset), 0, 0xffff));
      assert.ok(isIntegerIn(icmp4RestOfHeader(bytes, offset), 0, 0xffffffff));
      assert.ok(isIntegerIn(icmp4ComputeChecksum(bytes, offset, length), 0, 0xffff));
      const check = icmp4Check(bytes, offset, length);
      assert.equal(parseIcmp4Message(bytes, offset, length) === null, check !== Icmp4Check.OK);
      assert.equal(typeof formatIcmp4Header(bytes, offset, length), 'string');
      assert.equal(typeof icmp4ErrorAllowed(bytes, offset, length), 'boolean');
      const written = emitIcmp4TimeExceeded(out, 0, 1, bytes, offset, length, 0, maxQuote);
      assert.ok(isIntegerIn(written, 0, 576 + 60));
      if (written > 0) assert.equal(icmp4Check(out, 20, written - 20), Icmp4Check.OK);
      const copy = bytes.slice();
      assert.equal(typeof icmp4EchoRequestToReply(copy, offset), 'boolean');
    }), { numRuns: 1000 });
  });
});
