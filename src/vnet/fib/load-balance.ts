// Load-balance objects (VPP's load_balance_t): what a FIB leaf points at. Each holds a
// power-of-two number of buckets of adjacency indices, filled in proportion to the paths'
// weights, so ip4-lookup picks a bucket with `flowHash & (buckets - 1)`: packets of one
// flow always take one path (ECMP by 5-tuple hash). Single-path objects have one bucket
// and ip4-lookup skips the hash for them. Objects are shared by identical path sets.

const INITIAL = 1024;
/** Buckets per load-balance at most (VPP also caps the bucket count). */
export const MAX_BUCKETS = 64;

export class LoadBalances {
  /** First bucket of each object in `buckets`. */
  start = new Uint32Array(INITIAL);
  /** Number of buckets, a power of two. */
  size = new Uint8Array(INITIAL);
  /** Bucket → adjacency index. */
  buckets = new Uint32Array(INITIAL * 2);
  /** Packets forwarded per object (`show ip fib` "to:[packets:bytes]"). */
  packets = new Float64Array(INITIAL);
  bytes = new Float64Array(INITIAL);
  private used = 0;
  private bucketsUsed = 0;
  private readonly byKey = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly refs: number[] = [];
  private readonly freeList: number[] = [];
  /** The paths each object was made from: [adjacency, weight] pairs. */
  readonly paths: [number, number][][] = [];

  get count(): number {
    return this.used - this.freeList.length;
  }

  /**
   * The shared object for this set of (adjacency, weight) paths, with one more reference.
   * Buckets are spread by weight over the next power of two ≥ the number of paths.
   */
  acquire(paths: readonly (readonly [number, number])[]): number {
    const sorted = [...paths].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const key = sorted.map(([adj, w]) => `${adj}*${w}`).join(',');
    const found = this.byKey.get(key);
    if (found !== undefined) {
      this.refs[found]++;
      return found;
    }
    const lb = this.freeList.pop() ?? this.used++;
    if (lb >= this.start.length) this.growObjects();
    const n = this.bucketCount(sorted);
    if (this.bucketsUsed + n > this.buckets.length) this.growBuckets(this.bucketsUsed + n);
    this.start[lb] = this.bucketsUsed;
    this.size[lb] = n;
    this.fill(this.bucketsUsed, n, sorted);
    this.bucketsUsed += n;
    this.packets[lb] = 0;
    this.bytes[lb] = 0;
    this.byKey.set(key, lb);
    this.keys[lb] = key;
    this.refs[lb] = 1;
    this.paths[lb] = sorted.map(([a, w]) => [a, w]);
    return lb;
  }

  /**
   * A new object of its own (not shared by key), for a path set that will change: a
   * recursive route's, re-resolved in place with `update` so no FIB leaf has to change.
   */
  create(paths: readonly (readonly [number, number])[]): number {
    const sorted = [...paths].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const lb = this.freeList.pop() ?? this.used++;
    if (lb >= this.start.length) this.growObjects();
    this.keys[lb] = '';
    this.refs[lb] = 1;
    this.packets[lb] = 0;
    this.bytes[lb] = 0;
    this.size[lb] = 0;
    this.place(lb, sorted);
    return lb;
  }

  /**
   * Refills an object made by `create` with new paths, in place: packets looked up after
   * the call take the new buckets. Same bucket count: the same slots are rewritten; else
   * new slots are taken (the old ones are not reused).
   */
  update(lb: number, paths: readonly (readonly [number, number])[]): void {
    const sorted = [...paths].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    if (this.bucketCount(sorted) === this.size[lb]) {
      this.fill(this.start[lb], this.size[lb], sorted);
      this.paths[lb] = sorted.map(([a, w]) => [a, w]);
      return;
    }
    this.place(lb, sorted);
  }

  /** Drops a reference; the object is recycled when none is left (its buckets are not reused). */
  release(lb: number): void {
    if (--this.refs[lb] > 0) return;
    if (this.keys[lb] !== '' && this.byKey.get(this.keys[lb]) === lb) this.byKey.delete(this.keys[lb]);
    this.keys[lb] = '';
    this.freeList.push(lb);
  }

  /** Gives `lb` fresh buckets for `sorted` paths. */
  private place(lb: number, sorted: readonly (readonly [number, number])[]): void {
    const n = this.bucketCount(sorted);
    if (this.bucketsUsed + n > this.buckets.length) this.growBuckets(this.bucketsUsed + n);
    this.fill(this.bucketsUsed, n, sorted);
    // Buckets first, then where they start and how many: a lookup between the two writes
    // of a single thread cannot happen, but the order keeps the object valid throughout.
    this.start[lb] = this.bucketsUsed;
    this.size[lb] = n;
    this.bucketsUsed += n;
    this.paths[lb] = sorted.map(([a, w]) => [a, w]);
  }

  /** The adjacencies of an object, bucket by bucket. */
  bucketsOf(lb: number): number[] {
    return Array.from(this.buckets.subarray(this.start[lb], this.start[lb] + this.size[lb]));
  }

  /**
   * Buckets per path, VPP's ip_multipath_normalize_next_hops: the smallest power of two
   * at least the number of paths whose rounding of the weights errs by at most 10% per
   * bucket (VPP's multipath_next_hop_error_tolerance), doubling up to MAX_BUCKETS. Equal
   * paths get one bucket each (2 paths: 2 buckets; 3 paths: 16); weights 1:3 give 1:3 of 4.
   * Every path keeps at least one bucket. The counts sum to the bucket count.
   */
  private normalize(paths: readonly (readonly [number, number])[]): number[] {
    const n = paths.length;
    if (n <= 1) return [1];
    const weights = paths.map(([, w]) => Math.max(1, w));
    const total = weights.reduce((a, b) => a + b, 0);
    let size = 1;
    while (size < n && size < MAX_BUCKETS) size <<= 1;
    for (;;) {
      const counts: number[] = [];
      let left = size;
      let error = 0;
      let starved = false;
      for (let i = 0; i < n; i++) {
        const share = (weights[i] * size) / total;
        const count = Math.min(Math.round(share), left);
        left -= count;
        error += Math.abs(share - count);
        if (count === 0) starved = true;
        counts.push(count);
      }
      counts[0] += left;
      if ((!starved && error <= 0.1 * size) || size >= MAX_BUCKETS) {
        if (starved) {
          // At the cap: give starved paths one bucket each, taken from the largest.
          for (let i = 0; i < n; i++) {
            if (counts[i] > 0) continue;
            const largest = counts.indexOf(Math.max(...counts));
            if (counts[largest] <= 1) break;
            counts[largest]--;
            counts[i] = 1;
          }
        }
        return counts;
      }
      size <<= 1;
    }
  }

  private bucketCount(paths: readonly (readonly [number, number])[]): number {
    return this.normalize(byWeight(paths)).reduce((a, b) => a + b, 0);
  }

  /** Fills n buckets: each path's share in one run, paths by weight then adjacency (VPP's order). */
  private fill(at: number, n: number, paths: readonly (readonly [number, number])[]): void {
    if (paths.length === 0) return;
    const ordered = byWeight(paths);
    const counts = this.normalize(ordered);
    let b = 0;
    for (let i = 0; i < ordered.length && b < n; i++) {
      for (let k = 0; k < counts[i] && b < n; k++) this.buckets[at + b++] = ordered[i][0];
    }
  }

  private growObjects(): void {
    const size = this.start.length * 2;
    const s = new Uint32Array(size);
    s.set(this.start);
    this.start = s;
    const z = new Uint8Array(size);
    z.set(this.size);
    this.size = z;
    const p = new Float64Array(size);
    p.set(this.packets);
    this.packets = p;
    const b = new Float64Array(size);
    b.set(this.bytes);
    this.bytes = b;
  }

  private growBuckets(need: number): void {
    let size = this.buckets.length * 2;
    while (size < need) size *= 2;
    const b = new Uint32Array(size);
    b.set(this.buckets);
    this.buckets = b;
  }
}

/** Paths by weight, then adjacency: the order buckets are filled in. */
function byWeight(paths: readonly (readonly [number, number])[]): (readonly [number, number])[] {
  return [...paths].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}
