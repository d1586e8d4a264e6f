// The buffer pool owns every packet byte the engine touches. One ArrayBuffer (or a
// SharedArrayBuffer, for workers) holds N buffers of HEADROOM bytes of pre-data followed
// by `dataSize` bytes of data; per-buffer metadata lives in struct-of-arrays typed arrays
// indexed by buffer index, as VPP's vlib_buffer_t fields would. Packets are named by u32
// buffer indices, never by objects. Allocation and free are bulk operations on a stack of
// free indices. Running out of buffers hands back fewer than asked and is counted; freeing
// a buffer twice is detected and counted instead of corrupting the free stack.

/** Bytes of pre-data before each buffer's data, for prepending headers (VPP: 128). */
export const HEADROOM = 128;
/** Marks "no next buffer" in a chain and "no trace" in the trace slot. */
export const NONE = 0xffffffff;
/** Words of per-node opaque state per buffer (VPP's opaque/opaque2). */
export const OPAQUE_WORDS = 8;

/** Buffer flags (a u32 per buffer). */
export const BufferFlag = {
  /** The buffer is on the free stack; set by free, cleared by alloc. */
  FREE: 1 << 0,
  /** `nextBuffer` holds the next buffer of a chain. */
  NEXT_PRESENT: 1 << 1,
  /** Packet trace is on for this buffer; `traceSlot` names its record. */
  TRACED: 1 << 2,
  /** The L4 checksum was verified (or is not to be checked: a device offloaded it). */
  L4_CHECKSUM_CORRECT: 1 << 3,
  /** The L4 checksum still has to be computed before the packet leaves (offload). */
  L4_CHECKSUM_OFFLOAD: 1 << 4,
  /** The packet was generated locally (ip4-local replies, host stack). */
  LOCALLY_ORIGINATED: 1 << 5,
} as const;

export interface BufferPoolOptions {
  /** Number of buffers (VPP: buffers-per-numa). */
  count: number;
  /** Data bytes per buffer after the headroom (VPP: default-data-size). */
  dataSize?: number;
  /** Back the pool with a SharedArrayBuffer so worker threads can share it. */
  shared?: boolean;
  /** Pool name as `show buffers` prints it. */
  name?: string;
}

export class BufferPool {
  readonly name: string;
  readonly count: number;
  readonly dataSize: number;
  /** Bytes per buffer: HEADROOM + dataSize. */
  readonly stride: number;
  readonly memory: ArrayBuffer | SharedArrayBuffer;
  /** Every byte of every buffer; a buffer's current data is bytes[current[bi] .. + length[bi]]. */
  readonly bytes: Uint8Array;

  /** Absolute byte offset of the buffer's current data in `bytes` (VPP: current_data). */
  readonly current: Uint32Array;
  /** Bytes of current data in this buffer (VPP: current_length). */
  readonly length: Uint32Array;
  readonly flags: Uint32Array;
  /** Next buffer of a chain when NEXT_PRESENT (VPP: next_buffer). */
  readonly nextBuffer: Uint32Array;
  /** Bytes in the chain after this buffer (VPP: total_length_not_including_first_buffer). */
  readonly chainRest: Uint32Array;
  /** sw_if_index the packet arrived on / leaves on. */
  readonly rxInterface: Uint32Array;
  readonly txInterface: Uint32Array;
  /** Error code set by the node that sent the packet to error-drop (node error index). */
  readonly error: Uint32Array;
  /** Index of this packet's trace record, NONE when untraced. */
  readonly traceSlot: Uint32Array;
  /** Absolute offsets of the L2 and L3 headers, kept by ethernet-input and ip4-input. */
  readonly l2Offset: Uint32Array;
  readonly l3Offset: Uint32Array;
  /** OPAQUE_WORDS u32 words per buffer for per-node state: opaque[bi * OPAQUE_WORDS + k]. */
  readonly opaque: Uint32Array;

  private readonly freeStack: Uint32Array;
  private freeTop: number;
  /** Buffers asked for that could not be given (pool empty). */
  allocFailures = 0;
  /** Frees of a buffer that was already free (ignored, counted). */
  doubleFrees = 0;

  constructor(options: BufferPoolOptions) {
    const count = options.count;
    const dataSize = options.dataSize ?? 2048;
    if (!Number.isInteger(count) || count < 1 || count > 0x1000000) {
      throw new RangeError(`buffer count must be an integer 1..16777216, got ${count}`);
    }
    if (!Number.isInteger(dataSize) || dataSize < 256 || dataSize > 65536) {
      throw new RangeError(`buffer data size must be an integer 256..65536, got ${dataSize}`);
    }
    this.name = options.name ?? 'default-numa-0';
    this.count = count;
    this.dataSize = dataSize;
    this.stride = HEADROOM + dataSize;
    const total = this.stride * count;
    this.memory = options.shared ? new SharedArrayBuffer(total) : new ArrayBuffer(total);
    this.bytes = new Uint8Array(this.memory);
    const meta = (): Uint32Array =>
      options.shared ? new Uint32Array(new SharedArrayBuffer(count * 4)) : new Uint32Array(count);
    this.current = meta();
    this.length = meta();
    this.flags = meta();
    this.nextBuffer = meta();
    this.chainRest = meta();
    this.rxInterface = meta();
    this.txInterface = meta();
    this.error = meta();
    this.traceSlot = meta();
    this.l2Offset = meta();
    this.l3Offset = meta();
    this.opaque = options.shared
      ? new Uint32Array(new SharedArrayBuffer(count * OPAQUE_WORDS * 4))
      : new Uint32Array(count * OPAQUE_WORDS);
    this.freeStack = new Uint32Array(count);
    // Lowest indices on top, so a fresh pool hands out 0, 1, 2, … (easier to read in traces).
    for (let i = 0; i < count; i++) {
      this.freeStack[i] = count - 1 - i;
      this.flags[i] = BufferFlag.FREE;
    }
    this.freeTop = count;
  }

  /** Buffers on the free stack. */
  get available(): number {
    return this.freeTop;
  }

  /** Byte offset of the start of a buffer's data area (after the headroom). */
  dataStart(bi: number): number {
    return bi * this.stride + HEADROOM;
  }

  /**
   * Allocates up to `n` buffers into `out[offset …]`, resets their metadata (current data at
   * the start of the data area, length 0) and returns how many it gave. A short count is
   * counted in `allocFailures`; it never throws.
   */
  alloc(out: Uint32Array, offset: number, n: number): number {
    let given = n;
    if (given > this.freeTop) {
      this.allocFailures += given - this.freeTop;
      given = this.freeTop;
    }
    const stack = this.freeStack;
    const stride = this.stride;
    const current = this.current;
    const length = this.length;
    const flags = this.flags;
    const chainRest = this.chainRest;
    const traceSlot = this.traceSlot;
    const error = this.error;
    let top = this.freeTop;
    for (let i = 0; i < given; i++) {
      const bi = stack[--top];
      out[offset + i] = bi;
      current[bi] = bi * stride + HEADROOM;
      length[bi] = 0;
      flags[bi] = 0;
      chainRest[bi] = 0;
      traceSlot[bi] = NONE;
      error[bi] = 0;
    }
    this.freeTop = top;
    return given;
  }

  /** Allocates one buffer; returns its index or NONE when the pool is empty (counted). */
  allocOne(): number {
    if (this.freeTop === 0) {
      this.allocFailures++;
      return NONE;
    }
    const bi = this.freeStack[--this.freeTop];
    this.current[bi] = bi * this.stride + HEADROOM;
    this.length[bi] = 0;
    this.flags[bi] = 0;
    this.chainRest[bi] = 0;
    this.traceSlot[bi] = NONE;
    this.error[bi] = 0;
    return bi;
  }

  /** Frees `n` buffers (and the rest of their chains) named at `indices[offset …]`. */
  free(indices: Uint32Array, offset: number, n: number): void {
    for (let i = 0; i < n; i++) this.freeChain(indices[offset + i]);
  }

  /** Frees one buffer and every buffer chained after it. A buffer already free is counted, not freed again. */
  freeChain(bi: number): void {
    const flags = this.flags;
    for (;;) {
      if (bi >= this.count) {
        this.doubleFrees++;
        return;
      }
      const f = flags[bi];
      if (f & BufferFlag.FREE) {
        this.doubleFrees++;
        return;
      }
      flags[bi] = BufferFlag.FREE;
      this.freeStack[this.freeTop++] = bi;
      if (!(f & BufferFlag.NEXT_PRESENT)) return;
      bi = this.nextBuffer[bi];
    }
  }

  /** Total bytes of the packet starting at `bi`, across its chain. */
  packetLength(bi: number): number {
    return this.length[bi] + ((this.flags[bi] & BufferFlag.NEXT_PRESENT) ? this.chainRest[bi] : 0);
  }

  /** Moves the current data pointer forward by `n` bytes (negative: back into headroom). */
  advance(bi: number, n: number): void {
    this.current[bi] += n;
    this.length[bi] -= n;
  }

  /** A view of a buffer's current data (control path and tests; allocates a view). */
  view(bi: number): Uint8Array {
    const start = this.current[bi];
    return this.bytes.subarray(start, start + this.length[bi]);
  }

  /**
   * Copies `data` into a new packet (chained over as many buffers as it takes) and returns
   * the first buffer's index, or NONE when the pool cannot hold it (nothing is leaked).
   */
  fromBytes(data: Uint8Array): number {
    const first = this.allocOne();
    if (first === NONE) return NONE;
    let bi = first;
    let done = 0;
    for (;;) {
      const take = Math.min(this.dataSize, data.length - done);
      this.bytes.set(data.subarray(done, done + take), this.current[bi]);
      this.length[bi] = take;
      done += take;
      if (done >= data.length) break;
      const nb = this.allocOne();
      if (nb === NONE) {
        this.freeChain(first);
        return NONE;
      }
      // appendBuffer adds the new buffer's length to the chain total: set it first.
      this.length[nb] = Math.min(this.dataSize, data.length - done);
      this.appendBuffer(first, bi, nb);
      bi = nb;
    }
    return first;
  }

  /** Copies a packet (the whole chain) out into a fresh Uint8Array. */
  toBytes(bi: number): Uint8Array {
    const out = new Uint8Array(this.packetLength(bi));
    let at = 0;
    for (;;) {
      const start = this.current[bi];
      out.set(this.bytes.subarray(start, start + this.length[bi]), at);
      at += this.length[bi];
      if (!(this.flags[bi] & BufferFlag.NEXT_PRESENT)) return out;
      bi = this.nextBuffer[bi];
    }
  }

  /**
   * Links `next` after `last` in the chain that starts at `first` and adds its length to
   * the first buffer's chain total (VPP: vlib_buffer_chain_increase_length).
   */
  appendBuffer(first: number, last: number, next: number): void {
    this.nextBuffer[last] = next;
    this.flags[last] |= BufferFlag.NEXT_PRESENT;
    this.flags[next] &= ~BufferFlag.NEXT_PRESENT;
    if (first === last) this.chainRest[first] = 0;
    this.chainRest[first] += this.length[next];
  }

  /**
   * Copies a chained packet into its first buffer when it fits, freeing the rest; returns
   * false (and changes nothing) when the packet is larger than one buffer's data area.
   */
  linearize(bi: number): boolean {
    if (!(this.flags[bi] & BufferFlag.NEXT_PRESENT)) return true;
    const total = this.packetLength(bi);
    if (total > this.dataSize) return false;
    const end = (bi + 1) * this.stride;
    const data = this.toBytes(bi);
    const rest = this.nextBuffer[bi];
    // Keep the current offset (and so any headroom in use) when the data still fits behind it.
    const start = this.current[bi] + total <= end ? this.current[bi] : this.dataStart(bi);
    this.bytes.set(data, start);
    this.current[bi] = start;
    this.length[bi] = total;
    this.flags[bi] &= ~BufferFlag.NEXT_PRESENT;
    this.chainRest[bi] = 0;
    this.freeChain(rest);
    return true;
  }
}
