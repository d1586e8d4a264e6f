// The acl plugin: its node in a harness (permit goes on along ip4-unicast, deny and no
// match are dropped and counted, hits per rule, traces, any bytes never throw), its state
// (apply order, shared lookup contexts, replace, delete), and the whole plugin through the
// CLI and pcap files: a pg stream in, forwarded packets captured out.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { createEngine, ip4Frame, loadPlugins, nodeHarness, readPcapFile, writePcapFile, type Engine } from '../../../src/index.ts';
import acl, { aclMain, parseAclRules } from '../index.ts';
import aclNode from '../acl-node.ts';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vecnet-acl-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));

/** The node on ip4-unicast in a harness; the ACL state is the plugin's own, switched on by applying. */
function harness() {
  return nodeHarness(aclNode, { featureArc: 'ip4-unicast', autoEnable: false });
}
const L3 = { advance: 14 };

test('permit goes on to ip4-lookup, deny and the implicit deny are dropped; hits per rule', () => {
  const h = harness();
  const main = aclMain(h.vm);
  const index = main.addReplace(parseAclRules('permit dst 48.0.0.1/32 proto udp dport 5678, deny src 10.10.1.0/24'));
  main.applyInput(1, index, true);

  const r = h.run(
    [
      ip4Frame({ dst: '48.0.0.1', dport: 5678 }), // rule 0
      ip4Frame({ dst: '48.0.0.1', dport: 80 }), // rule 1
      ip4Frame({ src: '10.20.0.1', dst: '48.0.0.2' }), // no rule: implicit deny
      ip4Frame({ dst: '48.0.0.1', dport: 5678, protocol: 'tcp' }), // rule 1 (not udp)
    ],
    L3,
  );
  assert.deepEqual(r.to('ip4-lookup').map((o) => o.input), [0]);
  assert.deepEqual(r.to('error-drop').map((o) => [o.input, o.error]), [
    [1, 'acl-plugin-in-ip4: ACL deny packets'],
    [2, 'acl-plugin-in-ip4: ACL deny packets'],
    [3, 'acl-plugin-in-ip4: ACL deny packets'],
  ]);
  assert.deepEqual(r.errors, { 'ACL permit packets': 1, 'ACL deny packets': 3 });
  assert.deepEqual(r.traces, [
    'acl-plugin: lc_index 0, sw_if_index 1, next index 1, action: 1, match: acl 0 rule 0\n  proto 17 10.10.1.2:1234 -> 48.0.0.1:5678',
    'acl-plugin: lc_index 0, sw_if_index 1, next index 0, action: 0, match: acl 0 rule 1\n  proto 17 10.10.1.2:1234 -> 48.0.0.1:80',
    'acl-plugin: lc_index 0, sw_if_index 1, next index 0, action: 0, match: acl -1 rule -1\n  proto 17 10.20.0.1:1234 -> 48.0.0.2:5678',
    'acl-plugin: lc_index 0, sw_if_index 1, next index 0, action: 0, match: acl 0 rule 1\n  proto 6 10.10.1.2:1234 -> 48.0.0.1:5678',
  ]);
  assert.deepEqual(Array.from(main.list()[0].hits), [1, 2]);
  assert.equal(r.buffersInUse, 0);
});

test('interfaces without an ACL are not touched; several ACLs apply in order; identical lists share a context', () => {
  const h = harness();
  const main = aclMain(h.vm);
  const denyWeb = main.addReplace(parseAclRules('deny proto tcp dport 80'));
  const permitAll = main.addReplace(parseAclRules('permit'));
  main.applyInput(1, denyWeb, true);
  main.applyInput(1, permitAll, true);
  main.applyInput(2, denyWeb, true);
  main.applyInput(2, permitAll, true);
  main.applyInput(3, permitAll, true);
  assert.equal(main.contextOf[1], main.contextOf[2]);
  assert.notEqual(main.contextOf[1], main.contextOf[3]);

  const web = ip4Frame({ protocol: 'tcp', dport: 80 });
  const dns = ip4Frame({ protocol: 'udp', dport: 53 });
  const on = (rxInterface: number) => h.run([web, dns], { ...L3, rxInterface });
  assert.deepEqual(on(1).counts, { 'error-drop': 1, 'ip4-lookup': 1 });
  assert.deepEqual(on(2).to('ip4-lookup').map((o) => o.input), [1]);
  assert.deepEqual(on(3).counts, { 'ip4-lookup': 2 });
  const untouched = on(4);
  assert.deepEqual(untouched.counts, { 'ip4-lookup': 2 });
  assert.deepEqual(untouched.traces, ['', ''], 'the node is not on interface 4 at all');

  // Removing the first ACL from interface 1: now everything is permitted there, not on 2.
  main.applyInput(1, denyWeb, false);
  assert.deepEqual(on(1).counts, { 'ip4-lookup': 2 });
  assert.deepEqual(on(2).counts, { 'error-drop': 1, 'ip4-lookup': 1 });
  // Hit totals survive the context changes: denyWeb rule 0 matched on 1 once, on 2 twice.
  assert.deepEqual(Array.from(main.acl(denyWeb)!.hits), [3]);
  assert.deepEqual(Array.from(main.acl(permitAll)!.hits), [1 + 1 + 2 + 2 + 1]);
});

test('replacing the rules takes effect at once and restarts that ACL\'s hit counts; an applied ACL cannot be deleted', () => {
  const h = harness();
  const main = aclMain(h.vm);
  const index = main.addReplace(parseAclRules('deny'));
  main.applyInput(1, index, true);
  assert.deepEqual(h.run([ip4Frame()], L3).counts, { 'error-drop': 1 });
  assert.equal(main.addReplace(parseAclRules('permit proto udp, deny'), index), index);
  assert.deepEqual(Array.from(main.acl(index)!.hits), [0, 0]);
  assert.deepEqual(h.run([ip4Frame(), ip4Frame({ protocol: 'tcp' })], L3).counts, { 'ip4-lookup': 1, 'error-drop': 1 });
  assert.deepEqual(Array.from(main.list()[0].hits), [1, 1]);

  assert.throws(() => main.delete(index), (e: Error & { code?: string }) => e.code === 'EBUSY' && /ACL 0 is applied on sw_if_index 1/.test(e.message));
  assert.throws(() => main.applyInput(1, index, true), /already applied/);
  assert.throws(() => main.applyInput(1, 7, true), /no ACL with index 7/);
  assert.throws(() => main.addReplace(parseAclRules('permit'), 9), /no ACL with index 9 to replace/);
  main.applyInput(1, index, false);
  assert.deepEqual(h.vm.features.enabledOn('ip4-unicast', 1), [], 'the node is switched off with the last ACL');
  main.delete(index);
  assert.equal(main.list().length, 0);
  assert.equal(main.addReplace(parseAclRules('permit')), 0, 'the index is free again');
});

test('any bytes never throw: every packet is permitted, denied or dropped as malformed, and counted', () => {
  // Lengths drawn explicitly (fast-check's default size keeps arrays under about 10 bytes),
  // past one buffer: random bytes, and IPv4 frames of any size the rules can match.
  const bytes = (min: number, max: number) => fc.integer({ min, max }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
  const frame = fc.record({
    length: fc.integer({ min: 34, max: 5000 }),
    protocol: fc.constantFrom('udp' as const, 'tcp' as const, 'icmp' as const),
    src: fc.integer({ min: 0, max: 0xffffffff }),
    sport: fc.integer({ min: 0, max: 2000 }),
  }).map((spec) => ({ bytes: ip4Frame(spec), advance: 14 }));
  const packet = fc.oneof(bytes(0, 3000), frame);
  fc.assert(
    fc.property(fc.array(packet, { maxLength: 100, size: 'max' }), fc.boolean(), (packets, permitAll) => {
      const h = harness();
      const main = aclMain(h.vm);
      main.applyInput(1, main.addReplace(parseAclRules(permitAll ? 'permit' : 'deny src 0.0.0.0/1, permit proto 6 sport 0-1000')), true);
      const r = h.run(packets);
      assert.equal(r.outputs.length, packets.length);
      const counted = Object.values(r.errors).reduce((a, b) => a + b, 0);
      assert.equal(counted, packets.length);
      for (const o of r.to('error-drop')) assert.match(o.error, /^acl-plugin-in-ip4: ACL (deny packets|malformed IPv4 header)$/);
      assert.equal(r.buffersInUse, 0);
    }),
    { numRuns: 100 },
  );
});

// ---- The whole plugin through the CLI, with pcap in and out.

async function engineWithAcl(): Promise<Engine> {
  const vm = await loadPlugins(createEngine({ buffers: 2048 }), [acl]);
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'set interface state pg0 up',
    'set interface state pg1 up',
    'set interface ip address pg0 10.10.1.1/24',
    'set interface ip address pg1 10.10.2.1/24',
    'ip route add 48.0.0.0/8 via 10.10.2.2 pg1',
    'set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02',
  ]) vm.cli(line);
  return vm;
}

let streams = 0;
/** Plays frames into pg0 and returns what pg1 sent (their IPv4 destinations, in order). */
function forwarded(vm: Engine, frames: Uint8Array[]): string[] {
  const n = streams++;
  const input = path.join(directory, `in-${n}.pcap`);
  const output = path.join(directory, `pg1-${n}.pcap`);
  writePcapFile(input, frames.map((data) => ({ data })));
  vm.cli(`packet-generator new pcap ${input} source pg0 name s${n}`);
  vm.cli(`packet-generator capture pg1 pcap ${output}`);
  vm.cli(`packet-generator enable-stream s${n}`);
  vm.runUntilIdle();
  return readPcapFile(output).packets.map((p) => Array.from(p.data.subarray(30, 34)).join('.'));
}

test('CLI and pcap: an input ACL on pg0 lets through only what it permits, counts hits, and comes off again', async () => {
  const vm = await engineWithAcl();
  const frames = [
    ip4Frame({ dst: '48.0.0.1', dport: 53 }),
    ip4Frame({ dst: '48.0.0.2', dport: 53 }),
    ip4Frame({ dst: '48.0.0.3', protocol: 'tcp', dport: 22 }),
    ip4Frame({ dst: '48.0.0.4', protocol: 'icmp' }),
  ];
  assert.deepEqual(forwarded(vm, frames), ['48.0.0.1', '48.0.0.2', '48.0.0.3', '48.0.0.4'], 'no ACL: all forwarded');

  assert.equal(vm.cli('acl add permit dst 48.0.0.1/32 proto udp dport 53, permit proto icmp sport 8, deny proto tcp'), 'acl-index 0');
  vm.cli('acl apply pg0 input 0');
  assert.deepEqual(forwarded(vm, frames), ['48.0.0.1', '48.0.0.4']);
  assert.equal(
    vm.cli('show acl'),
    [
      'acl-index 0 count 3 tag {}',
      '          0: ipv4 permit src 0.0.0.0/0 dst 48.0.0.1/32 proto 17 sport 0-65535 dport 53 hits 1',
      '          1: ipv4 permit src 0.0.0.0/0 dst 0.0.0.0/0 proto 1 sport 8 dport 0-65535 hits 1',
      '          2: ipv4 deny src 0.0.0.0/0 dst 0.0.0.0/0 proto 6 sport 0-65535 dport 0-65535 hits 1',
      '  applied inbound on sw_if_index: 1',
      '  used in lookup context index: 0',
    ].join('\n'),
  );
  assert.match(vm.cli('show errors'), /\s+2\s+acl-plugin-in-ip4\s+ACL permit packets/);
  assert.match(vm.cli('show errors'), /\s+2\s+acl-plugin-in-ip4\s+ACL deny packets/);

  vm.cli('acl apply pg0 input 0 disable');
  assert.deepEqual(forwarded(vm, frames).length, 4, 'ACL removed: all forwarded again');
});

test('CLI: show acl interface, --json, and one clear line for every bad command', async () => {
  const vm = await engineWithAcl();
  vm.cli('acl add tag web permit proto tcp dport 80-443');
  vm.cli('acl add deny');
  vm.cli('acl apply pg0 input 0');
  vm.cli('acl apply pg0 input 1');
  assert.equal(vm.cli('show acl interface'), 'sw_if_index 1 (pg0):\n  input acl(s): 0, 1\n  input lookup context index: 0');
  const json = JSON.parse(vm.cli('show acl 0 --json')) as { index: number; tag: string; rules: { text: string; hits: number }[]; appliedInbound: number[] }[];
  assert.equal(json.length, 1);
  assert.equal(json[0].tag, 'web');
  assert.equal(json[0].rules[0].text, 'ipv4 permit src 0.0.0.0/0 dst 0.0.0.0/0 proto 6 sport 0-65535 dport 80-443');
  assert.deepEqual(json[0].appliedInbound, [1]);

  const refusals: [string, RegExp][] = [
    ['acl add', /acl add: expected a rule: permit\|deny/],
    ['acl add permit src 10.0.0.300/8', /acl add: expected an IPv4 prefix \(a\.b\.c\.d\/len\) for src, got '10\.0\.0\.300\/8'/],
    ['acl add index 5 permit', /acl add: no ACL with index 5 to replace/],
    ['acl del 0', /acl del: ACL 0 is applied on pg0: remove it there first/],
    ['acl del 9', /acl del: no ACL with index 9/],
    ['acl apply pg9 input 0', /acl apply: unknown interface 'pg9'/],
    ['acl apply pg0 output 0', /acl apply: expected 'input', got 'output'/],
    ['acl apply pg0 input 0', /acl apply: ACL 0 is already applied on pg0 input/],
    ['acl apply pg1 input 0 disable', /acl apply: ACL 0 is not applied on pg1 input/],
    ['show acl 7', /show acl: no ACL with index 7/],
  ];
  for (const [line, expected] of refusals) assert.throws(() => vm.cli(line), expected, line);
  assert.equal(aclMain(vm).list().length, 2, 'nothing changed');
});
