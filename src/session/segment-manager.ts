// An app's FIFO memory (VPP's segment_manager): the shared segments its sessions' FIFOs are
// carved from. It starts with one segment and adds another of the same size when every one
// is full, so an app is bounded by memory, not by the first segment's guess at how many
// sessions it will hold; a FIFO goes back to the segment it came from.

import { FifoError, FifoSegment, type Fifo } from '../svm/fifo.ts';

/** Segments an app may grow to (each `segmentSize` bytes) before allocation fails. */
export const MAX_SEGMENTS = 256;

export class SegmentManager {
  readonly segments: FifoSegment[] = [];
  /** Index of the segment that served the last allocation: tried first next time. */
  private current = 0;

  constructor(readonly name: string, readonly segmentSize: number) {
    this.segments.push(new FifoSegment(segmentSize, `${name}-0`));
  }

  /** A new empty FIFO; FifoError ENOMEM when MAX_SEGMENTS segments are full. */
  allocate(size: number): Fifo {
    const segments = this.segments;
    for (let tried = 0; tried < segments.length; tried++) {
      const i = (this.current + tried) % segments.length;
      try {
        const fifo = segments[i].allocate(size);
        this.current = i;
        return fifo;
      } catch (error) {
        if (!(error instanceof FifoError) || error.code !== 'ENOMEM') throw error;
      }
    }
    if (segments.length === MAX_SEGMENTS) {
      throw new FifoError('ENOMEM', `${this.name}: ${MAX_SEGMENTS} fifo segments of ${this.segmentSize} bytes are full`);
    }
    const segment = new FifoSegment(this.segmentSize, `${this.name}-${segments.length}`);
    segments.push(segment);
    this.current = segments.length - 1;
    return segment.allocate(size);
  }

  /** Two FIFOs (a session's rx and tx), or neither: FifoError ENOMEM with the first given back. */
  allocatePair(firstSize: number, secondSize: number): [Fifo, Fifo] {
    const first = this.allocate(firstSize);
    try {
      return [first, this.allocate(secondSize)];
    } catch (error) {
      this.free(first);
      throw error;
    }
  }

  /** Returns a FIFO to its segment. */
  free(fifo: Fifo): void {
    for (const segment of this.segments) {
      if (segment.buffer === fifo.buffer) return segment.free(fifo);
    }
    throw new FifoError('EINVAL', `fifo does not belong to ${this.name}'s segments`);
  }

  /** FIFOs allocated across every segment. */
  get fifoCount(): number {
    let n = 0;
    for (const segment of this.segments) n += segment.fifoCount;
    return n;
  }
}
