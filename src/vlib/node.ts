// What a graph node is: one plain registration object (VPP's VLIB_REGISTER_NODE). Its
// next arcs and its error counters each come from one object literal, so names, indices
// and counter texts cannot drift: `indices(NEXTS)` gives the index of every key in the
// order the engine resolves them. A node's `process` runs over a whole vector and writes
// one next index per packet; the engine scatters the vector afterwards.

import type { NodeContext } from './node-runtime.ts';

export type NodeType = 'input' | 'internal' | 'process' | 'pre-input';

/**
 * The vector function. `buffers[0 … n)` hold the frame's buffer indices (for an input node
 * n is 0 and the node fills `buffers` itself, at most `ctx.frameSize` of them). It writes
 * `nexts[i]` for every packet it keeps and returns how many packets it hands on: usually
 * `n`; fewer when it freed or queued packets itself (it then compacts `buffers`/`nexts`);
 * 0 for a sink such as an interface's tx node. A node whose packets all take one next may
 * call `ctx.toSingleNext(k)` instead of writing `nexts`, and the engine hands the whole
 * frame over without copying.
 */
export type ProcessFunction = (ctx: NodeContext, buffers: Uint32Array, n: number, nexts: Uint16Array) => number;

/** Formats one traced packet's record for `show trace`; `next` is -1 when unknown. */
export type TraceFunction = (ctx: NodeContext, bi: number, next: number) => string;

/** A process node: a long-lived async function that suspends on timers and events. */
export type ProcessNodeFunction = (ctx: NodeContext) => Promise<void>;

export interface NodeDefinition {
  /** VPP's name for the node, as `show runtime` prints it. */
  readonly name: string;
  readonly type?: NodeType;
  /** Next arcs: key (a local name) → name of the next node. The order of keys is the next index. */
  readonly nexts?: Readonly<Record<string, string>>;
  /** Error counters: key → counter text as `show errors` prints it. */
  readonly errors?: Readonly<Record<string, string>>;
  /** Share the next arcs of another node (VPP's sibling_of): same names, same indices. */
  readonly siblingOf?: string;
  readonly process?: ProcessFunction;
  /** For type 'process': the async body. */
  readonly run?: ProcessNodeFunction;
  readonly trace?: TraceFunction;
  /**
   * Run the trace formatter before `process` instead of after: for nodes that consume
   * their packets (tx, drop), whose buffers are gone once `process` returns.
   */
  readonly traceBeforeProcess?: boolean;
  /** Input nodes start in this state; `disabled` input nodes are not polled. */
  readonly state?: 'polling' | 'interrupt' | 'disabled';
  /** Free-form opaque data the node's process can read through `ctx.node.data` (per-interface nodes). */
  readonly data?: unknown;
}

/** Identity function that checks a node definition's shape; the one way to define a node. */
export function defineNode<T extends NodeDefinition>(definition: T): T {
  return definition;
}

/** `{ a: …, b: … }` → `{ a: 0, b: 1 }`: the indices of next arcs or error counters by key. */
export function indices<K extends string>(object: Readonly<Record<K, unknown>>): { readonly [P in K]: number } {
  const out = {} as Record<K, number>;
  let i = 0;
  for (const key of Object.keys(object) as K[]) out[key] = i++;
  return out;
}
