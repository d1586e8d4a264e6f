// The plugin author's test bench for one graph node: a small engine with the node under
// test in the middle, an input node in front that turns hand-made byte arrays (or a pcap
// file) into buffers, and a capture sink behind every next arc. A run feeds packets,
// dispatches until the graph is idle, and hands back what left through each next (bytes
// and metadata), the node's error counters for that run, and its trace records. Drops go
// to the engine's real `error-drop`, captured through its drop hook with their reason.
//
// A node that sits on a feature arc (`ip4-unicast`, `device-input`, …) is run as a
// feature: the harness registers an arc of that name whose start node is its input node
// and whose end is a sink named after the real arc's end (`ip4-lookup`, `ethernet-input`,
// …), so `ctx.featureNext(bi)` works and packets that continue along the arc are read
// back under that name. The engine has no interfaces, FIB or neighbours (no vnet): a node
// that needs them is tested through `createEngine()` and the CLI instead.
//
// `loadPlugins` attaches plugin definitions to an engine the way the loader does at start
// (init, then nodes, arcs, features, commands), for CLI tests of a whole plugin.

import { BufferFlag, NONE, OPAQUE_WORDS } from './buffer-pool.ts';
import { Engine } from './engine.ts';
import type { NodeDefinition } from './node.ts';
import type { NodeRuntime } from './node-runtime.ts';
import { readPcapFile, writePcapFile } from './pcap.ts';
import type { PluginDefinition } from './plugin.ts';
import { attachPlugins, type PluginRecord } from './plugin-loader.ts';
import type { StartupConfig } from './startup-conf.ts';
import { parseIp4, parseMac } from '../wire/address.ts';
import { internetChecksum } from '../wire/checksum.ts';
import { fillTcp4Checksum } from '../wire/tcp.ts';
import { fillUdp4Checksum } from '../wire/udp.ts';

/** Name of the harness's input node (the first record of every trace). */
export const HARNESS_INPUT = 'harness-input';

/** Where packets that continue along an arc go, for the arcs vecnet has. */
const ARC_ENDS: Readonly<Record<string, string>> = {
  'device-input': 'ethernet-input',
  'ip4-unicast': 'ip4-lookup',
  'ip4-output': 'interface-output',
  'interface-output': 'interface-tx',
};

/** Opaque words a test may preset (0 … 5); 6 and 7 belong to the feature arcs. */
const PRESET_OPAQUE_WORDS = OPAQUE_WORDS - 2;

/** One packet to feed, with the metadata a previous node would have left on it. */
export interface HarnessPacket {
  /** The packet's bytes, from the first byte the node under test's predecessor kept (an Ethernet frame, say). */
  readonly bytes: Uint8Array;
  /** sw_if_index it arrived on (default: the run's `rxInterface`, else 1). */
  readonly rxInterface?: number;
  /**
   * Bytes to step over before the node sees the packet, as ethernet-input does for an L3
   * node (14): `l2Offset` stays at the first byte, current data and `l3Offset` move on.
   */
  readonly advance?: number;
  /** Opaque words 0 … 5 to preset (adjacency, fib index, …). */
  readonly opaque?: readonly number[];
  /** Buffer flags to preset (`BufferFlag.LOCALLY_ORIGINATED`, …). */
  readonly flags?: number;
}

/** A packet as it left the node under test. */
export interface HarnessOutput {
  /** Name of the next node it was sent to (`error-drop` for drops). */
  readonly next: string;
  /** Index of the packet in the list that was fed (its position in the pcap file). */
  readonly input: number;
  /** The bytes from the buffer's current data to its end, as the next node would see them. */
  readonly bytes: Uint8Array;
  readonly rxInterface: number;
  /** sw_if_index to send on, or NONE (0xffffffff) when the node set none. */
  readonly txInterface: number;
  /** For drops: `node: reason` of the error the dropping node set; '' otherwise. */
  readonly error: string;
  /** A copy of the buffer's opaque words. */
  readonly opaque: Uint32Array;
  readonly flags: number;
}

export interface NodeHarnessOptions {
  /**
   * Run the node as a feature on this arc (`ip4-unicast`, `device-input`, or a name of
   * your own); packets that go on along the arc are captured under `arcEnd`.
   */
  readonly featureArc?: string;
  /** Name of the arc's end node as outputs show it (default: the real one for vecnet's arcs, else `feature-arc-end`). */
  readonly arcEnd?: string;
  /** Before/after constraints for the node on the arc (irrelevant unless `setup` adds other features). */
  readonly runsBefore?: readonly string[];
  readonly runsAfter?: readonly string[];
  /**
   * With a feature arc: switch the node on for every interface packets arrive on (default
   * true). Pass false when the plugin's own action (a CLI command) switches it on, or to
   * test that a switched-off node is skipped; `setFeature` does it by hand.
   */
  readonly autoEnable?: boolean;
  /** Buffers in the pool (default 4096). */
  readonly buffers?: number;
  /** Trace every packet fed (default true; tracing must not change what a node does). */
  readonly trace?: boolean;
  /**
   * Other nodes to register before the node under test: a sibling it names in `siblingOf`,
   * a node it hands packets to that should run for real rather than be captured.
   */
  readonly nodes?: readonly NodeDefinition[];
  /**
   * Runs once everything is registered, before the first run: plugin state, other features
   * on the arc, switching the node on through the plugin's own action.
   */
  readonly setup?: (vm: Engine) => void;
}

export interface RunOptions {
  /** Default sw_if_index of the packets fed (1). */
  readonly rxInterface?: number;
  /** Default `advance` of the packets fed (0). */
  readonly advance?: number;
}

/** What one run produced. */
export interface NodeRunResult {
  /** Every packet that left the node under test, in the order the next nodes received them. */
  readonly outputs: readonly HarnessOutput[];
  /** Packets sent to one next node (by the node's name, as in its `nexts`), in order. */
  to(next: string): HarnessOutput[];
  /** The bytes of the packets sent to one next node, in order. */
  packets(next: string): Uint8Array[];
  /** Count of packets per next node name. */
  readonly counts: Readonly<Record<string, number>>;
  /** The node's error counters by text (as `show errors` prints them), counted during this run; only non-zero ones. */
  readonly errors: Readonly<Record<string, number>>;
  /** One error counter by text, 0 when it did not count. */
  error(text: string): number;
  /** The node under test's trace record per fed packet ('' when it left none). */
  readonly traces: readonly string[];
  /** The whole `show trace` text of the run. */
  readonly trace: string;
  /** Packets the node neither sent on nor dropped (freed or kept itself). */
  readonly consumed: number;
  /** Buffers still allocated after the run (0 unless the node keeps packets). */
  readonly buffersInUse: number;
  /** Buffers freed twice during the run (always a bug). */
  readonly doubleFrees: number;
  /** Sizes of the vectors the node under test was called with. */
  readonly vectors: readonly number[];
  /** Writes the packets sent to `next` to a pcap file; returns how many. */
  writePcap(next: string, path: string): number;
}

/** A one-node graph for tests. Make one per test (or per group of runs sharing state). */
export class NodeHarness {
  readonly vm: Engine;
  /** The node under test's runtime (its `errors`, `nextNames`, …). */
  readonly node: NodeRuntime;
  readonly definition: NodeDefinition;
  private readonly arcName: string | undefined;
  private readonly arcEndName: string;
  private arcIndex = -1;
  private readonly autoEnable: boolean;
  private readonly tracing: boolean;
  /** Interfaces the test switched the feature on or off for by hand. */
  private readonly explicitFeature = new Map<number, boolean>();
  private readonly sinks = new Set<string>();
  // Per run:
  private outputs: HarnessOutput[] = [];
  private inputOf = new Map<number, number>();
  private vectorSizes: number[] = [];

  constructor(definition: NodeDefinition, options: NodeHarnessOptions = {}) {
    const type = definition.type ?? 'internal';
    if (type === 'process') throw new TypeError(`node '${definition.name}' is a process node: the harness runs vector nodes`);
    this.definition = definition;
    this.vm = new Engine({ buffers: options.buffers ?? 4096, mode: 'polling' });
    this.autoEnable = options.autoEnable ?? true;
    this.tracing = options.trace ?? true;
    this.arcName = options.featureArc;
    this.arcEndName = options.arcEnd ?? (options.featureArc === undefined ? '' : (ARC_ENDS[options.featureArc] ?? 'feature-arc-end'));
    const vm = this.vm;

    if (this.arcName !== undefined) {
      if (this.arcEndName === definition.name) throw new TypeError(`arc end '${this.arcEndName}' is the node under test`);
      this.arcIndex = vm.features.registerArc({ name: this.arcName, startNodes: [HARNESS_INPUT], endNode: this.arcEndName });
    }
    const harness = this;
    const arcEndNext = this.arcName === undefined ? -1 : 1;
    vm.registerNode({
      name: HARNESS_INPUT,
      nexts: this.arcName === undefined ? { node: definition.name } : { node: definition.name, arcEnd: this.arcEndName },
      trace: (ctx, bi) =>
        `packet ${harness.inputOf.get(bi) ?? -1}, ${ctx.pool.packetLength(bi)} bytes, sw_if_index ${ctx.pool.rxInterface[bi]}`,
      process(ctx, buffers, n, nexts) {
        if (harness.arcIndex < 0) {
          ctx.toSingleNext(0);
          return n;
        }
        const features = ctx.engine.features;
        const rx = ctx.pool.rxInterface;
        for (let i = 0; i < n; i++) {
          const k = features.start(harness.arcIndex, HARNESS_INPUT, rx[buffers[i]], buffers[i]);
          nexts[i] = k < 0 ? arcEndNext : k;
        }
        return n;
      },
    });
    for (const helper of options.nodes ?? []) vm.registerNode(helper);

    // The node under test, wrapped so the harness sees each vector's size.
    const process = definition.process;
    const sizes = (n: number): void => {
      this.vectorSizes.push(n);
    };
    this.node = vm.registerNode(
      process === undefined
        ? definition
        : {
            ...definition,
            process: (ctx, buffers, n, nexts) => {
              sizes(n);
              return process(ctx, buffers, n, nexts);
            },
          },
    );
    if (this.arcName !== undefined) {
      vm.features.registerFeature({
        arc: this.arcName,
        node: definition.name,
        runsBefore: options.runsBefore,
        runsAfter: options.runsAfter,
        owner: 'node-harness',
      });
    }

    vm.dropHooks.push((buffers, n) => {
      for (let i = 0; i < n; i++) this.capture('error-drop', buffers[i]);
    });
    options.setup?.(vm);
    if (this.arcName !== undefined) this.addSink(this.arcEndName);
    this.addSinks();
    vm.seal();
  }

  /** Switches the node (as a feature) on or off for one interface. */
  setFeature(swIfIndex: number, on: boolean): void {
    if (this.arcName === undefined) throw new TypeError('setFeature: the harness was made without a featureArc');
    this.explicitFeature.set(swIfIndex, on);
    this.vm.features.enable(this.arcName, this.definition.name, swIfIndex, on);
  }

  /** The node's error counters by text, totals since the harness was made (zeros included). */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    this.node.errorNames.forEach((name, k) => {
      out[name] = this.node.errors[k];
    });
    return out;
  }

  /** Feeds packets through the node and runs the graph until it is idle. */
  run(packets: readonly (Uint8Array | HarnessPacket)[] = [], options: RunOptions = {}): NodeRunResult {
    const vm = this.vm;
    const pool = vm.pool;
    if (packets.length > 0 && this.node.type !== 'internal') {
      throw new TypeError(`node '${this.node.name}' is an ${this.node.type} node: it makes its own packets, run() it without any`);
    }
    this.outputs = [];
    this.inputOf = new Map();
    this.vectorSizes = [];
    vm.traces.clear();
    const errorsBefore = Float64Array.from(this.node.errors);
    const doubleFreesBefore = pool.doubleFrees;
    const availableBefore = pool.available;

    const indices = this.prepare(packets, options, this.tracing);
    const slots: number[] = [];
    for (let p = 0; p < indices.length; p++) {
      slots.push(pool.traceSlot[indices[p]]);
      this.inputOf.set(indices[p], p);
    }
    this.addSinks();
    if (packets.length > 0) vm.enqueue(HARNESS_INPUT, indices);
    vm.runUntilIdle();
    // A node may add next arcs while it runs (addNext); their packets were dropped as
    // unresolved, which the counts below show. Give them sinks for the next run.
    this.addSinks();

    const errors: Record<string, number> = {};
    this.node.errorNames.forEach((name, k) => {
      const delta = this.node.errors[k] - errorsBefore[k];
      if (delta !== 0) errors[name] = delta;
    });
    const traces = slots.map((slot) => {
      const record = slot === NONE ? undefined : vm.traces.packets[slot]?.records.find((r) => r.node === this.node.name);
      return record?.text ?? '';
    });
    const outputs = this.outputs;
    const counts: Record<string, number> = {};
    for (const o of outputs) counts[o.next] = (counts[o.next] ?? 0) + 1;
    const to = (next: string): HarnessOutput[] => outputs.filter((o) => o.next === next);
    return {
      outputs,
      to,
      packets: (next) => to(next).map((o) => o.bytes),
      counts,
      errors,
      error: (text) => errors[text] ?? 0,
      traces,
      trace: vm.traces.format(Math.max(1, packets.length)),
      consumed: packets.length - new Set(outputs.filter((o) => o.input >= 0).map((o) => o.input)).size,
      buffersInUse: availableBefore - pool.available,
      doubleFrees: pool.doubleFrees - doubleFreesBefore,
      vectors: [...this.vectorSizes],
      writePcap: (next, path) => writePcapFile(path, to(next).map((o) => ({ data: o.bytes }))),
    };
  }

  /**
   * Allocates buffers holding `packets` with their metadata set as `run` sets it (and, with
   * a feature arc, the node switched on for their interfaces), without running anything.
   * Benchmarks use it to build a frame once (bench/node-bench.ts). Throws, leaving no
   * buffer behind, when the pool is too small or an `advance` does not fit.
   */
  prepare(packets: readonly (Uint8Array | HarnessPacket)[], options: RunOptions = {}, trace = false): Uint32Array {
    const vm = this.vm;
    const pool = vm.pool;
    const indices = new Uint32Array(packets.length);
    for (let p = 0; p < packets.length; p++) {
      const item = packets[p];
      const spec: HarnessPacket = item instanceof Uint8Array ? { bytes: item } : item;
      const bi = pool.fromBytes(spec.bytes);
      if (bi === NONE) {
        pool.free(indices, 0, p);
        throw new RangeError(`the harness's pool (${pool.count} buffers) cannot hold ${packets.length} packets: pass a larger 'buffers'`);
      }
      const advance = spec.advance ?? options.advance ?? 0;
      if (!Number.isInteger(advance) || advance < 0 || advance > pool.length[bi]) {
        pool.free(indices, 0, p);
        pool.freeChain(bi);
        throw new RangeError(`packet ${p}: cannot advance ${advance} bytes into a ${spec.bytes.length}-byte first buffer`);
      }
      pool.l2Offset[bi] = pool.current[bi];
      pool.advance(bi, advance);
      pool.l3Offset[bi] = advance > 0 ? pool.current[bi] : 0;
      pool.rxInterface[bi] = spec.rxInterface ?? options.rxInterface ?? 1;
      pool.txInterface[bi] = NONE;
      pool.flags[bi] |= spec.flags ?? 0;
      pool.opaque.fill(0, bi * OPAQUE_WORDS, (bi + 1) * OPAQUE_WORDS);
      const opaque = spec.opaque ?? [];
      for (let k = 0; k < Math.min(opaque.length, PRESET_OPAQUE_WORDS); k++) pool.opaque[bi * OPAQUE_WORDS + k] = opaque[k] >>> 0;
      if (trace) {
        pool.flags[bi] |= BufferFlag.TRACED;
        pool.traceSlot[bi] = vm.traces.open();
        vm.traces.active = true;
      }
      indices[p] = bi;
    }
    if (this.arcName !== undefined && this.autoEnable) {
      const seen = new Set<number>();
      for (let p = 0; p < packets.length; p++) seen.add(pool.rxInterface[indices[p]]);
      for (const sw of seen) {
        if (!this.explicitFeature.has(sw)) this.vm.features.enable(this.arcName, this.definition.name, sw, true);
      }
    }
    return indices;
  }

  /**
   * With a feature arc: enters buffer `bi` into the arc as the arc's start node would, so
   * that the node under test can call `featureNext` on it; returns whether the node is on
   * for the packet's interface. Without a feature arc: true.
   */
  enterArc(bi: number): boolean {
    if (this.arcIndex < 0) return true;
    return this.vm.features.start(this.arcIndex, HARNESS_INPUT, this.vm.pool.rxInterface[bi], bi) >= 0;
  }

  /** Feeds every packet of a pcap file (Ethernet frames) through the node. */
  runPcap(path: string, options: RunOptions = {}): NodeRunResult {
    return this.run(
      readPcapFile(path).packets.map((p) => p.data),
      options,
    );
  }

  /** A sink for every next arc of the node under test that leads nowhere yet. */
  private addSinks(): void {
    for (const name of this.node.nextNames) {
      if (name === 'error-drop' || this.vm.node(name) !== undefined) continue;
      this.addSink(name);
    }
  }

  private addSink(name: string): void {
    if (this.sinks.has(name) || this.vm.node(name) !== undefined) return;
    this.sinks.add(name);
    this.vm.registerNode({
      name,
      traceBeforeProcess: true,
      trace: (ctx, bi) => `captured by the harness: ${ctx.pool.packetLength(bi)} bytes`,
      process: (ctx, buffers, n) => {
        for (let i = 0; i < n; i++) this.capture(name, buffers[i]);
        ctx.pool.free(buffers, 0, n);
        return 0;
      },
    });
  }

  private capture(next: string, bi: number): void {
    const pool = this.vm.pool;
    this.outputs.push({
      next,
      input: this.inputOf.get(bi) ?? -1,
      bytes: pool.toBytes(bi),
      rxInterface: pool.rxInterface[bi],
      txInterface: pool.txInterface[bi],
      error: next === 'error-drop' ? this.vm.formatDropReason(pool.error[bi]) : '',
      opaque: pool.opaque.slice(bi * OPAQUE_WORDS, (bi + 1) * OPAQUE_WORDS),
      flags: pool.flags[bi] & ~(BufferFlag.TRACED | BufferFlag.FREE),
    });
  }
}

/** A harness around one node: see `NodeHarness`. */
export function nodeHarness(definition: NodeDefinition, options: NodeHarnessOptions = {}): NodeHarness {
  return new NodeHarness(definition, options);
}

/** A plugin that failed to attach in `loadPlugins`. */
export class PluginLoadError extends Error {
  readonly code = 'EPLUGIN';
}

/**
 * Attaches plugin definitions to an engine as the loader does at start: each plugin's
 * `init` (with its config section's values from `sections`, defaults otherwise), then its
 * nodes, feature arcs, features, next arcs and CLI commands. Throws a `PluginLoadError`
 * with the loader's one-line reasons when any plugin fails. Returns the engine.
 */
export async function loadPlugins(
  vm: Engine,
  plugins: readonly PluginDefinition[],
  sections: StartupConfig['sections'] = {},
): Promise<Engine> {
  const records: PluginRecord[] = plugins.map((definition) => ({
    name: definition.name,
    directory: '(test)',
    entry: '(test)',
    state: 'loaded',
    definition,
  }));
  const problems: string[] = [];
  await attachPlugins(vm, { paths: ['(test)'], plugins: records }, { sections }, (line) => problems.push(line));
  if (problems.length > 0) throw new PluginLoadError(problems.join('; '));
  return vm;
}

/** What `ip4Frame` builds: every field has a default, so tests name only what matters to them. */
export interface Ip4FrameSpec {
  /** Destination MAC (default 02:fe:00:00:00:00, a pg interface's). */
  readonly dstMac?: string;
  /** Source MAC (default 02:00:00:00:00:10). */
  readonly srcMac?: string;
  /** Addresses as dotted quads or host-order u32s (default 10.10.1.2 → 48.0.0.1). */
  readonly src?: string | number;
  readonly dst?: string | number;
  /** 'udp' (default), 'tcp', 'icmp' or a protocol number (then no L4 header is written). */
  readonly protocol?: 'udp' | 'tcp' | 'icmp' | number;
  /** UDP/TCP ports (default 1234 → 5678); for ICMP, `icmpType`/`icmpCode` (default echo request 8/0). */
  readonly sport?: number;
  readonly dport?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly ttl?: number;
  /** The IPv4 Flags field (2 = DF) and the fragment offset in 8-byte units. */
  readonly flags?: number;
  readonly fragmentOffset?: number;
  /** Whole frame length in bytes, padded with a counting payload (default 64, at least the headers). */
  readonly length?: number;
}

const PROTOCOL_NUMBERS = { icmp: 1, tcp: 6, udp: 17 } as const;

/**
 * An Ethernet II frame carrying IPv4 and a UDP, TCP or ICMP header, every checksum right:
 * the hand-made packet of plugin tests and benches. Throws a TypeError on a bad address.
 */
export function ip4Frame(spec: Ip4FrameSpec = {}): Uint8Array {
  const mac = (text: string): Uint8Array => {
    const value = parseMac(text);
    if (value === null) throw new TypeError(`ip4Frame: bad MAC address '${text}'`);
    return value;
  };
  const address = (value: string | number): number => {
    if (typeof value === 'number') return value >>> 0;
    const parsed = parseIp4(value);
    if (parsed === null) throw new TypeError(`ip4Frame: bad IPv4 address '${value}'`);
    return parsed;
  };
  const protocol = typeof spec.protocol === 'number' ? spec.protocol & 0xff : PROTOCOL_NUMBERS[spec.protocol ?? 'udp'];
  const l4Length = protocol === 6 ? 20 : protocol === 17 || protocol === 1 ? 8 : 0;
  const fragment = (spec.fragmentOffset ?? 0) !== 0;
  const headers = 14 + 20 + (fragment ? 0 : l4Length);
  const length = Math.max(spec.length ?? 64, headers);
  const frame = new Uint8Array(length);
  frame.set(mac(spec.dstMac ?? '02:fe:00:00:00:00'), 0);
  frame.set(mac(spec.srcMac ?? '02:00:00:00:00:10'), 6);
  frame[12] = 0x08;
  frame[13] = 0x00;
  for (let i = headers; i < length; i++) frame[i] = (i - headers) & 0xff;
  const ip = 14;
  const src = address(spec.src ?? '10.10.1.2');
  const dst = address(spec.dst ?? '48.0.0.1');
  const totalLength = length - 14;
  const view = new DataView(frame.buffer);
  frame[ip] = 0x45;
  view.setUint16(ip + 2, totalLength);
  view.setUint16(ip + 6, (((spec.flags ?? 0) & 7) << 13) | ((spec.fragmentOffset ?? 0) & 0x1fff));
  frame[ip + 8] = spec.ttl ?? 64;
  frame[ip + 9] = protocol;
  view.setUint32(ip + 12, src);
  view.setUint32(ip + 16, dst);
  view.setUint16(ip + 10, internetChecksum(frame, ip, 20));
  const l4 = ip + 20;
  if (fragment) return frame;
  const l4Bytes = totalLength - 20;
  if (protocol === 17) {
    view.setUint16(l4, spec.sport ?? 1234);
    view.setUint16(l4 + 2, spec.dport ?? 5678);
    view.setUint16(l4 + 4, l4Bytes);
    fillUdp4Checksum(frame, l4, l4Bytes, src, dst);
  } else if (protocol === 6) {
    view.setUint16(l4, spec.sport ?? 1234);
    view.setUint16(l4 + 2, spec.dport ?? 5678);
    frame[l4 + 12] = 5 << 4;
    frame[l4 + 13] = 0x02; // SYN
    view.setUint16(l4 + 14, 65535);
    fillTcp4Checksum(frame, l4, l4Bytes, src, dst);
  } else if (protocol === 1) {
    frame[l4] = spec.icmpType ?? 8;
    frame[l4 + 1] = spec.icmpCode ?? 0;
    view.setUint16(l4 + 2, internetChecksum(frame, l4, l4Bytes));
  }
  return frame;
}
