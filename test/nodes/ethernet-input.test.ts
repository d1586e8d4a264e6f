// ethernet-input: EtherType dispatch, the L3 destination MAC filter, admin-down and short
// frames, l2Offset/current bookkeeping; random and malformed frames never throw, always land
// in a counted next, and every buffer comes back to the pool.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ethernetInput from '../../nodes/ethernet-input.ts';
import { createEngine } from '../../src/index.ts';
import { EtherType } from '../../src/wire/ethernet.ts';
import { arpFrame, frame, inject, smallGraph, udpFrame } from './l2-helpers.ts';
import { BUFFER_DATA_SIZE, bytesOfLength } from '../arbitraries.ts';

const SINKS = ['ip4-input', 'arp-input', 'test-ether'];

function setup() {
  const g = smallGraph([ethernetInput], SINKS);
  const sw = g.vm.vnet.pg.createInterface(0);
  g.vm.vnet.setAdminState(sw, true);
  return { ...g, sw, ourMac: g.vm.vnet.interfaces.macText(sw) };
}

test('ethernet-input: IP4 to ip4-input and ARP to arp-input, past the 14-byte header', () => {
  const { vm, seen, sw, ourMac } = setup();
  const udp = udpFrame(ourMac, '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1');
  const arp = arpFrame({ op: 'request', sha: '02:00:00:00:00:10', spa: '10.0.0.2', tpa: '10.0.0.1' });
  const free0 = vm.pool.available;
  inject(vm, 'ethernet-input', sw, [udp, arp]);
  vm.runUntilIdle();
  const ip4 = seen.get('ip4-input')!;
  const arps = seen.get('arp-input')!;
  assert.equal(ip4.length, 1);
  assert.equal(arps.length, 1);
  assert.deepEqual(ip4[0].bytes, udp.subarray(14), 'current moved past the Ethernet header');
  assert.equal(ip4[0].current - ip4[0].l2Offset, 14, 'l2Offset names the frame start');
  assert.deepEqual(arps[0].bytes, arp.subarray(14));
  assert.equal(vm.pool.available, free0);
});

test('ethernet-input: broadcast and multicast pass the L3 MAC filter; another unicast MAC is "l3 mac mismatch"', () => {
  const { vm, seen, sw, ourMac } = setup();
  const frames = [
    udpFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:10', '10.0.0.2', '10.0.0.255'),
    udpFrame('01:00:5e:00:00:01', '02:00:00:00:00:10', '10.0.0.2', '224.0.0.1'),
    udpFrame(ourMac, '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1'),
    udpFrame('02:fe:00:00:00:99', '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1'),
  ];
  inject(vm, 'ethernet-input', sw, frames);
  vm.runUntilIdle();
  assert.equal(seen.get('ip4-input')!.length, 3);
  assert.equal(vm.errorCounter('ethernet-input', 'l3 mac mismatch'), 1);
  assert.match(vm.cli('show errors'), /1\s+ethernet-input\s+l3 mac mismatch/);
});

test('ethernet-input: unknown EtherTypes are dropped and counted; a registered one goes to its node', () => {
  const { vm, seen, sw, ourMac } = setup();
  const payload = new Uint8Array(46);
  inject(vm, 'ethernet-input', sw, [frame(ourMac, '02:00:00:00:00:10', 0x88b5, payload), frame(ourMac, '02:00:00:00:00:10', 0x86dd, payload)]);
  vm.runUntilIdle();
  assert.equal(vm.errorCounter('ethernet-input', 'unknown ethernet type'), 2);
  vm.vnet.registerEthernetType(0x88b5, 'test-ether');
  inject(vm, 'ethernet-input', sw, [frame(ourMac, '02:00:00:00:00:10', 0x88b5, payload)]);
  vm.runUntilIdle();
  assert.equal(seen.get('test-ether')!.length, 1);
  assert.equal(vm.errorCounter('ethernet-input', 'unknown ethernet type'), 2);
  assert.throws(() => vm.vnet.registerEthernetType(0x05dc, 'test-ether'), /bad EtherType/);
});

test('ethernet-input: frames on an admin-down interface and frames under 14 bytes are dropped, counted, left as they came', () => {
  const { vm, seen, sw, ourMac } = setup();
  const drops: Uint8Array[] = [];
  vm.dropHooks.push((buffers, n) => {
    for (let i = 0; i < n; i++) drops.push(vm.pool.toBytes(buffers[i]));
  });
  inject(vm, 'ethernet-input', sw, [new Uint8Array(13), new Uint8Array(0)]);
  vm.vnet.setAdminState(sw, false);
  const f = udpFrame(ourMac, '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1');
  inject(vm, 'ethernet-input', sw, [f]);
  // An rx interface past the interface table is not up either.
  inject(vm, 'ethernet-input', 4000, [f]);
  vm.runUntilIdle();
  assert.equal(vm.errorCounter('ethernet-input', 'ethernet frame too short'), 2);
  assert.equal(vm.errorCounter('ethernet-input', 'interface down'), 2);
  assert.equal(seen.get('ip4-input')!.length, 0);
  assert.deepEqual(drops[drops.length - 1], f, 'a dropped frame keeps its Ethernet header');
  assert.match(vm.cli('show interface pg0'), /drops\s+3/, 'drops count against the rx interface');
});

test('ethernet-input: a mixed vector (ip4, arp, unknown, short, mismatch, odd offset) lands each packet in its own next, in order', () => {
  const { vm, seen, sw, ourMac } = setup();
  const drops: Uint8Array[] = [];
  vm.dropHooks.push((buffers, n) => {
    for (let i = 0; i < n; i++) drops.push(vm.pool.toBytes(buffers[i]));
  });
  const ip4 = (k: number, dst = ourMac) => udpFrame(dst, '02:00:00:00:00:10', '10.0.0.2', `10.0.1.${k}`);
  const arp = arpFrame({ op: 'request', sha: '02:00:00:00:00:10', spa: '10.0.0.2', tpa: '10.0.0.1' });
  const unknown = frame(ourMac, '02:00:00:00:00:10', 0x86dd, new Uint8Array(46));
  const short = new Uint8Array(10);
  const mismatch = ip4(99, '02:fe:00:00:00:99');
  // Runs of four IPv4 frames (the four-at-a-time path) around every kind of detour, an ARP
  // frame first so the split happens inside a run of four, and a quad broken by one frame.
  const frames = [
    arp, ip4(1), ip4(2), ip4(3), ip4(4), ip4(5), ip4(6), ip4(7), ip4(8), unknown, short,
    ip4(9), ip4(10), ip4(11), ip4(12), mismatch, ip4(13, 'ff:ff:ff:ff:ff:ff'), ip4(14), arp, ip4(15), ip4(16),
  ];
  const free0 = vm.pool.available;
  inject(vm, 'ethernet-input', sw, frames);
  vm.runUntilIdle();
  const ip4s = frames.filter((f) => f.length >= 14 && f[12] === 0x08 && f[13] === 0x00 && f !== mismatch);
  assert.deepEqual(seen.get('ip4-input')!.map((r) => r.bytes), ip4s.map((f) => f.subarray(14)), 'every IPv4 frame, in order, past its header');
  assert.deepEqual(seen.get('arp-input')!.map((r) => r.bytes), [arp.subarray(14), arp.subarray(14)]);
  assert.deepEqual(drops, [unknown, short, mismatch], 'drops left as they came');
  assert.equal(vm.errorCounter('ethernet-input', 'unknown ethernet type'), 1);
  assert.equal(vm.errorCounter('ethernet-input', 'ethernet frame too short'), 1);
  assert.equal(vm.errorCounter('ethernet-input', 'l3 mac mismatch'), 1);
  assert.equal(vm.pool.available, free0);

  // Frames at odd offsets (one byte of lead-in skipped) take the byte path: same outcome.
  for (const list of seen.values()) list.length = 0;
  const lead = (f: Uint8Array) => {
    const g = new Uint8Array(f.length + 1);
    g.set(f, 1);
    return g;
  };
  inject(vm, 'ethernet-input', sw, [ip4(1), ip4(2), ip4(3), ip4(4), arp].map(lead), 1);
  vm.runUntilIdle();
  assert.deepEqual(seen.get('ip4-input')!.map((r) => r.bytes), [ip4(1), ip4(2), ip4(3), ip4(4)].map((f) => f.subarray(14)));
  assert.equal(seen.get('arp-input')!.length, 1);
  assert.ok(seen.get('ip4-input')!.every((r) => r.current - r.l2Offset === 14 && (r.l2Offset & 1) === 1));
  assert.equal(vm.pool.available, free0);
});

test('ethernet-input: random frames never throw, land in a counted next, and every buffer comes back', () => {
  const { vm, seen, sw, ourMac } = setup();
  const ours = Array.from(ourMac.split(':'), (b) => parseInt(b, 16));
  // Lengths drawn explicitly, past one buffer (chained); fast-check's default size would keep them under 12 bytes.
  const frameArb = fc.oneof(
    bytesOfLength(0, 3000, [14, BUFFER_DATA_SIZE]),
    // Frames for our MAC with a random type and body, so the dispatch itself is exercised.
    fc.tuple(fc.constantFrom(EtherType.IP4, EtherType.ARP, 0x88b5, 0x0000, 0xffff), bytesOfLength(0, 3000, [BUFFER_DATA_SIZE - 14])).map(([type, body]) => {
      const f = new Uint8Array(14 + body.length);
      f.set(ours, 0);
      f[12] = type >>> 8;
      f[13] = type & 0xff;
      f.set(body, 14);
      return f;
    }),
  );
  const free0 = vm.pool.available;
  fc.assert(
    // Up to 300 frames: more than one vector (FRAME_SIZE 256) at a time.
    fc.property(fc.array(frameArb, { minLength: 1, maxLength: 300, size: 'max' }), (frames) => {
      for (const list of seen.values()) list.length = 0;
      for (const rt of vm.nodes) rt.errors.fill(0);
      inject(vm, 'ethernet-input', sw, frames);
      vm.runUntilIdle();
      const forwarded = seen.get('ip4-input')!.length + seen.get('arp-input')!.length;
      const counted = ['ethernet frame too short', 'interface down', 'l3 mac mismatch', 'unknown ethernet type']
        .reduce((sum, text) => sum + vm.errorCounter('ethernet-input', text), 0);
      assert.equal(forwarded + counted, frames.length, 'every frame is forwarded or counted');
      assert.equal(vm.pool.available, free0, 'every buffer is back');
      assert.equal(vm.pool.doubleFrees, 0);
    }),
    { numRuns: 60 },
  );
});

test('ethernet-input: trace shows the frame header', () => {
  const vm = createEngine();
  vm.cli('create packet-generator interface pg0');
  vm.cli('set interface state pg0 up');
  vm.cli('packet-generator new { name t limit 1 node ethernet-input data { IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.0.0.2 -> 10.0.0.1 UDP: 1 -> 2 incrementing 4 } }');
  vm.cli('trace add pg-input 1');
  vm.cli('packet-generator enable');
  vm.runUntilIdle();
  assert.match(vm.cli('show trace'), /: ethernet-input\n {2}frame: hw-if-index 1, sw-if-index 1\n {2}IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00\n/);
});
