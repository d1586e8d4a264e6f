import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatEthernetFrame, formatIp4Packet } from '../../src/wire/format.ts';
import { emitEthernetHeader } from '../../src/wire/ethernet.ts';
import { emitIp4Header } from '../../src/wire/ip4.ts';
import { emitUdpHeader, fillUdp4Checksum } from '../../src/wire/udp.ts';
import { emitVxlanHeader } from '../../src/wire/vxlan.ts';
import { fromHex } from './helpers.ts';
import { bytesOfLength } from '../arbitraries.ts';

// The 64-byte frame of VPP's show trace sample, as pg-input received it.
const SAMPLE_FRAME = fromHex('02fe00000000 020000000010 0800'
  + '4500 0032 0000 0000 4011 3faf 0a0a 0102 3000 0001'
  + '04d2 162e 001e 3b2c 000102030405060708090a0b0c0d0e0f101112131415');

describe('whole-packet trace text', () => {
  it('prints the sample frame as VPP printed it in pg-input', () => {
    assert.equal(formatEthernetFrame(SAMPLE_FRAME, 0), [
      'IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00',
      'UDP: 10.10.1.2 -> 48.0.0.1',
      '  tos 0x00, ttl 64, length 50, checksum 0x3faf dscp CS0 ecn NON_ECN',
      '  fragment id 0x0000',
      'UDP: 1234 -> 5678',
      '  length 30, checksum 0x3b2c',
    ].join('\n'));
  });

  it('prints ARP and ICMP frames', () => {
    const arp = fromHex('ffffffffffff 02fe00000000 0806 0001 0800 06 04 0001 02fe00000000 0a000001 000000000000 0a000002');
    assert.equal(formatEthernetFrame(arp, 0), 'ARP: 02:fe:00:00:00:00 -> ff:ff:ff:ff:ff:ff\n'
      + 'request, type ethernet/IP4, address size 6/4\n  02:fe:00:00:00:00: 10.0.0.1 -> 00:00:00:00:00:00: 10.0.0.2');
    const ping = new Uint8Array(48);
    emitIp4Header({ dscp: 0, ecn: 0, totalLength: 48, identification: 0x1c46, flags: 2, fragmentOffset: 0, ttl: 64,
      protocol: 1, src: 0x0a000001, dst: 0x0a000002, options: new Uint8Array(0) }, ping, 0);
    ping.set(fromHex('0800 4d5a 0001 0001 6162636465666768696a6b6c6d6e6f7071727374757677616263646566676869').subarray(0, 28), 20);
    assert.match(formatIp4Packet(ping, 0), /^ICMP: 10\.0\.0\.1 -> 10\.0\.0\.2\n.*\n  fragment id 0x1c46 offset 0, flags DONT_FRAGMENT\nICMP echo_request checksum 0x4d5a id 1 seq 1$/);
  });

  it('follows UDP 4789 into VXLAN and the inner frame', () => {
    const frame = new Uint8Array(14 + 20 + 8 + 8 + SAMPLE_FRAME.length);
    emitEthernetHeader({ dst: fromHex('020000000002'), src: fromHex('02fe00000001'), type: 0x0800 }, frame, 0);
    emitIp4Header({ dscp: 0, ecn: 0, totalLength: frame.length - 14, identification: 0, flags: 0, fragmentOffset: 0, ttl: 64,
      protocol: 17, src: 0xc0a80001, dst: 0xc0a80002, options: new Uint8Array(0) }, frame, 14);
    emitUdpHeader({ srcPort: 49999, dstPort: 4789, length: frame.length - 34, checksum: 0 }, frame, 34);
    emitVxlanHeader({ vni: 13 }, frame, 42);
    frame.set(SAMPLE_FRAME, 50);
    fillUdp4Checksum(frame, 34, frame.length - 34, 0xc0a80001, 0xc0a80002);
    const lines = formatEthernetFrame(frame, 0).split('\n');
    assert.equal(lines[0], 'IP4: 02:fe:00:00:00:01 -> 02:00:00:00:00:02');
    assert.equal(lines[1], 'UDP: 192.168.0.1 -> 192.168.0.2');
    assert.equal(lines[4], 'UDP: 49999 -> 4789');
    assert.equal(lines[6], 'VXLAN: flags 0x08 vni 13');
    assert.equal(lines.slice(7).join('\n'), formatEthernetFrame(SAMPLE_FRAME, 0));
  });

  it('stops at what is there: truncated frames and non-initial fragments', () => {
    assert.equal(formatEthernetFrame(SAMPLE_FRAME, 0, 10), 'ethernet header truncated');
    assert.equal(formatEthernetFrame(SAMPLE_FRAME, 0, 14), 'IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00');
    assert.equal(formatEthernetFrame(SAMPLE_FRAME, 0, 30), 'IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00\nIP header truncated');
    assert.match(formatEthernetFrame(SAMPLE_FRAME, 0, 38), /\nUDP header truncated$/);
    const fragment = SAMPLE_FRAME.slice();
    fragment[21] = 0x10; // fragment offset 16 * 8 bytes: no UDP header here
    assert.doesNotMatch(formatEthernetFrame(fragment, 0), /UDP: 1234/);
  });

  it('random frames never throw', () => {
    fc.assert(fc.property(bytesOfLength(0, 200, [14, 34, 42]), fc.integer({ min: -2, max: 210 }), fc.boolean(), fc.nat({ max: 3 }),
      (bytes, length, forceIp4, kind) => {
        if (forceIp4 && bytes.length > 34) {
          bytes[12] = kind === 0 ? 0x08 : kind === 1 ? 0x08 : bytes[12];
          bytes[13] = kind === 1 ? 0x06 : 0x00;
          bytes[14] = 0x45;
          bytes[23] = [17, 6, 1, 17][kind];
          if (kind === 3) { bytes[36] = 0x12; bytes[37] = 0xb5; }
        }
        assert.equal(typeof formatEthernetFrame(bytes, 0, length), 'string');
        assert.equal(typeof formatEthernetFrame(bytes, 0), 'string');
        assert.equal(typeof formatIp4Packet(bytes, 14), 'string');
      }), { numRuns: 2000 });
  });
});
