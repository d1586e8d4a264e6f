// The engine (VPP's vlib_main_t, `vm`): one buffer pool, the node graph, the pending-frame
// queue and the dispatch loop of one thread. A turn polls the pre-input and input nodes,
// runs pending frames until none is left (bounded, so the CLI and sockets stay served),
// fires due timers, and then yields to Node's event loop. In polling mode the next turn
// comes at once; in adaptive mode an idle engine sleeps until the next timer or until I/O
// wakes it (`wake()`).
//
// After a node's `process`, the engine moves its packets on (VPP's
// vlib_buffer_enqueue_to_next): a node that sent every packet one way hands its frame
// over whole; otherwise packets are appended to the frame filling towards each next.

import { BufferPool, BufferFlag } from './buffer-pool.ts';
import { CliError, CliRegistry, type CliResult } from './cli.ts';
import { registerVlibCommands } from './cli-commands.ts';
import { FeatureArcs } from './feature-arc.ts';
import { Frame, FramePool, FRAME_SIZE } from './frame.ts';
import type { NodeDefinition } from './node.ts';
import { NodeRuntime, TIMING_INTERVAL } from './node-runtime.ts';
import { TimerWheel } from './timer-wheel.ts';
import { TraceStore } from './trace.ts';

export interface EngineOptions {
  /** Buffers in the pool (startup.conf: buffers { buffers-per-numa }). */
  buffers?: number;
  /** Data bytes per buffer (buffers { default-data-size }). */
  dataSize?: number;
  /** Back the pool with shared memory (for workers). */
  shared?: boolean;
  /** `polling` spins; `adaptive` sleeps when idle. */
  mode?: 'polling' | 'adaptive';
  /** At most this many frames run per turn before yielding to the event loop. */
  framesPerTurn?: number;
}

export class GraphError extends Error {
  readonly code = 'EGRAPH';
}

/** Built-in sinks every graph has (VPP's vlib error-drop and null-node). */
const ERROR_DROP = 'error-drop';

export class Engine {
  readonly pool: BufferPool;
  readonly frames = new FramePool();
  readonly nodes: NodeRuntime[] = [];
  readonly features: FeatureArcs;
  readonly traces = new TraceStore();
  readonly timers: TimerWheel;
  readonly frameSize = FRAME_SIZE;
  mode: 'polling' | 'adaptive';
  readonly framesPerTurn: number;

  private readonly byName = new Map<string, NodeRuntime>();
  /** Pre-input nodes, then input nodes: what a turn polls. */
  private readonly pollable: NodeRuntime[] = [];
  /** Frames waiting to run, a ring (head, count); grows by doubling, never shrinks. */
  private pending: (Frame | null)[] = new Array<Frame | null>(1024).fill(null);
  private pendingHead = 0;
  private pendingCount = 0;
  private readonly nextsScratch = new Uint16Array(FRAME_SIZE);
  private readonly traceScratch = new Uint32Array(FRAME_SIZE);
  private readonly startMs = performance.now();
  private errorCount = 0;
  private running = false;
  private sleepTimer: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private readonly idleHooks: (() => void)[] = [];
  private readonly timerCallbacks: ((() => void) | undefined)[] = [];
  private readonly freeTimerSlots: number[] = [];
  private readonly processWaiters = new Map<number, (event: unknown) => void>();
  private errorDropIndex = -1;

  /** Packets counted as they entered the graph from input nodes. */
  packetsIn = 0;
  /** Main-loop turns since start (VPP's loops). */
  loops = 0;
  /** Where `clear runtime` last reset the counters. */
  runtimeClearedNs = 0;
  runtimeClearedLoops = 0;
  runtimeClearedPacketsIn = 0;

  /** Every CLI command of the engine, its devices and its plugins. */
  readonly commands = new CliRegistry<Engine>();

  constructor(options: EngineOptions = {}) {
    this.pool = new BufferPool({ count: options.buffers ?? 16384, dataSize: options.dataSize, shared: options.shared });
    this.mode = options.mode ?? 'adaptive';
    this.framesPerTurn = options.framesPerTurn ?? 4096;
    this.timers = new TimerWheel({ tickMs: 1, now: 0 });
    this.features = new FeatureArcs(this);
    this.features.opaque = this.pool.opaque;
    this.registerNode({
      name: ERROR_DROP,
      type: 'internal',
      errors: { unresolved: 'next node not resolved', badNext: 'bad next index' },
      traceBeforeProcess: true,
      trace: (ctx, bi) => this.formatDropReason(ctx.pool.error[bi]),
      process: (ctx, buffers, n) => {
        const hooks = this.dropHooks;
        for (let h = 0; h < hooks.length; h++) hooks[h](buffers, n);
        ctx.pool.free(buffers, 0, n);
        return 0;
      },
    });
    this.errorDropIndex = this.byName.get(ERROR_DROP)!.index;
    registerVlibCommands(this.commands);
    // Fields that hold fractional times start as doubles: a later Smi → double change of
    // field representation would deoptimize every function that has seen the Engine's shape.
    this.runtimeClearedNs = this.nowNs();
    this.turnTimeNs = this.nowNs();
    this.registerNode({
      name: 'null-node',
      type: 'internal',
      errors: { blackholed: 'blackholed packets' },
      process: (ctx, buffers, n) => {
        ctx.errors[0] += n;
        ctx.pool.free(buffers, 0, n);
        return 0;
      },
    });
  }

  /** Called with every vector error-drop frees (pcap drop capture). */
  readonly dropHooks: ((buffers: Uint32Array, n: number) => void)[] = [];

  // ---------------------------------------------------------------- CLI

  /**
   * Runs one CLI line and returns its text, as a user at `vecnetctl` would see it; a failed
   * command throws its one-line message as a CliError. For commands that wait, use `cliAsync`.
   */
  cli(line: string): string {
    return this.cliResult(this.commands.runSync(this, line));
  }

  /** Runs one CLI line that may wait (exec scripts, commands that await the data path). */
  async cliAsync(line: string): Promise<string> {
    return this.cliResult(await this.commands.run(this, line));
  }

  private cliResult(result: CliResult): string {
    if (!result.ok) throw new CliError(result.text, result.code);
    this.wake();
    return result.text;
  }

  /** Zeroes every node's calls, vectors, suspends and time (`clear runtime`). */
  clearRuntime(): void {
    for (const rt of this.nodes) {
      rt.calls = 0;
      rt.vectors = 0;
      rt.suspends = 0;
      rt.timedNs = 0;
      rt.timedCalls = 0;
      rt.timedVectors = 0;
    }
    this.runtimeClearedNs = this.nowNs();
    this.runtimeClearedLoops = this.loops;
    this.runtimeClearedPacketsIn = this.packetsIn;
  }

  // ---------------------------------------------------------------- graph

  /** Adds a node to the graph (at start or at run time); its nexts resolve by name. */
  registerNode(definition: NodeDefinition): NodeRuntime {
    if (this.byName.has(definition.name)) throw new GraphError(`node '${definition.name}' is already registered`);
    if (definition.siblingOf !== undefined && definition.nexts !== undefined) {
      throw new GraphError(`node '${definition.name}': a sibling shares its sibling's nexts and cannot declare its own`);
    }
    if ((definition.type ?? 'internal') === 'process' ? definition.run === undefined : definition.process === undefined) {
      throw new GraphError(`node '${definition.name}' has no ${definition.type === 'process' ? 'run' : 'process'} function`);
    }
    const rt = new NodeRuntime(this.nodes.length, definition, this);
    rt.errorBase = this.errorCount;
    this.errorCount += rt.errors.length;
    this.nodes.push(rt);
    this.byName.set(rt.name, rt);
    if (rt.type === 'pre-input') this.pollable.unshift(rt);
    else if (rt.type === 'input') this.pollable.push(rt);
    if (definition.siblingOf !== undefined) {
      const sibling = this.byName.get(definition.siblingOf);
      if (sibling === undefined) throw new GraphError(`node '${definition.name}': sibling '${definition.siblingOf}' is not registered`);
      rt.nextNodes = sibling.nextNodes;
      rt.nextNames = sibling.nextNames;
      rt.siblings = sibling.siblings;
      rt.siblings.push(rt);
      rt.nextFrames = rt.nextNames.map(() => null);
    } else {
      for (const target of Object.values(definition.nexts ?? {})) this.appendNext(rt, target);
    }
    // Arcs that named this node before it existed resolve now.
    for (const other of this.nodes) {
      for (let k = 0; k < other.nextNames.length; k++) {
        if (other.nextNames[k] === rt.name) other.nextNodes[k] = rt.index;
      }
    }
    if (rt.type === 'process' && this.running) this.startProcess(rt);
    return rt;
  }

  node(name: string): NodeRuntime | undefined {
    return this.byName.get(name);
  }

  nodeIndex(name: string): number {
    return this.byName.get(name)?.index ?? -1;
  }

  /** Index of `from`'s next arc to `to`, adding it (for all of `from`'s siblings) when new. */
  addNext(from: string, to: string): number {
    const rt = this.byName.get(from);
    if (rt === undefined) throw new GraphError(`unknown node '${from}'`);
    const existing = rt.nextNames.indexOf(to);
    if (existing >= 0) return existing;
    return this.appendNext(rt, to);
  }

  private appendNext(rt: NodeRuntime, to: string): number {
    const k = rt.nextNames.length;
    rt.nextNames.push(to);
    rt.nextNodes.push(this.byName.get(to)?.index ?? -1);
    for (const s of rt.siblings) s.nextFrames.push(null);
    return k;
  }

  /** Names of next arcs that point at no registered node: `from -> to`. */
  unresolvedNexts(): string[] {
    const out: string[] = [];
    for (const rt of this.nodes) {
      for (let k = 0; k < rt.nextNames.length; k++) if (rt.nextNodes[k] < 0) out.push(`${rt.name} -> ${rt.nextNames[k]}`);
    }
    return [...new Set(out)];
  }

  /** Nodes that have a next arc to `name`. */
  feeders(name: string): NodeRuntime[] {
    const index = this.nodeIndex(name);
    return this.nodes.filter((rt) => rt.nextNodes.includes(index));
  }

  // ---------------------------------------------------------------- errors

  /** Total of one node's counter by text (for tests and `show errors`). */
  errorCounter(node: string, text: string): number {
    const rt = this.byName.get(node);
    if (rt === undefined) return 0;
    const k = rt.errorNames.indexOf(text);
    return k < 0 ? 0 : rt.errors[k];
  }

  /** "node: reason" of an engine-wide error code, for drop traces and pcap. */
  formatDropReason(code: number): string {
    for (const rt of this.nodes) {
      if (code >= rt.errorBase && code < rt.errorBase + rt.errors.length) return `${rt.name}: ${rt.errorNames[code - rt.errorBase]}`;
    }
    return 'unknown error';
  }

  // ---------------------------------------------------------------- time and timers

  /** Precise time since start (reads the clock: Node 20's performance.now() allocates). */
  nowNs(): number {
    return (performance.now() - this.startMs) * 1e6;
  }

  /**
   * Time at the start of the current turn, read once per turn: what per-packet control
   * work (neighbor ages, rate limits) should use instead of reading the clock per packet.
   */
  turnTimeNs = 0;

  nowMs(): number {
    return performance.now() - this.startMs;
  }

  /** Runs `callback` once after `delayMs` on the engine's timer wheel; returns a handle for `stopTimer`. */
  startTimer(delayMs: number, callback: () => void): number {
    const slot = this.freeTimerSlots.pop() ?? this.timerCallbacks.length;
    this.timerCallbacks[slot] = callback;
    const handle = this.timers.start(Math.max(0, Math.ceil(delayMs)), slot);
    this.reschedule();
    return handle * 0x10000 + slot;
  }

  stopTimer(handle: number): void {
    const slot = handle % 0x10000;
    if (this.timerCallbacks[slot] === undefined) return;
    this.timers.stop(Math.floor(handle / 0x10000));
    this.timerCallbacks[slot] = undefined;
    this.freeTimerSlots.push(slot);
  }

  private runTimers(): number {
    return this.timers.advance(this.turnTimeNs / 1e6, this.fireTimer);
  }

  /** Made once: a closure per turn would allocate in the steady state. */
  private readonly fireTimer = (slot: number): void => {
    const cb = this.timerCallbacks[slot];
    this.timerCallbacks[slot] = undefined;
    this.freeTimerSlots.push(slot);
    if (cb !== undefined) cb();
  };

  // ---------------------------------------------------------------- process nodes

  private startProcess(rt: NodeRuntime): void {
    const run = rt.definition.run;
    if (run === undefined) return;
    rt.state = 'running';
    rt.calls++;
    run(rt).then(
      () => {
        rt.state = 'done';
      },
      (error: unknown) => {
        rt.state = 'done';
        console.error(`process node '${rt.name}' failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  suspendProcess(rt: NodeRuntime, ms: number): Promise<void> {
    rt.suspends++;
    rt.state = 'time wait';
    return new Promise((resolve) => {
      this.startTimer(ms, () => {
        rt.state = 'running';
        rt.calls++;
        resolve();
      });
    });
  }

  waitProcessEvent(rt: NodeRuntime, timeoutMs: number): Promise<unknown> {
    rt.suspends++;
    rt.state = 'any wait';
    return new Promise((resolve) => {
      let timer = -1;
      const done = (event: unknown): void => {
        this.processWaiters.delete(rt.index);
        if (timer >= 0) this.stopTimer(timer);
        rt.state = 'running';
        rt.calls++;
        resolve(event);
      };
      this.processWaiters.set(rt.index, done);
      if (Number.isFinite(timeoutMs)) timer = this.startTimer(timeoutMs, () => {
        timer = -1;
        done(undefined);
      });
    });
  }

  /** Wakes a process node waiting in `waitForEvent` (VPP: vlib_process_signal_event). */
  signalProcess(name: string, event: unknown = true): boolean {
    const rt = this.byName.get(name);
    const waiter = rt === undefined ? undefined : this.processWaiters.get(rt.index);
    if (waiter === undefined) return false;
    waiter(event);
    return true;
  }

  // ---------------------------------------------------------------- dispatch

  /** Marks an interrupt-mode input node to be polled on the next turn and wakes the engine. */
  interrupt(rt: NodeRuntime): void {
    rt.interruptPending = true;
    this.wake();
  }

  /** Queues a frame of packets for a node (devices and tests inject this way). */
  enqueue(nodeName: string, buffers: ArrayLike<number>, count = buffers.length): void {
    const rt = this.byName.get(nodeName);
    if (rt === undefined) throw new GraphError(`unknown node '${nodeName}'`);
    for (let done = 0; done < count; ) {
      const frame = this.frames.get();
      const take = Math.min(FRAME_SIZE, count - done);
      for (let i = 0; i < take; i++) frame.buffers[i] = buffers[done + i];
      frame.count = take;
      frame.target = rt.index;
      this.pushPending(frame);
      done += take;
    }
    this.wake();
  }

  /** One turn of the main loop; returns the packets moved (0: idle). */
  runOnce(): number {
    this.loops++;
    this.turnTimeNs = this.nowNs();
    let work = 0;
    const pollable = this.pollable;
    for (let i = 0; i < pollable.length; i++) {
      const rt = pollable[i];
      if (rt.state === 'polling' || (rt.state === 'interrupt' && rt.interruptPending)) work += this.dispatchInput(rt);
    }
    if (this.pendingCount > 0) work += this.drainPending();
    this.runTimers();
    return work;
  }

  /** True while frames wait to run. */
  get hasPending(): boolean {
    return this.pendingCount > 0;
  }

  /** Runs turns until no packet moves and no frame is pending (tests, scripts); returns packets moved. */
  runUntilIdle(maxTurns = 1_000_000): number {
    let total = 0;
    for (let turn = 0; turn < maxTurns; turn++) {
      const work = this.runOnce();
      total += work;
      if (work === 0 && !this.hasPending) break;
    }
    for (const hook of this.idleHooks) hook();
    return total;
  }

  /** Registers a function to run whenever a turn finds no work (pcap flush and the like). */
  onIdle(hook: () => void): void {
    this.idleHooks.push(hook);
  }

  private pushPending(frame: Frame): void {
    if (this.pendingCount === this.pending.length) {
      const grown = new Array<Frame | null>(this.pending.length * 2).fill(null);
      for (let i = 0; i < this.pendingCount; i++) grown[i] = this.pending[(this.pendingHead + i) & (this.pending.length - 1)];
      this.pending = grown;
      this.pendingHead = 0;
    }
    this.pending[(this.pendingHead + this.pendingCount) & (this.pending.length - 1)] = frame;
    this.pendingCount++;
  }

  private drainPending(): number {
    let work = 0;
    let budget = this.framesPerTurn;
    while (this.pendingCount > 0 && budget-- > 0) {
      const pending = this.pending;
      const frame = pending[this.pendingHead]!;
      pending[this.pendingHead] = null;
      this.pendingHead = (this.pendingHead + 1) & (pending.length - 1);
      this.pendingCount--;
      const rt = this.nodes[frame.target];
      const n = frame.count;
      work += n;
      if ((rt.calls & (TIMING_INTERVAL - 1)) === 0) {
        const t0 = performance.now();
        this.dispatchFrame(rt, frame);
        rt.timedNs += (performance.now() - t0) * 1e6;
        rt.timedCalls++;
        rt.timedVectors += n;
      } else {
        this.dispatchFrame(rt, frame);
      }
    }
    return work;
  }

  private dispatchInput(rt: NodeRuntime): number {
    rt.interruptPending = false;
    const frame = this.frames.get();
    const process = rt.definition.process!;
    const nexts = this.nextsScratch;
    rt.singleNext = -1;
    let m: number;
    if ((rt.calls & (TIMING_INTERVAL - 1)) === 0) {
      const t0 = performance.now();
      m = process(rt, frame.buffers, 0, nexts);
      rt.timedNs += (performance.now() - t0) * 1e6;
      rt.timedCalls++;
      rt.timedVectors += m;
    } else {
      m = process(rt, frame.buffers, 0, nexts);
    }
    rt.calls++;
    rt.vectors += m;
    if (m === 0) {
      this.frames.put(frame);
      return 0;
    }
    this.packetsIn += m;
    if (this.traces.active) {
      this.markTraced(rt, frame.buffers, m);
      this.tracePass(rt, frame.buffers, m, rt.singleNext, nexts);
    }
    frame.count = m;
    this.moveOn(rt, frame, m);
    return m;
  }

  private dispatchFrame(rt: NodeRuntime, frame: Frame): void {
    if (frame.ownerNode >= 0) {
      const owner = this.nodes[frame.ownerNode];
      if (owner.nextFrames[frame.ownerNext] === frame) owner.nextFrames[frame.ownerNext] = null;
      frame.ownerNode = -1;
    }
    const n = frame.count;
    const buffers = frame.buffers;
    const nexts = this.nextsScratch;
    const tracing = this.traces.active;
    if (tracing) {
      if (rt.definition.traceBeforeProcess === true) this.tracePass(rt, buffers, n, -1, null);
      else this.traceScratch.set(buffers.subarray(0, n));
    }
    rt.singleNext = -1;
    const m = rt.definition.process!(rt, buffers, n, nexts);
    rt.calls++;
    rt.vectors += n;
    if (tracing && rt.definition.traceBeforeProcess !== true) {
      this.tracePass(rt, this.traceScratch, n, rt.singleNext, m === n ? nexts : null);
    }
    this.moveOn(rt, frame, m);
  }

  /** Moves the first `m` packets of `frame` to their nexts and recycles or hands over the frame. */
  private moveOn(rt: NodeRuntime, frame: Frame, m: number): void {
    if (m === 0) {
      this.frames.put(frame);
      return;
    }
    const nexts = this.nextsScratch;
    let single = rt.singleNext;
    if (single < 0) {
      // A vector that all goes one way is handed over whole, as if the node had said so
      // (VPP's enqueue_to_next checks for such runs too). The scan costs < 0.3 ns/packet.
      const first = nexts[0];
      let i = 1;
      while (i < m && nexts[i] === first) i++;
      if (i === m) single = first;
    }
    if (single >= 0 && single < rt.nextNodes.length && rt.nextFrames[single] === null && rt.nextNodes[single] >= 0) {
      // Whole-frame hand-over: retarget the frame, copy nothing.
      const target = this.nodes[rt.nextNodes[single]];
      frame.count = m;
      frame.target = target.index;
      frame.ownerNode = rt.index;
      frame.ownerNext = single;
      if (m < FRAME_SIZE) rt.nextFrames[single] = frame;
      this.pushPending(frame);
      return;
    }
    const buffers = frame.buffers;
    if (single >= 0) nexts.fill(single, 0, m);
    // Scatter in runs of equal next: one frame lookup per run, a tight copy inside it.
    const nextFrames = rt.nextFrames;
    let i = 0;
    while (i < m) {
      const k = nexts[i];
      let out = k < nextFrames.length ? nextFrames[k] : null;
      if (out === null) out = this.openFrame(rt, k);
      const outBuffers = out.buffers;
      let c = out.count;
      while (i < m && c < FRAME_SIZE && nexts[i] === k) outBuffers[c++] = buffers[i++];
      out.count = c;
      if (c === FRAME_SIZE && k < rt.nextFrames.length && rt.nextFrames[k] === out) rt.nextFrames[k] = null;
    }
    this.frames.put(frame);
  }

  /** The frame filling from `rt` towards next `k`, opening (and queueing) one when needed. */
  private openFrame(rt: NodeRuntime, k: number): Frame {
    if (k < rt.nextNodes.length) {
      const open = rt.nextFrames[k];
      if (open !== null) return open;
    }
    const frame = this.frames.get();
    let target = k < rt.nextNodes.length ? rt.nextNodes[k] : -1;
    if (target < 0) {
      // A next that names no node (yet) or an index the node does not have: drop, counted.
      const drop = this.nodes[this.errorDropIndex];
      drop.errors[k < rt.nextNodes.length ? 0 : 1]++;
      target = this.errorDropIndex;
      frame.target = target;
      this.pushPending(frame);
      return frame;
    }
    frame.target = target;
    frame.ownerNode = rt.index;
    frame.ownerNext = k;
    rt.nextFrames[k] = frame;
    this.pushPending(frame);
    return frame;
  }

  // ---------------------------------------------------------------- trace

  private markTraced(rt: NodeRuntime, buffers: Uint32Array, m: number): void {
    const take = this.traces.takeBudget(rt.index, m);
    const pool = this.pool;
    for (let i = 0; i < take; i++) {
      const bi = buffers[i];
      pool.flags[bi] |= BufferFlag.TRACED;
      pool.traceSlot[bi] = this.traces.open();
    }
  }

  private tracePass(rt: NodeRuntime, buffers: Uint32Array, n: number, single: number, nexts: Uint16Array | null): void {
    const format = rt.definition.trace;
    const pool = this.pool;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      if ((pool.flags[bi] & BufferFlag.TRACED) === 0) continue;
      const next = single >= 0 ? single : nexts !== null ? nexts[i] : -1;
      let text = '';
      if (format !== undefined) {
        try {
          text = format(rt, bi, next);
        } catch (error) {
          text = `(trace formatter failed: ${error instanceof Error ? error.message : String(error)})`;
        }
      }
      this.traces.record(pool.traceSlot[bi], this.nowNs(), rt.name, text);
    }
  }

  // ---------------------------------------------------------------- main loop

  /** Starts the dispatch loop on Node's event loop; sorts feature arcs and starts process nodes. */
  start(): void {
    if (this.running) return;
    this.seal();
    this.running = true;
    this.scheduleTurn();
  }

  /** Checks the graph and sorts feature arcs (start-up errors surface here); starts process nodes once. */
  seal(): void {
    this.features.seal();
    for (const rt of this.nodes) if (rt.type === 'process' && rt.state === 'any wait' && rt.calls === 0) this.startProcess(rt);
  }

  stop(): void {
    this.running = false;
    if (this.sleepTimer !== null) clearTimeout(this.sleepTimer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.sleepTimer = null;
    this.immediate = null;
    for (const hook of this.idleHooks) hook();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Wakes a sleeping engine (I/O arrived, a frame was queued, a CLI command changed state). */
  wake(): void {
    if (!this.running || this.immediate !== null) return;
    if (this.sleepTimer !== null) {
      clearTimeout(this.sleepTimer);
      this.sleepTimer = null;
    }
    this.scheduleTurn();
  }

  private reschedule(): void {
    // A new timer may be due before the current sleep ends.
    if (this.sleepTimer !== null) this.wake();
  }

  /** Queues the next turn unless one is queued already (wake() may run during a turn). */
  private scheduleTurn(): void {
    if (this.immediate !== null) return;
    this.immediate = setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.immediate = null;
    if (!this.running) return;
    const work = this.runOnce();
    if (!this.running) return;
    if (work > 0 || this.hasPending) {
      this.scheduleTurn();
      return;
    }
    for (const hook of this.idleHooks) hook();
    if (this.mode === 'polling' || this.hasPollingInput()) {
      this.scheduleTurn();
      return;
    }
    if (this.immediate !== null) return; // woken during this turn: the next turn is queued
    const next = this.timers.nextExpiryMs();
    const wait = Number.isFinite(next) ? Math.max(1, Math.min(1000, next - this.nowMs())) : 1000;
    this.sleepTimer = setTimeout(() => {
      this.sleepTimer = null;
      this.scheduleTurn();
    }, wait);
  };

  /** An input node in polling state (an active pg stream, say) keeps the loop spinning. */
  private hasPollingInput(): boolean {
    for (const rt of this.nodes) {
      if ((rt.type === 'input' || rt.type === 'pre-input') && rt.state === 'polling') return true;
    }
    return false;
  }
}
