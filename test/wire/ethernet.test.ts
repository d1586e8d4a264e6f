import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  copyMac, emitEthernetHeader, ETHERNET_HEADER_LENGTH, EthernetCheck, ethernetDstIsBroadcast, ethernetDstIsGroup,
  ethernetHeaderCheck, EtherType, ethernetType, formatEtherType, formatEthernet, macEquals, parseEthernetHeader,
  setEthernetDst, setEthernetSrc, setEthernetType, type EthernetHeader,
} from '../../src/wire/ethernet.ts';
import { fromHex, isIntegerIn, mac, randomSlice, record, toHex, u16 } from './helpers.ts';

// The first 14 bytes of the frame in VPP's show trace sample: pg0 receives from 02:00:00:00:00:10.
const SAMPLE = fromHex('02fe00000000 020000000010 0800');

const header = record({ dst: mac, src: mac, type: u16 });

describe('ethernet', () => {
  it('reads the sample frame', () => {
    assert.equal(ethernetType(SAMPLE, 0), EtherType.IP4);
    assert.equal(ethernetDstIsBroadcast(SAMPLE, 0), false);
    assert.equal(ethernetDstIsGroup(SAMPLE, 0), false);
    assert.deepEqual(parseEthernetHeader(SAMPLE, 0, 14), {
      dst: fromHex('02fe00000000'), src: fromHex('020000000010'), type: 0x0800,
    });
    assert.equal(formatEthernet(SAMPLE, 0), 'IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00');
  });

  it('names IP4 and ARP and prints other types as hex', () => {
    assert.equal(formatEtherType(0x0806), 'ARP');
    assert.equal(formatEtherType(0x86dd), '0x86dd');
    assert.equal(formatEtherType(0x0042), '0x0042');
  });

  it('sees broadcast and group addresses', () => {
    const frame = fromHex('ffffffffffff 020000000001 0806');
    assert.equal(ethernetDstIsBroadcast(frame, 0), true);
    assert.equal(ethernetDstIsGroup(frame, 0), true);
    assert.equal(ethernetDstIsGroup(fromHex('01005e000001'), 0), true);
    assert.equal(ethernetDstIsBroadcast(fromHex('01005e000001'), 0), false);
    assert.equal(formatEthernet(frame, 0), 'ARP: 02:00:00:00:00:01 -> ff:ff:ff:ff:ff:ff');
  });

  it('constructs a header with the setters', () => {
    const bytes = new Uint8Array(20);
    setEthernetDst(bytes, 2, fromHex('02fe00000001'));
    setEthernetSrc(bytes, 2, fromHex('aabbccddeeff'));
    setEthernetType(bytes, 2, EtherType.ARP);
    assert.equal(toHex(bytes.subarray(2, 16)), '02fe00000001aabbccddeeff0806');
    assert.equal(macEquals(bytes, 8, fromHex('aabbccddeeff')), true);
    assert.equal(macEquals(bytes, 8, fromHex('aabbccddeefe')), false);
    const copy = new Uint8Array(6);
    copyMac(copy, 0, bytes, 2);
    assert.equal(toHex(copy), '02fe00000001');
  });

  it('rejects what does not fit', () => {
    assert.equal(ethernetHeaderCheck(SAMPLE, 0, 13), EthernetCheck.TOO_SHORT);
    assert.equal(ethernetHeaderCheck(SAMPLE, 1, 14), EthernetCheck.TOO_SHORT);
    assert.equal(ethernetHeaderCheck(SAMPLE, 0, 14), EthernetCheck.OK);
    assert.equal(parseEthernetHeader(SAMPLE, 0, 13), null);
    assert.equal(formatEthernet(SAMPLE, 0, 10), 'ethernet header truncated');
  });

  it('emits what it parsed: parse(emit(h)) = h and emit(parse(x)) = x', () => {
    fc.assert(fc.property(header, fc.nat({ max: 16 }), (h: EthernetHeader, at) => {
      const bytes = new Uint8Array(at + 20);
      assert.equal(emitEthernetHeader(h, bytes, at), ETHERNET_HEADER_LENGTH);
      const parsed = parseEthernetHeader(bytes, at, 14);
      assert.deepEqual(parsed, h);
      const again = new Uint8Array(at + 20);
      emitEthernetHeader(parsed!, again, at);
      assert.deepEqual(again, bytes);
    }));
  });

  it('random bytes never make an accessor, check, parser or formatter throw', () => {
    fc.assert(fc.property(randomSlice, ([bytes, offset, length]) => {
      assert.ok(isIntegerIn(ethernetType(bytes, offset), 0, 0xffff));
      assert.equal(typeof ethernetDstIsBroadcast(bytes, offset), 'boolean');
      assert.equal(typeof ethernetDstIsGroup(bytes, offset), 'boolean');
      const check = ethernetHeaderCheck(bytes, offset, length);
      const parsed = parseEthernetHeader(bytes, offset, length);
      assert.equal(parsed === null, check !== EthernetCheck.OK);
      assert.equal(typeof formatEthernet(bytes, offset, length), 'string');
      assert.equal(typeof formatEthernet(bytes, offset), 'string');
    }), { numRuns: 500 });
  });
});
