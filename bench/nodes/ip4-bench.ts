// Shared by the benches of the IPv4 nodes: the anchor setup (pg0 10.10.1.1/24, pg1
// 10.10.2.1/24, neighbor 10.10.2.2, 48.0.0.0/8 via it) built through the CLI, realistic
// datagrams put in its pool behind a 14-byte L2 header once, and the cases of a node at
// vectors 1, 32 and 256 made from the bench template's frames (bench/node-bench.ts: each
// call puts back what the node changes and calls its process directly; the engine's
// dispatch is measured by the path bench), with VPP's figure in the notes where known.

import { createEngine } from '../../src/index.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import { internetChecksum } from '../../src/wire/checksum.ts';
import type { BenchCase } from '../harness.ts';
import { frameCases, preparePackets, VECTOR_SIZES, type PreparedFrame } from '../node-bench.ts';

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
  const frames = datagrams.map((d) => {
    const frame = new Uint8Array(14 + d.length);
    frame.set(d, 14);
    return frame;
  });
  return preparePackets(vm, frames, count, { advance: 14 });
}

/** A frame whose node appends packets of its own behind it (ARP requests): they are freed after each call. */
export function freeingAppended(vm: Engine, frame: PreparedFrame): PreparedFrame {
  const { buffers, vector, run } = frame;
  const pool = vm.pool;
  return {
    ...frame,
    run(): number {
      const m = run();
      for (let i = vector; i < m; i++) pool.freeChain(buffers[i]);
      return m;
    },
  };
}

/**
 * The three vector sizes of one node, `frame(vector)` giving each frame (warmed up); the
 * notes take the reset off the figure and compare it with VPP's at 256.
 */
export function nodeCases(name: string, frame: (vector: number) => PreparedFrame, label = name): BenchCase[] {
  const vpp = VPP_NS[name];
  const warm = (vector: number): PreparedFrame => {
    const f = frame(vector);
    for (let i = 0; i < 1000; i++) f.run();
    return f;
  };
  return frameCases(label, VECTOR_SIZES, warm, (ns, reset, vector) => {
    const net = ns - reset;
    const vs = vector === 256 && vpp !== undefined ? `; VPP ${vpp.toFixed(2)} ns: vecnet/VPP ${(net / vpp).toFixed(2)}x` : '';
    return `${net.toFixed(2)} ns without the reset${vs}`;
  });
}
