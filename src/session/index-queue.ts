// A FIFO queue of non-negative integers (session indices) over a typed-array ring that
// doubles when full: the session layer's event ring, where each session with events waits
// once for session-queue. Push and shift allocate nothing until the ring grows.

export class IndexQueue {
  private ring: Int32Array;
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 1024) {
    this.ring = new Int32Array(initialCapacity);
  }

  get length(): number {
    return this.count;
  }

  push(index: number): void {
    if (this.count === this.ring.length) {
      const ring = this.ring;
      const grown = new Int32Array(ring.length * 2);
      for (let i = 0; i < this.count; i++) grown[i] = ring[(this.head + i) % ring.length];
      this.ring = grown;
      this.head = 0;
    }
    this.ring[(this.head + this.count) % this.ring.length] = index;
    this.count++;
  }

  /** The oldest index, removed; −1 when empty. */
  shift(): number {
    if (this.count === 0) return -1;
    const index = this.ring[this.head];
    this.head = this.head + 1 === this.ring.length ? 0 : this.head + 1;
    this.count--;
    return index;
  }
}
