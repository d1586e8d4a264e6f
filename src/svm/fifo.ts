// The session FIFO (VPP's svm_fifo): a byte ring in a SharedArrayBuffer segment between one
// producer and one consumer — for a session's rx FIFO, TCP produces and the app consumes; for
// its tx FIFO, the app produces and TCP consumes (peeking at offsets to build segments and
// dropping what the peer acknowledged). The ring's indices live in an Int32Array header in the
// same segment, so a worker thread that attaches to the segment sees the same FIFO: the
// producer writes only the tail, the consumer only the head; each publishes its index with
// Atomics.store after copying bytes and reads the other's with Atomics.load before copying,
// which orders the byte copies against the index updates (a release/acquire pair).
//
// Head and tail run over [0, 2·size), not [0, size): the ring index of a position is
// position mod size, and used = (tail − head) mod 2·size tells a full ring (used = size) from
// an empty one (used = 0) without a wasted byte or a shared counter that both sides would
// have to update with a read-modify-write.
//
// The rx side also keeps out-of-order intervals, so TCP writes early data in place and
// reassembly is the FIFO's job: `enqueueAt(offset from tail, …)` copies the bytes where they
// belong and records [offset, offset+length) in a sorted list of disjoint, non-touching
// intervals (merged on overlap or contact) held in the header, at most `maxIntervals` of them.
// Every interval lies inside the free space past the tail; when bytes land at the tail, the
// tail advances over them and over every interval that becomes contiguous. Intervals are
// stored by absolute position (mod 2·size), so advancing the tail rewrites none of them.

export type FifoErrorCode =
  /** A size, offset or option out of range. */
  | 'EINVAL'
  /** The segment has no room left for another FIFO of that size. */
  | 'ENOMEM';

export class FifoError extends Error {
  override readonly name = 'FifoError';
  readonly code: FifoErrorCode;
  constructor(code: FifoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** `enqueueAt` result: the bytes would need an out-of-order interval and all are taken (nothing written). */
export const FIFO_NO_INTERVAL = -1;

/**
 * Bytes that are not in one array — a segment's payload over a chain of packet buffers — for
 * `enqueueAtFrom`, which copies them into the ring piece by piece (no gathering copy first).
 */
export interface FifoByteSource {
  /** Copies `length` bytes, from `offset` bytes into the source, to dst[dstOffset …]. */
  copyTo(offset: number, dst: Uint8Array, dstOffset: number, length: number): void;
}

const NO_BYTES = new Uint8Array(0);

/** Header words (Int32). */
const HEAD = 0;
const TAIL = 1;
const SIZE = 2;
const MAGIC = 3;
const INTERVAL_COUNT = 4;
const INTERVAL_MAX = 5;
/** Event flags owned by the session layer (VPP's has_event / want_deq_ntf). */
export const FIFO_FLAGS_WORD = 6;
/** First interval: pairs (start position, length), sorted by offset from the tail. */
const INTERVALS = 8;
const FIFO_MAGIC = 0x46494630; // "FIF0"

/** Largest ring: head and tail run to 2·size, which must stay a positive Int32. */
export const FIFO_MAX_SIZE = 1 << 30;
/** Default bound on out-of-order intervals: beyond it, a segment that needs a new one is refused. */
export const FIFO_DEFAULT_MAX_INTERVALS = 32;
const MAX_INTERVALS_LIMIT = 1024;

/** Header bytes for `maxIntervals`, rounded up to 8 so the data starts 8-aligned. */
function headerBytes(maxIntervals: number): number {
  return ((INTERVALS + 2 * maxIntervals) * 4 + 7) & ~7;
}

// ---- byte copies ------------------------------------------------------------------------
//
// V8 copies between typed arrays of which either is on a SharedArrayBuffer with relaxed
// atomic stores: word by word when source and destination addresses agree mod 8, byte by byte
// otherwise. Measured on this machine kind (ns per copy into a shared ring):
//            mutually aligned   misaligned   via an aligned plain scratch   byte loop
//   64 B            31              44                 63                      38
//   1460 B          90             438                160                     940
//   9000 B         345            2350                470–670                9480
// So: a loop for short copies (no allocation at all), one `set` when the addresses agree
// mod 8, else two `set`s through a plain scratch array placed at the destination's (or
// source's) alignment — and between two shared arrays, which no placement suits both, a
// `copyWithin` inside the scratch array in between. Each `set` needs a `subarray` view: the
// one allocation of the data path, ~30 ns of young-generation garbage per copy of 64 bytes or
// more, which JavaScript gives no way around (copyWithin only works inside one buffer).

const SHORT_COPY = 64;
const SCRATCH_BYTES = 16384;
const scratch = new Uint8Array(SCRATCH_BYTES + 8);

/** Copies `n` bytes from src[srcOffset] to dst[dstOffset] (ranges must be in bounds). */
export function copyBytes(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number, n: number): void {
  if (n <= SHORT_COPY) {
    for (let i = 0; i < n; i++) dst[dstOffset + i] = src[srcOffset + i];
    return;
  }
  const srcAddress = src.byteOffset + srcOffset;
  const dstAddress = dst.byteOffset + dstOffset;
  if (((srcAddress ^ dstAddress) & 7) === 0) {
    dst.set(src.subarray(srcOffset, srcOffset + n), dstOffset);
    return;
  }
  // Through the scratch array, aligned like whichever side is shared; when both are, aligned
  // like the source for the first copy and shifted in place to the destination's alignment.
  const dstShared = dst.buffer instanceof SharedArrayBuffer;
  const srcShared = src.buffer instanceof SharedArrayBuffer;
  const from = (srcShared || !dstShared ? srcAddress : dstAddress) & 7;
  const to = (dstShared || !srcShared ? dstAddress : srcAddress) & 7;
  while (n > 0) {
    const chunk = n < SCRATCH_BYTES ? n : SCRATCH_BYTES;
    scratch.set(src.subarray(srcOffset, srcOffset + chunk), from);
    if (from !== to) scratch.copyWithin(to, from, from + chunk);
    dst.set(scratch.subarray(to, to + chunk), dstOffset);
    srcOffset += chunk;
    dstOffset += chunk;
    n -= chunk;
  }
}

export interface FifoOptions {
  /** Bound on out-of-order intervals kept at once; default 32. */
  maxIntervals?: number;
}

export class Fifo implements FifoByteSource {
  /** The segment this FIFO lives in. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the FIFO's header in the segment. */
  readonly offset: number;
  /** Capacity in bytes. */
  readonly size: number;
  readonly maxIntervals: number;
  /** Header: head, tail, size, magic, interval count and bound, flags, intervals. */
  readonly header: Int32Array;
  /** The ring's bytes. */
  readonly data: Uint8Array;
  /** 2·size: the range of head and tail. */
  private readonly range: number;

  /** Bytes a FIFO of `size` with `maxIntervals` takes in a segment. */
  static bytesFor(size: number, maxIntervals = FIFO_DEFAULT_MAX_INTERVALS): number {
    return headerBytes(maxIntervals) + ((size + 7) & ~7);
  }

  /** A FIFO in a segment of its own. */
  static create(size: number, options: FifoOptions = {}): Fifo {
    const maxIntervals = options.maxIntervals ?? FIFO_DEFAULT_MAX_INTERVALS;
    checkSizes(size, maxIntervals);
    const buffer = new SharedArrayBuffer(Fifo.bytesFor(size, maxIntervals));
    return Fifo.format(buffer, 0, size, maxIntervals);
  }

  /** Lays out a new, empty FIFO at `offset` (8-aligned) of `buffer`. */
  static format(buffer: SharedArrayBuffer, offset: number, size: number, maxIntervals = FIFO_DEFAULT_MAX_INTERVALS): Fifo {
    checkSizes(size, maxIntervals);
    if (!(Number.isInteger(offset) && offset >= 0 && (offset & 7) === 0 && offset + Fifo.bytesFor(size, maxIntervals) <= buffer.byteLength)) {
      throw new FifoError('EINVAL', `invalid fifo offset ${offset}: expected an 8-aligned offset with room for ${Fifo.bytesFor(size, maxIntervals)} bytes`);
    }
    const header = new Int32Array(buffer, offset, INTERVALS + 2 * maxIntervals);
    header.fill(0);
    header[SIZE] = size;
    header[INTERVAL_MAX] = maxIntervals;
    Atomics.store(header, MAGIC, FIFO_MAGIC);
    return new Fifo(buffer, offset);
  }

  /** The FIFO already laid out at `offset` of `buffer` (by this thread or another). */
  static attach(buffer: SharedArrayBuffer, offset: number): Fifo {
    return new Fifo(buffer, offset);
  }

  private constructor(buffer: SharedArrayBuffer, offset: number) {
    if (!(Number.isInteger(offset) && offset >= 0 && (offset & 7) === 0 && offset + INTERVALS * 4 <= buffer.byteLength)) {
      throw new FifoError('EINVAL', `invalid fifo offset ${offset}: expected an 8-aligned offset inside the segment`);
    }
    const probe = new Int32Array(buffer, offset, INTERVALS);
    if (Atomics.load(probe, MAGIC) !== FIFO_MAGIC) throw new FifoError('EINVAL', `no fifo at offset ${offset} of the segment`);
    const size = probe[SIZE];
    const maxIntervals = probe[INTERVAL_MAX];
    this.buffer = buffer;
    this.offset = offset;
    this.size = size;
    this.maxIntervals = maxIntervals;
    this.range = 2 * size;
    this.header = new Int32Array(buffer, offset, INTERVALS + 2 * maxIntervals);
    this.data = new Uint8Array(buffer, offset + headerBytes(maxIntervals), size);
  }

  // ---- sizes ----

  /** Bytes the consumer can dequeue. */
  maxDequeue(): number {
    const used = Atomics.load(this.header, TAIL) - this.header[HEAD];
    return used < 0 ? used + this.range : used;
  }

  /** Free bytes: what the producer can enqueue at the tail (out-of-order bytes count as free). */
  maxEnqueue(): number {
    const used = this.header[TAIL] - Atomics.load(this.header, HEAD);
    return this.size - (used < 0 ? used + this.range : used);
  }

  isEmpty(): boolean {
    return this.maxDequeue() === 0;
  }

  // ---- alignment (copies into and out of the ring are fastest when both sides agree mod 8) ----

  /** Address mod 8, in the segment, of the byte `offset` bytes past the head (0 ≤ offset < size; else 0). */
  headAlignment(offset: number): number {
    if (!(offset >= 0 && offset < this.size)) return 0;
    return (this.data.byteOffset + this.ringIndex(this.header[HEAD] + offset)) & 7;
  }

  /** Address mod 8, in the segment, of the byte `offset` bytes past the tail (0 ≤ offset < size; else 0). */
  tailAlignment(offset: number): number {
    if (!(offset >= 0 && offset < this.size)) return 0;
    return (this.data.byteOffset + this.ringIndex(this.header[TAIL] + offset)) & 7;
  }

  isFull(): boolean {
    return this.maxEnqueue() === 0;
  }

  // ---- producer ----

  /**
   * Appends up to `length` bytes of src at the tail; returns the bytes copied (fewer when the
   * FIFO fills). Out-of-order intervals the new bytes reach are taken in as well.
   */
  enqueue(src: Uint8Array, srcOffset: number, length: number): number {
    const free = this.maxEnqueue();
    const n = length < free ? length : free;
    if (n <= 0) return 0;
    this.appendAtTail(this.header[TAIL], src, srcOffset, n, null);
    return n;
  }

  /**
   * Writes `length` bytes of src at `offset` bytes past the tail (TCP: offset = SEG.SEQ −
   * RCV.NXT). Bytes beyond the free space are cut off. Returns how far the tail advanced —
   * 0 when the bytes went into an out-of-order interval, more than `length` when they
   * closed the hole before one — or FIFO_NO_INTERVAL when they would need a new interval
   * and `maxIntervals` are in use (then nothing is written).
   */
  enqueueAt(offset: number, src: Uint8Array, srcOffset: number, length: number): number {
    return this.place(offset, length, src, srcOffset, null);
  }

  /** `enqueueAt` with the bytes taken from `source`, starting `sourceOffset` bytes into it. */
  enqueueAtFrom(offset: number, source: FifoByteSource, sourceOffset: number, length: number): number {
    return this.place(offset, length, NO_BYTES, sourceOffset, source);
  }

  private place(offset: number, length: number, src: Uint8Array, srcOffset: number, source: FifoByteSource | null): number {
    const header = this.header;
    const tail = header[TAIL];
    const free = this.maxEnqueue();
    if (offset < 0 || offset >= free || length <= 0) return 0;
    const n = offset + length > free ? free - offset : length;
    const count = header[INTERVAL_COUNT];
    if (offset > 0) {
      // Intervals i..j-1 overlap or touch [offset, offset + n): they merge into one.
      const end = offset + n;
      let i = 0;
      while (i < count && this.intervalEnd(i, tail) < offset) i++;
      let j = i;
      while (j < count && this.intervalStart(j, tail) <= end) j++;
      if (i === j && count === this.maxIntervals) return FIFO_NO_INTERVAL;
      this.write(this.wrap(tail + offset), src, srcOffset, n, source);
      let start = offset;
      let last = end;
      if (j > i) {
        const first = this.intervalStart(i, tail);
        const final = this.intervalEnd(j - 1, tail);
        if (first < start) start = first;
        if (final > last) last = final;
      }
      this.replaceIntervals(i, j, count, this.wrap(tail + start), last - start);
      return 0;
    }
    return this.appendAtTail(tail, src, srcOffset, n, source);
  }

  /** Writes n bytes (n ≤ free) at the tail and moves the tail over them and every interval they now reach. */
  private appendAtTail(tail: number, src: Uint8Array, srcOffset: number, n: number, source: FifoByteSource | null): number {
    const header = this.header;
    const count = header[INTERVAL_COUNT];
    this.write(tail, src, srcOffset, n, source);
    let advance = n;
    let taken = 0;
    while (taken < count) {
      const start = this.intervalStart(taken, tail);
      if (start > advance) break;
      const end = this.intervalEnd(taken, tail);
      if (end > advance) advance = end;
      taken++;
    }
    if (taken > 0) this.replaceIntervals(0, taken, count, 0, 0);
    Atomics.store(header, TAIL, this.wrap(tail + advance));
    return advance;
  }

  /** Out-of-order intervals held. */
  get intervalCount(): number {
    return this.header[INTERVAL_COUNT];
  }

  /** Offset from the tail of interval i (0 ≤ i < intervalCount, in increasing order). */
  intervalOffset(i: number): number {
    return this.intervalStart(i, this.header[TAIL]);
  }

  /** Length of interval i. */
  intervalLength(i: number): number {
    return this.header[INTERVALS + 2 * i + 1];
  }

  /** Bytes held in out-of-order intervals. */
  outOfOrderBytes(): number {
    const header = this.header;
    let total = 0;
    for (let i = header[INTERVAL_COUNT] - 1; i >= 0; i--) total += header[INTERVALS + 2 * i + 1];
    return total;
  }

  // ---- consumer ----

  /** Moves up to `length` bytes from the head into dst; returns the bytes moved. */
  dequeue(dst: Uint8Array, dstOffset: number, length: number): number {
    const n = this.peek(0, dst, dstOffset, length);
    if (n > 0) Atomics.store(this.header, HEAD, this.wrap(this.header[HEAD] + n));
    return n;
  }

  /**
   * Moves up to `length` bytes from the head of this FIFO to the tail of `dst` (the caller is
   * this FIFO's consumer and dst's producer) in one copy, where a dequeue and an enqueue
   * through an array take two — four when the array does not line up with both rings (an
   * echo's rx and tx FIFOs do line up: the same stream offsets). Returns the bytes moved.
   */
  moveTo(dst: Fifo, length: number): number {
    let n = this.maxDequeue();
    const room = dst.maxEnqueue();
    if (room < n) n = room;
    if (length < n) n = length;
    if (n <= 0 || dst === this) return 0;
    dst.appendAtTail(dst.header[TAIL], NO_BYTES, 0, n, this);
    Atomics.store(this.header, HEAD, this.wrap(this.header[HEAD] + n));
    return n;
  }

  /** FifoByteSource: copies `length` bytes (all present) from `offset` bytes past the head to dst[dstOffset …]. */
  copyTo(offset: number, dst: Uint8Array, dstOffset: number, length: number): void {
    this.read(this.wrap(this.header[HEAD] + offset), dst, dstOffset, length);
  }

  /** Copies up to `length` bytes starting `offset` bytes past the head, leaving them in place. */
  peek(offset: number, dst: Uint8Array, dstOffset: number, length: number): number {
    const available = this.maxDequeue() - offset;
    if (offset < 0 || available <= 0 || length <= 0) return 0;
    const n = length < available ? length : available;
    this.read(this.wrap(this.header[HEAD] + offset), dst, dstOffset, n);
    return n;
  }

  /** Discards up to `length` bytes at the head; returns the bytes discarded. */
  drop(length: number): number {
    const used = this.maxDequeue();
    const n = length < used ? length : used;
    if (n <= 0) return 0;
    Atomics.store(this.header, HEAD, this.wrap(this.header[HEAD] + n));
    return n;
  }

  /** Empties the FIFO and forgets its intervals, for reuse by a new session (neither side may be active). */
  reset(): void {
    const header = this.header;
    header[INTERVAL_COUNT] = 0;
    header[FIFO_FLAGS_WORD] = 0;
    Atomics.store(header, HEAD, 0);
    Atomics.store(header, TAIL, 0);
  }

  /** Offsets and lengths of the out-of-order intervals, for `show session` and tests. */
  intervals(): { offset: number; length: number }[] {
    const out: { offset: number; length: number }[] = [];
    for (let i = 0; i < this.intervalCount; i++) out.push({ offset: this.intervalOffset(i), length: this.intervalLength(i) });
    return out;
  }

  // ---- internals ----

  /** The ring index of a position plus a distance below 2·size. */
  private ringIndex(position: number): number {
    const range = this.range;
    if (position >= range) position -= range;
    const size = this.size;
    return position >= size ? position - size : position;
  }

  /** A position plus a distance below 2·size, brought back into [0, 2·size). */
  private wrap(position: number): number {
    return position >= this.range ? position - this.range : position;
  }

  private intervalStart(i: number, tail: number): number {
    const d = this.header[INTERVALS + 2 * i] - tail;
    return d < 0 ? d + this.range : d;
  }

  private intervalEnd(i: number, tail: number): number {
    return this.intervalStart(i, tail) + this.header[INTERVALS + 2 * i + 1];
  }

  /** Replaces intervals [i, j) by one (start position, length), or by none when length is 0. */
  private replaceIntervals(i: number, j: number, count: number, startPosition: number, length: number): void {
    const header = this.header;
    const insert = length > 0 ? 1 : 0;
    const shift = insert - (j - i);
    if (shift !== 0) header.copyWithin(INTERVALS + 2 * (j + shift), INTERVALS + 2 * j, INTERVALS + 2 * count);
    if (insert) {
      header[INTERVALS + 2 * i] = startPosition;
      header[INTERVALS + 2 * i + 1] = length;
    }
    header[INTERVAL_COUNT] = count + shift;
  }

  /** Copies n bytes (n ≤ size) of src, or of `source` when given, into the ring at `position`, wrapping at the end. */
  private write(position: number, src: Uint8Array, srcOffset: number, n: number, source: FifoByteSource | null): void {
    const size = this.size;
    const at = position >= size ? position - size : position;
    const first = size - at;
    if (source !== null) {
      if (n <= first) {
        source.copyTo(srcOffset, this.data, at, n);
      } else {
        source.copyTo(srcOffset, this.data, at, first);
        source.copyTo(srcOffset + first, this.data, 0, n - first);
      }
    } else if (n <= first) {
      copyBytes(src, srcOffset, this.data, at, n);
    } else {
      copyBytes(src, srcOffset, this.data, at, first);
      copyBytes(src, srcOffset + first, this.data, 0, n - first);
    }
  }

  private read(position: number, dst: Uint8Array, dstOffset: number, n: number): void {
    const size = this.size;
    const at = position >= size ? position - size : position;
    const first = size - at;
    if (n <= first) {
      copyBytes(this.data, at, dst, dstOffset, n);
    } else {
      copyBytes(this.data, at, dst, dstOffset, first);
      copyBytes(this.data, 0, dst, dstOffset + first, n - first);
    }
  }
}

function checkSizes(size: number, maxIntervals: number): void {
  if (!(Number.isInteger(size) && size >= 1 && size <= FIFO_MAX_SIZE)) {
    throw new FifoError('EINVAL', `invalid fifo size ${size}: expected 1..${FIFO_MAX_SIZE} bytes`);
  }
  if (!(Number.isInteger(maxIntervals) && maxIntervals >= 1 && maxIntervals <= MAX_INTERVALS_LIMIT)) {
    throw new FifoError('EINVAL', `invalid fifo maxIntervals ${maxIntervals}: expected 1..${MAX_INTERVALS_LIMIT}`);
  }
}

/**
 * A shared segment that FIFOs are carved from (VPP's fifo segment): one SharedArrayBuffer
 * per app, FIFOs allocated at session setup and freed at close. Freed blocks are kept on
 * free lists by block size and reused for FIFOs of the same size (apps use a few fixed
 * sizes); new blocks come from the unused end of the segment.
 */
export class FifoSegment {
  readonly buffer: SharedArrayBuffer;
  readonly name: string;
  private top = 0;
  private readonly freeBlocks = new Map<number, number[]>();
  private allocated = 0;

  constructor(bytes: number, name = 'segment') {
    if (!(Number.isInteger(bytes) && bytes >= 64 && bytes <= 2 ** 32)) {
      throw new FifoError('EINVAL', `invalid segment size ${bytes}: expected 64..2^32 bytes`);
    }
    this.buffer = new SharedArrayBuffer(bytes);
    this.name = name;
  }

  /** FIFOs currently allocated. */
  get fifoCount(): number {
    return this.allocated;
  }

  /** Bytes never yet handed out at the end of the segment. */
  get unusedBytes(): number {
    return this.buffer.byteLength - this.top;
  }

  /** A new empty FIFO; throws FifoError ENOMEM when the segment is full. */
  allocate(size: number, options: FifoOptions = {}): Fifo {
    const maxIntervals = options.maxIntervals ?? FIFO_DEFAULT_MAX_INTERVALS;
    checkSizes(size, maxIntervals);
    const block = Fifo.bytesFor(size, maxIntervals);
    const reuse = this.freeBlocks.get(block);
    let offset: number;
    if (reuse !== undefined && reuse.length > 0) {
      offset = reuse.pop()!;
    } else {
      if (this.top + block > this.buffer.byteLength) {
        throw new FifoError('ENOMEM', `fifo segment ${this.name} full: no room for a ${size}-byte fifo`);
      }
      offset = this.top;
      this.top += block;
    }
    this.allocated++;
    return Fifo.format(this.buffer, offset, size, maxIntervals);
  }

  /** Returns a FIFO's block for reuse; the FIFO must not be used again. */
  free(fifo: Fifo): void {
    if (fifo.buffer !== this.buffer) throw new FifoError('EINVAL', `fifo does not belong to segment ${this.name}`);
    if (Atomics.load(fifo.header, MAGIC) !== FIFO_MAGIC) throw new FifoError('EINVAL', `fifo at offset ${fifo.offset} of segment ${this.name} is already free`);
    // Clearing the magic makes a stale attach fail instead of reading another session's bytes.
    Atomics.store(fifo.header, MAGIC, 0);
    const block = Fifo.bytesFor(fifo.size, fifo.maxIntervals);
    let list = this.freeBlocks.get(block);
    if (list === undefined) {
      list = [];
      this.freeBlocks.set(block, list);
    }
    list.push(fifo.offset);
    this.allocated--;
  }
}
