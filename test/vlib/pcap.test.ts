// pcap files: what we write reads back the same, hand-built files in every byte order and
// resolution read correctly, bad bytes give a PcapError with the right code and nothing
// else, and — where tcpdump is installed — a real tool agrees with what we wrote.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { readPcap, readPcapFile, writePcapFile, PcapWriter, PcapError, LINKTYPE_ETHERNET } from '../../src/vlib/pcap.ts';
import { bytesOfLength } from '../arbitraries.ts';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vecnet-pcap-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));
let fileCounter = 0;
const tempFile = (name = 'capture') => path.join(directory, `${name}-${fileCounter++}.pcap`);

const isPcapError = (code: string) => (e: unknown) => e instanceof PcapError && e.code === code;

/** ts_sec is 32 bits: timestamps run to 2^32 s (in ns, as bigint). */
const timestampArbitrary = fc.bigInt({ min: 0n, max: 2n ** 32n * 1_000_000_000n - 1n });
// Lengths drawn explicitly, up to a jumbo frame (fast-check's default size keeps arrays short).
const packetArbitrary = fc.record({ data: bytesOfLength(0, 9018), timestampNs: timestampArbitrary });

test('round trip: packets written read back the same, in both timestamp resolutions', () => {
  fc.assert(
    fc.property(fc.array(packetArbitrary, { maxLength: 20, size: 'max' }), fc.boolean(), (packets, nanosecond) => {
      const file = tempFile();
      assert.equal(writePcapFile(file, packets, { nanosecond }), packets.length);
      const read = readPcapFile(file);
      assert.equal(read.linkType, LINKTYPE_ETHERNET);
      assert.equal(read.nanosecond, nanosecond);
      assert.equal(read.snapLength, 65535);
      assert.equal(read.bigEndian, false);
      assert.equal(read.packets.length, packets.length);
      for (let i = 0; i < packets.length; i++) {
        const expectedNs = nanosecond ? packets[i].timestampNs : (packets[i].timestampNs / 1000n) * 1000n;
        assert.equal(read.packets[i].timestampNs, expectedNs);
        assert.deepEqual(read.packets[i].data, packets[i].data);
        assert.equal(read.packets[i].originalLength, packets[i].data.length);
      }
    }),
    { numRuns: 100 },
  );
});

test('round trip through PcapWriter.write with number timestamps and offsets into a larger array', () => {
  fc.assert(
    fc.property(
      bytesOfLength(1, 9018),
      fc.array(fc.record({ start: fc.nat(), length: fc.nat(), ms: fc.integer({ min: 0, max: 9_000_000_000 }) }), { maxLength: 20, size: 'max' }),
      (pool, spans) => {
        const file = tempFile();
        const writer = PcapWriter.open(file, { nanosecond: true });
        const expected: { data: Uint8Array; ns: bigint }[] = [];
        for (const span of spans) {
          const offset = span.start % pool.length;
          const length = span.length % (pool.length - offset + 1);
          // Whole ms times up to 9e9 ms are below 2^53 in ns: exact as numbers.
          assert.equal(writer.write(pool, offset, length, span.ms * 1e6), true);
          expected.push({ data: pool.slice(offset, offset + length), ns: BigInt(span.ms) * 1_000_000n });
        }
        assert.equal(writer.count, spans.length);
        writer.close();
        const read = readPcapFile(file);
        assert.equal(read.packets.length, expected.length);
        read.packets.forEach((p, i) => {
          assert.deepEqual(p.data, expected[i].data);
          assert.equal(p.timestampNs, expected[i].ns);
        });
      },
    ),
    { numRuns: 50 },
  );
});

/** A two-record file built by hand, as a writer with the given byte order would lay it out. */
function handBuilt(littleEndian: boolean, nanosecond: boolean): Uint8Array {
  const records = [
    { seconds: 1_700_000_000, subseconds: nanosecond ? 123_456_789 : 123_456, data: [1, 2, 3, 4, 5, 6], original: 6 },
    { seconds: 1_700_000_001, subseconds: nanosecond ? 999_999_999 : 999_999, data: [0xaa, 0xbb], original: 1514 },
  ];
  const size = 24 + records.reduce((sum, r) => sum + 16 + r.data.length, 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, littleEndian);
  view.setUint16(4, 2, littleEndian);
  view.setUint16(6, 4, littleEndian);
  view.setInt32(8, 0, littleEndian);
  view.setUint32(12, 0, littleEndian);
  view.setUint32(16, 262144, littleEndian);
  view.setUint32(20, 1, littleEndian);
  let at = 24;
  for (const r of records) {
    view.setUint32(at, r.seconds, littleEndian);
    view.setUint32(at + 4, r.subseconds, littleEndian);
    view.setUint32(at + 8, r.data.length, littleEndian);
    view.setUint32(at + 12, r.original, littleEndian);
    bytes.set(r.data, at + 16);
    at += 16 + r.data.length;
  }
  return bytes;
}

for (const littleEndian of [true, false]) {
  for (const nanosecond of [false, true]) {
    test(`reads a hand-built ${littleEndian ? 'little' : 'big'}-endian ${nanosecond ? 'nanosecond' : 'microsecond'} file`, () => {
      const file = readPcap(handBuilt(littleEndian, nanosecond));
      assert.equal(file.bigEndian, !littleEndian);
      assert.equal(file.nanosecond, nanosecond);
      assert.equal(file.linkType, 1);
      assert.equal(file.snapLength, 262144);
      assert.equal(file.packets.length, 2);
      assert.equal(file.packets[0].timestampNs, nanosecond ? 1_700_000_000_123_456_789n : 1_700_000_000_123_456_000n);
      assert.equal(file.packets[1].timestampNs, nanosecond ? 1_700_000_001_999_999_999n : 1_700_000_001_999_999_000n);
      assert.deepEqual([...file.packets[0].data], [1, 2, 3, 4, 5, 6]);
      assert.deepEqual([...file.packets[1].data], [0xaa, 0xbb]);
      assert.equal(file.packets[0].originalLength, 6);
      assert.equal(file.packets[1].originalLength, 1514);
    });
  }
}

test('a file cut anywhere gives EPCAPTRUNC with the records read whole, or reads whole at a record boundary', () => {
  const bytes = handBuilt(true, false);
  const boundaries = new Map([[24, 0], [24 + 16 + 6, 1], [bytes.length, 2]]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const prefix = bytes.subarray(0, cut);
    const whole = boundaries.get(cut);
    if (whole !== undefined) {
      assert.equal(readPcap(prefix).packets.length, whole);
      continue;
    }
    assert.throws(() => readPcap(prefix), (e: unknown) => {
      assert.ok(e instanceof PcapError);
      assert.equal(e.code, 'EPCAPTRUNC');
      assert.match(e.message, /byte offset \d+/);
      const complete = cut < 24 ? 0 : cut < 46 ? 0 : 1;
      assert.equal(e.packetsRead, complete);
      if (cut >= 24) {
        assert.equal(e.partial?.packets.length, complete);
        assert.match(e.message, new RegExp(`\\(${complete} records read OK\\)`));
      }
      return true;
    });
  }
});

test('bad magic, pcapng, a wrong version and an absurd record length have their own codes', () => {
  const good = handBuilt(true, false);
  const withByte = (index: number, value: number) => {
    const copy = good.slice();
    copy[index] = value;
    return copy;
  };
  assert.throws(() => readPcap(withByte(0, 0x00)), (e: unknown) => isPcapError('EPCAPMAGIC')(e) && /magic 0xa1b2c300.*byte offset|byte offset 0/.test((e as Error).message));
  const pcapng = new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]);
  assert.throws(() => readPcap(pcapng), (e: unknown) => isPcapError('EPCAPMAGIC')(e) && /pcapng/.test((e as Error).message));
  assert.throws(() => readPcap(withByte(4, 3)), isPcapError('EPCAPVERSION'));
  // First record's incl_len (offset 24 + 8) set to 0x7f000006.
  assert.throws(() => readPcap(withByte(24 + 11, 0x7f)), (e: unknown) => {
    assert.ok(e instanceof PcapError);
    assert.equal(e.code, 'EPCAPCORRUPT');
    assert.equal(e.offset, 24);
    assert.match(e.message, /byte offset 24/);
    return true;
  });
});

test('random bytes never throw anything but PcapError', () => {
  const header = handBuilt(true, true).subarray(0, 24);
  fc.assert(
    // Past the 24-byte file header and a 16-byte record header, into a record's data.
    fc.property(bytesOfLength(0, 200, [24, 40]), fc.boolean(), (random, withHeader) => {
      const bytes = withHeader ? new Uint8Array([...header, ...random]) : random;
      try {
        readPcap(bytes);
      } catch (e) {
        assert.ok(e instanceof PcapError, `threw ${e}`);
        assert.ok(['EPCAPMAGIC', 'EPCAPTRUNC', 'EPCAPVERSION', 'EPCAPCORRUPT'].includes(e.code));
      }
    }),
    { numRuns: 2000 },
  );
});

test('snaplen truncates the captured bytes and orig_len keeps the wire length', () => {
  const file = tempFile();
  const writer = PcapWriter.open(file, { snapLength: 64 });
  const packet = Uint8Array.from({ length: 100 }, (_, i) => i);
  writer.write(packet, 0, 100, 5e9);
  writer.write(packet, 10, 30, 6e9);
  writer.close();
  const read = readPcapFile(file);
  assert.equal(read.snapLength, 64);
  assert.equal(read.packets[0].data.length, 64);
  assert.deepEqual(read.packets[0].data, packet.subarray(0, 64));
  assert.equal(read.packets[0].originalLength, 100);
  assert.equal(read.packets[0].timestampNs, 5_000_000_000n);
  assert.deepEqual(read.packets[1].data, packet.subarray(10, 40));
  assert.equal(read.packets[1].originalLength, 30);
});

test('the writer buffers until flush, which puts every packet so far on disk', () => {
  const file = tempFile();
  const writer = PcapWriter.open(file, { maxPackets: 3 });
  assert.equal(readPcapFile(file).packets.length, 0, 'the file header is there at once');
  const packet = new Uint8Array(60).fill(7);
  assert.equal(writer.write(packet, 0, 60), true);
  assert.equal(writer.write(packet, 0, 60), true);
  assert.equal(fs.statSync(file).size, 24, 'nothing written per packet');
  writer.flush();
  assert.equal(readPcapFile(file).packets.length, 2);
  assert.equal(writer.write(packet, 0, 60), true);
  assert.equal(writer.write(packet, 0, 60), false, 'maxPackets reached');
  assert.equal(writer.count, 3);
  writer.flush();
  const read = readPcapFile(file);
  assert.equal(read.packets.length, 3);
  // Default timestamps come from the wall clock.
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  for (const p of read.packets) assert.ok(p.timestampNs > nowNs - 60_000_000_000n && p.timestampNs <= nowNs + 1_000_000_000n);
  writer.close();
  writer.close();
  assert.throws(() => writer.write(packet, 0, 60, 0), isPcapError('EBADF'));
});

test('a busy writer flushes by itself once flushBytes are buffered, and grows for big records', () => {
  const file = tempFile();
  const writer = PcapWriter.open(file, { flushBytes: 4096 });
  const big = new Uint8Array(200_000).fill(1);
  const small = new Uint8Array(1000).fill(2);
  writer.write(big, 0, big.length, 1e9); // larger than the initial buffer: snapped to 65535
  for (let i = 0; i < 100; i++) writer.write(small, 0, small.length, 2e9 + i);
  assert.ok(fs.statSync(file).size > 24 + 65535, 'flushed without being asked');
  writer.close();
  const read = readPcapFile(file);
  assert.equal(read.packets.length, 101);
  assert.equal(read.packets[0].data.length, 65535);
  assert.equal(read.packets[0].originalLength, 200_000);
  assert.ok(read.packets.slice(1).every((p) => p.data.length === 1000 && p.data[999] === 2));
});

test('bad writer options and spans are EINVAL', () => {
  assert.throws(() => PcapWriter.open(tempFile(), { snapLength: 0 }), isPcapError('EINVAL'));
  assert.throws(() => PcapWriter.open(tempFile(), { maxPackets: -1 }), isPcapError('EINVAL'));
  const writer = PcapWriter.open(tempFile());
  const bytes = new Uint8Array(10);
  assert.throws(() => writer.write(bytes, 5, 6, 0), isPcapError('EINVAL'));
  assert.throws(() => writer.write(bytes, -1, 2, 0), isPcapError('EINVAL'));
  assert.throws(() => writer.write(bytes, 0, 2, -5e9), isPcapError('EINVAL'));
  assert.throws(() => writer.write(bytes, 0, 2, 2 ** 32 * 1e9), isPcapError('EINVAL'));
  assert.equal(writer.count, 0);
  writer.close();
});

// ---- tcpdump reads what we write ----

/** RFC 1071 Internet checksum of an even number of bytes. */
function internetChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i] << 8) | header[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Ethernet / IPv4 192.0.2.1 → 198.51.100.2 / UDP 40000 → 40001 / "hello vecnet", checksums right. */
function udpFrame(): Uint8Array {
  const payload = new TextEncoder().encode('hello vecnet');
  const frame = new Uint8Array(14 + 20 + 8 + payload.length);
  const view = new DataView(frame.buffer);
  frame.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], 0);
  view.setUint16(12, 0x0800);
  const ip = frame.subarray(14, 34);
  ip.set([0x45, 0x00]);
  view.setUint16(16, 20 + 8 + payload.length);
  view.setUint16(18, 1); // identification
  view.setUint16(20, 0x4000); // DF
  frame[22] = 64; // ttl
  frame[23] = 17; // UDP
  frame.set([192, 0, 2, 1, 198, 51, 100, 2], 26);
  view.setUint16(24, internetChecksum(ip));
  view.setUint16(34, 40000);
  view.setUint16(36, 40001);
  view.setUint16(38, 8 + payload.length);
  frame.set(payload, 42);
  // UDP checksum over the pseudo-header (RFC 768): addresses, protocol, UDP length, then UDP.
  // Padded to an even length with a zero byte.
  const pseudo = new Uint8Array(12 + ((8 + payload.length + 1) & ~1));
  pseudo.set(frame.subarray(26, 34), 0);
  pseudo[9] = 17;
  new DataView(pseudo.buffer).setUint16(10, 8 + payload.length);
  pseudo.set(frame.subarray(34), 12);
  const udpChecksum = internetChecksum(pseudo);
  view.setUint16(40, udpChecksum === 0 ? 0xffff : udpChecksum);
  return frame;
}

const tcpdumpInstalled = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).error === undefined;

test('tcpdump reads a written Ethernet/IPv4/UDP frame', (t) => {
  if (!tcpdumpInstalled) {
    t.skip('tcpdump not installed');
    return;
  }
  const file = tempFile('tcpdump');
  const frame = udpFrame();
  const writer = PcapWriter.open(file);
  writer.write(frame, 0, frame.length, 1_700_000_000_123_456_000);
  writer.close();
  const result = spawnSync('tcpdump', ['-r', file, '-nn', '-tt', '-vv'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /link-type EN10MB \(Ethernet\), snapshot length 65535/);
  assert.match(result.stdout, /^1700000000\.123456 IP \(tos 0x0, ttl 64, id 1, offset 0, flags \[DF\], proto UDP \(17\), length 40\)/);
  assert.match(result.stdout, /192\.0\.2\.1\.40000 > 198\.51\.100\.2\.40001: \[udp sum ok\] UDP, length 12/);
  assert.doesNotMatch(result.stdout, /bad/);
});

test('tcpdump reads a nanosecond file at nanosecond precision', (t) => {
  if (!tcpdumpInstalled) {
    t.skip('tcpdump not installed');
    return;
  }
  const file = tempFile('tcpdump-ns');
  const frame = udpFrame();
  writePcapFile(file, [{ data: frame, timestampNs: 1_700_000_000_123_456_789n }], { nanosecond: true });
  const result = spawnSync('tcpdump', ['-r', file, '-nn', '-tt', '--time-stamp-precision', 'nano'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^1700000000\.123456789 IP 192\.0\.2\.1\.40000 > 198\.51\.100\.2\.40001: UDP, length 12/);
});
