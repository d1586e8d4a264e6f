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
//
// The built-in nodes' benches, which need a whole engine (interfaces, FIB, tunnels), use the
// same pieces on their engine: `preparePackets` puts packets in its pool, `prepareFrame`
// makes the frame of any node runtime (restoring only the metadata named), `frameCases` the
// cases, and `callProcess` is the one call site for an input node's call too.

import { nodeHarness, type HarnessPacket, type NodeHarness, type NodeHarnessOptions } from '../src/vlib/node-harness.ts';
import { NONE, OPAQUE_WORDS, type BufferPool } from '../src/vlib/buffer-pool.ts';
import type { Engine } from '../src/vlib/engine.ts';
import { FRAME_SIZE } from '../src/vlib/frame.ts';
import type { NodeDefinition, ProcessFunction } from '../src/vlib/node.ts';
import type { NodeContext, NodeRuntime } from '../src/vlib/node-runtime.ts';
import { vectorBench, type BenchCase } from './harness.ts';

/** Metadata a frame's reset can put back: `current` is current data and length; `opaque` words 0 … 5, `arc` words 6 and 7. */
export type MetadataField = 'current' | 'flags' | 'rxInterface' | 'txInterface' | 'error' | 'opaque' | 'arc';

/** The vector sizes every node is measured at (CONVENTIONS.md). */
export const VECTOR_SIZES: readonly number[] = [1, 32, 256];

const BASIC: readonly MetadataField[] = ['current', 'txInterface', 'error', 'arc'];
const ALL: readonly MetadataField[] = [...BASIC, 'flags', 'opaque'];
/**
 * From this many bytes a restore copies with TypedArray.set, below it byte by byte (a set
 * call's fixed cost is about that of a 16-byte loop; 60 bytes: 16 vs 70 ns per packet).
 */
const COPY_MIN_BYTES = 16;
/** From this many packets a field of consecutive buffers is restored with one TypedArray.set. */
const COPY_MIN_PACKETS = 32;

/** What is put back before every call of a frame. */
export interface FrameResetOptions {
  /** Leading bytes of each packet (from its first byte, `l2Offset`) to restore before every call; default 0. */
  readonly restoreBytes?: number;
  /** Restore those bytes only every this many calls (default 1): for a node that changes them slowly (a TTL counted down from 255). */
  readonly restoreBytesEvery?: number;
  /**
   * Metadata put back before every call: 'basic' (the default) is current data, length,
   * txInterface, error and the feature arc's words; 'all' adds the flags and opaque words
   * 0 … 5, for a node that reads what it wrote there on an earlier packet; a list names
   * exactly the fields (none: `[]`), so the reset costs no more than the node needs.
   */
  readonly restoreMetadata?: 'basic' | 'all' | readonly MetadataField[];
  /** State outside the packets to put back before every call (a rate limiter's tokens, a throttle); part of the reset. */
  readonly resetState?: () => void;
}

export interface NodeBenchOptions extends Pick<NodeHarnessOptions, 'featureArc' | 'arcEnd' | 'autoEnable' | 'nodes' | 'setup'>, FrameResetOptions {
  /** The packets a frame is filled with (cycled): realistic ones, as the node meets them. */
  readonly packets: () => readonly (Uint8Array | HarnessPacket)[];
  /** Name in the table (default: the node's name), e.g. 'acl-plugin-in-ip4, 1000 rules'. */
  readonly name?: string;
  /** Vector sizes to measure (default 1, 32, 256). */
  readonly vectors?: readonly number[];
  /** sw_if_index of the packets (default 1) and bytes to step over before the node (see HarnessPacket). */
  readonly rxInterface?: number;
  readonly advance?: number;
  /** Text (or a function of ns/packet) for the table's notes column. */
  readonly note?: string | ((nsPerPacket: number) => string);
}

/** One prepared frame: `run()` resets it and calls the node once, returning the packets it handed on. */
export interface PreparedFrame {
  readonly vector: number;
  /** Reset plus one call of the node's process function. */
  run(): number;
  /** The reset alone (to see what it costs). */
  reset(): void;
  /**
   * The frame the node is called with, and the next index per packet it wrote, after the
   * last `run` (valid until the next call). A node that sent the whole frame to one next
   * (`toSingleNext`) wrote none: `nextOf` reads either way.
   */
  readonly buffers: Uint32Array;
  readonly nexts: Uint16Array;
  /** The next index of packet `i` after the last `run`. */
  nextOf(i: number): number;
  /** Frees the frame's buffers. */
  dispose(): void;
}

/** A prepared frame of a node in a node harness (`prepareNodeFrame`). */
export interface PreparedNodeFrame extends PreparedFrame {
  readonly harness: NodeHarness;
}

/**
 * Calls a node's process function as the engine's dispatcher does: from one call site that
 * sees every node, so V8 cannot inline the node into the bench loop and specialise it to
 * one frame's buffers (inlined, the sample node measured 1.5× faster than it runs in an
 * engine). The call site is made megamorphic once, here; every bench calls through it.
 */
export function callProcess(process: ProcessFunction, ctx: NodeContext, buffers: Uint32Array, n: number, nexts: Uint16Array): number {
  return process(ctx, buffers, n, nexts);
}
{
  const ctx = {} as NodeContext;
  const scratch = new Uint32Array(1);
  const nexts = new Uint16Array(1);
  const dummies: ProcessFunction[] = [() => 0, () => 1, () => 2, () => 3, () => 4, () => 5];
  for (let round = 0; round < 2000; round++) for (const dummy of dummies) callProcess(dummy, ctx, scratch, 0, nexts);
}

/** An input node's call as the dispatcher makes it (it makes its packets, into `buffers`), through `callProcess`. */
export interface InputCall {
  readonly buffers: Uint32Array;
  readonly nexts: Uint16Array;
  /** One call; returns the packets the node handed on. */
  call(): number;
}

export function inputCall(rt: NodeRuntime): InputCall {
  const process = rt.definition.process!;
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  return {
    buffers,
    nexts,
    call(): number {
      rt.singleNext = -1;
      return callProcess(process, rt, buffers, 0, nexts);
    },
  };
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
  checkVector(vector);
  const source = options.packets();
  if (source.length === 0) throw new RangeError(`node '${definition.name}': packets() gave no packets`);
  const packets = Array.from({ length: vector }, (_, i) => source[i % source.length]);
  const prepared = harness.prepare(packets, { rxInterface: options.rxInterface, advance: options.advance });
  // Entering the arc writes the feature chain and position into the opaque words, which
  // the reset then restores with the rest: no arc lookup per measured call.
  for (let i = 0; i < vector; i++) harness.enterArc(prepared[i]);
  // The definition's own process: the harness's runtime wraps it to record vector sizes.
  return { ...prepareFrame(harness.node, prepared, options, definition.process!), harness };
}

/**
 * Packets for a bench of a node of a whole engine: `count` buffers holding `packets`
 * (cycled), each with its first byte at `l2Offset`, current data `advance` bytes on (and
 * `l3Offset` there when it moved), `rxInterface` set and no txInterface. Throws, leaving no
 * buffer behind, when the pool cannot hold them.
 */
export function preparePackets(
  vm: Engine,
  packets: readonly Uint8Array[],
  count: number,
  { rxInterface = 1, advance = 0 }: { rxInterface?: number; advance?: number } = {},
): Uint32Array {
  const pool = vm.pool;
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const bi = pool.fromBytes(packets[i % packets.length]);
    if (bi === NONE) {
      pool.free(out, 0, i);
      throw new RangeError(`the pool (${pool.count} buffers) cannot hold ${count} packets`);
    }
    pool.l2Offset[bi] = pool.current[bi];
    pool.advance(bi, advance);
    pool.l3Offset[bi] = advance > 0 ? pool.current[bi] : 0;
    pool.rxInterface[bi] = rxInterface;
    pool.txInterface[bi] = NONE;
    out[i] = bi;
  }
  return out;
}

/**
 * A frame of `prepared` (buffers holding the packets, metadata as the node meets them) for
 * the node runtime `rt` of any engine: `run()` puts back what `options` names and calls
 * `process` (the node's own by default) through `callProcess`.
 */
export function prepareFrame(
  rt: NodeRuntime,
  prepared: Uint32Array,
  options: FrameResetOptions = {},
  process: ProcessFunction = rt.definition.process!,
): PreparedFrame {
  const vector = prepared.length;
  checkVector(vector);
  const pool = rt.pool;
  const fields = options.restoreMetadata === 'all' ? ALL : options.restoreMetadata === 'basic' || options.restoreMetadata === undefined ? BASIC : options.restoreMetadata;
  const restoreBytes = options.restoreBytes ?? 0;
  const saved = new Uint8Array(vector * restoreBytes);
  const start = new Uint32Array(vector);
  for (let i = 0; i < vector; i++) {
    start[i] = pool.l2Offset[prepared[i]];
    const take = Math.min(restoreBytes, pool.stride - (start[i] % pool.stride));
    saved.set(pool.bytes.subarray(start[i], start[i] + take), i * restoreBytes);
  }
  // Long restores copy with TypedArray.set from views made here, once; short ones byte by byte.
  const savedViews = restoreBytes >= COPY_MIN_BYTES ? Array.from({ length: vector }, (_, i) => saved.subarray(i * restoreBytes, (i + 1) * restoreBytes)) : null;
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  const state: FrameState = {
    vector,
    prepared,
    first: prepared.every((bi, i) => bi === prepared[0] + i) ? prepared[0] : -1,
    current: fields.includes('current') ? pick(pool.current, prepared) : null,
    length: fields.includes('current') ? pick(pool.length, prepared) : null,
    flags: fields.includes('flags') ? pick(pool.flags, prepared) : null,
    rxInterface: fields.includes('rxInterface') ? pick(pool.rxInterface, prepared) : null,
    txInterface: fields.includes('txInterface') ? pick(pool.txInterface, prepared) : null,
    error: fields.includes('error'),
    opaque: fields.includes('opaque') || fields.includes('arc') ? pickOpaque(pool.opaque, prepared) : null,
    opaqueFrom: fields.includes('opaque') ? 0 : OPAQUE_WORDS - 2,
    opaqueTo: fields.includes('arc') ? OPAQUE_WORDS : OPAQUE_WORDS - 2,
    basic: fields === BASIC || fields === ALL,
    restoreBytes,
    restoreBytesEvery: options.restoreBytesEvery ?? 1,
    calls: 0,
    start,
    saved,
    savedViews,
    buffers,
  };
  const resetMetadata = metadataReset(state, fields);
  const resetState = options.resetState;
  const reset = (): void => {
    resetMetadata(pool, state);
    if (restoreBytes > 0 && ++state.calls >= state.restoreBytesEvery) restoreFrameBytes(pool.bytes, state);
    if (resetState !== undefined) resetState();
  };
  return {
    vector,
    buffers,
    nexts,
    reset,
    run(): number {
      reset();
      rt.singleNext = -1;
      return callProcess(process, rt, buffers, vector, nexts);
    },
    nextOf: (i) => (rt.singleNext >= 0 ? rt.singleNext : nexts[i]),
    dispose(): void {
      pool.free(prepared, 0, vector);
    },
  };
}

function checkVector(vector: number): void {
  if (!Number.isInteger(vector) || vector < 1 || vector > FRAME_SIZE) throw new RangeError(`vector size must be 1..${FRAME_SIZE}, got ${vector}`);
}

function pick(field: Uint32Array, prepared: Uint32Array): Uint32Array {
  return Uint32Array.from(prepared, (bi) => field[bi]);
}

function pickOpaque(opaque: Uint32Array, prepared: Uint32Array): Uint32Array {
  const out = new Uint32Array(prepared.length * OPAQUE_WORDS);
  prepared.forEach((bi, i) => out.set(opaque.subarray(bi * OPAQUE_WORDS, (bi + 1) * OPAQUE_WORDS), i * OPAQUE_WORDS));
  return out;
}

interface FrameState {
  readonly vector: number;
  readonly prepared: Uint32Array;
  /** The first buffer when the frame's buffers are consecutive (a fresh pool hands them out so), else -1. */
  readonly first: number;
  /** Per packet, the value to put back; null: that field is not restored. */
  readonly current: Uint32Array | null;
  readonly length: Uint32Array | null;
  readonly flags: Uint32Array | null;
  readonly rxInterface: Uint32Array | null;
  readonly txInterface: Uint32Array | null;
  /** Set the error to 0. */
  readonly error: boolean;
  /** Opaque words [opaqueFrom, opaqueTo) of each packet. */
  readonly opaque: Uint32Array | null;
  readonly opaqueFrom: number;
  readonly opaqueTo: number;
  /** 'basic' or 'all': every basic field is restored (and with 'all', flags and opaque words 0 … 5). */
  readonly basic: boolean;
  readonly restoreBytes: number;
  readonly restoreBytesEvery: number;
  calls: number;
  readonly start: Uint32Array;
  readonly saved: Uint8Array;
  /** Per packet, its saved bytes as a view (restores of COPY_MIN_BYTES or more), else null. */
  readonly savedViews: Uint8Array[] | null;
  readonly buffers: Uint32Array;
}

/**
 * The function that puts a frame's metadata back (and its buffer indices in `buffers`),
 * chosen once per frame so that each is small and tight: one function testing every field
 * per call measured 3 ns more per call and up to 1.8 ns more per packet (ethernet-input at
 * 1 and 32 packets a frame). A frame of 32 packets or more in consecutive buffers (what a
 * fresh pool hands out) restores a field with one TypedArray.set: vxlan4-input's three
 * fields at 256 packets cost 6.7 ns/packet with the node that way, 12.4 with a loop.
 */
function metadataReset(state: FrameState, fields: readonly MetadataField[]): (pool: BufferPool, state: FrameState) => void {
  if (state.basic) return resetBasic;
  if (fields.length === 0) return resetIndices;
  if (fields.length === 1 && fields[0] === 'current') return resetCurrent;
  return state.first >= 0 && state.vector >= COPY_MIN_PACKETS && state.opaque === null ? resetFieldsCopy : resetFieldsLoop;
}

function resetIndices(_pool: BufferPool, state: FrameState): void {
  const { vector, prepared, buffers } = state;
  if (vector >= COPY_MIN_PACKETS) buffers.set(prepared);
  else for (let i = 0; i < vector; i++) buffers[i] = prepared[i];
}

function resetCurrent(pool: BufferPool, state: FrameState): void {
  const { vector, prepared, buffers, first } = state;
  const current = state.current!;
  const length = state.length!;
  if (first >= 0 && vector >= COPY_MIN_PACKETS) {
    pool.current.set(current, first);
    pool.length.set(length, first);
    buffers.set(prepared);
    return;
  }
  const poolCurrent = pool.current;
  const poolLength = pool.length;
  for (let i = 0; i < vector; i++) {
    const bi = prepared[i];
    poolCurrent[bi] = current[i];
    poolLength[bi] = length[i];
    buffers[i] = bi;
  }
}

/** 'basic' (current, length, txInterface, error, the arc's words) and, for 'all', flags and opaque words 0 … 5, in one pass. */
function resetBasic(pool: BufferPool, state: FrameState): void {
  const { vector, prepared, buffers } = state;
  const current = state.current!;
  const length = state.length!;
  const txInterface = state.txInterface!;
  const opaque = state.opaque!;
  const flags = state.flags;
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
    poolOpaque[o + chainWord] = opaque[s + chainWord];
    poolOpaque[o + chainWord + 1] = opaque[s + chainWord + 1];
    if (flags !== null) {
      poolFlags[bi] = flags[i];
      for (let k = 0; k < chainWord; k++) poolOpaque[o + k] = opaque[s + k];
    }
    buffers[i] = bi;
  }
}

/** Any other list of fields, on a large frame of consecutive buffers: a TypedArray.set per field named. */
function resetFieldsCopy(pool: BufferPool, state: FrameState): void {
  const { vector, prepared, buffers, current, length, flags, rxInterface, txInterface, first } = state;
  if (current !== null) pool.current.set(current, first);
  if (length !== null) pool.length.set(length, first);
  if (flags !== null) pool.flags.set(flags, first);
  if (rxInterface !== null) pool.rxInterface.set(rxInterface, first);
  if (txInterface !== null) pool.txInterface.set(txInterface, first);
  if (state.error) pool.error.fill(0, first, first + vector);
  buffers.set(prepared);
}

/** Any other list of fields: one pass, testing per packet which fields to put back (the same answer every time: predicted). */
function resetFieldsLoop(pool: BufferPool, state: FrameState): void {
  const { vector, prepared, buffers, current, length, flags, rxInterface, txInterface, opaque, opaqueFrom, opaqueTo } = state;
  const restoreError = state.error;
  const poolCurrent = pool.current;
  const poolLength = pool.length;
  const poolFlags = pool.flags;
  const poolRx = pool.rxInterface;
  const poolTx = pool.txInterface;
  const poolError = pool.error;
  const poolOpaque = pool.opaque;
  for (let i = 0; i < vector; i++) {
    const bi = prepared[i];
    if (current !== null) {
      poolCurrent[bi] = current[i];
      poolLength[bi] = length![i];
    }
    if (flags !== null) poolFlags[bi] = flags[i];
    if (rxInterface !== null) poolRx[bi] = rxInterface[i];
    if (txInterface !== null) poolTx[bi] = txInterface[i];
    if (restoreError) poolError[bi] = 0;
    if (opaque !== null) {
      const o = bi * OPAQUE_WORDS;
      const s = i * OPAQUE_WORDS;
      for (let k = opaqueFrom; k < opaqueTo; k++) poolOpaque[o + k] = opaque[s + k];
    }
    buffers[i] = bi;
  }
}

function restoreFrameBytes(bytes: Uint8Array, state: FrameState): void {
  const { vector, restoreBytes, start, saved, savedViews } = state;
  state.calls = 0;
  if (savedViews !== null) {
    for (let i = 0; i < vector; i++) bytes.set(savedViews[i], start[i]);
    return;
  }
  for (let i = 0; i < vector; i++) {
    const at = start[i];
    const from = i * restoreBytes;
    for (let k = 0; k < restoreBytes; k++) bytes[at + k] = saved[from + k];
  }
}

/** Nanoseconds per packet of the reset alone: the best of 20 short timed loops (for the notes column). */
export function resetCost(frame: PreparedFrame): number {
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
 * The cases of one node, one per vector size: `frame(vector)` makes each frame, `run` is
 * what is measured. The notes column gets `note(ns/packet, ns/packet of the reset, vector)`
 * (default: nothing) and then how much of the figure is the reset.
 */
export function frameCases(
  name: string,
  vectors: readonly number[],
  frame: (vector: number) => PreparedFrame,
  note?: string | ((nsPerPacket: number, resetNsPerPacket: number, vector: number) => string),
): BenchCase[] {
  return vectors.map((vector): BenchCase => {
    const prepared = frame(vector);
    let overhead = -1;
    return {
      name,
      vector,
      packets: vector,
      run: prepared.run,
      note: (ns: number) => {
        if (overhead < 0) overhead = resetCost(prepared);
        const own = typeof note === 'function' ? note(ns, overhead, vector) : (note ?? '');
        return `${own}${own === '' ? '' : '; '}incl. ${overhead.toFixed(1)} ns/packet of buffer reset`;
      },
    };
  });
}

/**
 * Registers the node's cases (one per vector size) with the bench harness. Setup runs only
 * when the benches run, never at import.
 */
export function nodeBench(definition: NodeDefinition, options: NodeBenchOptions): void {
  vectorBench(() => {
    const harness = benchHarness(definition, options);
    const note = options.note;
    return frameCases(
      options.name ?? definition.name,
      options.vectors ?? VECTOR_SIZES,
      (vector) => prepareNodeFrame(definition, options, vector, harness),
      typeof note === 'function' ? (ns) => note(ns) : note,
    );
  });
}
