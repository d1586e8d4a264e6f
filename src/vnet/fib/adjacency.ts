// Adjacencies (VPP's ip_adjacency_t): what ip4-lookup's result says to do with a packet.
// A neighbor adjacency is shared by every route through that (interface, next hop), so
// when ARP resolves the neighbor, one rewrite update redirects all of them. Kinds:
//   drop       – no route: ip4-drop
//   local      – for us: ip4-local (VPP's receive adjacency)
//   glean      – a connected subnet without a known neighbor: ip4-glean asks ARP for the
//                packet's own destination
//   incomplete – a next hop whose MAC is not known yet: ip4-arp asks ARP for the next hop
//   rewrite    – ready: ip4-rewrite writes the precomputed Ethernet header
// Data-path fields are typed arrays by adjacency index.

export const AdjacencyKind = {
  DROP: 0,
  LOCAL: 1,
  GLEAN: 2,
  INCOMPLETE: 3,
  REWRITE: 4,
} as const;
export type AdjacencyKindValue = (typeof AdjacencyKind)[keyof typeof AdjacencyKind];
export const ADJACENCY_KIND_NAMES = ['drop', 'local', 'glean', 'incomplete', 'rewrite'] as const;

/** Bytes reserved per adjacency for its rewrite (an Ethernet header is 14). */
export const REWRITE_BYTES = 16;
const INITIAL = 1024;

export class Adjacencies {
  kind = new Uint8Array(INITIAL);
  swIfIndex = new Uint32Array(INITIAL);
  /** The neighbor's IPv4 address (next hop), 0 for drop/local/glean. */
  nextHop = new Uint32Array(INITIAL);
  /** Precomputed L2 header: rewrite[adj * REWRITE_BYTES …] of rewriteLength[adj] bytes. */
  rewrite = new Uint8Array(INITIAL * REWRITE_BYTES);
  rewriteLength = new Uint8Array(INITIAL);
  /** For rewrite adjacencies: ip4-rewrite's next index towards `<if>-output`. */
  rewriteNext = new Uint16Array(INITIAL);
  /** Packets and bytes sent through each adjacency (`show adj` counters). */
  packets = new Float64Array(INITIAL);
  private used = 0;
  private readonly free: number[] = [];
  private readonly byNeighbor = new Map<string, number>();
  /** References per adjacency (load-balance buckets using it). */
  private readonly locks: number[] = [];

  get count(): number {
    return this.used;
  }

  /** Allocates an adjacency of a kind; neighbor adjacencies are shared: see `neighbor`. */
  create(kind: AdjacencyKindValue, swIfIndex: number, nextHop = 0): number {
    const adj = this.free.pop() ?? this.used++;
    if (adj >= this.kind.length) this.grow();
    this.kind[adj] = kind;
    this.swIfIndex[adj] = swIfIndex;
    this.nextHop[adj] = nextHop;
    this.rewriteLength[adj] = 0;
    this.rewriteNext[adj] = 0;
    this.packets[adj] = 0;
    this.locks[adj] = 0;
    return adj;
  }

  /** The shared adjacency for (interface, next hop), created `incomplete` when new. */
  neighbor(swIfIndex: number, nextHop: number): number {
    const key = `${swIfIndex}/${nextHop}`;
    let adj = this.byNeighbor.get(key);
    if (adj === undefined) {
      adj = this.create(AdjacencyKind.INCOMPLETE, swIfIndex, nextHop >>> 0);
      this.byNeighbor.set(key, adj);
    }
    return adj;
  }

  findNeighbor(swIfIndex: number, nextHop: number): number {
    return this.byNeighbor.get(`${swIfIndex}/${nextHop}`) ?? -1;
  }

  /** Every neighbor adjacency on an interface (to refresh rewrites when its MAC changes). */
  neighborsOn(swIfIndex: number): number[] {
    const out: number[] = [];
    for (const adj of this.byNeighbor.values()) if (this.swIfIndex[adj] === swIfIndex) out.push(adj);
    return out;
  }

  /** Makes `adj` a rewrite adjacency with this L2 header and output next. */
  setRewrite(adj: number, header: Uint8Array, next: number): void {
    this.rewrite.set(header.subarray(0, REWRITE_BYTES), adj * REWRITE_BYTES);
    this.rewriteLength[adj] = Math.min(header.length, REWRITE_BYTES);
    this.rewriteNext[adj] = next;
    this.kind[adj] = AdjacencyKind.REWRITE;
  }

  /**
   * Sets the L2 header and output next without changing the kind: a glean adjacency keeps
   * the broadcast ARP header it sends requests with (`show ip fib` prints it, as VPP does).
   */
  setHeader(adj: number, header: Uint8Array, next: number): void {
    this.rewrite.set(header.subarray(0, REWRITE_BYTES), adj * REWRITE_BYTES);
    this.rewriteLength[adj] = Math.min(header.length, REWRITE_BYTES);
    this.rewriteNext[adj] = next;
  }

  /** Back to incomplete (neighbor deleted or interface MAC gone). */
  setIncomplete(adj: number): void {
    this.kind[adj] = AdjacencyKind.INCOMPLETE;
    this.rewriteLength[adj] = 0;
  }

  lock(adj: number): void {
    this.locks[adj]++;
  }

  /** Drops one reference; an unreferenced neighbor adjacency is kept (ARP may still resolve it). */
  unlock(adj: number): void {
    if (this.locks[adj] > 0) this.locks[adj]--;
  }

  private grow(): void {
    const size = this.kind.length * 2;
    const grow8 = (a: Uint8Array, k = 1): Uint8Array<ArrayBuffer> => {
      const b = new Uint8Array(size * k);
      b.set(a);
      return b;
    };
    this.kind = grow8(this.kind);
    this.rewrite = grow8(this.rewrite, REWRITE_BYTES);
    this.rewriteLength = grow8(this.rewriteLength);
    const s = new Uint32Array(size);
    s.set(this.swIfIndex);
    this.swIfIndex = s;
    const h = new Uint32Array(size);
    h.set(this.nextHop);
    this.nextHop = h;
    const n = new Uint16Array(size);
    n.set(this.rewriteNext);
    this.rewriteNext = n;
    const p = new Float64Array(size);
    p.set(this.packets);
    this.packets = p;
  }
}
