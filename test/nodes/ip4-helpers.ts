// Shared by the tests of the IPv4 nodes (ip4-input … ip4-drop): IPv4 datagrams built with the
// wire layer's emitters, an engine configured through the CLI as VPP's anchor setup (pg0
// 10.10.1.1/24, pg1 10.10.2.1/24, neighbor 10.10.2.2 on pg1, 48.0.0.0/8 via it), a way to run
// one node's process on hand-made buffers and read where each packet went, and the checks
// every node test makes: random packets never throw, land in a counted next, never read past
// their buffer, and every buffer comes back to the pool.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createEngine } from '../../src/index.ts';
import { BufferFlag, NONE, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { parseIp4 } from '../../src/wire/address.ts';
import { internetChecksum } from '../../src/wire/checksum.ts';
import { emitIp4Header } from '../../src/wire/ip4.ts';
import { fillUdp4Checksum } from '../../src/wire/udp.ts';
import { BUFFER_DATA_SIZE, bytesOfLength } from '../arbitraries.ts';

export const PG0_MAC = '02:fe:00:00:00:00';
export const PG1_MAC = '02:fe:00:00:00:01';
export const NEIGHBOR_MAC = '02:00:00:00:00:02';

export function ip(text: string): number {
  const a = parseIp4(text);
  if (a === null) throw new Error(`bad ip ${text}`);
  return a;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface Ip4Fields {
  src?: string;
  dst?: string;
  ttl?: number;
  protocol?: number;
  tos?: number;
  identification?: number;
  /** The flags-and-fragment-offset word (0x4000: DF). */
  fragmentWord?: number;
  /** IP options (padded to 4 bytes). */
  options?: Uint8Array;
  /** The IP payload as it is (a UDP or ICMP message built with `udp` / `icmp`). */
  payload?: Uint8Array;
  /** Corrupt the header checksum. */
  badChecksum?: boolean;
  /** Total Length to write instead of the real one. */
  totalLength?: number;
}

/** An IPv4 datagram (UDP 1234 → 5678 with 22 bytes of data unless `payload` says otherwise). */
export function ip4(f: Ip4Fields = {}): Uint8Array {
  const src = ip(f.src ?? '10.10.1.2');
  const dst = ip(f.dst ?? '48.0.0.1');
  const protocol = f.protocol ?? 17;
  const options = f.options ?? new Uint8Array(0);
  const headerLength = 20 + ((options.length + 3) & ~3);
  const payload = f.payload ?? udp({ src: f.src ?? '10.10.1.2', dst: f.dst ?? '48.0.0.1' });
  const out = new Uint8Array(headerLength + payload.length);
  const word = f.fragmentWord ?? 0;
  emitIp4Header({
    dscp: (f.tos ?? 0) >>> 2, ecn: (f.tos ?? 0) & 3, totalLength: f.totalLength ?? out.length,
    identification: f.identification ?? 0, flags: word >>> 13, fragmentOffset: word & 0x1fff,
    ttl: f.ttl ?? 64, protocol, src, dst, options,
  }, out, 0);
  out.set(payload, headerLength);
  if (f.badChecksum) out[11] ^= 0x5a;
  return out;
}

export interface UdpFields {
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  data?: Uint8Array;
  checksum?: 'good' | 'zero' | 'bad';
  /** UDP length field to write instead of the real one. */
  length?: number;
}

/** A UDP datagram whose checksum covers the pseudo-header of `src` → `dst`. */
export function udp(f: UdpFields = {}): Uint8Array {
  const data = f.data ?? Uint8Array.from({ length: 22 }, (_, i) => i);
  const out = new Uint8Array(8 + data.length);
  const srcPort = f.srcPort ?? 1234;
  const dstPort = f.dstPort ?? 5678;
  out[0] = srcPort >>> 8;
  out[1] = srcPort;
  out[2] = dstPort >>> 8;
  out[3] = dstPort;
  out[4] = out.length >>> 8;
  out[5] = out.length;
  out.set(data, 8);
  const mode = f.checksum ?? 'zero';
  if (mode !== 'zero') {
    fillUdp4Checksum(out, 0, out.length, ip(f.src ?? '10.10.1.2'), ip(f.dst ?? '48.0.0.1'));
    if (mode === 'bad') out[7] ^= 0x33;
  }
  if (f.length !== undefined) {
    out[4] = f.length >>> 8;
    out[5] = f.length;
  }
  return out;
}

export interface IcmpFields {
  type?: number;
  code?: number;
  /** The rest-of-header word (identifier << 16 | sequence for echo). */
  rest?: number;
  data?: Uint8Array;
}

/** An ICMP message with a correct checksum (an echo request with id 7, seq 1 by default). */
export function icmp(f: IcmpFields = {}): Uint8Array {
  const data = f.data ?? Uint8Array.from({ length: 22 }, (_, i) => 0x61 + i);
  const out = new Uint8Array(8 + data.length);
  out[0] = f.type ?? 8;
  out[1] = f.code ?? 0;
  const rest = f.rest ?? ((7 << 16) | 1);
  out[4] = rest >>> 24;
  out[5] = rest >>> 16;
  out[6] = rest >>> 8;
  out[7] = rest;
  out.set(data, 8);
  const c = internetChecksum(out, 0, out.length);
  out[2] = c >>> 8;
  out[3] = c;
  return out;
}

/** True when the IPv4 header at `offset` sums to all ones (its checksum is right). */
export function headerChecksumOk(bytes: Uint8Array, offset = 0): boolean {
  return internetChecksum(bytes, offset, (bytes[offset] & 0xf) * 4) === 0;
}

export interface Ip4Setup {
  vm: Engine;
  pg0: number;
  pg1: number;
}

/** VPP's anchor setup through the CLI, plus `extra` lines. */
export function ip4Engine(extra: readonly string[] = [], buffers = 2048): Ip4Setup {
  const vm = createEngine({ buffers });
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'set interface state pg0 up',
    'set interface state pg1 up',
    'set interface ip address pg0 10.10.1.1/24',
    'set interface ip address pg1 10.10.2.1/24',
    `set ip neighbor pg1 10.10.2.2 ${NEIGHBOR_MAC}`,
    'ip route add 48.0.0.0/8 via 10.10.2.2',
    ...extra,
  ]) vm.cli(line);
  vm.seal();
  return { vm, pg0: vm.vnet.interfaces.find('pg0'), pg1: vm.vnet.interfaces.find('pg1') };
}

export interface LoadOptions {
  /** rx interface (default 1). */
  rx?: number;
  /** Bytes of (zeroed) L2 header in front, as ethernet-input leaves it (default 14). */
  l2?: number;
  flags?: number;
  /** Opaque words to set: index → value. */
  opaque?: Readonly<Record<number, number>>;
}

/** Puts a datagram in a new buffer with current data at its first byte, as ethernet-input leaves it. */
export function load(vm: Engine, datagram: Uint8Array, o: LoadOptions = {}): number {
  const l2 = o.l2 ?? 14;
  const frame = new Uint8Array(l2 + datagram.length);
  frame.set(datagram, l2);
  const bi = vm.pool.fromBytes(frame);
  if (bi === NONE) throw new Error('pool empty');
  vm.pool.l2Offset[bi] = vm.pool.current[bi];
  vm.pool.advance(bi, l2);
  vm.pool.l3Offset[bi] = vm.pool.current[bi];
  vm.pool.rxInterface[bi] = o.rx ?? 1;
  vm.pool.txInterface[bi] = NONE;
  if (o.flags !== undefined) vm.pool.flags[bi] |= o.flags;
  for (const [k, v] of Object.entries(o.opaque ?? {})) vm.pool.opaque[bi * OPAQUE_WORDS + Number(k)] = v;
  return bi;
}

export interface NodeRun {
  /** Next node name per packet handed on, in order (buffers may include ones the node made). */
  next: string[];
  /** The buffers handed on (the node may have compacted or appended). */
  buffers: number[];
}

/** Calls a node's process directly on `bis` and says where each packet went (the engine's view of it). */
export function runNode(vm: Engine, name: string, bis: readonly number[]): NodeRun {
  const rt = vm.node(name);
  if (rt === undefined) throw new Error(`no node ${name}`);
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  buffers.set(bis);
  rt.singleNext = -1;
  const m = rt.definition.process!(rt, buffers, bis.length, nexts);
  const next: string[] = [];
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    const k = rt.singleNext >= 0 ? rt.singleNext : nexts[i];
    assert.ok(k < rt.nextNames.length, `${name}: next index ${k} is not one of its nexts`);
    next.push(rt.nextNames[k]);
    out.push(buffers[i]);
  }
  rt.singleNext = -1;
  return { next, buffers: out };
}

/** Frees buffers a test is done with. */
export function release(vm: Engine, bis: readonly number[]): void {
  for (const bi of bis) vm.pool.freeChain(bi);
}

/** The packet's current data as bytes. */
export function bytesOf(vm: Engine, bi: number): Uint8Array {
  return vm.pool.toBytes(bi);
}

/** Every error counter of a node, by text. */
export function errorsOf(vm: Engine, node: string): Record<string, number> {
  const rt = vm.node(node);
  const out: Record<string, number> = {};
  if (rt === undefined) return out;
  for (let k = 0; k < rt.errors.length; k++) if (rt.errors[k] !== 0) out[rt.errorNames[k]] = rt.errors[k];
  return out;
}

/** Sum of every error counter of a node. */
export function errorTotal(vm: Engine, node: string): number {
  const rt = vm.node(node);
  return rt === undefined ? 0 : rt.errors.reduce((a, b) => a + b, 0);
}

/** Datagram lengths where a packet (behind a 14- or 15-byte L2 header) fills its first buffer, or two. */
export const CHAIN_EDGES = [BUFFER_DATA_SIZE - 14, 2 * BUFFER_DATA_SIZE - 14];

/**
 * The datagrams of a "random and malformed" property, their lengths drawn explicitly (up to
 * `maxLength`, a jumbo frame's by default, so chained over buffers): random bytes (at least
 * `minLength`: 20 for a node behind ip4-input, which lets no shorter header through), and
 * well-formed datagrams that `make` builds around random data, half of them with one byte
 * of their first `mutable` set to a random value.
 */
export function malformedDatagrams(
  make: (data: Uint8Array) => Uint8Array,
  { minLength = 0, maxLength = 9000, mutable = 48 }: { minLength?: number; maxLength?: number; mutable?: number } = {},
): fc.Arbitrary<Uint8Array> {
  const random = bytesOfLength(minLength, maxLength, CHAIN_EDGES);
  const mutated = fc.tuple(bytesOfLength(0, maxLength - 60, CHAIN_EDGES.map((e) => e - 28)), fc.boolean(), fc.nat(mutable - 1), fc.nat(255))
    .map(([data, mutate, at, value]) => {
      const d = make(data);
      if (mutate && at < d.length) d[at] = value;
      return d;
    });
  return fc.oneof(random, mutated);
}

/**
 * The "never reads past its buffer" check: runs `node` on the same packet twice, once with
 * the bytes after the packet (to the end of its last buffer) all 0x00 and once all 0xff, and
 * returns both outcomes — the next, the packet's bytes, and the node's error counters — which
 * must be equal: a node that looked beyond the packet could tell them apart. `beforeEach` resets
 * any state of the node's own (a throttle) so both runs start alike.
 */
export function outcomeBeyondEnd(vm: Engine, node: string, datagram: Uint8Array, o: LoadOptions = {}, beforeEach?: () => void): { a: string; b: string } {
  const outcomes: string[] = [];
  for (const fill of [0x00, 0xff]) {
    beforeEach?.();
    const bi = load(vm, datagram, o);
    let last = bi;
    while (vm.pool.flags[last] & BufferFlag.NEXT_PRESENT) last = vm.pool.nextBuffer[last];
    const end = vm.pool.current[last] + vm.pool.length[last];
    vm.pool.bytes.fill(fill, end, (last + 1) * vm.pool.stride);
    const before = JSON.stringify(errorsOf(vm, node));
    const run = runNode(vm, node, [bi]);
    const after = errorsOf(vm, node);
    const parts = run.buffers.map((b, i) => `${run.next[i]}:${hex(bytesOf(vm, b))}`);
    outcomes.push(`${parts.join('|')} errors ${before} -> ${JSON.stringify(after)}`);
    release(vm, run.buffers);
    // Make the two runs start from the same counters.
    const rt = vm.node(node)!;
    const was = JSON.parse(before) as Record<string, number>;
    for (let k = 0; k < rt.errors.length; k++) rt.errors[k] = was[rt.errorNames[k]] ?? 0;
  }
  return { a: outcomes[0], b: outcomes[1] };
}

/** A next that drops must be counted: asserts that the node's counters grew by one per dropped packet. */
export function assertCountedDrops(vm: Engine, node: string, run: NodeRun, before: number): void {
  const drops = run.next.filter((n) => n === 'error-drop').length;
  assert.ok(errorTotal(vm, node) - before >= drops, `${node}: ${drops} drops but counters grew by ${errorTotal(vm, node) - before}`);
}

/** A packet as ip4-lookup leaves it: opaque word 0 holds the adjacency for its destination in table `fib`. */
export function looked(vm: Engine, datagram: Uint8Array, o: LoadOptions = {}, fib = 0): number {
  const bi = load(vm, datagram, o);
  const dst = ((datagram[16] << 24) | (datagram[17] << 16) | (datagram[18] << 8) | datagram[19]) >>> 0;
  const lb = vm.vnet.fib.lookup(fib, dst);
  vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY] = vm.vnet.loadBalances.bucketsOf(lb)[0];
  return bi;
}
