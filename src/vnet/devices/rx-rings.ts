// Receive rings for devices whose frames arrive from JavaScript rather than from a kernel
// fd: the socket device (a datagram from node:dgram is copied into a pool buffer at once)
// and the veth pair (a frame sent on one side is put on the other side's ring). One ring of
// buffer indices per interface; the device class's input node (`socket-input`,
// `veth-input`) drains the rings of the interfaces that have frames, a frame at most per
// call, and stays scheduled while any ring still holds frames.

import { BufferFlag, NONE } from '../../vlib/buffer-pool.ts';
import type { Engine } from '../../vlib/engine.ts';
import type { NodeContext, NodeRuntime } from '../../vlib/node-runtime.ts';
import { InterfaceCounter, Interfaces, MAX_INTERFACES } from '../interface.ts';

const COUNTERS = Interfaces.countersPerInterface;
/** Frames a ring holds; more are dropped and counted (as a NIC's full rx ring would). */
export const RX_RING_SIZE = 1024;

export class RxRings {
  private readonly rings: (Uint32Array | null)[] = [];
  private readonly head = new Uint32Array(MAX_INTERFACES);
  readonly count = new Uint32Array(MAX_INTERFACES);
  /** Interfaces with frames waiting, in arrival order (each at most once). */
  private readonly ready = new Int32Array(MAX_INTERFACES);
  private readyCount = 0;
  private readonly isReady = new Uint8Array(MAX_INTERFACES);
  /** Frames dropped because the ring was full, per interface. */
  readonly overflows = new Float64Array(MAX_INTERFACES);
  private input: NodeRuntime | null = null;

  constructor(private readonly vm: Engine, readonly inputNodeName: string) {}

  open(sw: number): void {
    this.rings[sw] = new Uint32Array(RX_RING_SIZE);
    this.head[sw] = 0;
    this.count[sw] = 0;
    this.overflows[sw] = 0;
  }

  /** Frees what is still queued and forgets the ring. */
  close(sw: number): void {
    const ring = this.rings[sw];
    if (ring === null || ring === undefined) return;
    const pool = this.vm.pool;
    while (this.count[sw] > 0) {
      pool.freeChain(ring[this.head[sw]]);
      this.head[sw] = (this.head[sw] + 1) % RX_RING_SIZE;
      this.count[sw]--;
    }
    this.rings[sw] = null;
  }

  isOpen(sw: number): boolean {
    return (this.rings[sw] ?? null) !== null;
  }

  /**
   * Queues a received buffer for `sw`; false (and the caller frees it) when the ring is full
   * or closed. Does not wake the engine: see `kick`/`kickInTurn`.
   */
  push(sw: number, bi: number): boolean {
    const ring = this.rings[sw];
    if (ring === null || ring === undefined) return false;
    const c = this.count[sw];
    if (c === RX_RING_SIZE) {
      this.overflows[sw]++;
      return false;
    }
    ring[(this.head[sw] + c) % RX_RING_SIZE] = bi;
    this.count[sw] = c + 1;
    if (this.isReady[sw] === 0) {
      this.isReady[sw] = 1;
      this.ready[this.readyCount++] = sw;
    }
    return true;
  }

  /** From the event loop (a socket callback): have the input node polled, waking the engine. */
  kick(): void {
    const rt = this.inputNode();
    if (rt !== null) this.vm.interrupt(rt);
  }

  /** From inside a dispatch turn (a tx node): the flag is enough, the turn moved packets. */
  kickInTurn(): void {
    const rt = this.inputNode();
    if (rt !== null) rt.interruptPending = true;
  }

  inputNode(): NodeRuntime | null {
    if (this.input === null) this.input = this.vm.node(this.inputNodeName) ?? null;
    return this.input;
  }

  /**
   * The input node's body: moves up to a frame of queued buffers into `buffers`, sets the
   * next (or the device-input arc's first hop) and counts rx per interface.
   */
  drain(ctx: NodeContext, buffers: Uint32Array, nexts: Uint16Array, next: number, arcIndex: number): number {
    const pool = ctx.pool;
    const rxInterface = pool.rxInterface;
    const txInterface = pool.txInterface;
    const flags = pool.flags;
    const error = pool.error;
    const counters = ctx.engine.vnet.interfaces.counters;
    const features = ctx.engine.features;
    const frameSize = ctx.frameSize;
    let n = 0;
    let kept = 0;
    for (let r = 0; r < this.readyCount; r++) {
      const sw = this.ready[r];
      const ring = this.rings[sw];
      if (ring === null || ring === undefined) {
        this.isReady[sw] = 0;
        continue;
      }
      const withFeatures = arcIndex >= 0 && features.isEnabled(arcIndex, sw);
      let head = this.head[sw];
      let c = this.count[sw];
      let packets = 0;
      let bytes = 0;
      while (c > 0 && n < frameSize) {
        const bi = ring[head];
        head = head + 1 === RX_RING_SIZE ? 0 : head + 1;
        c--;
        rxInterface[bi] = sw;
        txInterface[bi] = NONE;
        // A frame off a cable starts afresh: no state of the sender's graph comes with it.
        flags[bi] &= BufferFlag.NEXT_PRESENT;
        error[bi] = 0;
        buffers[n] = bi;
        let k = next;
        if (withFeatures) {
          const f = features.start(arcIndex, ctx.name, sw, bi);
          if (f >= 0) k = f;
        }
        nexts[n++] = k;
        packets++;
        bytes += pool.packetLength(bi);
      }
      this.head[sw] = head;
      this.count[sw] = c;
      if (packets > 0) {
        counters[sw * COUNTERS + InterfaceCounter.RX_PACKETS] += packets;
        counters[sw * COUNTERS + InterfaceCounter.RX_BYTES] += bytes;
      }
      if (c > 0) this.ready[kept++] = sw;
      else this.isReady[sw] = 0;
    }
    this.readyCount = kept;
    if (kept > 0) ctx.interruptPending = true;
    return n;
  }
}
