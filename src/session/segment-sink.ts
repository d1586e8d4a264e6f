// The TCP core's segment sink over the engine's buffer pool (src/tcp/stack.ts TcpSegmentSink):
// a pool buffer per segment, staged until its owner — the session layer — hands the stage to
// tcp4-output at the end of the node's frame (or at once, outside a node). Resets that
// belong to no connection (answers to segments for closed ports, RFC 9293 §3.10.7.1) have
// a stage of their own, for tcp4-reset, as VPP sends them. The opaque words it writes are
// what both nodes read: local and remote address, and the fib to look the destination up in.

import { BufferFlag, NONE, OPAQUE_WORDS, type BufferPool } from '../vlib/buffer-pool.ts';
import { OPAQUE_FIB_INDEX } from '../vnet/ip4-opaque.ts';
import type { TcpConnection } from '../tcp/connection.ts';
import type { TcpSegmentSink } from '../tcp/stack.ts';
import { TcpFlags } from '../wire/tcp.ts';

const RST_FLAG = TcpFlags.RST;

/** Opaque words of a segment on its way to tcp4-output or udp4-output: local and remote address. */
export const OPAQUE_TCP_LOCAL = 3;
export const OPAQUE_TCP_REMOTE = 4;

/** Buffers staged before they are handed over (a frame's worth). */
export const STAGE_CAPACITY = 256;

/** What the sink needs from the session layer. */
export interface SinkOwner {
  /** Hands the staged segments (and anything else staged) to the output nodes. */
  handOver(): void;
  /** The fib of a connection's session. */
  fibOfConnection(c: TcpConnection): number;
}

/**
 * The TCP segment sink: a pool buffer per segment, the TCP header at the start of its data
 * area (tcp4-output prepends the IPv4 header into the headroom). A segment for which no
 * buffer is left is written into a spare buffer and dropped, counted, as a NIC would drop
 * it: the stack's retransmission recovers, and its send loop always sees room.
 */
export class BufferSegmentSink implements TcpSegmentSink {
  readonly bytes: Uint8Array;
  readonly staged = new Uint32Array(STAGE_CAPACITY);
  count = 0;
  /** Resets for no connection, for tcp4-reset. */
  readonly resets = new Uint32Array(STAGE_CAPACITY);
  resetCount = 0;
  /** Fib of a segment sent with no connection (a reset): the fib of the segment being answered. */
  fibForReset = 0;
  noBuffer = 0;
  private reserved = NONE;
  /** Taken from the pool by `session enable` (not before: an engine without TCP keeps every buffer). */
  private spare = NONE;
  private readonly maxRoom: number;

  constructor(private readonly pool: BufferPool, private readonly owner: SinkOwner) {
    this.bytes = pool.bytes;
    this.maxRoom = pool.dataSize;
  }

  /** TcpSegmentSink.maxSegmentRoom: TCP cuts segments to what one buffer holds. */
  get maxSegmentRoom(): number {
    return this.maxRoom;
  }

  /** Reserves the spare buffer that absorbs segments when the pool is empty. */
  takeSpare(): boolean {
    if (this.spare === NONE) this.spare = this.pool.allocOne();
    return this.spare !== NONE;
  }

  reserve(room: number): number {
    if (room > this.maxRoom || this.spare === NONE) return -1;
    let bi = this.pool.allocOne();
    if (bi === NONE) {
      this.noBuffer++;
      bi = this.spare;
    }
    this.reserved = bi;
    return this.pool.dataStart(bi);
  }

  send(length: number, connection: TcpConnection | null, localAddress: number, remoteAddress: number): void {
    const bi = this.reserved;
    this.reserved = NONE;
    if (bi === this.spare || bi === NONE) return;
    const pool = this.pool;
    const reset = connection === null && (this.bytes[pool.current[bi] + 13] & RST_FLAG) !== 0;
    pool.length[bi] = length;
    pool.flags[bi] = BufferFlag.LOCALLY_ORIGINATED;
    const base = bi * OPAQUE_WORDS;
    const opaque = pool.opaque;
    opaque[base + OPAQUE_TCP_LOCAL] = localAddress;
    opaque[base + OPAQUE_TCP_REMOTE] = remoteAddress;
    opaque[base + OPAQUE_FIB_INDEX] = connection === null ? this.fibForReset : this.owner.fibOfConnection(connection);
    if (reset) {
      this.resets[this.resetCount++] = bi;
      if (this.resetCount === STAGE_CAPACITY) this.owner.handOver();
      return;
    }
    this.staged[this.count++] = bi;
    if (this.count === STAGE_CAPACITY) this.owner.handOver();
  }
}
