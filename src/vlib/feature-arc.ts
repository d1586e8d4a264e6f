// Feature arcs (VPP's vnet_feature): ordered lists of optional nodes that can be switched
// on per interface between an arc's start node(s) and its end node — how a plugin puts
// its node into the data path without editing any other node. Features declare
// runs-before/runs-after constraints; the arc's order is a stable topological sort of
// them, and contradictory constraints are an error naming the nodes in the cycle.
//
// Per (arc, interface) the enabled features form a chain ending in the arc's end node.
// The start node asks `start(…)` for the first hop; every feature node asks
// `next(bi)`. The chain and the position travel in the buffer's last two opaque words.

import { OPAQUE_WORDS } from './buffer-pool.ts';

/** Opaque words the feature machinery owns in every buffer. */
export const FEATURE_CHAIN_WORD = OPAQUE_WORDS - 2;
export const FEATURE_POSITION_WORD = OPAQUE_WORDS - 1;

export interface FeatureArcDefinition {
  /** VPP's arc name, e.g. `ip4-unicast`. */
  readonly name: string;
  /** Nodes that start the arc (they call `start`). */
  readonly startNodes: readonly string[];
  /** Where a packet goes after the last enabled feature. */
  readonly endNode: string;
  /** For arcs whose ends are per interface (`<if>-output` → `<if>-tx`): the start node of an interface. */
  readonly startNodeFor?: (swIfIndex: number) => string;
  /** …and its end node. */
  readonly endNodeFor?: (swIfIndex: number) => string;
}

export interface FeatureDefinition {
  readonly arc: string;
  readonly node: string;
  readonly runsBefore?: readonly string[];
  readonly runsAfter?: readonly string[];
  /** Who registered it, for error messages (a plugin's name). */
  readonly owner?: string;
}

/** What the arcs need from the graph: node indices by name and next arcs. */
export interface FeatureGraph {
  nodeIndex(name: string): number;
  addNext(from: string, to: string): number;
}

interface Chain {
  /** Next index from the node at position p-1 to the node at position p (p ≥ 1). */
  readonly nexts: Int32Array;
}

interface Arc {
  readonly index: number;
  readonly definition: FeatureArcDefinition;
  readonly features: FeatureDefinition[];
  /** Sorted feature node names, valid after `seal`. */
  order: string[];
  /** Enabled feature names per sw_if_index. */
  readonly enabled: Map<number, Set<string>>;
  /** Per sw_if_index: chain index + 1, 0 when no feature is on (the start node's fast check). */
  chainOf: Int32Array;
  /** Per start node name: per chain index, the next index from that start node to the first hop. */
  readonly startNexts: Map<string, Int32Array>;
  /** The last start node asked about and its table: spares a Map lookup by string per packet. */
  lastStart: string;
  lastStartNexts: Int32Array | undefined;
}

export class FeatureArcError extends Error {
  readonly code = 'EFEATURE';
}

export class FeatureArcs {
  private readonly arcs: Arc[] = [];
  private readonly byName = new Map<string, Arc>();
  private chains: Chain[] = [];
  private sealed = false;
  /** Per-buffer opaque array of the pool, set by the engine. */
  opaque: Uint32Array = new Uint32Array(0);

  constructor(private readonly graph: FeatureGraph) {}

  registerArc(definition: FeatureArcDefinition): number {
    if (this.byName.has(definition.name)) throw new FeatureArcError(`feature arc '${definition.name}' is already registered`);
    const arc: Arc = {
      index: this.arcs.length,
      definition,
      features: [],
      order: [],
      enabled: new Map(),
      chainOf: new Int32Array(64),
      startNexts: new Map(),
      lastStart: '',
      lastStartNexts: undefined,
    };
    this.arcs.push(arc);
    this.byName.set(definition.name, arc);
    if (this.sealed) this.sort(arc);
    return arc.index;
  }

  registerFeature(feature: FeatureDefinition): void {
    const arc = this.byName.get(feature.arc);
    if (arc === undefined) throw new FeatureArcError(`unknown feature arc '${feature.arc}' for node '${feature.node}'`);
    if (arc.features.some((f) => f.node === feature.node)) {
      throw new FeatureArcError(`node '${feature.node}' is already a feature on arc '${feature.arc}'`);
    }
    arc.features.push(feature);
    if (this.sealed) this.sort(arc);
  }

  /** Sorts every arc; contradictory constraints throw. Called when the engine starts. */
  seal(): void {
    for (const arc of this.arcs) this.sort(arc);
    this.sealed = true;
  }

  arcIndex(name: string): number {
    const arc = this.byName.get(name);
    return arc === undefined ? -1 : arc.index;
  }

  arcNames(): string[] {
    return this.arcs.map((a) => a.definition.name);
  }

  /** The features of an arc in their run order. */
  order(arcName: string): string[] {
    const arc = this.byName.get(arcName);
    if (arc === undefined) return [];
    if (!this.sealed) this.sort(arc);
    return [...arc.order];
  }

  /** Enabled features on an interface, in run order. */
  enabledOn(arcName: string, swIfIndex: number): string[] {
    const arc = this.byName.get(arcName);
    const on = arc?.enabled.get(swIfIndex);
    if (arc === undefined || on === undefined) return [];
    return arc.order.filter((n) => on.has(n));
  }

  /** Switches a feature on or off for one interface (VPP: vnet_feature_enable_disable). */
  enable(arcName: string, node: string, swIfIndex: number, on: boolean): void {
    const arc = this.byName.get(arcName);
    if (arc === undefined) throw new FeatureArcError(`unknown feature arc '${arcName}'`);
    if (!arc.features.some((f) => f.node === node)) {
      throw new FeatureArcError(`'${node}' is not a feature on arc '${arcName}' (features: ${arc.features.map((f) => f.node).join(', ') || 'none'})`);
    }
    if (!this.sealed) this.sort(arc);
    let set = arc.enabled.get(swIfIndex);
    if (set === undefined) arc.enabled.set(swIfIndex, (set = new Set()));
    if (on) set.add(node);
    else set.delete(node);
    this.rebuild(arc, swIfIndex);
  }

  /**
   * Start node's hop into the arc for one packet: the next index towards the first enabled
   * feature (and the chain recorded in the buffer), or -1 when the interface has none.
   */
  start(arcIndex: number, startNode: string, swIfIndex: number, bi: number): number {
    const arc = this.arcs[arcIndex];
    const c = swIfIndex < arc.chainOf.length ? arc.chainOf[swIfIndex] : 0;
    if (c === 0) return -1;
    const base = bi * OPAQUE_WORDS;
    this.opaque[base + FEATURE_CHAIN_WORD] = c - 1;
    this.opaque[base + FEATURE_POSITION_WORD] = 0;
    let nexts = arc.lastStartNexts;
    if (startNode !== arc.lastStart || nexts === undefined) {
      nexts = arc.startNexts.get(startNode);
      if (nexts === undefined) return -1;
      arc.lastStart = startNode;
      arc.lastStartNexts = nexts;
    }
    return nexts[c - 1];
  }

  /** True when any feature is enabled on this arc for this interface (one array read). */
  isEnabled(arcIndex: number, swIfIndex: number): boolean {
    const chainOf = this.arcs[arcIndex].chainOf;
    return swIfIndex < chainOf.length && chainOf[swIfIndex] !== 0;
  }

  /** A feature node's next hop for a packet: the next feature, or the arc's end node. */
  next(bi: number): number {
    const base = bi * OPAQUE_WORDS;
    const chain = this.chains[this.opaque[base + FEATURE_CHAIN_WORD]];
    const position = this.opaque[base + FEATURE_POSITION_WORD] + 1;
    this.opaque[base + FEATURE_POSITION_WORD] = position;
    return chain.nexts[position];
  }

  private rebuild(arc: Arc, swIfIndex: number): void {
    if (swIfIndex >= arc.chainOf.length) {
      const grown = new Int32Array(Math.max(swIfIndex + 1, arc.chainOf.length * 2));
      grown.set(arc.chainOf);
      arc.chainOf = grown;
    }
    const on = arc.enabled.get(swIfIndex);
    const nodes = on === undefined ? [] : arc.order.filter((n) => on.has(n));
    if (nodes.length === 0) {
      arc.chainOf[swIfIndex] = 0;
      return;
    }
    nodes.push(arc.definition.endNodeFor?.(swIfIndex) ?? arc.definition.endNode);
    const nexts = new Int32Array(nodes.length);
    nexts[0] = -1;
    for (let p = 1; p < nodes.length; p++) nexts[p] = this.graph.addNext(nodes[p - 1], nodes[p]);
    // Chains are never freed (there are at most arcs × interfaces × configurations of them);
    // a packet in flight may still point at an old one, which stays valid.
    const chainIndex = this.chains.length;
    this.chains.push({ nexts });
    const startNodes = arc.definition.startNodeFor === undefined ? arc.definition.startNodes : [arc.definition.startNodeFor(swIfIndex)];
    for (const start of startNodes) {
      let starts = arc.startNexts.get(start);
      if (starts === undefined || starts.length <= chainIndex) {
        const grown = new Int32Array(Math.max(chainIndex + 1, (starts?.length ?? 0) * 2, 16)).fill(-1);
        if (starts !== undefined) grown.set(starts);
        arc.startNexts.set(start, (starts = grown));
        arc.lastStartNexts = undefined; // the cached table was replaced
      }
      starts[chainIndex] = this.graph.addNext(start, nodes[0]);
    }
    arc.chainOf[swIfIndex] = chainIndex + 1;
  }

  /** Stable topological sort of the arc's features by their before/after constraints. */
  private sort(arc: Arc): void {
    const names = arc.features.map((f) => f.node);
    const position = new Map(names.map((n, i) => [n, i]));
    const after = names.map(() => new Set<number>()); // after[i]: nodes that must run before i
    for (const [i, f] of arc.features.entries()) {
      for (const b of f.runsBefore ?? []) {
        const j = position.get(b);
        if (j !== undefined) after[j].add(i);
      }
      for (const a of f.runsAfter ?? []) {
        const j = position.get(a);
        if (j !== undefined) after[i].add(j);
      }
    }
    const order: string[] = [];
    const done = new Set<number>();
    while (order.length < names.length) {
      let picked = -1;
      for (let i = 0; i < names.length; i++) {
        if (done.has(i)) continue;
        let ready = true;
        for (const j of after[i]) if (!done.has(j)) ready = false;
        if (ready) {
          picked = i;
          break;
        }
      }
      if (picked < 0) {
        const stuck = names.filter((_, i) => !done.has(i));
        throw new FeatureArcError(`feature arc '${arc.definition.name}': contradictory before/after constraints among ${stuck.join(', ')}`);
      }
      done.add(picked);
      order.push(names[picked]);
    }
    arc.order = order;
    for (const swIfIndex of arc.enabled.keys()) this.rebuild(arc, swIfIndex);
  }
}
