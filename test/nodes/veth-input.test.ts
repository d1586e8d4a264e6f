// veth-input: a frame sent on one end of `create veth-pair a b` comes out of veth-input on
// the other end with rxInterface set, current/length untouched, fresh metadata, next
// ethernet-input and rx packets/bytes counted (`show interface`); short, random and
// oversized frames never throw and are counted where they end; an admin-down receiver still
// takes the frame off the ring (counted rx, as a NIC does) and ethernet-input drops it;
// `trace add veth-input N` shows the node's record; every buffer is accounted for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createEngine, type Engine } from '../../src/index.ts';
import { NONE } from '../../src/vlib/buffer-pool.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { RX_RING_SIZE } from '../../src/vnet/devices/rx-rings.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { ethernet, ipv4, udp } from '../interop/frames.ts';
import { BUFFER_DATA_SIZE, bytesOfLength } from '../arbitraries.ts';

function pair(vm: Engine, up = true): { a: number; b: number } {
  assert.equal(vm.cli('create veth-pair va vb').trim(), 'va vb');
  if (up) {
    vm.cli('set interface state va up');
    vm.cli('set interface state vb up');
  }
  return { a: vm.vnet.interfaces.find('va'), b: vm.vnet.interfaces.find('vb') };
}

function udp64(vm: Engine, sw: number): Uint8Array {
  return ethernet(vm.vnet.interfaces.macText(sw), '02:00:00:00:00:01', 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, udp(1, 2, new Uint8Array(22))));
}

/** The rx packets/bytes `show interface` prints for `name` (0 when not shown). */
function shownRx(vm: Engine, name: string): { packets: number; bytes: number } {
  const text = vm.cli('show interface');
  const block = new RegExp(`^(${name} +\\d+ .*\\n?(?: {20,}.*\\n?)*)`, 'm').exec(text);
  assert.ok(block, `no ${name} in:\n${text}`);
  const get = (label: string): number => Number(new RegExp(`${label} +(\\d+)`).exec(block[1])?.[1] ?? 0);
  return { packets: get('rx packets'), bytes: get('rx bytes') };
}

/** Calls veth-input's process once, as dispatch would, and returns what it handed out. */
function drain(vm: Engine): { buffers: number[]; nexts: string[] } {
  const rt = vm.node('veth-input')!;
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  rt.singleNext = -1;
  const n = rt.definition.process!(rt, buffers, 0, nexts);
  return { buffers: [...buffers.subarray(0, n)], nexts: [...nexts.subarray(0, n)].map((k) => rt.nextNames[k]) };
}

test('veth-input: frames sent on va come out on vb to ethernet-input with rx interface, current/length and counters', () => {
  const vm = createEngine();
  const { a, b } = pair(vm);
  const free0 = vm.pool.available;
  const frames = [udp64(vm, b), ethernet('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:01', 0x88b5, new Uint8Array(1500 - 0))];
  const sent = frames.map((f) => vm.pool.fromBytes(f));
  const starts = sent.map((bi) => vm.pool.current[bi]);
  // Metadata of the sender's graph must not cross the cable.
  vm.pool.txInterface[sent[0]] = a;
  vm.pool.error[sent[0]] = 7;
  vm.enqueue('va-tx', sent);
  vm.runOnce(); // va-tx: both frames on vb's ring
  const out = drain(vm);
  assert.deepEqual(out.buffers, sent, 'the same buffers, in order (no copy)');
  assert.deepEqual(out.nexts, ['ethernet-input', 'ethernet-input']);
  for (let i = 0; i < sent.length; i++) {
    const bi = sent[i];
    assert.equal(vm.pool.rxInterface[bi], b);
    assert.equal(vm.pool.txInterface[bi], NONE);
    assert.equal(vm.pool.error[bi], 0);
    assert.equal(vm.pool.current[bi], starts[i], 'current at the Ethernet header');
    assert.equal(vm.pool.packetLength(bi), frames[i].length);
  }
  const bytes = frames[0].length + frames[1].length;
  assert.equal(vm.vnet.interfaces.counter(b, InterfaceCounter.RX_PACKETS), 2);
  assert.equal(vm.vnet.interfaces.counter(b, InterfaceCounter.RX_BYTES), bytes);
  assert.deepEqual(shownRx(vm, 'vb'), { packets: 2, bytes });
  assert.deepEqual(shownRx(vm, 'va'), { packets: 0, bytes: 0 });
  assert.deepEqual(drain(vm).buffers, [], 'the ring is empty');
  for (const bi of out.buffers) vm.pool.freeChain(bi);
  assert.equal(vm.pool.available, free0);
});

test('veth-input: through the graph, ethernet-input gets the frames; a full ring drops at the sender, counted', () => {
  const vm = createEngine();
  const { a, b } = pair(vm);
  const free0 = vm.pool.available;
  const frame = udp64(vm, b);
  vm.enqueue('va-tx', [vm.pool.fromBytes(frame), vm.pool.fromBytes(frame), vm.pool.fromBytes(frame)]);
  vm.runUntilIdle();
  assert.equal(vm.node('veth-input')!.vectors, 3);
  assert.equal(vm.node('ethernet-input')!.vectors, 3);
  assert.deepEqual(shownRx(vm, 'vb'), { packets: 3, bytes: 3 * frame.length });
  assert.equal(vm.pool.available, free0);
  // More than a ring holds in one turn: the rest is dropped by va-tx (tx-error, drops).
  const many = RX_RING_SIZE + 76;
  const buffers: number[] = [];
  for (let i = 0; i < many; i++) buffers.push(vm.pool.fromBytes(frame));
  vm.enqueue('va-tx', buffers);
  vm.runUntilIdle();
  const ifs = vm.vnet.interfaces;
  assert.equal(ifs.counter(b, InterfaceCounter.RX_PACKETS), 3 + RX_RING_SIZE);
  assert.equal(ifs.counter(a, InterfaceCounter.TX_ERROR), 76);
  assert.equal(ifs.counter(a, InterfaceCounter.DROPS), 76);
  assert.ok(vm.node('veth-input')!.calls > RX_RING_SIZE / FRAME_SIZE, 'the ring is drained a frame per call');
  assert.equal(vm.pool.available, free0);
});

test('veth-input: short, oversized and random frames never throw, are counted rx and dropped with a reason', () => {
  const vm = createEngine();
  const { b } = pair(vm);
  const free0 = vm.pool.available;
  const ifs = vm.vnet.interfaces;
  // 1 byte, a bare header, a jumbo frame (chained buffers) to an unknown ethertype.
  const odd = [new Uint8Array(1), new Uint8Array(13), ethernet(ifs.macText(b), '02:00:00:00:00:01', 0x88b5, new Uint8Array(8000))];
  vm.enqueue('va-tx', odd.map((f) => vm.pool.fromBytes(f)));
  vm.runUntilIdle();
  assert.equal(ifs.counter(b, InterfaceCounter.RX_PACKETS), 3);
  assert.equal(ifs.counter(b, InterfaceCounter.RX_BYTES), 1 + 13 + 8014);
  assert.equal(vm.errorCounter('ethernet-input', 'ethernet frame too short'), 2);
  assert.equal(vm.errorCounter('ethernet-input', 'unknown ethernet type'), 1);
  assert.equal(vm.pool.available, free0);
  fc.assert(
    // Lengths drawn explicitly, up to a jumbo frame (chained); fast-check's default size would keep them under 12 bytes.
    fc.property(fc.array(bytesOfLength(1, 9018, [BUFFER_DATA_SIZE]), { minLength: 1, maxLength: 40, size: 'max' }), (frames) => {
      const before = ifs.counter(b, InterfaceCounter.RX_PACKETS);
      const bytesBefore = ifs.counter(b, InterfaceCounter.RX_BYTES);
      vm.enqueue('va-tx', frames.map((f) => vm.pool.fromBytes(f)));
      vm.runUntilIdle();
      assert.equal(ifs.counter(b, InterfaceCounter.RX_PACKETS), before + frames.length);
      assert.equal(ifs.counter(b, InterfaceCounter.RX_BYTES), bytesBefore + frames.reduce((n, f) => n + f.length, 0));
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 60 },
  );
});

test('veth-input: an admin-down receiver still takes frames off the ring (rx counted); ethernet-input drops them', () => {
  const vm = createEngine();
  const { b } = pair(vm);
  vm.cli('set interface state vb down');
  const free0 = vm.pool.available;
  vm.enqueue('va-tx', [vm.pool.fromBytes(udp64(vm, b)), vm.pool.fromBytes(udp64(vm, b))]);
  vm.runUntilIdle();
  assert.equal(vm.vnet.interfaces.counter(b, InterfaceCounter.RX_PACKETS), 2);
  assert.equal(vm.errorCounter('ethernet-input', 'interface down'), 2);
  assert.equal(vm.node('ip4-input')!.vectors, 0);
  assert.equal(vm.pool.available, free0);
  // Frames still queued when the pair is deleted are freed with the ring.
  vm.enqueue('va-tx', [vm.pool.fromBytes(udp64(vm, b))]);
  vm.runOnce();
  vm.cli('delete veth-pair va');
  vm.runUntilIdle();
  assert.equal(vm.pool.available, free0);
});

test('veth-input: trace add veth-input N traces N packets, from veth-input on; tracing changes nothing', () => {
  const run = (traced: boolean): { vm: Engine; b: number } => {
    const vm = createEngine();
    const { b } = pair(vm);
    if (traced) vm.cli('trace add veth-input 2');
    vm.enqueue('va-tx', [0, 1, 2].map(() => vm.pool.fromBytes(udp64(vm, b))));
    vm.runUntilIdle();
    return { vm, b };
  };
  const { vm, b } = run(true);
  const text = vm.cli('show trace');
  assert.equal(text.match(/^Packet \d+$/gm)?.length, 2, text);
  assert.match(text, new RegExp(`^\\d\\d:\\d\\d:\\d\\d:\\d{6}: veth-input\\n  veth: sw_if_index ${b} len 64\\n  IP4: 02:00:00:00:00:01 -> ${vm.vnet.interfaces.macText(b)}\\n  UDP: 10\\.200\\.1\\.2 -> 10\\.200\\.1\\.1`, 'm'));
  assert.match(text, /veth-input\n(?:  .*\n)+\d\d:\d\d:\d\d:\d{6}: ethernet-input\n  frame: hw-if-index \d+, sw-if-index \d+/);
  const plain = run(false).vm;
  for (const node of ['veth-input', 'ethernet-input', 'ip4-input', 'ip4-drop']) {
    assert.equal(vm.node(node)!.vectors, plain.node(node)!.vectors, node);
  }
  assert.equal(vm.cli('show errors'), plain.cli('show errors'));
  vm.cli('clear trace');
  assert.match(vm.cli('show trace'), /No packets in trace buffer/);
});
