// pg-input: polled only while a stream is enabled; limit, maxframe (vectors/call), several
// streams sharing a frame, rx metadata and counters, the device-input arc, the trace text,
// rate, a pool that runs dry, templates larger than a buffer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, type Engine } from '../../src/index.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { pgFrames } from './l2-helpers.ts';

const DATA = 'data { IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.10.1.2 -> 48.0.0.1 UDP: 1234 -> 5678 incrementing 22 }';

/** pg0 and pg1 up, pg1's tx recorded instead of sent anywhere. */
function setup(buffers = 4096): { vm: Engine; seen: number[]; rx: number[] } {
  const vm = createEngine({ buffers });
  vm.cli('create packet-generator interface pg0');
  vm.cli('create packet-generator interface pg1');
  vm.cli('set interface state pg0 up');
  const seen: number[] = [];
  const rx: number[] = [];
  vm.registerNode({
    name: 'test-sink',
    process(ctx, b, n) {
      for (let i = 0; i < n; i++) {
        seen.push(ctx.pool.length[b[i]]);
        rx.push(ctx.pool.rxInterface[b[i]]);
      }
      ctx.pool.free(b, 0, n);
      return 0;
    },
  });
  return { vm, seen, rx };
}

function runtimeRow(vm: Engine, node: string): { calls: number; vectors: number; perCall: number; state: string } {
  const line = vm.cli('show runtime').split('\n').find((l) => l.startsWith(`${node} `));
  assert.ok(line !== undefined, `${node} in show runtime`);
  const cols = line.trim().split(/\s+/);
  return { state: cols[1], calls: Number(cols[2]), vectors: Number(cols[3]), perCall: Number(cols[6]) };
}

test('pg-input: disabled until a stream is enabled, polling while one runs, disabled when it reaches its limit', () => {
  const { vm, seen } = setup();
  const rt = vm.node('pg-input')!;
  assert.equal(rt.state, 'disabled');
  vm.cli(`packet-generator new { name s limit 1000 node test-sink ${DATA} }`);
  assert.equal(rt.state, 'disabled', 'a new stream is not enabled (VPP)');
  vm.cli('packet-generator enable-stream s');
  assert.equal(rt.state, 'polling');
  vm.runUntilIdle();
  assert.equal(seen.length, 1000);
  assert.equal(rt.state, 'disabled');
  assert.match(vm.cli('show packet-generator'), /^s\s+No\s+1000\s+limit 1000,/m);
  assert.equal(runtimeRow(vm, 'pg-input').state, 'disabled');
  // Enabling again starts over (VPP resets the count).
  vm.cli('packet-generator enable');
  vm.runUntilIdle();
  assert.equal(seen.length, 2000);
});

test('pg-input: maxframe is the vector size: show runtime reports it as vectors/call', () => {
  const { vm, seen } = setup();
  vm.cli(`packet-generator new { name s limit 3200 maxframe 32 node test-sink ${DATA} }`);
  vm.cli('packet-generator enable');
  vm.runUntilIdle();
  assert.equal(seen.length, 3200);
  const row = runtimeRow(vm, 'pg-input');
  assert.deepEqual([row.calls, row.vectors, row.perCall], [100, 3200, 32]);
  assert.equal(runtimeRow(vm, 'test-sink').perCall, 32);
});

test('pg-input: packets carry the stream interface as rx, no tx, and count rx packets and bytes', () => {
  const { vm, seen, rx } = setup();
  vm.cli(`packet-generator new { name s limit 10 size 64-73 node test-sink ${DATA} }`);
  vm.cli('packet-generator new { name t limit 5 source pg1 node test-sink ' + DATA + ' }');
  vm.cli('packet-generator new { name u limit 4 interface pg1 node test-sink ' + DATA + ' }');
  vm.cli('packet-generator enable');
  vm.runUntilIdle();
  assert.deepEqual(seen.slice(0, 10).sort((a, b) => a - b), [64, 65, 66, 67, 68, 69, 70, 71, 72, 73]);
  const ifs = vm.vnet.interfaces;
  const pg0 = ifs.find('pg0');
  const pg1 = ifs.find('pg1');
  assert.equal(rx.filter((r) => r === pg0).length, 10);
  assert.equal(rx.filter((r) => r === pg1).length, 9, "'source pg1' and 'interface pg1' both stamp pg1");
  assert.equal(ifs.counter(pg0, InterfaceCounter.RX_PACKETS), 10);
  assert.equal(ifs.counter(pg0, InterfaceCounter.RX_BYTES), 64 + 65 + 66 + 67 + 68 + 69 + 70 + 71 + 72 + 73);
  assert.equal(ifs.counter(pg1, InterfaceCounter.RX_PACKETS), 9);
});

test('pg-input: enabled streams share the frame, each up to its maxframe, taking turns', () => {
  const { vm } = setup();
  const order: string[] = [];
  vm.registerNode({
    name: 'test-a',
    process(ctx, b, n) {
      order.push(`a${n}`);
      ctx.pool.free(b, 0, n);
      return 0;
    },
  });
  vm.registerNode({
    name: 'test-b',
    process(ctx, b, n) {
      order.push(`b${n}`);
      ctx.pool.free(b, 0, n);
      return 0;
    },
  });
  vm.cli(`packet-generator new { name a limit 300 maxframe 200 node test-a ${DATA} }`);
  vm.cli(`packet-generator new { name b limit 300 maxframe 200 node test-b ${DATA} }`);
  vm.cli('packet-generator enable');
  vm.runUntilIdle();
  const total = (p: string): number => order.filter((o) => o.startsWith(p)).reduce((s, o) => s + Number(o.slice(1)), 0);
  assert.equal(total('a'), 300);
  assert.equal(total('b'), 300);
  const row = runtimeRow(vm, 'pg-input');
  assert.ok(row.perCall <= 256, 'one frame per call');
  assert.ok(order.includes('b200'), 'the second stream gets the first place in its turn');
});

test('pg-input: the device-input arc is honoured when a feature is on for the interface', () => {
  const { vm } = setup();
  vm.cli('set interface ip address pg0 10.10.1.1/24');
  let featured = 0;
  vm.registerNode({
    name: 'test-device-feature',
    process(ctx, b, n, nexts) {
      featured += n;
      for (let i = 0; i < n; i++) nexts[i] = ctx.featureNext(b[i]);
      return n;
    },
  });
  vm.features.registerFeature({ arc: 'device-input', node: 'test-device-feature' });
  vm.features.enable('device-input', 'test-device-feature', vm.vnet.interfaces.find('pg0'), true);
  vm.cli(`packet-generator new { name s limit 20 ${DATA} }`);
  vm.cli('packet-generator enable');
  vm.runUntilIdle();
  assert.equal(featured, 20);
  assert.equal(runtimeRow(vm, 'ethernet-input').vectors, 20, 'then on to ethernet-input, the arc end');
  // Off again: straight to ethernet-input.
  vm.features.enable('device-input', 'test-device-feature', vm.vnet.interfaces.find('pg0'), false);
  vm.cli('packet-generator enable');
  vm.runUntilIdle();
  assert.equal(featured, 20);
  assert.equal(runtimeRow(vm, 'ethernet-input').vectors, 40);
});

test("pg-input: trace is VPP's: stream, length, sw_if_index, next node, buffer line, packet", () => {
  const { vm } = setup();
  vm.cli(`packet-generator new { name trc limit 3 ${DATA} }`);
  vm.cli('trace add pg-input 1');
  vm.cli('packet-generator enable');
  vm.runUntilIdle();
  const text = vm.cli('show trace');
  assert.match(text, /: pg-input\n {2}stream trc, 64 bytes, sw_if_index 1, next_node ethernet-input\n {2}current data 0, length 64, buffer-pool 0, ref-count 1, trace handle 0x0\n {2}IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00\n {2}UDP: 10.10.1.2 -> 48.0.0.1\n {4}tos 0x00, ttl 64, length 50, checksum 0x3faf dscp CS0 ecn NON_ECN\n {4}fragment id 0x0000\n {2}UDP: 1234 -> 5678\n {4}length 30, checksum 0x3b2c\n/);
  // An ip4-input stream shows the IPv4 header first.
  vm.cli('clear trace');
  vm.cli('packet-generator new { name ip limit 1 node ip4-input data { UDP: 10.10.1.2 -> 48.0.0.1 UDP: 1 -> 2 incrementing 4 } }');
  vm.cli('trace add pg-input 1');
  vm.cli('packet-generator enable-stream ip');
  vm.runUntilIdle();
  assert.match(vm.cli('show trace'), /stream ip, 32 bytes, sw_if_index 1, next_node ip4-input\n.*\n {2}UDP: 10.10.1.2 -> 48.0.0.1\n/);
});

test('pg-input: a rate limits the stream to about that many packets per second', async () => {
  const { vm, seen } = setup();
  vm.cli(`packet-generator new { name s rate 200 maxframe 8 node test-sink ${DATA} }`);
  vm.cli('packet-generator enable');
  vm.start();
  await new Promise((resolve) => setTimeout(resolve, 500));
  vm.stop();
  // 100 packets in 0.5 s. Never more than the rate allows (plus one frame of burst); fewer
  // only when a loaded machine starves the loop, so the lower bound is loose.
  assert.ok(seen.length <= 100 + 8 + 12, `sent ${seen.length}: more than the rate allows`);
  assert.ok(seen.length >= 10, `sent ${seen.length}: the stream hardly ran`);
  assert.match(vm.cli('show packet-generator'), /rate 2\.00e2 pps/);
});

test('pg-input: when the pool runs dry it sends what it has, counts the shortfall and leaks nothing', () => {
  const vm = createEngine({ buffers: 100 });
  vm.cli('create packet-generator interface pg0');
  let held: Uint32Array | null = new Uint32Array(60);
  vm.pool.alloc(held, 0, 60);
  let got = 0;
  vm.registerNode({
    name: 'test-sink',
    process(ctx, b, n) {
      got += n;
      ctx.pool.free(b, 0, n);
      return 0;
    },
  });
  vm.cli(`packet-generator new { name s limit 200 maxframe 64 node test-sink ${DATA} }`);
  vm.cli('packet-generator enable');
  vm.runOnce(); // 40 buffers left: the first frame is short
  assert.equal(got, 40);
  assert.equal(vm.errorCounter('pg-input', 'buffer allocation failure'), 24);
  vm.pool.free(held, 0, 60);
  held = null;
  vm.runUntilIdle();
  assert.equal(got, 200);
  assert.equal(vm.pool.available, 100);
});

test('pg-input: a template larger than one buffer is sent as a chain', () => {
  const vm = createEngine({ buffers: 256, dataSize: 1024 });
  vm.cli('create packet-generator interface pg0');
  const lengths: number[] = [];
  vm.registerNode({
    name: 'test-sink',
    process(ctx, b, n) {
      for (let i = 0; i < n; i++) lengths.push(ctx.pool.packetLength(b[i]));
      ctx.pool.free(b, 0, n);
      return 0;
    },
  });
  const big = pgFrames('IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.0.0.2 -> 10.0.0.1 UDP: 1 -> 2 incrementing 3000');
  vm.vnet.pg.addStream({ name: 'big', packets: big, limit: 3, node: 'test-sink' });
  vm.cli('packet-generator enable');
  vm.runUntilIdle();
  assert.deepEqual(lengths, [3042, 3042, 3042]);
  assert.equal(vm.pool.available, 256);
});
