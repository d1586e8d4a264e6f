// The IPv4 FIB (VPP's fib_table / fib_entry for ip4): tables (VRFs) created explicitly
// by table id, each a prefix table whose values are load-balance indices, with a 16-8-8
// mtrie for the data path. Entries collect routes from sources (interface: connected and
// local; adjacency: neighbor /32s; cli: static routes; default), the best source wins.
// Static routes resolve their next hops recursively through the table; when a
// connected route comes or goes, routes that resolved through it are resolved again.
//
// CONTRACT (filled in by the FIB implementation): the data path reads only
// `mtries[fibIndex].lookup(dst)` → load-balance index.
//
// How it is kept (VPP's objects, packed for 100 000 routes in a few MiB besides the mtrie):
//   - *path-lists* (VPP's fib_path_list): a set of paths — drop, local (receive), attached
//     (glean on an interface), neighbor (next hop on an interface), recursive (next hop
//     resolved through the table) — interned by content, so 100 000 routes via one next hop
//     share one path-list and one load-balance. A path-list resolves to (adjacency, weight)
//     pairs and holds the load-balance made of them: shared by adjacency set (acquire) when
//     nothing can change it, its own object updated in place when it has a recursive path,
//     so re-resolving a recursive route rewrites one load-balance and no mtrie slot.
//   - *entries* (VPP's fib_entry): a prefix in a table with one path-list per source. The
//     prefix and the cli path-list are typed arrays by entry index; the rarer sources
//     (interface, adjacency, default) sit in a small map. Each table finds its entries by
//     (address, length) in an open-addressing hash of entry indices. The mtrie holds the
//     best source's load-balance; the covering entry on delete comes from the same hash.
//     (A Map per prefix length would hold the same prefixes again: 4.3 MiB more at 100 000.)
//   - recursive path-lists are resolved again (to a fixed point) when an interface or
//     adjacency source changes in their table, or a cli route covering their next hop
//     comes or goes — not on every route add.

import { FibError } from './fib-error.ts';
import type { Vnet } from '../vnet.ts';
import { Ip4Mtrie } from './ip4-mtrie.ts';
import { AdjacencyKind, REWRITE_BYTES } from './adjacency.ts';
import { formatIp4, ip4Mask } from '../../wire/address.ts';

/** One path of a route, as `ip route add … via <next-hop> [<interface>] [weight <n>]` gives it. */
export interface RoutePath {
  /** Next-hop address (u32), absent for an attached route `via <interface>`. */
  readonly nextHop?: number;
  /** Egress interface, absent for a recursive route (resolved through the table). */
  readonly swIfIndex?: number;
  readonly weight?: number;
  /** `via drop` (blackhole) or `via local` (receive: for us); nextHop and swIfIndex are then ignored. */
  readonly special?: 'drop' | 'local';
}

export type RouteSource = 'interface' | 'adjacency' | 'cli' | 'default';

/** Sources by priority: the lowest present one is what the entry forwards with. */
const SOURCES: readonly RouteSource[] = ['interface', 'adjacency', 'cli', 'default'];
const SOURCE_INDEX: Readonly<Record<RouteSource, number>> = { interface: 0, adjacency: 1, cli: 2, default: 3 };
/** VPP's names for the sources (`show ip fib` detail, table locks). */
export const SOURCE_DISPLAY_NAMES: Readonly<Record<RouteSource, string>> = {
  interface: 'interface',
  adjacency: 'adjacency',
  cli: 'CLI',
  default: 'default-route',
};
const CLI = 2;

export type PathKind = 'drop' | 'local' | 'attached' | 'neighbor' | 'recursive';

/** A path as the FIB keeps it (resolved to a kind). */
export interface FibPath {
  readonly kind: PathKind;
  /** Interface (attached, neighbor, local), else -1. */
  readonly swIfIndex: number;
  /** Next hop (neighbor, recursive), the receive address (local), else 0. */
  readonly nextHop: number;
  readonly weight: number;
}

interface PathList {
  readonly index: number;
  readonly key: string;
  readonly paths: readonly FibPath[];
  /** The table a recursive path-list resolves in, -1 for the others. */
  readonly fibIndex: number;
  readonly recursive: boolean;
  /** (adjacency, weight) pairs the paths resolve to now. */
  resolved: [number, number][];
  /** Its load-balance (shared by adjacency set, or its own when recursive). */
  lb: number;
  /** Entry sources using it. */
  locks: number;
}

/** What `entryInfo` says of one entry: for `show ip fib` and tests. */
export interface FibEntryInfo {
  readonly index: number;
  readonly fibIndex: number;
  readonly address: number;
  readonly length: number;
  /** The load-balance in the mtrie. */
  readonly loadBalance: number;
  /** Present sources, best first. */
  readonly sources: readonly {
    readonly source: RouteSource;
    readonly pathList: number;
    readonly paths: readonly FibPath[];
  }[];
  /** The path-list forwarding (best source's), also VPP's uRPF list index. */
  readonly pathList: number;
}

interface FibTable {
  readonly tableId: number;
  readonly fibIndex: number;
  /** Created by `ip table add` / createTable (VPP's CLI lock), not table 0. */
  readonly createdByUser: boolean;
  /** Open addressing (linear probing): entry index + 1, 0 = empty. Size a power of two. */
  hash: Int32Array;
  count: number;
  /** Recursive path-lists resolving in this table. */
  readonly recursive: Set<PathList>;
  /** Interface prefix references: `${network}/${length}/${sw}` → count of addresses on it. */
  readonly interfacePrefixes: Map<string, number>;
}

const INITIAL_HASH = 64;
const INITIAL_ENTRIES = 256;
const FREE_LENGTH = 0xff;
/** VPP's ip4_specials: added with every table, all drop. */
const SPECIALS: readonly [number, number][] = [
  [0, 0],
  [0, 32],
  [0xf0000000, 4], // class E
  [0xe0000000, 4], // multicast
  [0xffffffff, 32], // limited broadcast
];
/** ip4-glean's next index towards interface-output (its nexts: drop 0, output 1), shown as VPP's `next:1`. */
const GLEAN_OUTPUT_NEXT = 1;

function hashOf(address: number, length: number): number {
  // murmur3's finaliser over the address mixed with the length.
  let h = (address ^ Math.imul(length + 1, 0x9e3779b1)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function pathKey(path: FibPath): string {
  return `${path.kind}:${path.swIfIndex}:${path.nextHop}*${path.weight}`;
}

function samePairs(a: readonly (readonly [number, number])[], b: readonly (readonly [number, number])[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false;
  return true;
}

export class Ip4Fib {
  /** Data path: per fib index, the mtrie whose leaves are load-balance indices. */
  readonly mtries: Ip4Mtrie[] = [];
  /** The drop adjacency (index 0) and the load-balance over it (every table's default). */
  readonly dropAdjacency: number;
  readonly dropLoadBalance: number;

  private readonly tables: (FibTable | undefined)[] = [];
  private readonly byTableId = new Map<number, number>();
  private readonly freeFibIndices: number[] = [];

  // Entries: struct of arrays by entry index (global, as VPP's fib_entry pool).
  private entryAddress = new Uint32Array(INITIAL_ENTRIES);
  /** Prefix length, FREE_LENGTH for a free entry. */
  private entryLength = new Uint8Array(INITIAL_ENTRIES).fill(FREE_LENGTH);
  /** The cli source's path-list, -1 when none (most entries have only this source). */
  private entryCli = new Int32Array(INITIAL_ENTRIES).fill(-1);
  /** The other sources' path-lists ([interface, adjacency, -, default], -1 when absent), for the entries that have any. */
  private readonly entryOther = new Map<number, Int32Array>();
  private entryHighWater = 0;
  private readonly freeEntries: number[] = [];

  private readonly pathLists: (PathList | undefined)[] = [];
  private readonly pathListByKey = new Map<string, PathList>();
  private readonly freePathLists: number[] = [];
  private readonly dropPathList: PathList;

  /** Glean adjacency per interface (-1 until needed), local adjacency per `${sw}/${address}`. */
  private readonly gleanAdjacency: number[] = [];
  private readonly localAdjacency = new Map<string, number>();

  constructor(readonly vnet: Vnet) {
    this.dropAdjacency = vnet.adjacencies.create(AdjacencyKind.DROP, 0);
    this.dropPathList = this.internPathList([{ kind: 'drop', swIfIndex: -1, nextHop: 0, weight: 1 }], -1);
    this.dropPathList.locks++; // never freed
    this.dropLoadBalance = this.dropPathList.lb;
    this.createTableWith(0, false);
  }

  // ------------------------------------------------------------------ tables

  /** Creates table `tableId` (0 exists from the start); returns its fib index. Idempotent. */
  createTable(tableId: number): number {
    if (!Number.isInteger(tableId) || tableId < 0 || tableId > 0xffffffff) {
      throw new FibError(`bad table id ${tableId}: expected an integer 0..4294967295`);
    }
    const existing = this.byTableId.get(tableId);
    if (existing !== undefined) return existing;
    return this.createTableWith(tableId, true);
  }

  /** Deletes a table: refused (EBUSY) while an interface is bound to it; table 0 cannot go. */
  deleteTable(tableId: number): void {
    if (tableId === 0) throw new FibError('table 0 is the default table and cannot be deleted', 'EPERM');
    const fibIndex = this.byTableId.get(tableId);
    if (fibIndex === undefined) throw new FibError(`table ${tableId} does not exist`, 'ENOENT');
    const ifs = this.vnet.interfaces;
    for (let sw = 1; sw < ifs.count; sw++) {
      if (ifs.exists[sw] === 1 && ifs.fibIndex[sw] === fibIndex) {
        throw new FibError(`table ${tableId} is in use by interface ${ifs.names[sw]}`, 'EBUSY');
      }
    }
    const table = this.tables[fibIndex] as FibTable;
    for (const entry of this.tableEntries(table)) {
      for (let source = 0; source < SOURCES.length; source++) {
        const pl = this.sourcePathList(entry, source);
        if (pl >= 0) this.unlockPathList(pl);
      }
      this.entryOther.delete(entry);
      this.freeEntry(entry);
    }
    for (const pl of [...table.recursive]) table.recursive.delete(pl);
    this.tables[fibIndex] = undefined;
    this.byTableId.delete(tableId);
    // Packets still carrying this fib index (locally originated) find only drop.
    this.mtries[fibIndex] = new Ip4Mtrie(this.dropLoadBalance);
    this.freeFibIndices.push(fibIndex);
  }

  /** Fib index of a table id, or -1. */
  fibIndexOf(tableId: number): number {
    return this.byTableId.get(tableId) ?? -1;
  }

  /** Whether a table lives at this fib index. */
  hasTable(fibIndex: number): boolean {
    return Number.isInteger(fibIndex) && this.tables[fibIndex] !== undefined;
  }

  tableIdOf(fibIndex: number): number {
    const table = this.tables[fibIndex];
    if (table === undefined) throw new FibError(`no table at fib index ${fibIndex}`, 'ENOENT');
    return table.tableId;
  }

  /** Every table as (table id, fib index), by fib index. */
  allTables(): { tableId: number; fibIndex: number; createdByUser: boolean; entries: number }[] {
    const out: { tableId: number; fibIndex: number; createdByUser: boolean; entries: number }[] = [];
    for (const table of this.tables) {
      if (table !== undefined) {
        out.push({ tableId: table.tableId, fibIndex: table.fibIndex, createdByUser: table.createdByUser, entries: table.count });
      }
    }
    return out;
  }

  private createTableWith(tableId: number, createdByUser: boolean): number {
    const fibIndex = this.freeFibIndices.pop() ?? this.tables.length;
    if (fibIndex > 0xffff) throw new FibError('too many tables (at most 65536)', 'ENOSPC');
    const table: FibTable = {
      tableId,
      fibIndex,
      createdByUser,
      hash: new Int32Array(INITIAL_HASH),
      count: 0,
      recursive: new Set(),
      interfacePrefixes: new Map(),
    };
    this.tables[fibIndex] = table;
    this.byTableId.set(tableId, fibIndex);
    this.mtries[fibIndex] = new Ip4Mtrie(this.dropLoadBalance);
    for (const [address, length] of SPECIALS) this.setSource(table, address, length, SOURCE_INDEX.default, this.dropPathList.paths);
    return fibIndex;
  }

  private table(fibIndex: number): FibTable {
    const table = Number.isInteger(fibIndex) ? this.tables[fibIndex] : undefined;
    if (table === undefined) throw new FibError(`no table at fib index ${fibIndex}`, 'ENOENT');
    return table;
  }

  // ------------------------------------------------------------------ routes

  /** Adds (or replaces the cli source's paths of) a route. */
  addRoute(fibIndex: number, address: number, length: number, paths: readonly RoutePath[], source?: RouteSource): void {
    const table = this.table(fibIndex);
    checkPrefix(address, length);
    const fibPaths = this.toFibPaths(paths);
    this.setSource(table, (address & ip4Mask(length)) >>> 0, length, SOURCE_INDEX[source ?? 'cli'], fibPaths);
  }

  /**
   * Adds paths to a source's route, keeping those it has (VPP's `ip route add`, which
   * makes ECMP out of repeated adds); a path already there gets the new weight.
   */
  addPaths(fibIndex: number, address: number, length: number, paths: readonly RoutePath[], source: RouteSource = 'cli'): void {
    const table = this.table(fibIndex);
    checkPrefix(address, length);
    const masked = (address & ip4Mask(length)) >>> 0;
    const added = this.toFibPaths(paths);
    const entry = this.findEntry(table, masked, length);
    const pl = entry < 0 ? -1 : this.sourcePathList(entry, SOURCE_INDEX[source]);
    const merged = pl < 0 ? [] : [...(this.pathLists[pl] as PathList).paths];
    for (const path of added) {
      const at = merged.findIndex((p) => p.kind === path.kind && p.swIfIndex === path.swIfIndex && p.nextHop === path.nextHop);
      if (at >= 0) merged[at] = path;
      else merged.push(path);
    }
    this.setSource(table, masked, length, SOURCE_INDEX[source], merged);
  }

  /** Removes a source's route; with `paths`, only those paths. */
  deleteRoute(fibIndex: number, address: number, length: number, source?: RouteSource, paths?: readonly RoutePath[]): void {
    const table = this.table(fibIndex);
    checkPrefix(address, length);
    const masked = (address & ip4Mask(length)) >>> 0;
    const sourceIndex = SOURCE_INDEX[source ?? 'cli'];
    if (sourceIndex === SOURCE_INDEX.default && SPECIALS.some(([a, l]) => a === masked && l === length)) {
      throw new FibError(`${formatIp4(masked)}/${length} is one of the table's own entries and cannot be deleted`, 'EPERM');
    }
    const entry = this.findEntry(table, masked, length);
    const pl = entry < 0 ? -1 : this.sourcePathList(entry, sourceIndex);
    const prefix = `${formatIp4(masked)}/${length}`;
    if (pl < 0) throw new FibError(`no ${SOURCES[sourceIndex]} route ${prefix} in table ${table.tableId}`, 'ENOENT');
    if (paths === undefined || paths.length === 0) {
      this.clearSource(table, entry, sourceIndex);
      return;
    }
    const gone = this.toFibPaths(paths);
    const current = (this.pathLists[pl] as PathList).paths;
    const kept = current.filter((p) => !gone.some((g) => g.kind === p.kind && g.swIfIndex === p.swIfIndex && g.nextHop === p.nextHop));
    if (kept.length === current.length) {
      throw new FibError(`route ${prefix} in table ${table.tableId} has no such path`, 'ENOENT');
    }
    if (kept.length === 0) this.clearSource(table, entry, sourceIndex);
    else this.setSource(table, masked, length, sourceIndex, kept);
  }

  /** Connected (glean) route for the subnet and local (receive) /32 for the address. */
  interfaceAddressAdded(swIfIndex: number, address: number, length: number): void {
    const table = this.table(this.vnet.interfaces.fibIndex[swIfIndex]);
    checkPrefix(address, length);
    const network = (address & ip4Mask(length)) >>> 0;
    const key = `${network}/${length}/${swIfIndex}`;
    const refs = table.interfacePrefixes.get(key) ?? 0;
    table.interfacePrefixes.set(key, refs + 1);
    const src = SOURCE_INDEX.interface;
    if (refs === 0) {
      // As VPP's ip4_add_interface_prefix_routes: up to /30 a glean route for the subnet and
      // drops for its network and broadcast addresses; a /31 an attached host route to the
      // other address; a /32 nothing but the local route.
      if (length <= 30) {
        this.setSource(table, network, length, src, [{ kind: 'attached', swIfIndex, nextHop: 0, weight: 1 }]);
        const broadcast = (address | ~ip4Mask(length)) >>> 0;
        if (network !== address) this.setSource(table, network, 32, src, this.dropPathList.paths);
        if (broadcast !== address) this.setSource(table, broadcast, 32, src, this.dropPathList.paths);
      } else if (length === 31) {
        const peer = (address ^ 1) >>> 0;
        this.setSource(table, peer, 32, src, [{ kind: 'neighbor', swIfIndex, nextHop: peer, weight: 1 }]);
      }
    }
    this.setSource(table, address >>> 0, 32, src, [{ kind: 'local', swIfIndex, nextHop: address >>> 0, weight: 1 }]);
    this.refreshGlean(swIfIndex);
    this.vnet.neighbors.interfaceAddressAdded(swIfIndex);
    this.resolveRecursive(table);
  }

  interfaceAddressDeleted(swIfIndex: number, address: number, length: number): void {
    const table = this.table(this.vnet.interfaces.fibIndex[swIfIndex]);
    checkPrefix(address, length);
    const network = (address & ip4Mask(length)) >>> 0;
    const key = `${network}/${length}/${swIfIndex}`;
    const refs = table.interfacePrefixes.get(key) ?? 0;
    const src = SOURCE_INDEX.interface;
    if (refs <= 1) {
      table.interfacePrefixes.delete(key);
      if (length <= 30) {
        const broadcast = (address | ~ip4Mask(length)) >>> 0;
        this.clearSourceAt(table, network, length, src);
        if (network !== address) this.clearSourceAt(table, network, 32, src);
        if (broadcast !== address) this.clearSourceAt(table, broadcast, 32, src);
      } else if (length === 31) {
        this.clearSourceAt(table, (address ^ 1) >>> 0, 32, src);
      }
    } else {
      table.interfacePrefixes.set(key, refs - 1);
    }
    this.clearSourceAt(table, address >>> 0, 32, src);
    this.refreshGlean(swIfIndex);
    this.resolveRecursive(table);
  }

  /** The interface's MAC changed: its glean adjacency's broadcast header names the new source. */
  interfaceMacChanged(swIfIndex: number): void {
    this.refreshGlean(swIfIndex);
  }

  /** Data path helper for control code and tests: the load-balance index for `address` in a table. */
  lookup(fibIndex: number, address: number): number {
    this.table(fibIndex);
    return this.mtries[fibIndex].lookup(address >>> 0);
  }

  // ------------------------------------------------------------------ queries (show ip fib, tests)

  /** The entry of exactly `address/length`, or undefined. */
  exactEntry(fibIndex: number, address: number, length: number): FibEntryInfo | undefined {
    const table = this.table(fibIndex);
    checkPrefix(address, length);
    const entry = this.findEntry(table, (address & ip4Mask(length)) >>> 0, length);
    return entry < 0 ? undefined : this.entryInfo(table, entry);
  }

  /** The longest-match entry for `address` among prefixes of at most `maxLength` bits (the /0 at least). */
  longestMatch(fibIndex: number, address: number, maxLength = 32): FibEntryInfo {
    const table = this.table(fibIndex);
    checkPrefix(address >>> 0, maxLength);
    const entry = this.longestMatchEntry(table, address >>> 0, maxLength, -1);
    return this.entryInfo(table, entry);
  }

  /** Every entry of a table, sorted by address then length (as `show ip fib` lists them). */
  entries(fibIndex: number): FibEntryInfo[] {
    const table = this.table(fibIndex);
    const list = this.tableEntries(table);
    list.sort((a, b) => this.entryAddress[a] - this.entryAddress[b] || this.entryLength[a] - this.entryLength[b]);
    return list.map((entry) => this.entryInfo(table, entry));
  }

  /** Number of entries in a table. */
  entryCount(fibIndex: number): number {
    return this.table(fibIndex).count;
  }

  /** The (adjacency, weight) pairs a path-list resolves to. */
  pathListResolution(pathList: number): readonly (readonly [number, number])[] {
    return this.pathLists[pathList]?.resolved ?? [];
  }

  /** Sources (entry sources) holding a path-list: VPP's path-list `locks`. */
  pathListLocks(pathList: number): number {
    return this.pathLists[pathList]?.locks ?? 0;
  }

  /** Number of live path-lists (shared by routes with the same paths). */
  get pathListCount(): number {
    return this.pathListByKey.size;
  }

  /** Interface prefixes feeding a table's connected routes, for table locks. */
  interfaceBindings(fibIndex: number): number {
    const ifs = this.vnet.interfaces;
    let n = 0;
    for (let sw = 1; sw < ifs.count; sw++) if (ifs.exists[sw] === 1 && ifs.fibIndex[sw] === fibIndex) n++;
    return n;
  }

  /** Entries of a table holding a given source (`show ip fib` header locks). */
  sourceCount(fibIndex: number, source: RouteSource): number {
    const table = this.table(fibIndex);
    const s = SOURCE_INDEX[source];
    let n = 0;
    for (const entry of this.tableEntries(table)) if (this.sourcePathList(entry, s) >= 0) n++;
    return n;
  }

  /** Bytes the FIB's own typed arrays hold (entries, hashes), not counting mtries and adjacencies. */
  reservedBytes(): number {
    let bytes = this.entryAddress.byteLength + this.entryLength.byteLength + this.entryCli.byteLength;
    for (const table of this.tables) if (table !== undefined) bytes += table.hash.byteLength;
    return bytes;
  }

  /** The glean adjacency of an interface (made on first use). */
  gleanAdjacencyOf(swIfIndex: number): number {
    let adj = this.gleanAdjacency[swIfIndex] ?? -1;
    if (adj < 0) {
      adj = this.vnet.adjacencies.create(AdjacencyKind.GLEAN, swIfIndex);
      this.gleanAdjacency[swIfIndex] = adj;
      this.refreshGlean(swIfIndex);
    }
    return adj;
  }

  /** The connected prefix a glean adjacency sources its ARP requests from (VPP's `[src:…]`). */
  gleanSource(swIfIndex: number): { address: number; length: number } | undefined {
    for (const a of this.vnet.interfaces.ip4Addresses[swIfIndex] ?? []) {
      if (a.length < 32) return { address: (a.address & ip4Mask(a.length)) >>> 0, length: a.length };
    }
    return undefined;
  }

  /**
   * An adjacency as VPP's format_ip_adjacency / format_dpo_id print it in `show ip fib`:
   * `ipv4 via 10.10.2.2 pg1: mtu:9000 next:3 flags:[] 02000000000202fe000000010800`,
   * `arp-ipv4: via 10.10.2.2 pg1`, `ipv4-glean: [src:10.10.1.0/24] pg0: mtu:9000 next:1
   * flags:[] ffffffffffff02fe000000000806`, `dpo-receive: 10.10.1.1 on pg0`, `dpo-drop ip4`.
   */
  formatAdjacency(adj: number): string {
    const adjs = this.vnet.adjacencies;
    const ifs = this.vnet.interfaces;
    const sw = adjs.swIfIndex[adj];
    const name = ifs.names[sw] ?? `sw_if_index ${sw}`;
    const hex = (): string => {
      let out = '';
      const at = adj * REWRITE_BYTES;
      for (let i = 0; i < adjs.rewriteLength[adj]; i++) out += adjs.rewrite[at + i].toString(16).padStart(2, '0');
      return out;
    };
    switch (adjs.kind[adj]) {
      case AdjacencyKind.DROP:
        return 'dpo-drop ip4';
      case AdjacencyKind.LOCAL:
        return sw === 0 ? `dpo-receive: ${formatIp4(adjs.nextHop[adj])}` : `dpo-receive: ${formatIp4(adjs.nextHop[adj])} on ${name}`;
      case AdjacencyKind.GLEAN: {
        const src = this.gleanSource(sw);
        const srcText = src === undefined ? '0.0.0.0/0' : `${formatIp4(src.address)}/${src.length}`;
        return `ipv4-glean: [src:${srcText}] ${name}: mtu:${ifs.mtu[sw]} next:${adjs.rewriteNext[adj]} flags:[] ${hex()}`;
      }
      case AdjacencyKind.INCOMPLETE:
        return `arp-ipv4: via ${formatIp4(adjs.nextHop[adj])} ${name}`;
      default:
        return `ipv4 via ${formatIp4(adjs.nextHop[adj])} ${name}: mtu:${ifs.mtu[sw]} next:${adjs.rewriteNext[adj]} flags:[] ${hex()}`;
    }
  }

  // ------------------------------------------------------------------ entries and sources

  private entryInfo(table: FibTable, entry: number): FibEntryInfo {
    const sources: { source: RouteSource; pathList: number; paths: readonly FibPath[] }[] = [];
    for (let s = 0; s < SOURCES.length; s++) {
      const pl = this.sourcePathList(entry, s);
      if (pl >= 0) sources.push({ source: SOURCES[s], pathList: pl, paths: (this.pathLists[pl] as PathList).paths });
    }
    const best = this.bestPathList(entry);
    return {
      index: entry,
      fibIndex: table.fibIndex,
      address: this.entryAddress[entry],
      length: this.entryLength[entry],
      loadBalance: (this.pathLists[best] as PathList).lb,
      sources,
      pathList: best,
    };
  }

  private sourcePathList(entry: number, source: number): number {
    if (source === CLI) return this.entryCli[entry];
    const other = this.entryOther.get(entry);
    return other === undefined ? -1 : other[source];
  }

  private setSourcePathList(entry: number, source: number, pl: number): void {
    if (source === CLI) {
      this.entryCli[entry] = pl;
      return;
    }
    let other = this.entryOther.get(entry);
    if (other === undefined) {
      if (pl < 0) return;
      other = new Int32Array(4).fill(-1);
      this.entryOther.set(entry, other);
    }
    other[source] = pl;
    if (other[0] < 0 && other[1] < 0 && other[3] < 0) this.entryOther.delete(entry);
  }

  /** The path-list of the best source present, -1 when none. */
  private bestPathList(entry: number): number {
    const other = this.entryOther.get(entry);
    if (other !== undefined) {
      if (other[0] >= 0) return other[0];
      if (other[1] >= 0) return other[1];
    }
    const cli = this.entryCli[entry];
    if (cli >= 0) return cli;
    return other !== undefined ? other[3] : -1;
  }

  /** Gives `source` of `address/length` these paths (creating the entry), and updates the mtrie. */
  private setSource(table: FibTable, address: number, length: number, source: number, paths: readonly FibPath[]): void {
    const pl = this.internPathList(paths, table.fibIndex);
    let entry = this.findEntry(table, address, length);
    if (entry < 0) entry = this.insertEntry(table, address, length);
    const old = this.sourcePathList(entry, source);
    if (old === pl.index) return;
    const before = this.bestPathList(entry);
    const lbBefore = before < 0 ? -1 : (this.pathLists[before] as PathList).lb;
    pl.locks++;
    this.setSourcePathList(entry, source, pl.index);
    const lbAfter = (this.pathLists[this.bestPathList(entry)] as PathList).lb;
    // A new entry always goes in the mtrie (even with its cover's value): its slots must
    // carry its length, so a later change of the cover leaves them alone.
    if (lbAfter !== lbBefore) this.mtries[table.fibIndex].add(address, length, lbAfter);
    if (old >= 0) this.unlockPathList(old);
    this.afterChange(table, address, length, source);
  }

  private clearSourceAt(table: FibTable, address: number, length: number, source: number): void {
    const entry = this.findEntry(table, address, length);
    if (entry >= 0 && this.sourcePathList(entry, source) >= 0) this.clearSource(table, entry, source);
  }

  /** Removes one source of an entry; the entry goes when it has none left. */
  private clearSource(table: FibTable, entry: number, source: number): void {
    const address = this.entryAddress[entry];
    const length = this.entryLength[entry];
    const old = this.sourcePathList(entry, source);
    const lbBefore = (this.pathLists[this.bestPathList(entry)] as PathList).lb;
    this.setSourcePathList(entry, source, -1);
    const after = this.bestPathList(entry);
    const mtrie = this.mtries[table.fibIndex];
    if (after < 0) {
      this.removeEntry(table, entry);
      // The slots go back to the covering entry (there is always the /0).
      const cover = length === 0 ? -1 : this.longestMatchEntry(table, address, length - 1, -1);
      if (cover < 0) mtrie.remove(address, length, this.dropLoadBalance, 0);
      else mtrie.remove(address, length, (this.pathLists[this.bestPathList(cover)] as PathList).lb, this.entryLength[cover]);
    } else {
      const lbAfter = (this.pathLists[after] as PathList).lb;
      if (lbAfter !== lbBefore) mtrie.add(address, length, lbAfter);
    }
    this.unlockPathList(old);
    this.afterChange(table, address, length, source);
  }

  /** Recursive routes follow interface and adjacency changes, and cli changes over their next hop. */
  private afterChange(table: FibTable, address: number, length: number, source: number): void {
    if (table.recursive.size === 0) return;
    if (source === CLI) {
      const mask = ip4Mask(length);
      let covers = false;
      for (const pl of table.recursive) {
        for (const path of pl.paths) if (path.kind === 'recursive' && ((path.nextHop & mask) >>> 0) === address) covers = true;
      }
      if (!covers) return;
    }
    this.resolveRecursive(table);
  }

  // ------------------------------------------------------------------ entry storage

  private findEntry(table: FibTable, address: number, length: number): number {
    const hash = table.hash;
    const mask = hash.length - 1;
    for (let slot = hashOf(address, length) & mask; ; slot = (slot + 1) & mask) {
      const e = hash[slot] - 1;
      if (e < 0) return -1;
      if (this.entryAddress[e] === address && this.entryLength[e] === length) return e;
    }
  }

  private longestMatchEntry(table: FibTable, address: number, maxLength: number, skipPathList: number): number {
    for (let length = maxLength; length >= 0; length--) {
      const entry = this.findEntry(table, (address & ip4Mask(length)) >>> 0, length);
      if (entry >= 0 && (skipPathList < 0 || this.bestPathList(entry) !== skipPathList)) return entry;
    }
    return -1;
  }

  private insertEntry(table: FibTable, address: number, length: number): number {
    // Linear probing stays short below 3/4 full.
    if ((table.count + 1) * 4 > table.hash.length * 3) this.rehash(table, table.hash.length * 2);
    let entry = this.freeEntries.pop();
    if (entry === undefined) {
      if (this.entryHighWater === this.entryAddress.length) this.growEntries();
      entry = this.entryHighWater++;
    }
    this.entryAddress[entry] = address;
    this.entryLength[entry] = length;
    this.entryCli[entry] = -1;
    const hash = table.hash;
    const mask = hash.length - 1;
    let slot = hashOf(address, length) & mask;
    while (hash[slot] !== 0) slot = (slot + 1) & mask;
    hash[slot] = entry + 1;
    table.count++;
    return entry;
  }

  /** Takes an entry out of its table's hash (backward-shift deletion: no tombstones). */
  private removeEntry(table: FibTable, entry: number): void {
    const hash = table.hash;
    const mask = hash.length - 1;
    let slot = hashOf(this.entryAddress[entry], this.entryLength[entry]) & mask;
    while (hash[slot] !== entry + 1) slot = (slot + 1) & mask;
    let hole = slot;
    for (let next = (hole + 1) & mask; hash[next] !== 0; next = (next + 1) & mask) {
      const e = hash[next] - 1;
      const home = hashOf(this.entryAddress[e], this.entryLength[e]) & mask;
      // Move e into the hole unless its home lies cyclically in (hole, next].
      const inRange = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!inRange) {
        hash[hole] = hash[next];
        hole = next;
      }
    }
    hash[hole] = 0;
    table.count--;
    this.entryOther.delete(entry);
    this.freeEntry(entry);
    if (table.hash.length > INITIAL_HASH && table.count * 8 < table.hash.length) this.rehash(table, table.hash.length / 2);
  }

  private freeEntry(entry: number): void {
    this.entryLength[entry] = FREE_LENGTH;
    this.entryCli[entry] = -1;
    this.freeEntries.push(entry);
  }

  private rehash(table: FibTable, size: number): void {
    const old = table.hash;
    const hash = new Int32Array(size);
    const mask = size - 1;
    for (let i = 0; i < old.length; i++) {
      const e = old[i] - 1;
      if (e < 0) continue;
      let slot = hashOf(this.entryAddress[e], this.entryLength[e]) & mask;
      while (hash[slot] !== 0) slot = (slot + 1) & mask;
      hash[slot] = e + 1;
    }
    table.hash = hash;
  }

  private growEntries(): void {
    // By half: 100 000 entries cost 1.3 MiB of arrays at most.
    const size = this.entryAddress.length + (this.entryAddress.length >> 1);
    const address = new Uint32Array(size);
    address.set(this.entryAddress);
    const length = new Uint8Array(size).fill(FREE_LENGTH);
    length.set(this.entryLength);
    const cli = new Int32Array(size).fill(-1);
    cli.set(this.entryCli);
    this.entryAddress = address;
    this.entryLength = length;
    this.entryCli = cli;
  }

  private tableEntries(table: FibTable): number[] {
    const out: number[] = [];
    for (let i = 0; i < table.hash.length; i++) if (table.hash[i] !== 0) out.push(table.hash[i] - 1);
    return out;
  }

  // ------------------------------------------------------------------ paths and path-lists

  /** Route paths as the API gives them → FIB paths; throws FibError naming a bad one. */
  private toFibPaths(paths: readonly RoutePath[]): FibPath[] {
    if (!Array.isArray(paths) || paths.length === 0) throw new FibError('a route needs at least one path');
    const ifs = this.vnet.interfaces;
    const out: FibPath[] = [];
    for (const path of paths) {
      const weight = path.weight ?? 1;
      if (!Number.isInteger(weight) || weight < 1 || weight > 255) throw new FibError(`bad weight ${weight}: expected 1..255`);
      const sw = path.swIfIndex;
      if (sw !== undefined && (!Number.isInteger(sw) || sw < 0 || sw >= ifs.count || ifs.exists[sw] !== 1)) {
        throw new FibError(`no interface with sw_if_index ${sw}`, 'ENODEV');
      }
      const nh = path.nextHop;
      if (nh !== undefined && (!Number.isInteger(nh) || nh < 0 || nh > 0xffffffff)) {
        throw new FibError(`bad next hop ${nh}: expected an IPv4 address as a u32`);
      }
      if (path.special === 'drop') out.push({ kind: 'drop', swIfIndex: -1, nextHop: 0, weight });
      else if (path.special === 'local') out.push({ kind: 'local', swIfIndex: sw ?? 0, nextHop: nh ?? 0, weight });
      else if (sw !== undefined && (nh === undefined || nh === 0)) out.push({ kind: 'attached', swIfIndex: sw, nextHop: 0, weight });
      else if (sw !== undefined && nh !== undefined) out.push({ kind: 'neighbor', swIfIndex: sw, nextHop: nh >>> 0, weight });
      else if (nh !== undefined) out.push({ kind: 'recursive', swIfIndex: -1, nextHop: nh >>> 0, weight });
      else throw new FibError('a path needs a next hop, an interface, or drop/local');
    }
    return out;
  }

  /** The path-list with exactly these paths (order does not matter), made and resolved when new. */
  private internPathList(paths: readonly FibPath[], fibIndex: number): PathList {
    const sorted = [...paths].sort((a, b) => (pathKey(a) < pathKey(b) ? -1 : pathKey(a) > pathKey(b) ? 1 : 0));
    const recursive = sorted.some((p) => p.kind === 'recursive');
    const key = (recursive ? `fib${fibIndex}|` : '') + sorted.map(pathKey).join(',');
    const found = this.pathListByKey.get(key);
    if (found !== undefined) return found;
    const index = this.freePathLists.pop() ?? this.pathLists.length;
    const table = recursive ? this.tables[fibIndex] : undefined;
    const resolved = recursive ? [] : this.resolvePaths(sorted, undefined, -1);
    const lbs = this.vnet.loadBalances;
    const pl: PathList = {
      index,
      key,
      paths: sorted,
      fibIndex: recursive ? fibIndex : -1,
      recursive,
      resolved,
      lb: recursive ? lbs.create([[this.dropAdjacency, 1]]) : lbs.acquire(resolved),
      locks: 0,
    };
    this.pathLists[index] = pl;
    this.pathListByKey.set(key, pl);
    if (table !== undefined) {
      table.recursive.add(pl);
      this.resolveOne(table, pl);
    }
    return pl;
  }

  private unlockPathList(index: number): void {
    const pl = this.pathLists[index] as PathList;
    if (--pl.locks <= 0) this.freePathList(pl);
  }

  private freePathList(pl: PathList): void {
    if (pl === this.dropPathList) return;
    this.vnet.loadBalances.release(pl.lb);
    this.pathListByKey.delete(pl.key);
    this.pathLists[pl.index] = undefined;
    this.freePathLists.push(pl.index);
    if (pl.recursive) this.tables[pl.fibIndex]?.recursive.delete(pl);
  }

  /** (adjacency, weight) pairs for paths; recursive ones through `table`, skipping entries of `self`. */
  private resolvePaths(paths: readonly FibPath[], table: FibTable | undefined, self: number): [number, number][] {
    const adjs = this.vnet.adjacencies;
    const weights = new Map<number, number>();
    const add = (adj: number, weight: number): void => {
      weights.set(adj, (weights.get(adj) ?? 0) + weight);
    };
    for (const path of paths) {
      switch (path.kind) {
        case 'drop':
          add(this.dropAdjacency, path.weight);
          break;
        case 'local': {
          const key = `${path.swIfIndex}/${path.nextHop}`;
          let adj = this.localAdjacency.get(key);
          if (adj === undefined) {
            adj = adjs.create(AdjacencyKind.LOCAL, path.swIfIndex, path.nextHop);
            this.localAdjacency.set(key, adj);
          }
          add(adj, path.weight);
          break;
        }
        case 'attached':
          add(this.gleanAdjacencyOf(path.swIfIndex), path.weight);
          break;
        case 'neighbor':
          add(adjs.neighbor(path.swIfIndex, path.nextHop), path.weight);
          break;
        case 'recursive':
          if (table !== undefined) for (const [adj, w] of this.resolveNextHop(table, path.nextHop, self)) add(adj, path.weight * w);
          break;
      }
    }
    // A recursive path that resolves to nothing (or to drop) contributes nothing; all
    // paths unresolved: drop, as VPP's unresolved path-list.
    const pairs = [...weights].filter(([adj]) => adj !== this.dropAdjacency || paths.every((p) => p.kind !== 'recursive'));
    if (pairs.length === 0) return [[this.dropAdjacency, 1]];
    return pairs.sort((a, b) => a[0] - b[0]);
  }

  /**
   * What `nextHop` forwards to in `table` (VPP's recursive resolution via the covering
   * entry): through a connected (attached) entry on interface X, the neighbor adjacency
   * (X, nextHop); through any other entry, that entry's adjacencies; through the default
   * route or a drop, nothing. Entries forwarding with path-list `self` are skipped (a
   * route cannot resolve through itself).
   */
  private resolveNextHop(table: FibTable, nextHop: number, self: number): [number, number][] {
    const entry = this.longestMatchEntry(table, nextHop, 32, self);
    if (entry < 0) return [];
    const via = this.pathLists[this.bestPathList(entry)] as PathList;
    if (via.paths.every((p) => p.kind === 'drop')) return [];
    const out: [number, number][] = [];
    const attached = via.paths.filter((p) => p.kind === 'attached');
    if (attached.length > 0) {
      for (const p of attached) out.push([this.vnet.adjacencies.neighbor(p.swIfIndex, nextHop), p.weight]);
      return out;
    }
    for (const [adj, w] of via.resolved) if (adj !== this.dropAdjacency) out.push([adj, w]);
    return out;
  }

  /** Resolves one recursive path-list again; true when its adjacencies changed. */
  private resolveOne(table: FibTable, pl: PathList): boolean {
    const resolved = this.resolvePaths(pl.paths, table, pl.index);
    if (samePairs(resolved, pl.resolved)) return false;
    pl.resolved = resolved;
    this.vnet.loadBalances.update(pl.lb, resolved);
    return true;
  }

  /** Every recursive path-list of the table, again until nothing changes (chains resolve in order). */
  private resolveRecursive(table: FibTable): void {
    const limit = table.recursive.size + 1;
    for (let pass = 0; pass < limit; pass++) {
      let changed = false;
      for (const pl of table.recursive) if (this.resolveOne(table, pl)) changed = true;
      if (!changed) return;
    }
  }

  /** Rewrites an interface's glean header: broadcast ← interface MAC, ARP ethertype. */
  private refreshGlean(swIfIndex: number): void {
    const adj = this.gleanAdjacency[swIfIndex] ?? -1;
    if (adj < 0) return;
    const header = new Uint8Array(14);
    header.fill(0xff, 0, 6);
    header.set(this.vnet.interfaces.mac.subarray(swIfIndex * 6, swIfIndex * 6 + 6), 6);
    header[12] = 0x08;
    header[13] = 0x06;
    this.vnet.adjacencies.setHeader(adj, header, GLEAN_OUTPUT_NEXT);
  }
}

function checkPrefix(address: number, length: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
    throw new FibError(`bad IPv4 address ${address}: expected an integer 0..4294967295`);
  }
  if (!Number.isInteger(length) || length < 0 || length > 32) {
    throw new FibError(`bad prefix length ${length}: expected 0..32`);
  }
}
