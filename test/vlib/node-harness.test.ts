// The node harness: what a plugin author's test sees. Packets fed come back per next with
// their bytes and metadata, error counters are per run, traces are the node's own records,
// feature-arc nodes run as features, pcap goes in and out, every buffer is accounted for,
// and tracing does not change what comes out.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { nodeHarness, loadPlugins, PluginLoadError, HARNESS_INPUT, ip4Frame } from '../../src/vlib/node-harness.ts';
import { parseIp4Header } from '../../src/wire/ip4.ts';
import { udp4ChecksumIsValid } from '../../src/wire/udp.ts';
import { tcp4ChecksumIsValid } from '../../src/wire/tcp.ts';
import { icmp4Check, Icmp4Check } from '../../src/wire/icmp4.ts';
import { parseIp4 } from '../../src/wire/address.ts';
import { defineNode, indices } from '../../src/vlib/node.ts';
import { Engine } from '../../src/vlib/engine.ts';
import { definePlugin } from '../../src/vlib/plugin.ts';
import { NONE, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { readPcapFile, writePcapFile } from '../../src/vlib/pcap.ts';
import { BUFFER_DATA_SIZE, bytesOfLength } from '../arbitraries.ts';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vecnet-harness-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));

/** Sends packets by their first byte: 0 → even, 1 → odd, anything else (or empty) → drop. */
const NEXTS = { even: 'even-node', odd: 'odd-node', drop: 'error-drop' } as const;
const ERRORS = { even: 'even packets', odd: 'odd packets', bad: 'unclassified packets' } as const;
const next = indices(NEXTS);
const error = indices(ERRORS);
const classifier = defineNode({
  name: 'classifier',
  nexts: NEXTS,
  errors: ERRORS,
  trace: (ctx, bi, k) => `classifier: first byte ${ctx.pool.length[bi] > 0 ? ctx.pool.bytes[ctx.pool.current[bi]] : 'none'}, next ${k}`,
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    let even = 0;
    let odd = 0;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const first = pool.length[bi] > 0 ? pool.bytes[pool.current[bi]] : -1;
      if (first === 0) {
        nexts[i] = next.even;
        even++;
      } else if (first === 1) {
        nexts[i] = next.odd;
        pool.txInterface[bi] = 7;
        odd++;
      } else {
        nexts[i] = next.drop;
        pool.error[bi] = ctx.errorCode(error.bad);
      }
    }
    ctx.errors[error.even] += even;
    ctx.errors[error.odd] += odd;
    ctx.errors[error.bad] += n - even - odd;
    return n;
  },
});

test('outputs per next, drops with their reason, counters and traces of one run', () => {
  const h = nodeHarness(classifier);
  const r = h.run([Uint8Array.of(0, 10), Uint8Array.of(1, 11), Uint8Array.of(9), Uint8Array.of(0, 12), new Uint8Array(0)]);
  assert.deepEqual(r.counts, { 'even-node': 2, 'odd-node': 1, 'error-drop': 2 });
  assert.deepEqual(r.packets('even-node'), [Uint8Array.of(0, 10), Uint8Array.of(0, 12)]);
  assert.deepEqual(r.to('even-node').map((o) => o.input), [0, 3]);
  const odd = r.to('odd-node')[0];
  assert.equal(odd.txInterface, 7);
  assert.equal(odd.rxInterface, 1);
  assert.equal(r.to('even-node')[0].txInterface, NONE);
  assert.deepEqual(r.to('error-drop').map((o) => [o.input, o.error]), [
    [2, 'classifier: unclassified packets'],
    [4, 'classifier: unclassified packets'],
  ]);
  assert.deepEqual(r.errors, { 'even packets': 2, 'odd packets': 1, 'unclassified packets': 2 });
  assert.equal(r.error('odd packets'), 1);
  assert.equal(r.error('no such counter'), 0);
  assert.deepEqual(r.traces, [
    'classifier: first byte 0, next 0',
    'classifier: first byte 1, next 1',
    'classifier: first byte 9, next 2',
    'classifier: first byte 0, next 0',
    'classifier: first byte none, next 2',
  ]);
  assert.match(r.trace, /Packet 1\n\n\d\d:\d\d:\d\d:\d{6}: harness-input\n  packet 0, 2 bytes, sw_if_index 1\n.*: classifier\n  classifier: first byte 0, next 0\n.*: even-node\n/);
  assert.equal(r.buffersInUse, 0);
  assert.equal(r.doubleFrees, 0);
  assert.equal(r.consumed, 0);
  assert.deepEqual(r.vectors, [5]);

  // Counters are per run; totals stay on the harness.
  const again = h.run([Uint8Array.of(1)]);
  assert.deepEqual(again.errors, { 'odd packets': 1 });
  assert.deepEqual(h.counters(), { 'even packets': 2, 'odd packets': 2, 'unclassified packets': 2 });
});

test('more packets than a frame holds arrive in vectors of at most 256, in order', () => {
  const h = nodeHarness(classifier);
  const packets = Array.from({ length: 600 }, (_, i) => Uint8Array.of(0, i & 0xff, i >> 8));
  const r = h.run(packets);
  assert.deepEqual(r.vectors, [256, 256, 88]);
  assert.deepEqual(r.to('even-node').map((o) => o.input), packets.map((_, i) => i));
  assert.equal(r.buffersInUse, 0);
});

test('per-packet metadata: rx interface, advance (l2/l3 offsets), opaque words, flags', () => {
  const seen: { current: number; l2: number; l3: number; opaque: number; rx: number; flags: number }[] = [];
  const probe = defineNode({
    name: 'probe',
    nexts: { out: 'out' },
    process(ctx, buffers, n) {
      const pool = ctx.pool;
      for (let i = 0; i < n; i++) {
        const bi = buffers[i];
        seen.push({
          current: pool.current[bi] - pool.l2Offset[bi],
          l2: pool.l2Offset[bi],
          l3: pool.l3Offset[bi] - pool.l2Offset[bi],
          opaque: pool.opaque[bi * OPAQUE_WORDS + 2],
          rx: pool.rxInterface[bi],
          flags: pool.flags[bi] & 0x20,
        });
      }
      ctx.toSingleNext(0);
      return n;
    },
  });
  const h = nodeHarness(probe);
  const frame = Uint8Array.from({ length: 34 }, (_, i) => i);
  const r = h.run([{ bytes: frame, opaque: [0, 0, 42], flags: 0x20 }, { bytes: frame, rxInterface: 3, advance: 0 }], { advance: 14, rxInterface: 2 });
  assert.deepEqual(
    seen.map(({ current, l3, opaque, rx, flags }) => ({ current, l3, opaque, rx, flags })),
    [
      { current: 14, l3: 14, opaque: 42, rx: 2, flags: 0x20 },
      { current: 0, l3: -seen[1].l2, opaque: 0, rx: 3, flags: 0 },
    ],
  );
  // What leaves is what the next node would see: from the current data on.
  assert.deepEqual(r.packets('out'), [frame.subarray(14), frame]);
  assert.equal(r.to('out')[0].opaque[2], 42);
  assert.throws(() => h.run([{ bytes: Uint8Array.of(1, 2), advance: 3 }]), /cannot advance 3 bytes/);
  assert.equal(h.vm.pool.available, h.vm.pool.count, 'a refused run leaves no buffer behind');
});

test('a feature-arc node runs as a feature: featureNext reaches the arc end, switched off it is skipped', () => {
  const counted = defineNode({
    name: 'counter-feature',
    errors: { seen: 'packets seen' },
    trace: (ctx, bi, k) => `counter-feature: sw_if_index ${ctx.pool.rxInterface[bi]}, next index ${k}`,
    process(ctx, buffers, n, nexts) {
      for (let i = 0; i < n; i++) nexts[i] = ctx.featureNext(buffers[i]);
      ctx.errors[0] += n;
      return n;
    },
  });
  const h = nodeHarness(counted, { featureArc: 'ip4-unicast' });
  const r = h.run([Uint8Array.of(1), Uint8Array.of(2)], { rxInterface: 5 });
  assert.deepEqual(r.counts, { 'ip4-lookup': 2 });
  assert.deepEqual(r.errors, { 'packets seen': 2 });
  assert.deepEqual(r.traces, ['counter-feature: sw_if_index 5, next index 0', 'counter-feature: sw_if_index 5, next index 0']);

  h.setFeature(5, false);
  const off = h.run([Uint8Array.of(1)], { rxInterface: 5 });
  assert.deepEqual(off.counts, { 'ip4-lookup': 1 });
  assert.deepEqual(off.errors, {});
  assert.deepEqual(off.traces, ['']);

  // autoEnable: false leaves switching on to the plugin (or the test).
  const manual = nodeHarness(counted, { featureArc: 'my-arc', autoEnable: false });
  assert.deepEqual(manual.run([Uint8Array.of(1)]).counts, { 'feature-arc-end': 1 });
  manual.setFeature(1, true);
  assert.deepEqual(manual.run([Uint8Array.of(1)]).errors, { 'packets seen': 1 });
});

test('other features on the arc run in their order around the node under test', () => {
  const order: string[] = [];
  const feature = (name: string) =>
    defineNode({
      name,
      process(ctx, buffers, n, nexts) {
        order.push(name);
        for (let i = 0; i < n; i++) nexts[i] = ctx.featureNext(buffers[i]);
        return n;
      },
    });
  const h = nodeHarness(feature('middle'), {
    featureArc: 'device-input',
    runsAfter: ['first'],
    nodes: [feature('first'), feature('last')],
    setup(vm) {
      vm.features.registerFeature({ arc: 'device-input', node: 'first' });
      vm.features.registerFeature({ arc: 'device-input', node: 'last', runsAfter: ['middle'] });
      vm.features.enable('device-input', 'first', 1, true);
      vm.features.enable('device-input', 'last', 1, true);
    },
  });
  const r = h.run([Uint8Array.of(1)]);
  assert.deepEqual(order, ['first', 'middle', 'last']);
  assert.deepEqual(r.counts, { 'ethernet-input': 1 });
});

test('pcap in, pcap out', () => {
  const input = path.join(directory, 'in.pcap');
  writePcapFile(input, [{ data: Uint8Array.of(0, 1, 2) }, { data: Uint8Array.of(1, 2, 3) }, { data: Uint8Array.of(0, 4) }]);
  const h = nodeHarness(classifier);
  const r = h.runPcap(input);
  const output = path.join(directory, 'even.pcap');
  assert.equal(r.writePcap('even-node', output), 2);
  assert.deepEqual(
    readPcapFile(output).packets.map((p) => Array.from(p.data)),
    [[0, 1, 2], [0, 4]],
  );
});

test('a node that frees packets itself, or adds a next while running, is accounted for', () => {
  let added = -1;
  const eater = defineNode({
    name: 'eater',
    nexts: { keep: 'kept' },
    process(ctx, buffers, n, nexts) {
      if (added < 0) added = ctx.addNext('late-node');
      let m = 0;
      for (let i = 0; i < n; i++) {
        const bi = buffers[i];
        const first = ctx.pool.bytes[ctx.pool.current[bi]];
        if (first === 0) {
          ctx.pool.freeChain(bi);
          continue;
        }
        buffers[m] = bi;
        nexts[m++] = first === 1 ? 0 : added;
      }
      return m;
    },
  });
  const h = nodeHarness(eater);
  const r = h.run([Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(2)]);
  assert.equal(r.consumed, 1, 'the one it freed');
  // The one sent to a next that had no node yet was dropped by the engine, as in a real graph.
  assert.deepEqual(r.counts, { kept: 1, 'error-drop': 1 });
  assert.equal(r.to('error-drop')[0].input, 2);
  assert.equal(r.buffersInUse, 0);
  assert.equal(h.vm.errorCounter('error-drop', 'next node not resolved'), 1);
  // The next run has a sink for the arc the node added.
  assert.deepEqual(h.run([Uint8Array.of(2)]).counts, { 'late-node': 1 });
});

test('tracing does not change what comes out, for any packets', () => {
  fc.assert(
    // Packets past a buffer (chained) and frames of up to 40, their sizes drawn explicitly.
    fc.property(fc.array(bytesOfLength(0, 5000, [BUFFER_DATA_SIZE]), { maxLength: 40, size: 'max' }), (packets) => {
      const traced = nodeHarness(classifier, { trace: true }).run(packets);
      const untraced = nodeHarness(classifier, { trace: false }).run(packets);
      const view = (r: typeof traced) => r.outputs.map((o) => [o.next, o.input, Array.from(o.bytes), o.error]);
      assert.deepEqual(view(traced), view(untraced));
      assert.deepEqual(traced.errors, untraced.errors);
      assert.ok(untraced.traces.every((t) => t === ''));
      assert.equal(traced.buffersInUse + untraced.buffersInUse, 0);
    }),
    { numRuns: 50 },
  );
});

test('refuses what it cannot run, saying why', () => {
  assert.throws(() => nodeHarness({ name: 'p', type: 'process', run: async () => {} }), /process node/);
  const input = nodeHarness({ name: 'in', type: 'input', process: () => 0 });
  assert.throws(() => input.run([Uint8Array.of(1)]), /input node: it makes its own packets/);
  assert.deepEqual(input.run().outputs, []);
  const small = nodeHarness(classifier, { buffers: 4 });
  assert.throws(() => small.run(Array.from({ length: 5 }, () => Uint8Array.of(0))), /cannot hold 5 packets/);
  assert.equal(small.vm.pool.available, 4);
  assert.throws(() => nodeHarness(classifier).setFeature(1, true), /without a featureArc/);
  assert.equal(HARNESS_INPUT, 'harness-input');
});

test('loadPlugins attaches plugins as the loader does, and reports one that fails by name', async () => {
  const plugin = definePlugin({
    name: 'demo',
    description: 'demo plugin',
    nodes: [classifier],
    commands: [
      {
        path: 'demo hello',
        short: 'Say hello',
        action: (_vm, input, out) => {
          input.expectEnd();
          out.print('hello');
        },
      },
    ],
  });
  const vm = await loadPlugins(new Engine({ buffers: 64 }), [plugin]);
  assert.equal(vm.cli('demo hello'), 'hello');
  assert.ok(vm.node('classifier') !== undefined);

  const broken = definePlugin({
    name: 'broken',
    description: 'throws in init',
    init() {
      throw new Error('no way');
    },
  });
  await assert.rejects(loadPlugins(new Engine({ buffers: 64 }), [broken]), (e: unknown) => {
    assert.ok(e instanceof PluginLoadError);
    assert.match(e.message, /plugin 'broken' failed to initialize: no way/);
    return true;
  });
});

test('ip4Frame builds frames whose headers and checksums parse back', () => {
  const udp = ip4Frame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 53, dport: 5353, ttl: 9, length: 100 });
  assert.equal(udp.length, 100);
  assert.deepEqual(Array.from(udp.subarray(12, 14)), [0x08, 0x00]);
  const ip = parseIp4Header(udp, 14, udp.length - 14);
  assert.ok(ip !== null, 'header checksum verifies');
  assert.deepEqual([ip.src, ip.dst, ip.protocol, ip.ttl, ip.totalLength], [parseIp4('10.0.0.1'), parseIp4('10.0.0.2'), 17, 9, 86]);
  assert.ok(udp4ChecksumIsValid(udp, 34, 66, ip.src, ip.dst));
  assert.deepEqual([(udp[34] << 8) | udp[35], (udp[36] << 8) | udp[37]], [53, 5353]);

  const tcp = ip4Frame({ protocol: 'tcp', sport: 40000, dport: 443 });
  const tcpIp = parseIp4Header(tcp, 14, 50)!;
  assert.ok(tcp4ChecksumIsValid(tcp, 34, tcp.length - 34, tcpIp.src, tcpIp.dst));
  const icmp = ip4Frame({ protocol: 'icmp', icmpType: 8 });
  assert.equal(icmp4Check(icmp, 34, icmp.length - 34), Icmp4Check.OK);
  const fragment = ip4Frame({ fragmentOffset: 3, flags: 1 });
  assert.deepEqual([parseIp4Header(fragment, 14, 50)!.fragmentOffset, parseIp4Header(fragment, 14, 50)!.flags], [3, 1]);
  assert.equal(ip4Frame({ length: 10 }).length, 42, 'never shorter than its headers');
  assert.throws(() => ip4Frame({ src: '10.0.0' }), /bad IPv4 address '10\.0\.0'/);
  assert.throws(() => ip4Frame({ dstMac: 'zz' }), /bad MAC address 'zz'/);
});
