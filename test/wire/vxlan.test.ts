import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emitVxlanHeader, formatVxlanHeader, parseVxlanHeader, setVxlanFlags, setVxlanVni, VXLAN_HEADER_LENGTH, VXLAN_UDP_PORT,
  VxlanCheck, VxlanFlags, vxlanFlags, vxlanHeaderCheck, vxlanSourcePort, vxlanVni, type VxlanHeader,
} from '../../src/wire/vxlan.ts';
import { fromHex, isIntegerIn, randomSlice, record, toHex, u32 } from './helpers.ts';

// RFC 7348 §5 header for VNI 13 (as a Linux vxlan device with id 13 sends it).
const VNI_13 = fromHex('08000000 00000d00');

describe('vxlan', () => {
  it('reads a real header', () => {
    assert.equal(vxlanFlags(VNI_13, 0), VxlanFlags.I);
    assert.equal(vxlanVni(VNI_13, 0), 13);
    assert.equal(vxlanHeaderCheck(VNI_13, 0, 8), VxlanCheck.OK);
    assert.deepEqual(parseVxlanHeader(VNI_13, 0, 8), { vni: 13 });
    assert.equal(formatVxlanHeader(VNI_13, 0), 'VXLAN: flags 0x08 vni 13');
    assert.equal(VXLAN_UDP_PORT, 4789);
  });

  it('ignores reserved bits on receipt, writes them as zero', () => {
    const noisy = fromHex('ffffffff abcdefff');
    assert.equal(vxlanVni(noisy, 0), 0xabcdef);
    assert.deepEqual(parseVxlanHeader(noisy, 0, 8), { vni: 0xabcdef });
    const out = new Uint8Array(8).fill(0xff);
    assert.equal(emitVxlanHeader({ vni: 0xabcdef }, out, 0), VXLAN_HEADER_LENGTH);
    assert.equal(toHex(out), '08000000abcdef00');
    setVxlanVni(out, 0, 0x123456);
    setVxlanFlags(out, 0, 0);
    assert.equal(toHex(out), '0000000012345600');
  });

  it('names what it rejects', () => {
    assert.equal(vxlanHeaderCheck(VNI_13, 0, 7), VxlanCheck.TOO_SHORT);
    assert.equal(vxlanHeaderCheck(VNI_13, 1, 8), VxlanCheck.TOO_SHORT);
    assert.equal(vxlanHeaderCheck(fromHex('00000000 00000d00'), 0, 8), VxlanCheck.NO_VNI);
    assert.equal(parseVxlanHeader(fromHex('00000000 00000d00'), 0, 8), null);
    assert.equal(formatVxlanHeader(VNI_13, 0, 7), 'VXLAN header truncated');
  });

  it('round-trips: parse(emit(h)) = h and emit(parse(x)) = x', () => {
    fc.assert(fc.property(record<VxlanHeader>({ vni: fc.integer({ min: 0, max: 0xffffff }) }), fc.nat({ max: 4 }), (h, at) => {
      const bytes = new Uint8Array(at + 8);
      emitVxlanHeader(h, bytes, at);
      const parsed = parseVxlanHeader(bytes, at, 8);
      assert.deepEqual(parsed, h);
      const again = new Uint8Array(at + 8);
      emitVxlanHeader(parsed!, again, at);
      assert.deepEqual(again, bytes);
    }));
  });

  it('draws source ports from the dynamic range, spread by the flow hash', () => {
    fc.assert(fc.property(u32, (hash) => assert.ok(isIntegerIn(vxlanSourcePort(hash), 49152, 65535))));
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(vxlanSourcePort(Math.imul(i, 0x9e3779b1) >>> 0));
    assert.ok(seen.size > 900, `${seen.size} distinct ports`);
  });

  it('random bytes never make an accessor, check, parser or formatter throw', () => {
    fc.assert(fc.property(randomSlice, ([bytes, offset, length]) => {
      assert.ok(isIntegerIn(vxlanFlags(bytes, offset), 0, 255));
      assert.ok(isIntegerIn(vxlanVni(bytes, offset), 0, 0xffffff));
      const check = vxlanHeaderCheck(bytes, offset, length);
      assert.equal(parseVxlanHeader(bytes, offset, length) === null, check !== VxlanCheck.OK);
      assert.equal(typeof formatVxlanHeader(bytes, offset, length), 'string');
    }), { numRuns: 500 });
  });
});
