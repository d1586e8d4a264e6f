// Shared by the tests of the two kernel-fd input nodes, tap-input and af-packet-input (root
// only; they skip with the reason otherwise). Each test makes its own namespace (and veth
// for af-packet) under a unique name, removed in `after` even on failure, and writes raw
// frames from inside the namespace with test/interop/inject-frames.ts, so what arrives is
// exactly what was sent (IPv6 is off in the namespace, so the kernel adds nothing of its own).
// Checked: frames come out of the node to ethernet-input with rxInterface, current at the
// Ethernet header, length and rx counters right, a jumbo frame whole in a chain (and back
// out whole to the kernel); odd frames
// never throw and are counted, a frame larger than a read can hold as "frame too long"; an admin-down interface still reads (rx counted) and ethernet-input drops;
// `trace add <node> N`; every buffer accounted (the queue's spare read buffer included).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine } from '../../src/index.ts';
import { NONE } from '../../src/vlib/buffer-pool.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import type { KernelQueues } from '../../src/vnet/devices/kernel-queues.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { ethernet, hex, ipv4, udp } from '../interop/frames.ts';
import { Cleanup, TAG, inNs, ip, kernelSkipReason, runAsync, until } from '../interop/kernel.ts';

const INJECT = fileURLToPath(new URL('../interop/inject-frames.ts', import.meta.url));
/** MTU of the sending Linux interface in the cases with frames larger than a read can hold (16 KiB). */
export const SENDER_MTU = 20000;

export interface KernelInput {
  vm: Engine;
  ns: string;
  /** The Linux interface in `ns` that frames are written out of. */
  peer: string;
  name: string;
  sw: number;
  queues: KernelQueues;
}

export interface KernelInputKind {
  node: 'tap-input' | 'af-packet-input';
  /** The first word of the node's trace line. */
  tracePrefix: string;
  /** Makes the interface for test number `k` (names unique per test) with `cleanup` owning what it makes. */
  make(vm: Engine, cleanup: Cleanup, k: number): Omit<KernelInput, 'vm' | 'queues'>;
  queues(vm: Engine): KernelQueues;
}

/** A namespace with IPv6 off (no router solicitations or MLD reports on our wire). */
export function quietNetns(cleanup: Cleanup, name: string): string {
  const ns = cleanup.netns(name);
  inNs(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1');
  inNs(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1');
  return ns;
}

export { Cleanup, TAG, inNs, ip };

/** Free buffers plus the ones a kernel queue keeps for its next read. */
function accounted(s: KernelInput): number {
  return s.vm.pool.available + s.queues.held;
}

/** What the Linux interface the test writes from has received (`ip -s link`: the RX line's bytes and packets). */
function kernelRxCounters(s: KernelInput): { bytes: number; packets: number } {
  const m = /RX:.*\n\s*(\d+)\s+(\d+)/.exec(inNs(s.ns, 'ip', '-s', 'link', 'show', 'dev', s.peer));
  assert.ok(m, 'no RX counters');
  return { bytes: Number(m[1]), packets: Number(m[2]) };
}

async function inject(s: KernelInput, frames: readonly Uint8Array[]): Promise<void> {
  const r = await runAsync('ip', ['netns', 'exec', s.ns, process.execPath, '--import', 'tsx', INJECT, s.peer, ...frames.map(hex)]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, new RegExp(`"sent":${frames.length}`), r.output);
}

/**
 * Calls an input node's process until it hands out nothing (`beforeCall` runs before each
 * call: a queue marked as holding frames, say); returns the buffers and their next names.
 */
export function drainInputNode(vm: Engine, node: string, beforeCall: () => void = () => {}): { buffers: number[]; nexts: string[] } {
  const rt = vm.node(node)!;
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  const out = { buffers: [] as number[], nexts: [] as string[] };
  for (;;) {
    beforeCall();
    rt.singleNext = -1;
    const n = rt.definition.process!(rt, buffers, 0, nexts);
    if (n === 0) return out;
    for (let i = 0; i < n; i++) {
      out.buffers.push(buffers[i]);
      out.nexts.push(rt.nextNames[nexts[i]]);
    }
  }
}

export function kernelInputTests(kind: KernelInputKind): void {
  const skip = kernelSkipReason(['ip', 'sysctl']);
  const cleanup = new Cleanup();
  after(() => cleanup.run());
  let made = 0;

  const setup = (): KernelInput => {
    const vm = createEngine();
    cleanup.add(() => vm.stop());
    cleanup.add(() => vm.vnet.devices.closeAll());
    const s = { vm, queues: kind.queues(vm), ...kind.make(vm, cleanup, made++) };
    vm.cli(`set interface state ${s.name} up`);
    return s;
  };
  const frameTo = (s: KernelInput): Uint8Array =>
    ethernet(s.vm.vnet.interfaces.macText(s.sw), '02:00:00:00:00:01', 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, udp(1, 2, new Uint8Array(22))));

  const run = (title: string, body: () => Promise<void>): void => {
    test(`${kind.node}: ${title}`, async (t) => {
      if (skip !== null) return t.skip(`${kind.node} ${skip}`);
      await body();
    });
  };

  run('frames read from the kernel come out to ethernet-input with rx interface, current/length and counters', async () => {
    const s = setup();
    const ifs = s.vm.vnet.interfaces;
    for (const bi of drainInputNode(s.vm, kind.node).buffers) s.vm.pool.freeChain(bi); // anything from bring-up
    const free0 = accounted(s);
    const rx0 = ifs.counter(s.sw, InterfaceCounter.RX_PACKETS);
    const bytes0 = ifs.counter(s.sw, InterfaceCounter.RX_BYTES);
    // A jumbo frame (larger than a pool buffer: read into a chain) needs a larger MTU on the sending side.
    inNs(s.ns, 'ip', 'link', 'set', 'dev', s.peer, 'mtu', String(SENDER_MTU));
    const jumbo = ethernet(ifs.macText(s.sw), '02:00:00:00:00:01', 0x88b5, Uint8Array.from({ length: 9000 }, (_, i) => i * 7));
    const frames = [frameTo(s), ethernet('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:01', 0x88b5, new Uint8Array(1500)), jumbo, ethernet(ifs.macText(s.sw), '02:00:00:00:00:01', 0x88b5, new Uint8Array(0))];
    await inject(s, frames);
    const out = drainInputNode(s.vm, kind.node);
    assert.equal(out.buffers.length, frames.length);
    assert.equal(s.vm.errorCounter(kind.node, 'read error'), 0);
    for (let i = 0; i < frames.length; i++) {
      const bi = out.buffers[i];
      assert.equal(out.nexts[i], 'ethernet-input');
      assert.equal(s.vm.pool.rxInterface[bi], s.sw);
      assert.equal(s.vm.pool.txInterface[bi], NONE);
      assert.equal(s.vm.pool.current[bi], s.vm.pool.dataStart(bi), 'current at the Ethernet header');
      assert.deepEqual(s.vm.pool.toBytes(bi), frames[i]);
    }
    const bytes = frames.reduce((n, f) => n + f.length, 0);
    assert.equal(ifs.counter(s.sw, InterfaceCounter.RX_PACKETS), rx0 + frames.length);
    assert.equal(ifs.counter(s.sw, InterfaceCounter.RX_BYTES), bytes0 + bytes);
    const shown = new RegExp(`^${s.name} +\\d+ .*rx packets +${rx0 + frames.length}\\n +rx bytes +${bytes0 + bytes}`, 'm');
    assert.match(s.vm.cli('show interface'), shown);
    // The jumbo frame, still chained, sent back out of the interface: one writev(2), whole.
    const kernel0 = kernelRxCounters(s);
    s.vm.enqueue(`${s.name}-tx`, [out.buffers[frames.indexOf(jumbo)]]);
    s.vm.runUntilIdle();
    assert.equal(ifs.counter(s.sw, InterfaceCounter.TX_ERROR), 0);
    const kernel1 = kernelRxCounters(s);
    assert.equal(kernel1.packets - kernel0.packets, 1, 'the kernel received one frame');
    assert.equal(kernel1.bytes - kernel0.bytes, jumbo.length, 'the kernel received it whole');
    for (const bi of out.buffers) if (bi !== out.buffers[frames.indexOf(jumbo)]) s.vm.pool.freeChain(bi);
    assert.equal(accounted(s), free0);
  });

  run('odd and oversized frames never throw; each is counted where it ends; the engine keeps reading', async () => {
    const s = setup();
    const { vm, sw } = s;
    const ifs = vm.vnet.interfaces;
    // Frames larger than a pool buffer need a larger MTU on the sending side.
    inNs(s.ns, 'ip', 'link', 'set', 'dev', s.peer, 'mtu', String(SENDER_MTU));
    vm.start();
    await until(() => vm.pool.available > 0);
    const free0 = vm.pool.available;
    const rx0 = ifs.counter(sw, InterfaceCounter.RX_PACKETS);
    const bytes0 = ifs.counter(sw, InterfaceCounter.RX_BYTES);
    const ours = ifs.macText(sw);
    const capacity = s.queues.readIovecs * vm.pool.dataSize;
    const odd = [
      ethernet(ours, '02:00:00:00:00:01', 0x0000, new Uint8Array(0)), // bare header
      ethernet(ours, '02:00:00:00:00:01', 0x0800, new Uint8Array(3)), // no room for IPv4
      ethernet('02:00:00:00:00:99', '02:00:00:00:00:01', 0x0800, new Uint8Array(46)), // not our MAC
      ethernet(ours, '02:00:00:00:00:01', 0x88b5, new Uint8Array(vm.pool.dataSize + 500)), // larger than a buffer
      ethernet(ours, '02:00:00:00:00:01', 0x88b5, new Uint8Array(capacity + 100)), // larger than a read can hold
    ];
    await inject(s, odd);
    await inject(s, [frameTo(s)]);
    const read = (): number => ifs.counter(sw, InterfaceCounter.RX_PACKETS) - rx0;
    assert.ok(await until(() => read() === odd.length + 1), `read ${read()} of ${odd.length + 1}`);
    // The frame larger than a buffer is read whole into a chain and ethernet-input drops it as
    // any other frame of an unknown type; the one larger than every buffer a read offers is
    // cut by the kernel, and tap-input drops it as "frame too long".
    assert.equal(vm.errorCounter(kind.node, 'read error'), 0);
    assert.equal(vm.errorCounter(kind.node, 'no free buffers'), 0);
    assert.equal(vm.errorCounter(kind.node, 'frame too long'), 1);
    assert.match(vm.cli('show errors'), new RegExp(`${kind.node} +frame too long`));
    const expected = [...odd, frameTo(s)].reduce((n, f) => n + Math.min(f.length, capacity), 0);
    assert.equal(ifs.counter(sw, InterfaceCounter.RX_BYTES) - bytes0, expected);
    assert.ok(await until(() => vm.node('ip4-input')!.vectors >= 2), 'the good frame after the odd ones went on');
    const errors = vm.cli('show errors');
    assert.match(errors, /ethernet-input +l3 mac mismatch/);
    assert.ok(vm.node('error-drop')!.vectors >= odd.length, errors);
    assert.ok(await until(() => accounted(s) >= free0), 'every buffer back');
  });

  run('an admin-down interface still reads (rx counted); ethernet-input drops with "interface down"', async () => {
    const s = setup();
    const { vm, sw } = s;
    vm.cli(`set interface state ${s.name} down`);
    vm.start();
    const rx0 = vm.vnet.interfaces.counter(sw, InterfaceCounter.RX_PACKETS);
    await inject(s, [frameTo(s), frameTo(s)]);
    assert.ok(await until(() => vm.errorCounter('ethernet-input', 'interface down') >= 2));
    assert.equal(vm.vnet.interfaces.counter(sw, InterfaceCounter.RX_PACKETS), rx0 + 2);
    assert.equal(vm.node('ip4-input')!.vectors, 0);
  });

  run(`trace add ${kind.node} N traces N packets from ${kind.node} on`, async () => {
    const s = setup();
    const { vm, sw } = s;
    vm.start();
    for (const bi of drainInputNode(s.vm, kind.node).buffers) vm.pool.freeChain(bi);
    vm.cli(`trace add ${kind.node} 2`);
    const before = vm.node('ip4-input')!.vectors;
    await inject(s, [frameTo(s), frameTo(s), frameTo(s)]);
    assert.ok(await until(() => vm.node('ip4-input')!.vectors === before + 3), 'traced or not, every packet goes on');
    const text = vm.cli('show trace');
    assert.equal(text.match(/^Packet \d+$/gm)?.length, 2, text);
    const first = new RegExp(
      `^\\d\\d:\\d\\d:\\d\\d:\\d{6}: ${kind.node}\\n  ${kind.tracePrefix}: sw_if_index ${sw} len 64\\n  IP4: 02:00:00:00:00:01 -> ${vm.vnet.interfaces.macText(sw)}\\n  UDP: 10\\.200\\.1\\.2 -> 10\\.200\\.1\\.1`,
      'm',
    );
    assert.match(text, first);
    assert.match(text, new RegExp(`${kind.node}\\n(?:  .*\\n)+\\d\\d:\\d\\d:\\d\\d:\\d{6}: ethernet-input\\n`));
  });
}
