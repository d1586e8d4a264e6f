// The sample plugin: the node alone in a harness (swaps MACs, sends the frame back out of
// its rx interface, leaves short frames to ethernet-input, never throws), then the whole
// plugin through the CLI and pcap files as a user runs it: a pg stream in, a capture out.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { createEngine, formatMac, ip4Frame, loadPlugins, nodeHarness, readPcapFile, writePcapFile } from '../../../src/index.ts';
import sample from '../index.ts';
import sampleNode from '../sample-node.ts';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vecnet-sample-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));

const macs = (frame: Uint8Array) => ({ dst: formatMac(frame, 0), src: formatMac(frame, 6) });

// #region docs:harness-test
test('sample swaps the MACs and sends the frame back out of the interface it came in on', () => {
  const h = nodeHarness(sampleNode, { featureArc: 'device-input' });
  const frame = ip4Frame({ srcMac: '02:00:00:00:00:10', dstMac: '02:fe:00:00:00:00' });
  const r = h.run([frame], { rxInterface: 1 });

  const [out] = r.to('interface-output');
  assert.deepEqual(macs(out.bytes), { dst: '02:00:00:00:00:10', src: '02:fe:00:00:00:00' });
  assert.deepEqual(out.bytes.subarray(12), frame.subarray(12), 'nothing but the MACs changes');
  assert.equal(out.txInterface, 1);
  assert.deepEqual(r.errors, { 'Mac swap packets processed': 1 });
  assert.equal(r.traces[0], 'SAMPLE: sw_if_index 1, next index 0\n  new src 02:fe:00:00:00:00 -> new dst 02:00:00:00:00:10');
});
// #endregion docs:harness-test

test('a frame too short for an Ethernet header is left alone and goes on along the arc', () => {
  const h = nodeHarness(sampleNode, { featureArc: 'device-input' });
  const r = h.run([Uint8Array.of(1, 2, 3), ip4Frame()]);
  assert.deepEqual(r.packets('ethernet-input'), [Uint8Array.of(1, 2, 3)]);
  assert.equal(r.counts['interface-output'], 1);
  assert.deepEqual(r.errors, { 'Mac swap packets processed': 1 });
  assert.equal(r.traces[0], 'SAMPLE: sw_if_index 1, next index 1');
});

test('switched off for an interface, frames pass untouched', () => {
  const h = nodeHarness(sampleNode, { featureArc: 'device-input' });
  h.setFeature(2, false);
  const frame = ip4Frame();
  const r = h.run([frame, frame], { rxInterface: 2 });
  assert.deepEqual(r.packets('ethernet-input'), [frame, frame]);
  assert.deepEqual(r.errors, {});
});

test('random frames never throw, and every frame leaves once, swapped or passed on', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 300 }), fc.integer({ min: 1, max: 5 }), (frames, rx) => {
      const r = nodeHarness(sampleNode, { featureArc: 'device-input' }).run(frames, { rxInterface: rx });
      assert.equal(r.outputs.length, frames.length);
      assert.equal(r.buffersInUse, 0);
      for (const o of r.outputs) {
        const original = frames[o.input];
        if (original.length < 14) {
          assert.equal(o.next, 'ethernet-input');
          assert.deepEqual(o.bytes, original);
        } else {
          assert.equal(o.next, 'interface-output');
          assert.deepEqual([...o.bytes.subarray(0, 6), ...o.bytes.subarray(6, 12)], [...original.subarray(6, 12), ...original.subarray(0, 6)]);
          assert.equal(o.txInterface, rx);
        }
      }
    }),
    { numRuns: 100 },
  );
});

// ---- The whole plugin, as a user drives it.

// #region docs:cli-test
/** pg0 receives a stream; pg1 is where forwarding sends it when the sample is off. */
async function engineWithSample() {
  const vm = await loadPlugins(createEngine({ buffers: 2048 }), [sample]);
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
function play(vm: Awaited<ReturnType<typeof engineWithSample>>, frames: Uint8Array[]) {
  const n = streams++;
  const input = path.join(directory, `in-${n}.pcap`);
  const pg0 = path.join(directory, `pg0-${n}.pcap`);
  const pg1 = path.join(directory, `pg1-${n}.pcap`);
  writePcapFile(input, frames.map((data) => ({ data })));
  vm.cli(`packet-generator new pcap ${input} source pg0 name s${n}`);
  vm.cli(`packet-generator capture pg0 pcap ${pg0}`);
  vm.cli(`packet-generator capture pg1 pcap ${pg1}`);
  vm.cli(`packet-generator enable-stream s${n}`);
  vm.runUntilIdle();
  return { pg0: readPcapFile(pg0).packets.map((p) => p.data), pg1: readPcapFile(pg1).packets.map((p) => p.data) };
}

test('CLI and pcap: `sample macswap pg0` sends the stream back out of pg0, MACs swapped; disabled, it is forwarded', async () => {
  const vm = await engineWithSample();
  const frames = [1, 2, 3].map((i) => ip4Frame({ srcMac: `02:00:00:00:00:1${i}`, dst: `48.0.0.${i}` }));

  vm.cli('sample macswap pg0');
  const on = play(vm, frames);
  assert.equal(on.pg1.length, 0);
  assert.deepEqual(on.pg0.map(macs), [1, 2, 3].map((i) => ({ dst: `02:00:00:00:00:1${i}`, src: '02:fe:00:00:00:00' })));
  assert.deepEqual(on.pg0.map((f) => f.subarray(12)), frames.map((f) => f.subarray(12)));
  assert.match(vm.cli('show errors'), /\s+3\s+sample\s+Mac swap packets processed\s+error/);

  vm.cli('sample macswap pg0 disable');
  const off = play(vm, frames);
  assert.equal(off.pg0.length, 0);
  assert.equal(off.pg1.length, 3, 'routed as if the plugin were not there');
  assert.deepEqual(macs(off.pg1[0]), { dst: '02:00:00:00:00:02', src: '02:fe:00:00:00:01' });
});
// #endregion docs:cli-test

test('CLI: the trace shows the sample record; bad input is one clear line and changes nothing', async () => {
  const vm = await engineWithSample();
  // #region docs:trace-test
  vm.cli('sample macswap pg0');
  vm.cli('trace add pg-input 1');
  play(vm, [ip4Frame({ srcMac: '02:00:00:00:00:10' })]);
  assert.match(vm.cli('show trace'), /: sample\n  SAMPLE: sw_if_index 1, next index 0\n    new src 02:fe:00:00:00:00 -> new dst 02:00:00:00:00:10\n/);
  // #endregion docs:trace-test

  assert.throws(() => vm.cli('sample macswap'), /please specify an interface/);
  assert.throws(() => vm.cli('sample macswap pg7'), /unknown interface 'pg7'/);
  assert.throws(() => vm.cli('sample macswap pg0 pg1'), /unknown input `pg1'/);
  assert.deepEqual(vm.features.enabledOn('device-input', 1), ['sample']);
  assert.deepEqual(vm.features.enabledOn('device-input', 2), []);
});
