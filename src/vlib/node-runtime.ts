// Per-node runtime state (VPP's vlib_node_runtime_t + vlib_node_t in one): the resolved
// next arcs, the frames being filled towards each next, runtime statistics and error
// counters. A node's `process` receives its runtime as `ctx`, so everything a node needs
// per frame is one property load away.

import type { BufferPool } from './buffer-pool.ts';
import type { Engine } from './engine.ts';
import type { Frame } from './frame.ts';
import type { NodeDefinition, NodeType } from './node.ts';

/** One node call in this many is timed (a power of two). */
export const TIMING_INTERVAL = 32;

export class NodeRuntime {
  readonly index: number;
  readonly name: string;
  readonly type: NodeType;
  readonly definition: NodeDefinition;
  readonly engine: Engine;
  readonly pool: BufferPool;

  /** Next arc index → target node index (-1 until the named node exists). */
  nextNodes: number[] = [];
  /** Next arc index → name of the target node. */
  nextNames: string[] = [];
  /** Next arc index → the frame currently filling towards that next, or null. */
  nextFrames: (Frame | null)[] = [];
  /** Nodes sharing this node's next arcs (siblings), including itself. */
  siblings: NodeRuntime[] = [this];

  /** Error counters, one per entry of the definition's `errors`, bumped once per frame. */
  readonly errors: Float64Array;
  readonly errorNames: string[];
  /** Index of this node's first counter in the engine's global error table. */
  errorBase = 0;

  /** `show runtime` counters. */
  calls = 0;
  vectors = 0;
  suspends = 0;
  /**
   * Time is measured on one call in TIMING_INTERVAL (the first call always): Node 20's
   * performance.now() allocates on every call, so timing all of them would make the data
   * path allocate. Per node the sample is unbiased; `timeNs` scales it to all calls.
   */
  timedNs = 0;
  timedCalls = 0;
  timedVectors = 0;

  state: 'polling' | 'interrupt' | 'disabled' | 'any wait' | 'time wait' | 'running' | 'done' = 'polling';
  /** Set by `vm.interrupt(node)` for input nodes in interrupt mode. */
  interruptPending = false;
  /** sw_if_index of the interface a per-interface node serves (NONE otherwise). */
  interfaceIndex = 0xffffffff;

  /** Estimated time spent in this node since the last `clear runtime`. */
  get timeNs(): number {
    if (this.timedVectors > 0) return (this.timedNs * this.vectors) / this.timedVectors;
    if (this.timedCalls > 0) return (this.timedNs * this.calls) / this.timedCalls;
    return 0;
  }

  /** Set by `toSingleNext` during one call; -1 otherwise. */
  singleNext = -1;

  constructor(index: number, definition: NodeDefinition, engine: Engine) {
    this.index = index;
    this.name = definition.name;
    this.type = definition.type ?? 'internal';
    this.definition = definition;
    this.engine = engine;
    this.pool = engine.pool;
    this.errorNames = Object.values(definition.errors ?? {});
    this.errors = new Float64Array(this.errorNames.length);
    if (this.type === 'input' || this.type === 'pre-input') this.state = definition.state ?? 'polling';
    else if (this.type === 'process') this.state = 'any wait';
    else this.state = 'polling';
  }

  /** Every packet of this call goes to next `k`: the engine moves the frame whole. */
  toSingleNext(k: number): void {
    this.singleNext = k;
  }

  /** The frame size the engine dispatches (input nodes fill at most this many). */
  get frameSize(): number {
    return this.engine.frameSize;
  }

  /** The engine-wide error code for this node's counter `k` (stored in a dropped buffer's `error`). */
  errorCode(k: number): number {
    return this.errorBase + k;
  }

  /** Next index of the arc to `nodeName`, adding the arc if the node has none yet (VPP: vlib_node_add_next). */
  addNext(nodeName: string): number {
    return this.engine.addNext(this.name, nodeName);
  }

  /**
   * For a node on a feature arc: the next index that continues the packet's feature chain
   * (VPP's vnet_feature_next). The chain and position were set by the arc's start node.
   */
  featureNext(bi: number): number {
    return this.engine.features.next(bi);
  }

  /** Nanoseconds since the engine started (for trace stamps, timers, ages). */
  now(): number {
    return this.engine.nowNs();
  }

  /** Process nodes: sleep for `ms` milliseconds (counted as a suspend). */
  suspend(ms: number): Promise<void> {
    return this.engine.suspendProcess(this, ms);
  }

  /** Process nodes: wait until `vm.signalProcess(name, event)` or `timeoutMs` (then resolves undefined). */
  waitForEvent<T = unknown>(timeoutMs = Infinity): Promise<T | undefined> {
    return this.engine.waitProcessEvent(this, timeoutMs) as Promise<T | undefined>;
  }
}

/** What a node's `process` receives: its own runtime. */
export type NodeContext = NodeRuntime;
