// The IPv4 forwarding path as VPP's performance anchor runs it: 64-byte IPv4/UDP frames from
// a packet-generator stream on pg0 through pg-input → ethernet-input → ip4-input →
// ip4-lookup → ip4-rewrite → pg1-output → pg1-tx, one core, the engine's own dispatch
// (vm.runOnce turns, one frame per turn). Cases: 1 and 254 flows (254 destinations, each
// in a different route when the FIB is large), a FIB of 1 route and of 100 000 random routes
// (/16../32, the flows' destinations among them), 256 and 1 packets per frame.
//
// mitata times whole turns (Mpps of the whole graph, generator included); the report then
// runs each case for a fixed time and reads the engine's runtime counters as `show runtime`
// does, giving ns/packet per node, the forwarding work (ethernet-input through pg1-tx, the
// nodes VPP's 15.3 ns covers) and the ratios to VPP measured on this machine kind:
//   per packet at 256/frame: ethernet-input 5.4, ip4-input 10.6, ip4-lookup 8.9,
//   ip4-rewrite 10.0, output + tx 6.5 clocks at 2.6 GHz = 39.6 clocks = 15.3 ns;
//   pg-input 28.6 clocks (11 ns); 37.9 Mpps whole graph; 2.98 Mpps at 1 packet per frame.
// Target: forwarding work ≤ 31 ns/packet at 256/frame (≤ 2× VPP).

import { createEngine } from '../../src/index.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import { writePcapFile } from '../../src/vlib/pcap.ts';
import { internetChecksum } from '../../src/wire/checksum.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocationCheck, benchReport, runIfMain, vectorBench } from '../harness.ts';

const VPP_FORWARDING_NS = 15.3;
const VPP_MPPS_256 = 37.9;
const VPP_MPPS_1 = 2.98;
const FORWARDING_NODES = ['ethernet-input', 'ip4-input', 'ip4-lookup', 'ip4-rewrite', 'pg1-output', 'pg1-tx'];

interface Case {
  flows: number;
  routes: number;
  frame: number;
}

/** A deterministic generator, so every run builds the same FIB. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

function frame(dst: number, srcPort: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set([0x02, 0xfe, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0x10, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0, 10, 10, 1, 2], 14);
  f[30] = dst >>> 24;
  f[31] = dst >>> 16;
  f[32] = dst >>> 8;
  f[33] = dst;
  const c = internetChecksum(f, 14, 20);
  f[24] = c >>> 8;
  f[25] = c;
  f.set([srcPort >>> 8, srcPort & 0xff, 0x16, 0x2e, 0, 30, 0, 0], 34);
  for (let i = 42; i < 64; i++) f[i] = i - 42;
  return f;
}

interface Built {
  vm: Engine;
  turn: () => void;
  close: () => void;
  fibBuildMs: number;
}

function build(c: Case): Built {
  const vm = createEngine({ buffers: 16384, mode: 'polling' });
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'set interface state pg0 up',
    'set interface state pg1 up',
    'set interface ip address pg0 10.10.1.1/24',
    'set interface ip address pg1 10.10.2.1/24',
    'set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02',
    'ip route add 48.0.0.0/8 via 10.10.2.2',
  ]) vm.cli(line);
  const rand = lcg(0x5eed);
  const dsts: number[] = [];
  const t0 = performance.now();
  if (c.routes > 1) {
    // Random /16../32 routes outside 10/8; the flows go to hosts inside some of them.
    const fib = vm.vnet.fib;
    const nextHop = 0x0a0a0202;
    for (let i = 0; i < c.routes; i++) {
      let address = rand();
      if (address >>> 24 === 10 || address >>> 28 >= 0xe || address >>> 24 === 0) address = (address & 0x00ffffff) | 0x30000000;
      const length = 16 + (rand() % 17);
      const mask = (0xffffffff << (32 - length)) >>> 0;
      address = (address & mask) >>> 0;
      fib.addRoute(0, address, length, [{ nextHop }]);
      if (dsts.length < c.flows && i % Math.floor(c.routes / c.flows) === 0) dsts.push((address | (rand() & ~mask & 0xffffffff)) >>> 0);
    }
  }
  const fibBuildMs = performance.now() - t0;
  while (dsts.length < c.flows) dsts.push((0x30000001 + dsts.length) >>> 0);
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-bench-'));
  const file = join(dir, 'flows.pcap');
  writePcapFile(file, dsts.map((d, i) => ({ data: frame(d, 1234 + i) })));
  vm.cli(`packet-generator new pcap ${file} source pg0 name flows limit 0 maxframe ${c.frame}`);
  vm.cli('packet-generator enable-stream flows');
  vm.seal();
  return { vm, turn: () => vm.runOnce(), close: () => rmSync(dir, { recursive: true, force: true }), fibBuildMs };
}

const CASES: Case[] = [
  { flows: 1, routes: 1, frame: 256 },
  { flows: 254, routes: 1, frame: 256 },
  { flows: 1, routes: 100_000, frame: 256 },
  { flows: 254, routes: 100_000, frame: 256 },
  { flows: 1, routes: 1, frame: 1 },
  { flows: 254, routes: 100_000, frame: 1 },
];

const label = (c: Case): string => `ip4-forward ${c.flows} flow${c.flows > 1 ? 's' : ''}, ${c.routes === 1 ? '1 route' : '100k routes'}`;

vectorBench(() =>
  CASES.map((c) => {
    const b = build(c);
    for (let i = 0; i < 2000; i++) b.turn();
    b.close();
    return {
      name: label(c),
      vector: c.frame,
      packets: c.frame,
      run: b.turn,
      note: (ns: number) => {
        const mpps = 1e3 / ns;
        const vpp = c.frame === 256 ? VPP_MPPS_256 : VPP_MPPS_1;
        return `whole graph ${mpps.toFixed(2)} Mpps, VPP ${vpp} Mpps (${(mpps / vpp).toFixed(2)}x)`;
      },
    };
  }),
);

/** Runs a case for `seconds` and reads the runtime counters as `show runtime` does. */
export function runtimeProfile(c: Case, seconds = 1): { perNode: Map<string, number>; mpps: number; forwardingNs: number; fibBuildMs: number } {
  const b = build(c);
  // Once before the warm-up too: the first clear turns the engine's time fields from small
  // integers into doubles (a map change), which would deoptimize the data path mid-run.
  b.vm.clearRuntime();
  // A long warm-up: after cases at 1 packet per frame the nodes' code is re-optimized for
  // full frames (V8 deoptimizes on paths it has no feedback for), which must settle first.
  for (let i = 0; i < 20000; i++) b.turn();
  b.vm.clearRuntime();
  const t0 = performance.now();
  const pg = b.vm.node('pg-input')!;
  while (performance.now() - t0 < seconds * 1000) for (let i = 0; i < 200; i++) b.turn();
  const elapsed = (performance.now() - t0) / 1000;
  const perNode = new Map<string, number>();
  for (const rt of b.vm.nodes) if (rt.vectors > 0) perNode.set(rt.name, rt.timeNs / rt.vectors);
  const forwardingNs = FORWARDING_NODES.reduce((s, n) => s + (perNode.get(n) ?? 0), 0);
  b.close();
  return { perNode, mpps: pg.vectors / elapsed / 1e6, forwardingNs, fibBuildMs: b.fibBuildMs };
}

benchReport(async () => {
  const lines = ['', 'ip4-forward per node (runtime counters, ns/packet; forwarding = ethernet-input … pg1-tx):'];
  for (const c of CASES) {
    const p = runtimeProfile(c);
    const nodes = ['pg-input', ...FORWARDING_NODES].map((n) => `${n} ${(p.perNode.get(n) ?? 0).toFixed(2)}`).join(', ');
    const vppMpps = c.frame === 256 ? VPP_MPPS_256 : VPP_MPPS_1;
    lines.push(`  ${label(c)}, ${c.frame}/frame: ${p.mpps.toFixed(2)} Mpps (VPP ${vppMpps}, ratio vecnet/VPP ${(p.mpps / vppMpps).toFixed(2)})`);
    lines.push(`    ${nodes}`);
    if (c.frame === 256) {
      lines.push(`    forwarding work ${p.forwardingNs.toFixed(2)} ns/packet = ${(1e3 / p.forwardingNs).toFixed(1)} Mpps of forwarding; VPP ${VPP_FORWARDING_NS} ns: vecnet/VPP ${(p.forwardingNs / VPP_FORWARDING_NS).toFixed(2)}x (target ≤ 2x, ≤ 31 ns)`);
    }
    if (c.routes > 1 && c.frame === 256 && c.flows === 1) lines.push(`    FIB of ${c.routes} routes built in ${p.fibBuildMs.toFixed(0)} ms`);
  }
  // Steady state allocates nothing: heap and GC count over 20 000 turns of 256 packets.
  const b = build(CASES[0]);
  const { heapDeltaBytes, gcCount } = await allocationCheck(b.turn, 20_000);
  b.close();
  lines.push(`  steady state, 20000 frames of 256: heap ${(heapDeltaBytes / 1024).toFixed(1)} KiB, ${gcCount} GCs, frames created ${b.vm.frames.created}`);
  return lines;
});

await runIfMain(import.meta.url);
