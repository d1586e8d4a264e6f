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
//
// Frames larger than a buffer: each read is a readv(2) into the buffers the queues hold for
// it (`readBuffers`, up to READ_IOVECS of them), so a frame up to READ_IOVECS × the data
// size less one byte arrives chained across buffers, as VPP's virtio rx chains descriptors.
// A frame that fills every byte offered may have been cut by the kernel (read(2) on a tap
// or a packet socket drops what does not fit): it goes to error-drop as "frame too long",
// counted against the interface like any drop. A chained packet leaves in one writev(2).

import { BufferFlag, NONE, type BufferPool } from '../../vlib/buffer-pool.ts';
import type { Engine } from '../../vlib/engine.ts';
import type { NodeContext, NodeRuntime } from '../../vlib/node-runtime.ts';
import { InterfaceCounter, Interfaces, MAX_INTERFACES, type DeviceClass } from '../interface.ts';
import { Linux, linux, type FdWatcher, type Libc } from './linux.ts';

const COUNTERS = Interfaces.countersPerInterface;
/**
 * Buffers one read may fill. The kernel copies up to UIO_FASTIOV (8) iovecs on its stack
 * (more costs a kmalloc per readv); with 2048-byte buffers that is 16 KiB, above any jumbo MTU.
 */
export const READ_IOVECS = 8;
/** Largest frame a Linux interface can hand over: MTU 65535 plus Ethernet header and a VLAN tag. */
const MAX_FRAME_BYTES = 65535 + 18;
/** Buffers a chained packet may span on transmit (one writev(2)); a longer chain is a tx error. */
export const WRITE_IOVECS = 64;

/** The part of the FdWatcher the queues use (a test may pass its own). */
export type FdWatch = Pick<FdWatcher, 'add' | 'remove' | 'arm'>;

/** Next and error indices of a kernel-fd input node that `kernelRx` needs. */
export interface KernelRxIndices {
  readonly ethernet: number;
  readonly drop: number;
  readonly noBuffer: number;
  readonly read: number;
  readonly tooLong: number;
}

export class KernelQueues {
  /** Per queue (slot): the fd (-1: slot free), its sw_if_index, 1 while it may hold frames. */
  readonly fd = new Int32Array(MAX_INTERFACES).fill(-1);
  readonly swIfIndex = new Uint32Array(MAX_INTERFACES);
  readonly pending = new Uint8Array(MAX_INTERFACES);
  /** Slots in use so far (a loop bound; freed slots have fd -1). */
  slots = 0;
  /** Slot of each sw_if_index, -1 if not this class's. */
  readonly slotOf = new Int32Array(MAX_INTERFACES).fill(-1);
  /** Per slot: frames read, read errors, tx errors. */
  readonly rxFrames = new Float64Array(MAX_INTERFACES);
  readonly rxErrors = new Float64Array(MAX_INTERFACES);
  readonly txErrors = new Float64Array(MAX_INTERFACES);
  /** Buffers one read may fill (READ_IOVECS, fewer when fewer cover the largest frame). */
  readonly readIovecs: number;
  /**
   * The buffers the next read goes into, in iovec order (NONE: the pool had none to give);
   * kept from one read to the next, so an fd found empty costs no allocation.
   */
  readonly readBuffers: Uint32Array;
  /** The struct iovec arrays of the next read and of a chained packet's write (base low, base high, length low, length high). */
  private readonly iov: Uint32Array;
  private iovAddress = 0;
  private readonly writeIovecs = new Uint32Array(new ArrayBuffer(16 * WRITE_IOVECS));
  private writeIovAddress = 0;
  /** Address of pool.bytes[0] as the kernel sees it (set when the first queue opens). */
  base = 0;
  lib: Libc | null = null;
  private input: NodeRuntime | null = null;

  constructor(
    readonly vm: Engine,
    /** The input node's name (tap-input, af-packet-input). */
    readonly inputNodeName: string,
    private readonly watcher: () => FdWatch,
    /** The system calls (a test may pass its own). */
    private readonly libc: () => Libc = linux,
  ) {
    const dataSize = vm.pool.dataSize;
    this.readIovecs = Math.min(READ_IOVECS, Math.ceil(MAX_FRAME_BYTES / dataSize));
    this.readBuffers = new Uint32Array(this.readIovecs).fill(NONE);
    // An ArrayBuffer's bytes never move (unlike a small typed array's): the kernel reads them.
    this.iov = new Uint32Array(new ArrayBuffer(16 * this.readIovecs));
    for (let j = 0; j < this.readIovecs; j++) this.iov[4 * j + 2] = dataSize;
  }

  /** Buffers held for the next read (they are not on the pool's free stack). */
  get held(): number {
    let n = 0;
    for (let j = 0; j < this.readIovecs; j++) if (this.readBuffers[j] !== NONE) n++;
    return n;
  }

  /** Adds an open non-blocking fd for interface `sw`; the input node reads it from the next turn. */
  open(sw: number, fd: number): number {
    if (this.lib === null) {
      const lib = this.libc();
      this.base = lib.addressOf(this.vm.pool.bytes);
      this.iovAddress = lib.addressOf(new Uint8Array(this.iov.buffer));
      this.writeIovAddress = lib.addressOf(new Uint8Array(this.writeIovecs.buffer));
      this.lib = lib;
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

  /**
   * Takes buffers from the pool for the read buffers that have none; returns how many
   * iovecs the next read may use (the leading run of held buffers; 0 when the pool is empty).
   * When the pool runs short, held buffers further on move forward to close the gaps.
   */
  fillReadBuffers(pool: BufferPool): number {
    const held = this.readBuffers;
    const iovecs = this.readIovecs;
    let usable = 0;
    while (usable < iovecs && held[usable] !== NONE) usable++;
    if (usable === iovecs) return usable;
    for (let j = usable; j < iovecs; j++) {
      if (held[j] !== NONE) continue;
      let bi = pool.allocOne();
      if (bi === NONE) {
        let k = j + 1;
        while (k < iovecs && held[k] === NONE) k++;
        if (k === iovecs) break;
        bi = held[k];
        held[k] = NONE;
      }
      held[j] = bi;
      this.pointIovec(j, pool.current[bi]);
    }
    while (usable < iovecs && held[usable] !== NONE) usable++;
    return usable;
  }

  /**
   * After a read of `bytes` bytes: the read buffers that hold them become one packet (a
   * chain when there are several), replaced by new buffers from the pool; returns the first.
   */
  takeRead(pool: BufferPool, bytes: number): number {
    const held = this.readBuffers;
    const length = pool.length;
    const dataSize = pool.dataSize;
    const first = held[0];
    if (bytes <= dataSize) {
      length[first] = bytes;
    } else {
      length[first] = dataSize;
      let last = first;
      for (let j = 1, at = dataSize; at < bytes; j++, at += dataSize) {
        const next = held[j];
        // appendBuffer adds the new buffer's length to the chain's total: set it first.
        length[next] = Math.min(dataSize, bytes - at);
        pool.appendBuffer(first, last, next);
        held[j] = NONE;
        last = next;
      }
    }
    held[0] = NONE;
    const bi = pool.allocOne();
    if (bi !== NONE) {
      held[0] = bi;
      this.pointIovec(0, pool.current[bi]);
    }
    return first;
  }

  /** Points read iovec `j` at the byte `offset` of the pool (its length, the data size, is set once). */
  private pointIovec(j: number, offset: number): void {
    setIovecBase(this.iov, j, this.base + offset);
  }

  /** Address of the iovec array for readv(2). */
  get readIov(): number {
    return this.iovAddress;
  }

  /**
   * Points the write iovecs at the buffers of the chain that starts at `bi`; returns how
   * many, or -1 when it spans more than WRITE_IOVECS buffers.
   */
  pointWriteChain(pool: BufferPool, bi: number): number {
    const iov = this.writeIovecs;
    const flags = pool.flags;
    for (let j = 0; j < WRITE_IOVECS; j++) {
      setIovecBase(iov, j, this.base + pool.current[bi]);
      iov[4 * j + 2] = pool.length[bi];
      if ((flags[bi] & BufferFlag.NEXT_PRESENT) === 0) return j + 1;
      bi = pool.nextBuffer[bi];
    }
    return -1;
  }

  /** Address of the iovec array for writev(2). */
  get writeIov(): number {
    return this.writeIovAddress;
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

/** Sets the base address of iovec `j` (two u32 words, low first: a little-endian host). */
function setIovecBase(iov: Uint32Array, j: number, address: number): void {
  const low = address >>> 0;
  iov[4 * j] = low;
  iov[4 * j + 1] = (address - low) / 4294967296;
}

/**
 * The `<if>-tx` function of a kernel-fd device: one write(2) per frame (writev(2) over the
 * buffers of a chained packet), then every buffer is freed. A frame the kernel refuses
 * (queue full, interface gone, larger than its MTU) is counted as a tx error and a drop on
 * the interface.
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
        if ((flags[bi] & BufferFlag.NEXT_PRESENT) === 0) {
          if (lib.write(fd, base + current[bi], length[bi]) < 0) failed++;
        } else {
          const count = queues.pointWriteChain(pool, bi);
          if (count < 0 || lib.writev(fd, queues.writeIov, count) < 0) failed++;
        }
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
 * frame), writes the ethernet next (or the device-input feature arc's first hop) per packet,
 * counts rx packets/bytes per interface, and returns the packets read. A frame that may
 * have been cut (it filled every buffer offered) goes to the drop next with the node's
 * "frame too long" error, or "no free buffers" when the pool could not offer them all.
 * `arcIndex` is the device-input arc (-1 when none is registered).
 */
export function kernelRx(
  ctx: NodeContext,
  queues: KernelQueues,
  buffers: Uint32Array,
  nexts: Uint16Array,
  index: KernelRxIndices,
  arcIndex: number,
): number {
  const lib = queues.lib;
  if (lib === null) return 0;
  const pool = ctx.pool;
  const rxInterface = pool.rxInterface;
  const txInterface = pool.txInterface;
  const error = pool.error;
  const counters = ctx.engine.vnet.interfaces.counters;
  const features = ctx.engine.features;
  const frameSize = ctx.frameSize;
  const dataSize = pool.dataSize;
  const iovecs = queues.readIovecs;
  const iov = queues.readIov;
  const fds = queues.fd;
  const pendings = queues.pending;
  const next = index.ethernet;
  let n = 0;
  let stillPending = false;
  let noBuffer = 0;
  let readErrors = 0;
  let tooLong = 0;
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
      const usable = queues.fillReadBuffers(pool);
      if (usable === 0) {
        noBuffer++;
        break;
      }
      const r = lib.readv(fd, iov, usable);
      if (r <= 0) {
        if (r < 0) {
          const errno = lib.errno();
          if (errno === Linux.EINTR) continue;
          if (errno !== Linux.EAGAIN) slotErrors++;
        }
        queues.drained(slot);
        break;
      }
      const bi = queues.takeRead(pool, r);
      rxInterface[bi] = sw;
      txInterface[bi] = NONE;
      buffers[n] = bi;
      let k = next;
      if (r >= usable * dataSize) {
        // Every byte offered was filled: the kernel may have cut the frame.
        const reason = usable < iovecs ? index.noBuffer : index.tooLong;
        if (reason === index.noBuffer) noBuffer++;
        else tooLong++;
        error[bi] = ctx.errorCode(reason);
        k = index.drop;
      } else if (withFeatures) {
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
    ctx.errors[index.noBuffer] += noBuffer;
    stillPending = true;
  }
  if (tooLong > 0) ctx.errors[index.tooLong] += tooLong;
  if (readErrors > 0) ctx.errors[index.read] += readErrors;
  // Called during a turn: the flag is enough (the turn moved packets, so another follows).
  if (stillPending) ctx.interruptPending = true;
  return n;
}
