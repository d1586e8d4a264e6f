// Receive and transmit queues of the devices that move frames through a kernel fd, one
// fd per interface: tap (a /dev/net/tun fd in TAP mode) and host-interface (an AF_PACKET
// socket bound to a Linux interface). A device class has one `KernelQueues`; its input
// node (`tap-input`, `af-packet-input`) reads every interface whose fd may hold frames,
// and its interfaces' `<if>-tx` nodes write through `kernelTx`.
//
// Rx mode is VPP's adaptive interrupt mode: a queue is "pending" while its fd may hold
// frames. The input node reads a pending fd until it returns EAGAIN (or the frame is full:
// the queue stays pending and the node is polled again next turn); on EAGAIN the queue
// arms the engine's FdWatcher and the node is not polled until the kernel has a frame. An
// idle engine therefore sleeps, and a loaded one reads without waiting on poll(2).

import { BufferFlag, NONE } from '../../vlib/buffer-pool.ts';
import type { Engine } from '../../vlib/engine.ts';
import type { NodeContext, NodeRuntime } from '../../vlib/node-runtime.ts';
import { InterfaceCounter, Interfaces, MAX_INTERFACES, type DeviceClass } from '../interface.ts';
import { FdWatcher, Linux, linux, type Libc } from './linux.ts';

const COUNTERS = Interfaces.countersPerInterface;

export class KernelQueues {
  /** Per queue (slot): the fd (-1: slot free), its sw_if_index, 1 while it may hold frames. */
  readonly fd = new Int32Array(MAX_INTERFACES).fill(-1);
  readonly swIfIndex = new Uint32Array(MAX_INTERFACES);
  readonly pending = new Uint8Array(MAX_INTERFACES);
  /** Slots in use so far (a loop bound; freed slots have fd -1). */
  slots = 0;
  /** Slot of each sw_if_index, -1 if not this class's. */
  readonly slotOf = new Int32Array(MAX_INTERFACES).fill(-1);
  /** Per slot: frames read, read errors, rx frames dropped for lack of buffers, frames truncated. */
  readonly rxFrames = new Float64Array(MAX_INTERFACES);
  readonly rxErrors = new Float64Array(MAX_INTERFACES);
  readonly txErrors = new Float64Array(MAX_INTERFACES);
  /** A buffer allocated for a read that found the fd empty, kept for the next read. */
  spare = NONE;
  /** Address of pool.bytes[0] as the kernel sees it (set when the first queue opens). */
  base = 0;
  lib: Libc | null = null;
  private input: NodeRuntime | null = null;

  constructor(
    readonly vm: Engine,
    /** The input node's name (tap-input, af-packet-input). */
    readonly inputNodeName: string,
    private readonly watcher: () => FdWatcher,
  ) {}

  /** Adds an open non-blocking fd for interface `sw`; the input node reads it from the next turn. */
  open(sw: number, fd: number): number {
    const lib = linux();
    if (this.lib === null) {
      this.lib = lib;
      this.base = lib.addressOf(this.vm.pool.bytes);
    }
    let slot = 0;
    while (slot < this.slots && this.fd[slot] >= 0) slot++;
    if (slot === this.slots) this.slots++;
    this.fd[slot] = fd;
    this.swIfIndex[slot] = sw;
    this.slotOf[sw] = slot;
    this.rxFrames[slot] = 0;
    this.rxErrors[slot] = 0;
    this.txErrors[slot] = 0;
    this.watcher().add(fd, () => this.readable(slot));
    this.readable(slot);
    return slot;
  }

  /** Stops reading `sw`'s fd and closes it. */
  close(sw: number): void {
    const slot = this.slotOf[sw];
    if (slot < 0) return;
    const fd = this.fd[slot];
    this.watcher().remove(fd);
    this.lib?.close(fd);
    this.fd[slot] = -1;
    this.pending[slot] = 0;
    this.slotOf[sw] = -1;
  }

  /** The fd may hold frames: poll the input node on the next turn. */
  readable(slot: number): void {
    if (this.fd[slot] < 0) return;
    this.pending[slot] = 1;
    const rt = this.inputNode();
    if (rt !== null) this.vm.interrupt(rt);
  }

  /** The input node found `slot` empty: wait for the kernel. */
  drained(slot: number): void {
    this.pending[slot] = 0;
    this.watcher().arm(this.fd[slot]);
  }

  inputNode(): NodeRuntime | null {
    if (this.input === null) this.input = this.vm.node(this.inputNodeName) ?? null;
    return this.input;
  }

  /** Lines for `show hardware-interfaces`. */
  formatQueue(sw: number): string[] {
    const slot = this.slotOf[sw];
    if (slot < 0) return [];
    return [
      `rx queue 0: fd ${this.fd[slot]}, mode interrupt (adaptive), ${this.pending[slot] ? 'reading' : 'waiting'}`,
      `rx frames ${this.rxFrames[slot]}  rx errors ${this.rxErrors[slot]}  tx errors ${this.txErrors[slot]}`,
    ];
  }
}

/**
 * The `<if>-tx` function of a kernel-fd device: one write(2) per frame (a chained packet is
 * linearized first), then every buffer is freed. A frame the kernel refuses (queue full,
 * interface gone) is counted as a tx error and a drop on the interface.
 */
export function kernelTx(queues: KernelQueues): DeviceClass['tx'] {
  return (ctx: NodeContext, buffers: Uint32Array, n: number): number => {
    const sw = ctx.interfaceIndex;
    const slot = queues.slotOf[sw];
    const pool = ctx.pool;
    const lib = queues.lib;
    let failed = 0;
    if (slot < 0 || lib === null) {
      failed = n;
    } else {
      const fd = queues.fd[slot];
      const base = queues.base;
      const current = pool.current;
      const length = pool.length;
      const flags = pool.flags;
      for (let i = 0; i < n; i++) {
        const bi = buffers[i];
        if ((flags[bi] & BufferFlag.NEXT_PRESENT) !== 0 && !pool.linearize(bi)) {
          failed++;
          continue;
        }
        if (lib.write(fd, base + current[bi], length[bi]) < 0) failed++;
      }
      queues.txErrors[slot] += failed;
    }
    if (failed > 0) {
      const counters = queues.vm.vnet.interfaces.counters;
      counters[sw * COUNTERS + InterfaceCounter.TX_ERROR] += failed;
      counters[sw * COUNTERS + InterfaceCounter.DROPS] += failed;
    }
    pool.free(buffers, 0, n);
    return 0;
  };
}

/**
 * The body of a kernel-fd input node: reads every pending queue into `buffers` (at most a
 * frame), writes `next` (or the device-input feature arc's first hop) per packet, counts
 * rx packets/bytes per interface, and returns the packets read. `arcIndex` is the
 * device-input arc (-1 when none is registered).
 */
export function kernelRx(
  ctx: NodeContext,
  queues: KernelQueues,
  buffers: Uint32Array,
  nexts: Uint16Array,
  next: number,
  arcIndex: number,
  errorNoBuffer: number,
  errorRead: number,
): number {
  const lib = queues.lib;
  if (lib === null) return 0;
  const pool = ctx.pool;
  const current = pool.current;
  const length = pool.length;
  const rxInterface = pool.rxInterface;
  const txInterface = pool.txInterface;
  const counters = ctx.engine.vnet.interfaces.counters;
  const features = ctx.engine.features;
  const frameSize = ctx.frameSize;
  const dataSize = pool.dataSize;
  const base = queues.base;
  const fds = queues.fd;
  const pendings = queues.pending;
  let n = 0;
  let stillPending = false;
  let noBuffer = 0;
  let readErrors = 0;
  for (let slot = 0; slot < queues.slots; slot++) {
    if (pendings[slot] === 0) continue;
    if (n === frameSize) {
      stillPending = true;
      break;
    }
    const fd = fds[slot];
    const sw = queues.swIfIndex[slot];
    const withFeatures = arcIndex >= 0 && features.isEnabled(arcIndex, sw);
    let packets = 0;
    let bytes = 0;
    let slotErrors = 0;
    while (n < frameSize) {
      let bi = queues.spare;
      if (bi === NONE) {
        bi = pool.allocOne();
        if (bi === NONE) {
          noBuffer++;
          break;
        }
      }
      const r = lib.read(fd, base + current[bi], dataSize);
      if (r <= 0) {
        queues.spare = bi;
        if (r < 0) {
          const errno = lib.errno();
          if (errno === Linux.EINTR) continue;
          if (errno !== Linux.EAGAIN) slotErrors++;
        }
        queues.drained(slot);
        break;
      }
      queues.spare = NONE;
      length[bi] = r;
      rxInterface[bi] = sw;
      txInterface[bi] = NONE;
      buffers[n] = bi;
      let k = next;
      if (withFeatures) {
        const f = features.start(arcIndex, ctx.name, sw, bi);
        if (f >= 0) k = f;
      }
      nexts[n] = k;
      n++;
      packets++;
      bytes += r;
    }
    if (packets > 0) {
      counters[sw * COUNTERS + InterfaceCounter.RX_PACKETS] += packets;
      counters[sw * COUNTERS + InterfaceCounter.RX_BYTES] += bytes;
      queues.rxFrames[slot] += packets;
    }
    if (slotErrors > 0) {
      queues.rxErrors[slot] += slotErrors;
      readErrors += slotErrors;
    }
    if (n === frameSize && pendings[slot] === 1) stillPending = true;
  }
  if (noBuffer > 0) {
    ctx.errors[errorNoBuffer] += noBuffer;
    stillPending = true;
  }
  if (readErrors > 0) ctx.errors[errorRead] += readErrors;
  // Called during a turn: the flag is enough (the turn moved packets, so another follows).
  if (stillPending) ctx.interruptPending = true;
  return n;
}
