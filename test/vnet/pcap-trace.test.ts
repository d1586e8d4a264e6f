// `pcap trace`: received, sent and dropped packets to one pcap file, with a packet limit,
// a per-packet byte limit and an interface filter; the file holds what was captured whenever
// the engine is idle; status, off, and refusals that change nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../src/index.ts';
import { readPcapFile } from '../../src/vlib/pcap.ts';
import { formatIp4, formatMac } from '../../src/wire/address.ts';
import { ip4Dst, ip4Ttl } from '../../src/wire/ip4.ts';

const STREAM = (name: string, dst: string, limit: number): string =>
  `packet-generator new { name ${name} limit ${limit} size 100-100 data { IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.10.1.2 -> ${dst} UDP: 1234 -> 5678 incrementing 0 } }`;

function setup(): { vm: Engine; dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-pcap-trace-'));
  const vm = createEngine();
  vm.vnet.pcapTrace.directory = dir;
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
  return { vm, dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('pcap trace rx tx drop: one file with what came in, went out and was dropped', () => {
  const { vm, dir, done } = setup();
  try {
    assert.equal(vm.cli('pcap trace rx tx drop max 100 intfc any file all.pcap'), '');
    vm.cli(STREAM('fwd', '48.0.0.1', 3));
    vm.cli(STREAM('lost', '99.0.0.1', 2)); // no route: dropped
    vm.cli('packet-generator enable');
    vm.runUntilIdle();
    assert.equal(vm.cli('pcap trace status'), [
      `max is 100, for any interface to file ${join(dir, 'all.pcap')}`,
      'pcap rx and tx and drop capture is on: 10 of 100 pkts...',
    ].join('\n'));
    // Flushed at idle: readable before `off`.
    assert.equal(readPcapFile(join(dir, 'all.pcap')).packets.length, 10);
    assert.equal(vm.cli('pcap trace off'), `Write 10 packets to ${join(dir, 'all.pcap')}, and stop capture...`);
    const packets = readPcapFile(join(dir, 'all.pcap')).packets.map((p) => p.data);
    const received = packets.filter((d) => formatMac(d, 6) === '02:00:00:00:00:10');
    const sent = packets.filter((d) => formatMac(d, 0) === '02:00:00:00:00:02');
    assert.equal(received.length, 5, 'rx: every packet pg0 received, as it arrived');
    assert.ok(received.every((d) => ip4Ttl(d, 14) === 64 && d.length === 100));
    assert.equal(sent.length, 3, 'tx: what pg1 sent, rewritten');
    assert.ok(sent.every((d) => ip4Ttl(d, 14) === 63 && formatIp4(ip4Dst(d, 14)) === '48.0.0.1'));
    const dropped = packets.filter((d) => !received.includes(d) && !sent.includes(d));
    assert.equal(dropped.length, 2, 'drop: the unroutable ones');
    assert.equal(vm.cli('pcap trace status'), 'pcap capture disabled');
  } finally {
    done();
  }
});

test('pcap trace: max stops recording, max-bytes-per-pkt snaps, intfc filters, default names', () => {
  const { vm, dir, done } = setup();
  try {
    vm.cli('pcap trace tx max 4 max-bytes-per-pkt 40 intfc pg1');
    vm.cli(STREAM('fwd', '48.0.0.1', 10));
    vm.cli('packet-generator enable');
    vm.runUntilIdle();
    assert.match(vm.cli('pcap trace status'), /^max is 4, for interface pg1 to file .*\/tx\.pcap\npcap tx capture is on: 4 of 4 pkts\.\.\.$/);
    vm.cli('pcap trace off');
    const file = readPcapFile(join(dir, 'tx.pcap'));
    assert.equal(file.packets.length, 4);
    assert.ok(file.packets.every((p) => p.data.length === 40 && p.originalLength === 100));

    vm.cli('pcap trace rx intfc pg1');
    vm.cli('packet-generator enable');
    vm.runUntilIdle();
    assert.equal(vm.cli('pcap trace off'), 'No packets captured...', 'nothing was received on pg1');
    vm.cli('pcap trace rx drop');
    assert.equal(vm.vnet.pcapTrace.path, join(dir, 'rxdrop.pcap'));
    vm.cli('pcap trace off');
  } finally {
    done();
  }
});

test('pcap trace: refusals name the problem and change nothing; tcpdump reads the file', () => {
  const { vm, dir, done } = setup();
  try {
    const refuse = (line: string, message: RegExp): void => {
      const before = vm.cli('pcap trace status');
      assert.throws(() => vm.cli(line), message, line);
      assert.equal(vm.cli('pcap trace status'), before, `${line} changed nothing`);
    };
    refuse('pcap trace off', /pcap trace: capture already disabled$/);
    refuse('pcap trace', /nothing to capture: give rx, tx and\/or drop/);
    refuse('pcap trace rx file ../x.pcap', /bad file name '\.\.\/x\.pcap': give a name without '\/'/);
    refuse('pcap trace rx max-bytes-per-pkt 16', /expected a number in 32\.\.9000 for max-bytes-per-pkt, got '16'/);
    refuse('pcap trace rx intfc pg9', /unknown interface 'pg9'/);
    refuse('pcap trace rx sideways', /unknown input `sideways'/);
    refuse('pcap trace rx off', /'off' cannot be given with rx, tx or drop/);
    vm.cli('pcap trace rx tx file both.pcap');
    refuse('pcap trace drop', /already enabled: 'pcap trace off' first/);
    vm.cli(STREAM('fwd', '48.0.0.1', 2));
    vm.cli('packet-generator enable');
    vm.runUntilIdle();
    vm.cli('pcap trace off');
    assert.ok(existsSync(join(dir, 'both.pcap')));
    let text: string;
    try {
      text = execFileSync('tcpdump', ['-nr', join(dir, 'both.pcap')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return console.log('# tcpdump is not installed: skipped');
      throw error;
    }
    assert.equal(text.trim().split('\n').filter((l) => /IP 10\.10\.1\.2\.1234 > 48\.0\.0\.1\.5678: UDP, length 58/.test(l)).length, 4);
  } finally {
    done();
  }
});
