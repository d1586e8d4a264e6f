// Shared by the benches of the IPv4 nodes: the anchor setup (pg0 10.10.1.1/24, pg1
// 10.10.2.1/24, neighbor 10.10.2.2, 48.0.0.0/8 via it) built through the CLI, frames of
// realistic packets prepared once, and a case maker that calls a node's process directly on
// the prepared frame at vectors 1, 32 and 256 (the engine's dispatch is measured by the path
// bench), resetting the packet state between runs with the cheapest writes that do it.

import { createEngine } from '../../src/index.ts';
import { NONE } from '../../src/vlib/buffer-pool.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import type { NodeRuntime } from '../../src/vlib/node-runtime.ts';
import { internetChecksum } from '../../src/wire/checksum.ts';
import type { BenchCase } from '../harness.ts';

export const VECTORS = [1, 32, 256] as const;

/** VPP's per-packet cost of the node at 256/frame on this machine kind (clocks at 2.6 GHz → ns), where known. */
export const VPP_NS: Readonly<Record<string, number>> = {
  'ip4-input': 10.6 / 2.6,
  'ip4-lookup': 8.9 / 2.6,
  'ip4-rewrite': 10.0 / 2.6,
};

export function anchorEngine(extra: readonly string[] = []): Engine {
  const vm = createEngine({ buffers: 4096 });
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'set interface state pg0 up',
    'set interface state pg1 up',
    'set interface ip address pg0 10.10.1.1/24',
    'set interface ip address pg1 10.10.2.1/24',
    'set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02',
    'ip route add 48.0.0.0/8 via 10.10.2.2',
    ...extra,
  ]) vm.cli(line);
  vm.seal();
  return vm;
}

export interface DatagramFields {
  src?: number;
  dst?: number;
  ttl?: number;
  protocol?: number;
  /** The IP payload (default: UDP 1234 → 5678 with 22 bytes, checksum 0). */
  payload?: Uint8Array;
}

/** The anchor's 50-byte datagram (10.10.1.2 → 48.0.0.1 UDP), or a variation. */
export function datagram(f: DatagramFields = {}): Uint8Array {
  const payload = f.payload ?? Uint8Array.from([0x04, 0xd2, 0x16, 0x2e, 0, 30, 0, 0, ...Array.from({ length: 22 }, (_, i) => i)]);
  const d = new Uint8Array(20 + payload.length);
  d[0] = 0x45;
  d[2] = d.length >>> 8;
  d[3] = d.length;
  d[8] = f.ttl ?? 64;
  d[9] = f.protocol ?? 17;
  const src = f.src ?? 0x0a0a0102;
  const dst = f.dst ?? 0x30000001;
  for (let i = 0; i < 4; i++) {
    d[12 + i] = src >>> (24 - 8 * i);
    d[16 + i] = dst >>> (24 - 8 * i);
  }
  const c = internetChecksum(d, 0, 20);
  d[10] = c >>> 8;
  d[11] = c;
  d.set(payload, 20);
  return d;
}

/** Buffers holding `datagrams` (cycled) behind a 14-byte L2 header, current at the IPv4 header, received on pg0. */
export function prepare(vm: Engine, datagrams: readonly Uint8Array[], count: number): Uint32Array {
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const d = datagrams[i % datagrams.length];
    const frame = new Uint8Array(14 + d.length);
    frame.set(d, 14);
    const bi = vm.pool.fromBytes(frame);
    if (bi === NONE) throw new Error('pool empty');
    vm.pool.l2Offset[bi] = vm.pool.current[bi];
    vm.pool.advance(bi, 14);
    vm.pool.l3Offset[bi] = vm.pool.current[bi];
    vm.pool.rxInterface[bi] = 1;
    vm.pool.txInterface[bi] = NONE;
    out[i] = bi;
  }
  return out;
}

/** A process call on a copy of `prepared` (the node may compact or reorder the frame). */
export function caller(rt: NodeRuntime, prepared: Uint32Array): () => number {
  const work = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  const process = rt.definition.process!;
  const n = prepared.length;
  return () => {
    work.set(prepared);
    rt.singleNext = -1;
    return process(rt, work, n, nexts);
  };
}

/** Mean ns per packet of `run` (moving `vector` packets a call) over about `ms` milliseconds: a quick figure for notes. */
export function quickNs(run: () => unknown, vector: number, ms = 150): number {
  for (let i = 0; i < 1000; i++) run();
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 100; i++) run();
    calls += 100;
  }
  return ((performance.now() - t0) * 1e6) / calls / vector;
}

export interface NodeCaseOptions {
  /** Row name (default: the node's name). */
  label?: string;
  /** ns/packet of harness work inside `run` (state resets) to take off before comparing with VPP. */
  overhead?: (vector: number) => number;
}

/** The three vector sizes of one node, `setup(vector)` giving the function to time. */
export function nodeCases(name: string, setup: (vector: number) => () => unknown, options: NodeCaseOptions | string = {}): BenchCase[] {
  const o: NodeCaseOptions = typeof options === 'string' ? { label: options } : options;
  return VECTORS.map((vector) => {
    const run = setup(vector);
    for (let i = 0; i < 1000; i++) run();
    const vpp = VPP_NS[name];
    const overhead = o.overhead?.(vector) ?? 0;
    const note = (ns: number): string => {
      const net = ns - overhead;
      const parts: string[] = [];
      if (overhead > 0) parts.push(`${net.toFixed(2)} ns without the ${overhead.toFixed(2)} ns reset`);
      if (vector === 256 && vpp !== undefined) parts.push(`VPP ${vpp.toFixed(2)} ns: vecnet/VPP ${(net / vpp).toFixed(2)}x`);
      return parts.join('; ');
    };
    return { name: o.label ?? name, vector, packets: vector, run, note };
  });
}
