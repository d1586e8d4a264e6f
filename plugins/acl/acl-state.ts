// The ACL plugin's state for one engine (VPP's acl_main_t) and the actions the CLI calls:
// ACLs by index, the input ACL list of each interface, and the lookup contexts the data
// path reads. A lookup context (VPP's lc_index) is one compiled rule list: the rules of an
// interface's ACLs in apply order, first match wins, an implicit deny after the last.
// Interfaces with the same list share one context. Every change (add, replace, delete,
// apply) rebuilds the contexts it touches before it returns, and switches the node on the
// `ip4-unicast` arc on or off for interfaces whose list became non-empty or empty.
//
// Hit counters: the node counts into its context's `hits` (one typed-array increment per
// packet). Before anything changes, and when `show acl` asks, those counts are folded into
// the per-ACL, per-rule totals kept here; replacing an ACL's rules zeroes its totals.

import type { Engine } from '../../src/index.ts';
import type { AclRule } from './acl-rules.ts';
import { CompiledRules, type MatchStrategy } from './acl-matcher.ts';

/** The node's name, as `show runtime` and traces print it. */
export const ACL_NODE = 'acl-plugin-in-ip4';
/** The arc the node sits on. */
export const ACL_ARC = 'ip4-unicast';
/** The largest ACL index (VPP's ACLs are a pool of u32 indices; this keeps arrays small). */
export const MAX_ACL_INDEX = 65535;

/** A refusal of an ACL action, with a POSIX-style code the CLI reports. */
export class AclError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EINVAL') {
    super(message);
    this.name = 'AclError';
    this.code = code;
  }
}

export interface Acl {
  readonly index: number;
  readonly rules: readonly AclRule[];
  readonly tag: string;
  /** Per rule: packets matched, folded from the lookup contexts. */
  readonly hits: Float64Array;
  /** Bumped when the rules are replaced; part of a context's key. */
  readonly version: number;
}

/** One compiled list of rules, shared by the interfaces whose input ACL list is the same. */
export class LookupContext {
  constructor(
    readonly id: number,
    /** The ACL indices in order, with the versions they were compiled from. */
    readonly key: string,
    readonly acls: readonly number[],
    readonly rules: CompiledRules,
    /** Per compiled rule: the ACL it came from and its index in that ACL. */
    readonly ruleAcl: Int32Array,
    readonly ruleIndex: Int32Array,
  ) {}
}

export class AclMain {
  private readonly acls: (Acl | undefined)[] = [];
  /** sw_if_index → input ACL indices, in apply order. */
  private readonly inputLists = new Map<number, number[]>();
  private contexts = new Map<string, LookupContext>();
  /** sw_if_index → its lookup context (undefined: no ACL applied). What the node reads. */
  contextOf: (LookupContext | undefined)[] = [];
  /** Force a strategy for every context (tests and benches); undefined picks by rule count. */
  strategy: MatchStrategy | undefined = undefined;

  constructor(private readonly vm: Engine) {}

  /** The ACL at `index`, if defined (its hit counts up to date). */
  acl(index: number): Acl | undefined {
    this.foldHits();
    return this.acls[index];
  }

  /** Every defined ACL, by index. */
  list(): Acl[] {
    this.foldHits();
    return this.acls.filter((a): a is Acl => a !== undefined);
  }

  /** Interfaces an ACL is applied to (input), ascending. */
  appliedOn(index: number): number[] {
    const out: number[] = [];
    for (const [sw, list] of this.inputLists) if (list.includes(index)) out.push(sw);
    return out.sort((a, b) => a - b);
  }

  /** The input ACLs of an interface, in order. */
  inputAcls(swIfIndex: number): readonly number[] {
    return this.inputLists.get(swIfIndex) ?? [];
  }

  /** Lookup contexts an ACL is part of. */
  contextsOf(index: number): LookupContext[] {
    return [...this.contexts.values()].filter((c) => c.acls.includes(index)).sort((a, b) => a.id - b.id);
  }

  /**
   * Adds an ACL (the lowest free index) or, with `index`, replaces the rules of an existing
   * one (VPP's acl_add_replace). Returns the index.
   */
  addReplace(rules: readonly AclRule[], index?: number, tag = ''): number {
    if (rules.length === 0) throw new AclError('an ACL needs at least one rule');
    if (index !== undefined && this.acls[index] === undefined) {
      throw new AclError(`no ACL with index ${index} to replace (leave out 'index' to add one)`, 'ENOENT');
    }
    let at = index ?? this.acls.findIndex((a) => a === undefined);
    if (at < 0) at = this.acls.length;
    if (at > MAX_ACL_INDEX) throw new AclError(`too many ACLs (at most ${MAX_ACL_INDEX + 1})`, 'ENOSPC');
    this.foldHits();
    const previous = this.acls[at];
    this.acls[at] = {
      index: at,
      rules: [...rules],
      tag,
      hits: new Float64Array(rules.length),
      version: previous === undefined ? 0 : previous.version + 1,
    };
    if (previous !== undefined) this.rebuild();
    return at;
  }

  /** Deletes an ACL; refused (EBUSY) while it is applied to an interface. */
  delete(index: number): void {
    if (this.acls[index] === undefined) throw new AclError(`no ACL with index ${index}`, 'ENOENT');
    const on = this.appliedOn(index);
    if (on.length > 0) {
      throw new AclError(`ACL ${index} is applied on ${on.map((sw) => this.interfaceName(sw)).join(', ')}: remove it there first`, 'EBUSY');
    }
    this.acls[index] = undefined;
    while (this.acls.length > 0 && this.acls[this.acls.length - 1] === undefined) this.acls.pop();
  }

  /** Appends an ACL to an interface's input list, or removes it (`enable` false). */
  applyInput(swIfIndex: number, index: number, enable: boolean): void {
    const list = this.inputLists.get(swIfIndex) ?? [];
    const at = list.indexOf(index);
    if (enable) {
      if (this.acls[index] === undefined) throw new AclError(`no ACL with index ${index}`, 'ENOENT');
      if (at >= 0) throw new AclError(`ACL ${index} is already applied on ${this.interfaceName(swIfIndex)} input`, 'EEXIST');
      this.foldHits();
      this.inputLists.set(swIfIndex, [...list, index]);
    } else {
      if (at < 0) throw new AclError(`ACL ${index} is not applied on ${this.interfaceName(swIfIndex)} input`, 'ENOENT');
      this.foldHits();
      const rest = list.filter((i) => i !== index);
      if (rest.length > 0) this.inputLists.set(swIfIndex, rest);
      else this.inputLists.delete(swIfIndex);
    }
    this.rebuild();
  }

  /** Moves the contexts' hit counts into the per-ACL totals. */
  foldHits(): void {
    for (const context of this.contexts.values()) {
      const hits = context.rules.hits;
      for (let r = 0; r < hits.length; r++) {
        if (hits[r] === 0) continue;
        const acl = this.acls[context.ruleAcl[r]];
        // Every change folds before it replaces or deletes an ACL, so the rule is still there.
        if (acl !== undefined) acl.hits[context.ruleIndex[r]] += hits[r];
        hits[r] = 0;
      }
    }
  }

  /** Recompiles what changed, keeps what did not, and points every interface at its context. */
  private rebuild(): void {
    this.foldHits();
    const lists = new Map<string, number[]>();
    const keyOf = new Map<number, string>();
    for (const [sw, list] of this.inputLists) {
      const key = list.map((i) => `${i}@${this.acls[i]!.version}`).join(',');
      lists.set(key, list);
      keyOf.set(sw, key);
    }
    // Contexts whose list is unchanged are kept (with their counts); new ones take the
    // lowest free context index, as VPP's lookup context pool does.
    const next = new Map<string, LookupContext>();
    const used = new Set<number>();
    for (const key of lists.keys()) {
      const kept = this.contexts.get(key);
      if (kept !== undefined) {
        next.set(key, kept);
        used.add(kept.id);
      }
    }
    let free = 0;
    for (const [key, list] of lists) {
      if (next.has(key)) continue;
      while (used.has(free)) free++;
      used.add(free);
      next.set(key, this.compile(free, key, list));
    }
    const contextOf: (LookupContext | undefined)[] = [];
    for (const [sw, key] of keyOf) contextOf[sw] = next.get(key);
    const before = this.contextOf;
    this.contexts = next;
    this.contextOf = contextOf;
    const features = this.vm.features;
    for (let sw = 0; sw < Math.max(before.length, contextOf.length); sw++) {
      const was = before[sw] !== undefined;
      const is = contextOf[sw] !== undefined;
      if (was !== is) features.enable(ACL_ARC, ACL_NODE, sw, is);
    }
  }

  private compile(id: number, key: string, list: readonly number[]): LookupContext {
    const rules: AclRule[] = [];
    const ruleAcl: number[] = [];
    const ruleIndex: number[] = [];
    for (const index of list) {
      const acl = this.acls[index]!;
      acl.rules.forEach((rule, i) => {
        rules.push(rule);
        ruleAcl.push(index);
        ruleIndex.push(i);
      });
    }
    return new LookupContext(id, key, [...list], new CompiledRules(rules, this.strategy), Int32Array.from(ruleAcl), Int32Array.from(ruleIndex));
  }

  private interfaceName(sw: number): string {
    return (this.vm as Partial<Engine>).vnet?.interfaces.names[sw] ?? `sw_if_index ${sw}`;
  }
}

const mains = new WeakMap<Engine, AclMain>();

/** The ACL state of an engine, made on first use. */
export function aclMain(vm: Engine): AclMain {
  let main = mains.get(vm);
  if (main === undefined) mains.set(vm, (main = new AclMain(vm)));
  return main;
}
