// The bench template for one graph node (a plugin's or a built-in one): the node is put
// in a node harness (src/vlib/node-harness.ts), a frame of realistic packets is prepared
// once per vector size (1, 32, 256), and each measured call restores the packets' metadata
// (and, if asked, their first bytes) and their place on the feature arc, and calls the
// node's `process` directly on the frame — no dispatch, no allocation, no free, so what is
// measured is the node's own per-packet work plus that cheap reset. mitata measures the
// calls through bench/harness.ts, which prints ns/packet and Mpps in the common table.
//
//   nodeBench(sampleNode, { featureArc: 'device-input', packets: () => frames });
//   await runIfMain(import.meta.url);
//
// The packets are only read by the node unless it rewrites them: pass `restoreBytes` (how
// many leading bytes of each packet to put back) when a rewritten packet would take a
// different path on the next call (a TTL decremented to 0, say). Nodes that free or keep
// their packets cannot be measured this way.

import { nodeHarness, type HarnessPacket, type NodeHarness, type NodeHarnessOptions } from '../src/vlib/node-harness.ts';
import { OPAQUE_WORDS, type BufferPool } from '../src/vlib/buffer-pool.ts';
import { FRAME_SIZE } from '../src/vlib/frame.ts';
import type { NodeDefinition, ProcessFunction } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { vectorBench, type BenchCase } from './harness.ts';

export interface NodeBenchOptions extends Pick<NodeHarnessOptions, 'featureArc' | 'arcEnd' | 'autoEnable' | 'nodes' | 'setup'> {
  /** The packets a frame is filled with (cycled): realistic ones, as the node meets them. */
  readonly packets: () => readonly (Uint8Array | HarnessPacket)[];
  /** Name in the table (default: the node's name), e.g. 'acl-plugin-in-ip4, 1000 rules'. */
  readonly name?: string;
  /** Vector sizes to measure (default 1, 32, 256). */
  readonly vectors?: readonly number[];
  /** sw_if_index of the packets (default 1) and bytes to step over before the node (see HarnessPacket). */
  readonly rxInterface?: number;
  readonly advance?: number;
  /** Leading bytes of each packet (from its first byte) to restore before every call; default 0. */
  readonly restoreBytes?: number;
  /**
   * Metadata put back before every call: current data, length, txInterface, error and the
   * feature arc's words always; with 'all' also the flags and opaque words 0 … 5, for a
   * node that reads what it wrote there on an earlier packet.
   */
  readonly restoreMetadata?: 'basic' | 'all';
  /** Text (or a function of ns/packet) for the table's notes column. */
  readonly note?: string | ((nsPerPacket: number) => string);
}

/** One prepared frame: `run()` resets it and calls the node once, returning the packets it handed on. */
export interface PreparedNodeFrame {
  readonly harness: NodeHarness;
  readonly vector: number;
  /** Reset plus one call of the node's process function. */
  run(): number;
  /** The reset alone (to see what it costs). */
  reset(): void;
  /** Next index per packet after the last `run` (a view, valid until the next call). */
  readonly nexts: Uint16Array;
  /** Frees the frame's buffers. */
  dispose(): void;
}

/**
 * Calls a node's process function as the engine's dispatcher does: from one call site that
 * sees every node, so V8 cannot inline the node into the bench loop and specialise it to
 * one frame's buffers (inlined, the sample node measured 1.5× faster than it runs in an
 * engine). The call site is made megamorphic once, here.
 */
function callProcess(process: ProcessFunction, ctx: NodeContext, buffers: Uint32Array, n: number, nexts: Uint16Array): number {
  return process(ctx, buffers, n, nexts);
}
{
  const ctx = {} as NodeContext;
  const scratch = new Uint32Array(1);
  const nexts = new Uint16Array(1);
  const dummies: ProcessFunction[] = [() => 0, () => 1, () => 2, () => 3, () => 4, () => 5];
  for (let round = 0; round < 2000; round++) for (const dummy of dummies) callProcess(dummy, ctx, scratch, 0, nexts);
}

/** The harness a bench runs its node in (no tracing; room for a few frames). */
export function benchHarness(definition: NodeDefinition, options: NodeBenchOptions): NodeHarness {
  if (definition.process === undefined || (definition.type ?? 'internal') !== 'internal') {
    throw new TypeError(`node '${definition.name}': only internal nodes with a process function can be benched this way`);
  }
  return nodeHarness(definition, {
    featureArc: options.featureArc,
    arcEnd: options.arcEnd,
    autoEnable: options.autoEnable,
    nodes: options.nodes,
    setup: options.setup,
    trace: false,
    buffers: 4 * FRAME_SIZE,
  });
}

/**
 * A frame of `vector` packets for the node, in `harness` (made with `benchHarness`; by
 * default a new one). `run()` is what a bench measures. Frames of one node should share
 * one harness: V8 then sees one engine, one pool, one node runtime at the node's call
 * sites, as in a running vecnet (three engines made the sample node's loop 1.8× slower).
 */
export function prepareNodeFrame(
  definition: NodeDefinition,
  options: NodeBenchOptions,
  vector: number,
  harness: NodeHarness = benchHarness(definition, options),
): PreparedNodeFrame {
  if (!Number.isInteger(vector) || vector < 1 || vector > FRAME_SIZE) throw new RangeError(`vector size must be 1..${FRAME_SIZE}, got ${vector}`);
  const process = definition.process!;
  const source = options.packets();
  if (source.length === 0) throw new RangeError(`node '${definition.name}': packets() gave no packets`);
  const packets = Array.from({ length: vector }, (_, i) => source[i % source.length]);
  const prepared = harness.prepare(packets, { rxInterface: options.rxInterface, advance: options.advance });
  const pool = harness.vm.pool;
  const rt = harness.node;

  // What the reset puts back: per packet its metadata, and its first `restoreBytes` bytes.
  const current = new Uint32Array(vector);
  const length = new Uint32Array(vector);
  const flags = new Uint32Array(vector);
  const txInterface = new Uint32Array(vector);
  const opaque = new Uint32Array(vector * OPAQUE_WORDS);
  const restoreBytes = options.restoreBytes ?? 0;
  const restoreAll = options.restoreMetadata === 'all';
  const start = new Uint32Array(vector);
  const saved = new Uint8Array(vector * restoreBytes);
  for (let i = 0; i < vector; i++) {
    const bi = prepared[i];
    // Entering the arc writes the feature chain and position into the opaque words, which
    // the reset then restores with the rest: no arc lookup per measured call.
    harness.enterArc(bi);
    current[i] = pool.current[bi];
    length[i] = pool.length[bi];
    flags[i] = pool.flags[bi];
    txInterface[i] = pool.txInterface[bi];
    opaque.set(pool.opaque.subarray(bi * OPAQUE_WORDS, (bi + 1) * OPAQUE_WORDS), i * OPAQUE_WORDS);
    start[i] = pool.l2Offset[bi];
    const take = Math.min(restoreBytes, pool.stride - (start[i] % pool.stride));
    saved.set(pool.bytes.subarray(start[i], start[i] + take), i * restoreBytes);
  }

  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  const state = { vector, prepared, current, length, flags, txInterface, opaque, restoreAll, restoreBytes, start, saved, buffers };
  const reset = (): void => resetFrame(pool, state);
  return {
    harness,
    vector,
    nexts,
    reset,
    run(): number {
      reset();
      rt.singleNext = -1;
      const m = callProcess(process, rt, buffers, vector, nexts);
      if (rt.singleNext >= 0) nexts.fill(rt.singleNext, 0, m);
      return m;
    },
    dispose(): void {
      pool.free(prepared, 0, vector);
    },
  };
}

interface FrameState {
  readonly vector: number;
  readonly prepared: Uint32Array;
  readonly current: Uint32Array;
  readonly length: Uint32Array;
  readonly flags: Uint32Array;
  readonly txInterface: Uint32Array;
  readonly opaque: Uint32Array;
  readonly restoreAll: boolean;
  readonly restoreBytes: number;
  readonly start: Uint32Array;
  readonly saved: Uint8Array;
  readonly buffers: Uint32Array;
}

/** Puts the frame's packets back as prepared; one function for every frame, everything in locals. */
function resetFrame(pool: BufferPool, state: FrameState): void {
  const { vector, prepared, current, length, flags, txInterface, opaque, restoreAll, restoreBytes, start, saved, buffers } = state;
  const bytes = pool.bytes;
  const poolCurrent = pool.current;
  const poolLength = pool.length;
  const poolFlags = pool.flags;
  const poolTx = pool.txInterface;
  const poolError = pool.error;
  const poolOpaque = pool.opaque;
  const chainWord = OPAQUE_WORDS - 2;
  for (let i = 0; i < vector; i++) {
    const bi = prepared[i];
    poolCurrent[bi] = current[i];
    poolLength[bi] = length[i];
    poolTx[bi] = txInterface[i];
    poolError[bi] = 0;
    const o = bi * OPAQUE_WORDS;
    const s = i * OPAQUE_WORDS;
    // The feature chain and position (the last two words) always; the rest when asked.
    poolOpaque[o + chainWord] = opaque[s + chainWord];
    poolOpaque[o + chainWord + 1] = opaque[s + chainWord + 1];
    if (restoreAll) {
      poolFlags[bi] = flags[i];
      for (let k = 0; k < chainWord; k++) poolOpaque[o + k] = opaque[s + k];
    }
    if (restoreBytes > 0) {
      const at = start[i];
      const from = i * restoreBytes;
      for (let k = 0; k < restoreBytes; k++) bytes[at + k] = saved[from + k];
    }
    buffers[i] = bi;
  }
}

/** Nanoseconds per packet of the reset alone: the best of 20 short timed loops (for the notes column). */
function resetCost(frame: PreparedNodeFrame): number {
  const rounds = Math.max(50, Math.ceil(20000 / frame.vector));
  let best = Infinity;
  for (let attempt = 0; attempt < 20; attempt++) {
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) frame.reset();
    best = Math.min(best, performance.now() - t0);
  }
  return (best * 1e6) / (rounds * frame.vector);
}

/**
 * Registers the node's cases (one per vector size) with the bench harness. Setup runs only
 * when the benches run, never at import.
 */
export function nodeBench(definition: NodeDefinition, options: NodeBenchOptions): void {
  vectorBench(() => {
    const harness = benchHarness(definition, options);
    return (options.vectors ?? [1, 32, 256]).map((vector): BenchCase => {
      const frame = prepareNodeFrame(definition, options, vector, harness);
      let overhead = -1;
      return {
        name: options.name ?? definition.name,
        vector,
        packets: vector,
        run: frame.run,
        note: (ns: number) => {
          if (overhead < 0) overhead = resetCost(frame);
          const own = typeof options.note === 'function' ? options.note(ns) : (options.note ?? '');
          return `${own}${own === '' ? '' : '; '}incl. ${overhead.toFixed(1)} ns/packet of buffer reset`;
        },
      };
    });
  });
}
