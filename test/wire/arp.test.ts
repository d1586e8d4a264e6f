import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ARP_IP4_OVER_ETHERNET_LENGTH, ArpCheck, arpHardwareLength, arpHardwareType, arpHeaderCheck, ArpOp, arpOp,
  arpProtocolLength, arpProtocolType, arpSpa, arpTpa, emitArpPacket, formatArp, parseArpPacket, setArpOp,
  setArpSha, setArpSpa, setArpTha, setArpTpa, type ArpPacket,
} from '../../src/wire/arp.ts';
import { parseIp4 } from '../../src/wire/address.ts';
import { fromHex, isIntegerIn, mac, randomSlice, record, toHex, u32 } from './helpers.ts';

// An ARP request as Linux sends it: who has 10.0.0.2? tell 10.0.0.1 (02:fe:00:00:00:00).
const REQUEST = fromHex('0001 0800 06 04 0001 02fe00000000 0a000001 000000000000 0a000002');

const packet = record<ArpPacket>({ op: fc.constantFrom(ArpOp.REQUEST, ArpOp.REPLY), sha: mac, spa: u32, tha: mac, tpa: u32 });

describe('arp', () => {
  it('reads a real request', () => {
    assert.equal(arpHeaderCheck(REQUEST, 0, 28), ArpCheck.OK);
    assert.equal(arpHardwareType(REQUEST, 0), 1);
    assert.equal(arpProtocolType(REQUEST, 0), 0x0800);
    assert.equal(arpHardwareLength(REQUEST, 0), 6);
    assert.equal(arpProtocolLength(REQUEST, 0), 4);
    assert.equal(arpOp(REQUEST, 0), ArpOp.REQUEST);
    assert.equal(arpSpa(REQUEST, 0), parseIp4('10.0.0.1'));
    assert.equal(arpTpa(REQUEST, 0), parseIp4('10.0.0.2'));
    assert.deepEqual(parseArpPacket(REQUEST, 0, 28), {
      op: 1, sha: fromHex('02fe00000000'), spa: 0x0a000001, tha: fromHex('000000000000'), tpa: 0x0a000002,
    });
  });

  it('formats as VPP does', () => {
    assert.equal(formatArp(REQUEST, 0),
      'request, type ethernet/IP4, address size 6/4\n  02:fe:00:00:00:00: 10.0.0.1 -> 00:00:00:00:00:00: 10.0.0.2');
    const other = fromHex('0006 86dd 02 01 0009 aabb 01 ccdd 02');
    assert.equal(formatArp(other, 0), 'unknown 0x9, type unknown 0x6/0x86dd, address size 2/1\n  aabb: 01 -> ccdd: 02');
    assert.equal(formatArp(REQUEST, 0, 20), 'request, type ethernet/IP4, address size 6/4\n  ARP addresses truncated');
    assert.equal(formatArp(REQUEST, 0, 7), 'ARP header truncated');
  });

  it('turns the request into the reply in place with the setters', () => {
    const reply = REQUEST.slice();
    const ours = fromHex('02fe00000001');
    setArpOp(reply, 0, ArpOp.REPLY);
    setArpTha(reply, 0, reply.subarray(8, 14));
    setArpTpa(reply, 0, arpSpa(REQUEST, 0));
    setArpSha(reply, 0, ours);
    setArpSpa(reply, 0, arpTpa(REQUEST, 0));
    assert.equal(toHex(reply), '0001080006040002' + '02fe00000001' + '0a000002' + '02fe00000000' + '0a000001');
  });

  it('rejects each kind of bad packet with its own code', () => {
    const bad = (at: number, value: number) => {
      const bytes = REQUEST.slice();
      bytes[at] = value;
      return arpHeaderCheck(bytes, 0, 28);
    };
    assert.equal(arpHeaderCheck(REQUEST, 0, 27), ArpCheck.TOO_SHORT);
    assert.equal(arpHeaderCheck(REQUEST, 2, 28), ArpCheck.TOO_SHORT);
    assert.equal(bad(1, 6), ArpCheck.NOT_ETHERNET);
    assert.equal(bad(2, 0x86), ArpCheck.NOT_IP4);
    assert.equal(bad(4, 8), ArpCheck.BAD_ADDRESS_LENGTH);
    assert.equal(bad(5, 16), ArpCheck.BAD_ADDRESS_LENGTH);
    assert.equal(bad(7, 3), ArpCheck.BAD_OP);
    assert.equal(parseArpPacket(REQUEST, 0, 27), null);
  });

  it('round-trips: parse(emit(p)) = p and emit(parse(x)) = x', () => {
    fc.assert(fc.property(packet, fc.nat({ max: 8 }), (p, at) => {
      const bytes = new Uint8Array(at + 28);
      assert.equal(emitArpPacket(p, bytes, at), ARP_IP4_OVER_ETHERNET_LENGTH);
      const parsed = parseArpPacket(bytes, at, 28);
      assert.deepEqual(parsed, p);
      const again = new Uint8Array(at + 28);
      emitArpPacket(parsed!, again, at);
      assert.deepEqual(again, bytes);
    }));
  });

  it('random bytes never make an accessor, check, parser or formatter throw', () => {
    fc.assert(fc.property(randomSlice, ([bytes, offset, length]) => {
      for (const read of [arpHardwareType, arpProtocolType, arpOp]) assert.ok(isIntegerIn(read(bytes, offset), 0, 0xffff));
      assert.ok(isIntegerIn(arpSpa(bytes, offset), 0, 0xffffffff));
      assert.ok(isIntegerIn(arpTpa(bytes, offset), 0, 0xffffffff));
      assert.ok(isIntegerIn(arpHardwareLength(bytes, offset), 0, 255));
      const check = arpHeaderCheck(bytes, offset, length);
      assert.equal(parseArpPacket(bytes, offset, length) === null, check !== ArpCheck.OK);
      assert.equal(typeof formatArp(bytes, offset, length), 'string');
      assert.equal(typeof formatArp(bytes, offset), 'string');
    }), { numRuns: 500 });
  });
});
