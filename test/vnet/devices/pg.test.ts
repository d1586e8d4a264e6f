// The packet generator, VPP's way of testing: packets in from a pcap on one pg interface,
// forwarded, captured to a pcap on the other, asserted field by field; and the device
// itself: interfaces, streams from pcap files and from the stream syntax, limits, capture
// counts, files flushed while the engine runs, tcpdump reading what we write.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../../src/index.ts';
import { CliInput } from '../../../src/vlib/cli-input.ts';
import { readPcapFile, writePcapFile } from '../../../src/vlib/pcap.ts';
import { buildPgPackets, parsePgData } from '../../../src/vnet/devices/pg-edit.ts';
import { formatIp4, formatMac } from '../../../src/wire/address.ts';
import { ethernetType } from '../../../src/wire/ethernet.ts';
import { ip4Dst, ip4HeaderChecksumIsValid, ip4Src, ip4TotalLength, ip4Ttl } from '../../../src/wire/ip4.ts';
import { udp4ChecksumIsValid, udpDstPort, udpLength, udpSrcPort } from '../../../src/wire/udp.ts';
import { tcp4ChecksumIsValid } from '../../../src/wire/tcp.ts';
import { icmp4Check, Icmp4Check } from '../../../src/wire/icmp4.ts';
import { pgFrames } from '../../nodes/l2-helpers.ts';

function tempDir(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-pg-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** pg0 10.10.1.1/24 ← sender, pg1 10.10.2.1/24 → 10.10.2.2 (static), 48.0.0.0/8 via it. */
function router(): Engine {
  const vm = createEngine();
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'set interface state pg0 up',
    'set interface state pg1 up',
    'set interface ip address pg0 10.10.1.1/24',
    'set interface ip address pg1 10.10.2.1/24',
    'set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02 static',
    'ip route add 48.0.0.0/8 via 10.10.2.2 pg1',
  ]) vm.cli(line);
  return vm;
}

test('pg: pcap in on pg0, forwarded, pcap out on pg1: MACs rewritten, TTL down by one, checksums valid', () => {
  const { dir, done } = tempDir();
  try {
    const vm = router();
    const input = pgFrames('IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.10.1.2 -> 48.0.0.1 - 48.0.0.5 ttl 17 UDP: 1234 -> 5678 incrementing 22', 64, 68);
    assert.equal(input.length, 5);
    writePcapFile(join(dir, 'in.pcap'), input.map((data) => ({ data })));
    vm.cli(`packet-generator new pcap ${join(dir, 'in.pcap')} source pg0 name fwd`);
    vm.cli(`packet-generator capture pg1 pcap ${join(dir, 'out.pcap')}`);
    vm.cli('packet-generator enable-stream fwd');
    vm.runUntilIdle();
    const out = readPcapFile(join(dir, 'out.pcap')).packets;
    assert.equal(out.length, 5, 'a pcap stream plays its file once');
    out.forEach((p, i) => {
      const d = p.data;
      assert.equal(d.length, input[i].length);
      assert.equal(formatMac(d, 0), '02:00:00:00:00:02', 'to the next hop');
      assert.equal(formatMac(d, 6), '02:fe:00:00:00:01', "from pg1's MAC");
      assert.equal(ethernetType(d, 0), 0x0800);
      assert.equal(ip4Ttl(d, 14), 16);
      assert.ok(ip4HeaderChecksumIsValid(d, 14), 'header checksum still valid');
      assert.equal(formatIp4(ip4Src(d, 14)), '10.10.1.2');
      assert.equal(formatIp4(ip4Dst(d, 14)), `48.0.0.${i + 1}`);
      assert.equal(ip4TotalLength(d, 14), d.length - 14);
      assert.equal(udpSrcPort(d, 34), 1234);
      assert.equal(udpDstPort(d, 34), 5678);
      assert.ok(udp4ChecksumIsValid(d, 34, udpLength(d, 34), ip4Src(d, 14), ip4Dst(d, 14)));
      assert.deepEqual(d.subarray(34), input[i].subarray(34), 'the datagram itself is untouched');
    });
    const counters = vm.cli('show interface');
    assert.match(counters, /^pg0 .*rx packets\s+5$/m);
    assert.match(counters, /^pg1 .*tx packets\s+5$/m);
  } finally {
    done();
  }
});

test('pg: a stream sent straight to pg1-output comes out of the capture byte for byte; tcpdump reads it', () => {
  const { dir, done } = tempDir();
  try {
    const vm = router();
    const input = pgFrames('IP4: 02:00:00:00:00:10 -> 02:00:00:00:00:02 TCP: 10.0.0.1 -> 10.0.0.2 TCP: 1000 -> 80 SYN', 60, 60)
      .concat(pgFrames('IP4: 02:00:00:00:00:10 -> 02:00:00:00:00:02 ICMP: 10.0.0.1 -> 10.0.0.2 ICMP echo_request id 7 seq 3 incrementing 56'));
    writePcapFile(join(dir, 'in.pcap'), input.map((data) => ({ data })));
    vm.cli(`packet-generator new pcap ${join(dir, 'in.pcap')} name direct node pg1-output limit 6`);
    vm.cli(`packet-generator capture pg1 pcap ${join(dir, 'out.pcap')}`);
    vm.cli('packet-generator enable');
    vm.runUntilIdle();
    const out = readPcapFile(join(dir, 'out.pcap')).packets.map((p) => p.data);
    assert.equal(out.length, 6, 'a limit beyond the file cycles through it');
    out.forEach((d, i) => assert.deepEqual(d, input[i % 2]));
    assert.ok(tcp4ChecksumIsValid(out[0], 34, out[0].length - 34, ip4Src(out[0], 14), ip4Dst(out[0], 14)));
    assert.equal(icmp4Check(out[1], 34, out[1].length - 34), Icmp4Check.OK);
    let text: string;
    try {
      text = execFileSync('tcpdump', ['-nr', join(dir, 'out.pcap')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') {
        console.log('# tcpdump is not installed: skipping the tcpdump check');
        return;
      }
      throw error;
    }
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 6);
    assert.match(lines[0], /IP 10\.0\.0\.1\.1000 > 10\.0\.0\.2\.80: Flags \[S\]/);
    assert.match(lines[1], /IP 10\.0\.0\.1 > 10\.0\.0\.2: ICMP echo request, id 7, seq 3, length 64/);
  } finally {
    done();
  }
});

test('pg: capture count stops the file after n packets; disable closes it; capture files are flushed while the engine runs', async () => {
  const { dir, done } = tempDir();
  try {
    const vm = router();
    vm.cli('packet-generator new { name s limit 50 node pg1-output data { IP4: 02:00:00:00:00:10 -> 02:00:00:00:00:02 UDP: 10.0.0.1 -> 10.0.0.2 UDP: 1 -> 2 incrementing 10 } }');
    vm.cli(`packet-generator capture pg1 pcap ${join(dir, 'ten.pcap')} count 10`);
    vm.cli('packet-generator enable');
    vm.runUntilIdle();
    assert.equal(readPcapFile(join(dir, 'ten.pcap')).packets.length, 10);
    assert.deepEqual(vm.vnet.pg.captureOf(vm.vnet.interfaces.find('pg1')), { path: join(dir, 'ten.pcap'), count: 10, captured: 10, closed: true });

    // Running engine, no count: the file holds what was sent whenever the engine goes idle.
    vm.cli(`packet-generator capture pg1 pcap ${join(dir, 'live.pcap')}`);
    vm.cli('packet-generator new { name slow rate 100 node pg1-output data { IP4: 02:00:00:00:00:10 -> 02:00:00:00:00:02 UDP: 10.0.0.1 -> 10.0.0.2 UDP: 1 -> 2 incrementing 10 } }');
    vm.cli('packet-generator enable-stream slow');
    vm.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = vm.node('pg1-tx')!.vectors - 50;
    const onDisk = readPcapFile(join(dir, 'live.pcap')).packets.length;
    vm.stop();
    assert.ok(onDisk > 0, 'packets reach the file while the engine runs');
    assert.ok(sent - onDisk <= 8, `file ${onDisk} packets behind ${sent} sent by at most a frame`);
    vm.cli('packet-generator capture pg1 disable');
    assert.equal(readPcapFile(join(dir, 'live.pcap')).packets.length, vm.node('pg1-tx')!.vectors - 50);
  } finally {
    done();
  }
});

test('pg: a bad pcap file is one clear error and changes nothing', () => {
  const { dir, done } = tempDir();
  try {
    const vm = createEngine();
    writeFileSync(join(dir, 'junk.pcap'), 'this is not a pcap file at all');
    writeFileSync(join(dir, 'empty.pcap'), new Uint8Array(0));
    const interfaces = vm.cli('show interface');
    for (const [file, message] of [
      ['missing.pcap', /^packet-generator new: cannot read pcap file .*missing\.pcap: no such file$/],
      ['junk.pcap', /^packet-generator new: pcap file .*junk\.pcap: .*/],
      ['empty.pcap', /^packet-generator new: pcap file .*empty\.pcap: pcap truncated at byte offset 0/],
    ] as const) {
      assert.throws(() => vm.cli(`packet-generator new pcap ${join(dir, file)} source pg3 name s`), (error: Error) => {
        assert.match(error.message, message);
        assert.equal(error.message.split('\n').length, 1);
        return true;
      });
    }
    assert.equal(vm.cli('show interface'), interfaces, 'pg3 was not created');
    assert.equal(vm.cli('show packet-generator'), 'no streams currently defined');
  } finally {
    done();
  }
});

test('pg: interfaces: pg<N> made once with 02:fe:00:00:00:0N, hw-addr, admin down until set up', () => {
  const vm = createEngine();
  vm.cli('create packet-generator interface pg0');
  vm.cli('create packet-generator interface pg7');
  vm.cli('create packet-generator interface pg0');
  vm.cli('create packet-generator interface pg9 hw-addr 02:00:00:00:99:99');
  const ifs = vm.vnet.interfaces;
  assert.equal(ifs.macText(ifs.find('pg0')), '02:fe:00:00:00:00');
  assert.equal(ifs.macText(ifs.find('pg7')), '02:fe:00:00:00:07');
  assert.equal(ifs.macText(ifs.find('pg9')), '02:00:00:00:99:99');
  assert.equal(ifs.count, 4, 'pg0 made once');
  assert.equal(ifs.adminUp[ifs.find('pg7')], 0);
  assert.equal(ifs.mtu[ifs.find('pg7')], 9000);
});

test('pg: streams are replaced by name, deleted, enabled by name or all', () => {
  const vm = createEngine();
  const data = 'data { IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.0.0.1 -> 10.0.0.2 UDP: 1 -> 2 incrementing 10 }';
  vm.cli(`packet-generator new { name a limit 5 ${data} }`);
  vm.cli(`packet-generator new { name b limit 5 ${data} }`);
  vm.cli(`packet-generator new { name a limit 7 ${data} }`);
  assert.deepEqual(vm.vnet.pg.streams.map((s) => `${s.name}:${s.limit}`), ['b:5', 'a:7']);
  vm.cli('packet-generator enable-stream a');
  assert.deepEqual(vm.vnet.pg.streams.map((s) => s.enabled), [false, true]);
  vm.cli('packet-generator disable-stream');
  assert.equal(vm.vnet.pg.enabledCount, 0);
  assert.equal(vm.node('pg-input')!.state, 'disabled');
  vm.cli('packet-generator delete b');
  assert.deepEqual(vm.vnet.pg.streams.map((s) => s.name), ['a']);
  assert.throws(() => vm.cli('packet-generator delete b'), /no stream named 'b'/);
});

test('pg edit: the stream syntax builds valid frames; ranges and sizes count up and wrap together', () => {
  const spec = parsePgData(new CliInput('IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.0.0.1 - 10.0.0.3 -> 48.0.0.1 tos 0xb8 UDP: 1000 - 1001 -> 53 incrementing 0'));
  const packets = buildPgPackets(spec, 64, 65);
  assert.equal(packets.length, 6, 'lcm(3 sources, 2 ports, 2 sizes)');
  const seen = new Set<string>();
  packets.forEach((d, i) => {
    assert.equal(d.length, 64 + (i % 2));
    assert.equal(formatIp4(ip4Src(d, 14)), `10.0.0.${1 + (i % 3)}`);
    assert.equal(udpSrcPort(d, 34), 1000 + (i % 2));
    assert.equal(d[15], 0xb8);
    assert.ok(ip4HeaderChecksumIsValid(d, 14));
    assert.ok(udp4ChecksumIsValid(d, 34, udpLength(d, 34), ip4Src(d, 14), ip4Dst(d, 14)));
    seen.add(Array.from(d).join(','));
  });
  assert.equal(seen.size, 6);
  const arp = buildPgPackets(parsePgData(new CliInput('ARP: 02:00:00:00:00:10 -> ff:ff:ff:ff:ff:ff request: 02:00:00:00:00:10/10.0.0.2 -> 00:00:00:00:00:00/10.0.0.1')));
  assert.equal(arp[0].length, 42);
  assert.equal(ethernetType(arp[0], 0), 0x0806);
});

test('pg edit: bad stream data names the token and what was expected', () => {
  const bad: [string, RegExp][] = [
    ['IP4: 02:00:00:00:00:10 -> nonsense', /expected a MAC address for ethernet destination, got 'nonsense'/],
    ['UDP: 10.0.0.1 -> 10.0.0.2 UDP: 1 -> 99999', /expected a number in 0\.\.65535 for UDP destination port, got '99999'/],
    ['UDP: 10.0.0.9 - 10.0.0.1 -> 10.0.0.2 UDP: 1 -> 2', /bad IPv4 source range 10\.0\.0\.9 - 10\.0\.0\.1/],
    ['GRE: 10.0.0.1 -> 10.0.0.2', /expected 'IP4: <src-mac> -> <dst-mac>' or '<UDP\|TCP\|ICMP>: <src-ip> -> <dst-ip>', got 'GRE:'/],
    ['UDP: 10.0.0.1 -> 10.0.0.2 UDP: 1 -> 2 incrementing 4 extra', /unknown input `extra'/],
    ['UDP: 10.0.0.1 -> 10.0.0.2 UDP: 1 -> 2 fixed 0xabc', /expected hex bytes/],
  ];
  for (const [text, message] of bad) assert.throws(() => parsePgData(new CliInput(text)), message, text);
  const spec = parsePgData(new CliInput('UDP: 10.0.0.1 -> 10.0.0.2 UDP: 1 -> 2'));
  assert.throws(() => buildPgPackets(spec, 20, 20), /min-size 20 < total header size 28/);
  const wide = parsePgData(new CliInput('UDP: 10.0.0.0 - 10.255.255.255 -> 10.0.0.2 UDP: 1 -> 2'));
  assert.throws(() => buildPgPackets(wide, 64, 70), /more than 1048576 distinct packets/);
});

test('pg: capture on an interface that is not a pg interface is refused and makes no file', () => {
  const { dir, done } = tempDir();
  try {
    const vm = router();
    vm.cli('create loopback interface');
    assert.throws(() => vm.cli(`packet-generator capture loop0 pcap ${join(dir, 'x.pcap')}`), /loop0 is not a packet-generator interface/);
    assert.equal(existsSync(join(dir, 'x.pcap')), false);
  } finally {
    done();
  }
});
