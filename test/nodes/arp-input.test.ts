// arp-input: answers requests for our addresses with exactly the bytes VPP sends, learns
// senders, consumes replies, drops the rest under VPP's counters; random ARP bodies never
// throw and every buffer is accounted for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createEngine, type Engine } from '../../src/index.ts';
import { readPcapFile, writePcapFile } from '../../src/vlib/pcap.ts';
import { formatMac } from '../../src/wire/address.ts';
import { arpFrame, hex, inject, ip } from './l2-helpers.ts';
import { BUFFER_DATA_SIZE, bytesOfLength } from '../arbitraries.ts';

const PEER_MAC = '02:00:00:00:00:10';

function setup(): { vm: Engine; pg0: number; ourMac: string } {
  const vm = createEngine({ buffers: 4096 });
  vm.cli('create packet-generator interface pg0');
  vm.cli('set interface state pg0 up');
  vm.cli('set interface ip address pg0 10.0.0.1/24');
  const pg0 = vm.vnet.interfaces.find('pg0');
  return { vm, pg0, ourMac: vm.vnet.interfaces.macText(pg0) };
}

function errors(vm: Engine): Record<string, number> {
  const rt = vm.node('arp-input')!;
  const out: Record<string, number> = {};
  rt.errorNames.forEach((name, k) => {
    if (rt.errors[k] !== 0) out[name] = rt.errors[k];
  });
  return out;
}

test('arp-input: a request for our address, pcap in → the reply, pcap out, byte for byte; the sender is learned', () => {
  const { vm, ourMac } = setup();
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-arp-'));
  try {
    // As a NIC delivers it: padded to the 60-byte Ethernet minimum.
    const request = arpFrame({ op: 'request', sha: PEER_MAC, spa: '10.0.0.2', tpa: '10.0.0.1', minLength: 60 });
    writePcapFile(join(dir, 'in.pcap'), [{ data: request }]);
    vm.cli(`packet-generator new pcap ${join(dir, 'in.pcap')} source pg0 name arp`);
    vm.cli(`packet-generator capture pg0 pcap ${join(dir, 'out.pcap')}`);
    vm.cli('packet-generator enable-stream arp');
    vm.runUntilIdle();
    const out = readPcapFile(join(dir, 'out.pcap')).packets;
    assert.equal(out.length, 1);
    const ours = ourMac.replaceAll(':', '');
    const peer = PEER_MAC.replaceAll(':', '');
    const expected =
      peer + ours + '0806' + // Ethernet: to the requester, from us, ARP
      '0001' + '0800' + '06' + '04' + '0002' + // Ethernet/IPv4, reply
      ours + '0a000001' + // sender: us, the address asked for
      peer + '0a000002' + // target: the requester
      '00'.repeat(18); // the request's padding, kept as VPP keeps the buffer's length
    assert.equal(hex(out[0].data), expected);
    const learned = vm.vnet.neighbors.find(vm.vnet.interfaces.find('pg0'), ip('10.0.0.2'));
    assert.ok(learned !== undefined, 'the requester is learned');
    assert.equal(formatMac(learned.mac), PEER_MAC);
    assert.equal(learned.isStatic, false);
    assert.deepEqual(errors(vm), { 'ARP replies sent': 1, 'ARP request IP4 source address learned': 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('arp-input: a reply to our address is learned and consumed', () => {
  const { vm, pg0, ourMac } = setup();
  const free0 = vm.pool.available;
  inject(vm, 'ethernet-input', pg0, [arpFrame({ op: 'reply', sha: PEER_MAC, spa: '10.0.0.7', tha: ourMac, tpa: '10.0.0.1' })]);
  vm.runUntilIdle();
  assert.equal(formatMac(vm.vnet.neighbors.find(pg0, ip('10.0.0.7'))!.mac), PEER_MAC);
  assert.deepEqual(errors(vm), { 'ARP replies received': 1 });
  assert.equal(vm.pool.available, free0);
});

test('arp-input: what is not for us, or not believable, is dropped under its counter and not learned', () => {
  const { vm, pg0, ourMac } = setup();
  vm.cli('create packet-generator interface pg1');
  vm.cli('set interface ip address pg1 10.9.0.1/24');
  const cases: [string, Uint8Array][] = [
    ['ARP request for another host', arpFrame({ op: 'request', sha: PEER_MAC, spa: '10.0.0.2', tpa: '10.0.0.3' })],
    ['IP4 destination address not local to subnet', arpFrame({ op: 'request', sha: PEER_MAC, spa: '10.0.0.2', tpa: '10.5.0.1' })],
    ['IP4 destination address not local to subnet', arpFrame({ op: 'reply', sha: PEER_MAC, spa: '10.0.0.2', tha: ourMac, tpa: '10.0.0.3' })],
    ['IP4 source address not local to subnet', arpFrame({ op: 'request', sha: PEER_MAC, spa: '10.7.0.2', tpa: '10.0.0.1' })],
    ['IP4 source address matches local interface', arpFrame({ op: 'request', sha: PEER_MAC, spa: '10.9.0.1', tpa: '10.0.0.1' })],
    ['IP4 destination address is unset', arpFrame({ op: 'request', sha: PEER_MAC, spa: '0.0.0.0', tpa: '10.0.0.1' })],
    ['ARP hw addr does not match L2 frame src addr', arpFrame({ op: 'request', ethSrc: '02:00:00:00:00:99', sha: PEER_MAC, spa: '10.0.0.2', tpa: '10.0.0.1' })],
    ['ARP probe or announcement dropped', arpFrame({ op: 'request', sha: PEER_MAC, spa: '10.0.0.9', tpa: '10.0.0.9' })],
  ];
  const free0 = vm.pool.available;
  for (const [reason, f] of cases) {
    for (const rt of vm.nodes) rt.errors.fill(0);
    inject(vm, 'ethernet-input', pg0, [f]);
    vm.runUntilIdle();
    assert.deepEqual(errors(vm), { [reason]: 1 }, reason);
  }
  for (const a of ['10.0.0.2', '10.7.0.2', '10.9.0.1', '10.0.0.9']) assert.equal(vm.vnet.neighbors.find(pg0, ip(a)), undefined, `${a} not learned`);
  assert.equal(vm.pool.available, free0);
  assert.match(vm.cli('show errors'), /arp-input\s+ARP probe or announcement dropped/);
});

test('arp-input: a gratuitous ARP refreshes a neighbor we know', () => {
  const { vm, pg0 } = setup();
  vm.cli(`set ip neighbor pg0 10.0.0.9 02:00:00:00:00:01`);
  inject(vm, 'ethernet-input', pg0, [arpFrame({ op: 'request', sha: PEER_MAC, spa: '10.0.0.9', tpa: '10.0.0.9' })]);
  vm.runUntilIdle();
  assert.deepEqual(errors(vm), { 'ARP request IP4 source address learned': 1 });
  assert.equal(formatMac(vm.vnet.neighbors.find(pg0, ip('10.0.0.9'))!.mac), PEER_MAC);
});

test('arp-input: an interface without an address, and malformed headers, are counted drops', () => {
  const { vm, pg0 } = setup();
  vm.cli('create packet-generator interface pg1');
  vm.cli('set interface state pg1 up');
  const pg1 = vm.vnet.interfaces.find('pg1');
  inject(vm, 'ethernet-input', pg1, [arpFrame({ op: 'request', sha: PEER_MAC, spa: '10.0.0.2', tpa: '10.0.0.1' })]);
  const good = arpFrame({ op: 'request', sha: PEER_MAC, spa: '10.0.0.2', tpa: '10.0.0.1' });
  const patched = (at: number, values: number[]): Uint8Array => {
    const f = good.slice();
    f.set(values, 14 + at);
    return f;
  };
  inject(vm, 'ethernet-input', pg0, [
    patched(0, [0, 6]), // hardware type 6 (IEEE 802)
    patched(2, [0x86, 0xdd]), // protocol IPv6
    patched(4, [8]), // hardware length 8
    patched(6, [0, 5]), // opcode 5
    good.subarray(0, 14 + 20), // cut short
  ]);
  vm.runUntilIdle();
  assert.deepEqual(errors(vm), {
    'Interface is not IP enabled': 1,
    'L2 type not ethernet': 1,
    'L3 type not IP4': 1,
    'ARP address sizes not 6/4': 1,
    'ARP opcode not request': 1,
    'ARP packet truncated': 1,
  });
});

test('arp-input: random ARP bodies never throw, each lands in a counted next, every buffer comes back', () => {
  const { vm, pg0, ourMac } = setup();
  const ours = ourMac.split(':').map((b) => parseInt(b, 16));
  // Body lengths drawn explicitly, past one buffer (a request with trailing bytes, chained).
  const arb = fc.tuple(
    bytesOfLength(0, 3000, [28, BUFFER_DATA_SIZE - 14]),
    fc.boolean(),
    fc.constantFrom(0x0a000001, 0x0a000002, 0x0a000000, 0, 0xffffffff),
    fc.constantFrom(0x0a000001, 0x0a000002, 0x0b000001),
  ).map(([body, valid, spa, tpa]) => {
    const f = new Uint8Array(14 + Math.max(body.length, valid ? 28 : 0));
    f.fill(0xff, 0, 6);
    f.set([2, 0, 0, 0, 0, 0x10], 6);
    f[12] = 0x08;
    f[13] = 0x06;
    f.set(body, 14);
    if (valid) {
      f.set([0, 1, 8, 0, 6, 4, 0, 1 + (body[0] ?? 0) % 2], 14);
      f.set([2, 0, 0, 0, 0, 0x10], 22);
      f.set([spa >>> 24, (spa >>> 16) & 255, (spa >>> 8) & 255, spa & 255], 28);
      f.set(ours, 32);
      f.set([tpa >>> 24, (tpa >>> 16) & 255, (tpa >>> 8) & 255, tpa & 255], 38);
    }
    return f;
  });
  const free0 = vm.pool.available;
  let drops = 0;
  const reasons = new Set<string>();
  vm.dropHooks.push((buffers, n) => {
    drops += n;
    for (let i = 0; i < n; i++) reasons.add(vm.formatDropReason(vm.pool.error[buffers[i]]).split(':')[0]);
  });
  fc.assert(
    fc.property(fc.array(arb, { minLength: 1, maxLength: 100, size: 'max' }), (frames) => {
      drops = 0;
      const tx0 = vm.vnet.interfaces.counter(pg0, 2);
      inject(vm, 'ethernet-input', pg0, frames);
      vm.runUntilIdle();
      const replies = vm.vnet.interfaces.counter(pg0, 2) - tx0;
      assert.equal(drops + replies, frames.length, 'every frame is answered or dropped');
      assert.equal(vm.pool.available, free0, 'every buffer comes back');
    }),
    { numRuns: 40 },
  );
  assert.deepEqual([...reasons], ['arp-input'], 'every drop carries an arp-input counter');
});
