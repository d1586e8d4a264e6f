// The IPv4 FIB through its API, on an engine made by createEngine(): VPP's special entries,
// connected and local routes following interface addresses, longest-prefix match as a
// property against a naive reference, recursive resolution following the connected route
// as it goes and comes back, ECMP buckets by weight, VRF isolation, table deletion rules,
// and path-lists / load-balances given back when routes go.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createEngine } from '../../../src/index.ts';
import type { Engine } from '../../../src/vlib/engine.ts';
import type { DeviceClass } from '../../../src/vnet/interface.ts';
import { AdjacencyKind } from '../../../src/vnet/fib/adjacency.ts';
import { type RoutePath } from '../../../src/vnet/fib/ip4-fib.ts';
import { FibError } from '../../../src/vnet/fib/fib-error.ts';
import { formatIp4, ip4Mask, parseIp4, parseMac } from '../../../src/wire/address.ts';

const sink: DeviceClass = {
  name: 'test',
  tx: (ctx, buffers, n) => {
    ctx.pool.free(buffers, 0, n);
    return 0;
  },
};

function ip(text: string): number {
  const address = parseIp4(text);
  assert.notEqual(address, null, text);
  return address as number;
}

function mac(text: string): Uint8Array {
  return parseMac(text) as Uint8Array;
}

interface Setup {
  vm: Engine;
  pg0: number;
  pg1: number;
  pg2: number;
}

/** pg0, pg1, pg2 (no addresses yet). */
function setup(): Setup {
  const vm = createEngine({ buffers: 256 });
  const ifs = vm.vnet.interfaces;
  return {
    vm,
    pg0: ifs.create('pg0', sink, mac('02:fe:00:00:00:00')),
    pg1: ifs.create('pg1', sink, mac('02:fe:00:00:00:01')),
    pg2: ifs.create('pg2', sink, mac('02:fe:00:00:00:02')),
  };
}

/** The adjacencies a lookup of `address` can take (the load-balance's buckets). */
function bucketsFor(vm: Engine, fibIndex: number, address: number): number[] {
  return vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(fibIndex, address));
}

/** The single adjacency a lookup gives, as a short description. */
function forward(vm: Engine, fibIndex: number, address: number): string {
  const buckets = bucketsFor(vm, fibIndex, address);
  assert.equal(new Set(buckets).size, 1, `one adjacency for ${formatIp4(address)}`);
  return describe(vm, buckets[0]);
}

function describe(vm: Engine, adj: number): string {
  const adjs = vm.vnet.adjacencies;
  const name = vm.vnet.interfaces.names[adjs.swIfIndex[adj]];
  switch (adjs.kind[adj]) {
    case AdjacencyKind.DROP:
      return 'drop';
    case AdjacencyKind.LOCAL:
      return `local ${formatIp4(adjs.nextHop[adj])} ${name}`;
    case AdjacencyKind.GLEAN:
      return `glean ${name}`;
    case AdjacencyKind.INCOMPLETE:
      return `incomplete ${formatIp4(adjs.nextHop[adj])} ${name}`;
    default:
      return `rewrite ${formatIp4(adjs.nextHop[adj])} ${name}`;
  }
}

function prefixes(vm: Engine, fibIndex: number): string[] {
  return vm.vnet.fib.entries(fibIndex).map((e) => `${formatIp4(e.address)}/${e.length}`);
}

const SPECIALS = ['0.0.0.0/0', '0.0.0.0/32', '224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32'];

test('table 0 exists with VPP\'s special drop entries, and everything drops', () => {
  const { vm } = setup();
  const fib = vm.vnet.fib;
  assert.equal(fib.fibIndexOf(0), 0);
  assert.equal(fib.tableIdOf(0), 0);
  assert.deepEqual(prefixes(vm, 0), SPECIALS);
  for (const a of ['0.0.0.0', '1.2.3.4', '224.0.0.5', '255.255.255.255', '10.0.0.1']) assert.equal(forward(vm, 0, ip(a)), 'drop');
  assert.equal(fib.lookup(0, ip('8.8.8.8')), fib.dropLoadBalance);
});

test('connected, local, network and broadcast routes appear with an address and go with it', () => {
  const { vm, pg0 } = setup();
  vm.vnet.addIp4Address(pg0, ip('10.0.0.1'), 24);
  assert.deepEqual(prefixes(vm, 0), [
    '0.0.0.0/0', '0.0.0.0/32', '10.0.0.0/24', '10.0.0.0/32', '10.0.0.1/32', '10.0.0.255/32', ...SPECIALS.slice(2),
  ]);
  assert.equal(forward(vm, 0, ip('10.0.0.7')), 'glean pg0');
  assert.equal(forward(vm, 0, ip('10.0.0.1')), 'local 10.0.0.1 pg0');
  assert.equal(forward(vm, 0, ip('10.0.0.0')), 'drop');
  assert.equal(forward(vm, 0, ip('10.0.0.255')), 'drop');
  assert.equal(forward(vm, 0, ip('10.0.1.7')), 'drop');
  const entry = vm.vnet.fib.exactEntry(0, ip('10.0.0.0'), 24);
  assert.deepEqual(entry?.sources.map((s) => s.source), ['interface']);
  vm.vnet.deleteIp4Address(pg0, ip('10.0.0.1'), 24);
  assert.deepEqual(prefixes(vm, 0), SPECIALS);
  assert.equal(forward(vm, 0, ip('10.0.0.7')), 'drop');
  assert.equal(forward(vm, 0, ip('10.0.0.1')), 'drop');
});

test('a /31 gets an attached host route to its peer, a /32 only its local route (as VPP)', () => {
  const { vm, pg0, pg1 } = setup();
  vm.vnet.addIp4Address(pg0, ip('10.1.1.0'), 31);
  assert.equal(forward(vm, 0, ip('10.1.1.1')), 'incomplete 10.1.1.1 pg0');
  assert.equal(forward(vm, 0, ip('10.1.1.0')), 'local 10.1.1.0 pg0');
  assert.equal(vm.vnet.fib.exactEntry(0, ip('10.1.1.0'), 31), undefined);
  vm.vnet.addIp4Address(pg1, ip('10.2.2.2'), 32);
  assert.deepEqual(vm.vnet.fib.entries(0).filter((e) => formatIp4(e.address).startsWith('10.2.')).map((e) => e.length), [32]);
  vm.vnet.deleteIp4Address(pg0, ip('10.1.1.0'), 31);
  vm.vnet.deleteIp4Address(pg1, ip('10.2.2.2'), 32);
  assert.deepEqual(prefixes(vm, 0), SPECIALS);
});

test('two addresses on one subnet share the connected route until the last goes', () => {
  const { vm, pg0 } = setup();
  vm.vnet.addIp4Address(pg0, ip('10.0.0.1'), 24);
  vm.vnet.addIp4Address(pg0, ip('10.0.0.2'), 24);
  vm.vnet.deleteIp4Address(pg0, ip('10.0.0.1'), 24);
  assert.equal(forward(vm, 0, ip('10.0.0.9')), 'glean pg0');
  assert.equal(forward(vm, 0, ip('10.0.0.1')), 'glean pg0');
  assert.equal(forward(vm, 0, ip('10.0.0.2')), 'local 10.0.0.2 pg0');
  vm.vnet.deleteIp4Address(pg0, ip('10.0.0.2'), 24);
  assert.deepEqual(prefixes(vm, 0), SPECIALS);
});

// --- longest prefix match against a reference -------------------------------------------

interface RefRoute {
  address: number;
  length: number;
  nextHop: number;
}

function referenceNextHop(routes: readonly RefRoute[], address: number): number | undefined {
  let best: RefRoute | undefined;
  for (const r of routes) {
    if (((address & ip4Mask(r.length)) >>> 0) === r.address && (best === undefined || r.length > best.length)) best = r;
  }
  return best?.nextHop;
}

test('property: the longest prefix wins, after random adds, replaces and deletes (reference LPM)', () => {
  // Prefixes in 20.0.0.0/6 (clear of the connected subnet and the specials), nested around
  // a few seeds; next hops are neighbors on pg1's subnet 10.1.0.0/16.
  const seeds = [0x14000000, 0x14010200, 0x1501ff00, 0x17ffffff];
  const prefixArb = fc
    .tuple(fc.constantFrom(...seeds), fc.integer({ min: 6, max: 32 }), fc.integer({ min: 0, max: 26 }), fc.integer({ min: 0, max: 0x3ffffff }))
    .map(([seed, length, bits, noise]) => ({ address: ((seed ^ (noise & ((1 << bits) - 1))) & ip4Mask(length)) >>> 0, length }));
  const opArb = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), prefix: prefixArb, hop: fc.integer({ min: 2, max: 6 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  );
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.array(fc.integer({ min: 0x14000000, max: 0x17ffffff }), { maxLength: 16 }), (ops, probes) => {
      const { vm, pg1 } = setup();
      vm.vnet.addIp4Address(pg1, ip('10.1.0.1'), 16);
      const fib = vm.vnet.fib;
      const plies = fib.mtries[0].plyCount;
      const routes: RefRoute[] = [];
      for (const op of ops) {
        if (op.kind === 'add') {
          const nextHop = (ip('10.1.0.0') + op.prefix.length * 16 + op.hop) >>> 0;
          fib.addRoute(0, op.prefix.address, op.prefix.length, [{ nextHop, swIfIndex: pg1 }]);
          const existing = routes.find((r) => r.address === op.prefix.address && r.length === op.prefix.length);
          if (existing) existing.nextHop = nextHop;
          else routes.push({ ...op.prefix, nextHop });
        } else if (routes.length > 0) {
          const [route] = routes.splice(op.pick % routes.length, 1);
          fib.deleteRoute(0, route.address, route.length);
        }
      }
      const edges = routes.flatMap((r) => {
        const last = (r.address | ~ip4Mask(r.length)) >>> 0;
        return [r.address, last, (r.address - 1) >>> 0, (last + 1) >>> 0];
      });
      for (const address of [...probes, ...edges]) {
        if (address < 0x14000000 || address > 0x17ffffff) continue;
        const want = referenceNextHop(routes, address);
        const got = forward(vm, 0, address);
        assert.equal(got, want === undefined ? 'drop' : `incomplete ${formatIp4(want)} pg1`, `lookup ${formatIp4(address)}`);
      }
      // Everything deleted: back to the specials and the connected routes.
      for (const r of routes) fib.deleteRoute(0, r.address, r.length);
      assert.equal(fib.entryCount(0), SPECIALS.length + 4);
      assert.equal(fib.mtries[0].plyCount, plies, 'the plies of the routes are freed');
    }),
    { numRuns: 150 },
  );
});

// --- recursive resolution ---------------------------------------------------------------

test('a recursive route resolves through the connected subnet, drops when it goes, resolves when it returns', () => {
  const { vm, pg1 } = setup();
  const fib = vm.vnet.fib;
  vm.vnet.addIp4Address(pg1, ip('10.1.0.1'), 16);
  fib.addRoute(0, ip('20.0.0.0'), 8, [{ nextHop: ip('10.1.0.2') }]);
  assert.equal(forward(vm, 0, ip('20.1.2.3')), 'incomplete 10.1.0.2 pg1');
  const lb = fib.lookup(0, ip('20.1.2.3'));
  // The neighbor resolving changes the shared adjacency, not the FIB.
  vm.vnet.neighbors.add(pg1, ip('10.1.0.2'), mac('02:00:00:00:01:02'), true);
  assert.equal(forward(vm, 0, ip('20.1.2.3')), 'rewrite 10.1.0.2 pg1');
  assert.equal(fib.lookup(0, ip('20.1.2.3')), lb);
  // A chain: 30/8 via 20.0.0.1, itself recursive.
  fib.addRoute(0, ip('30.0.0.0'), 8, [{ nextHop: ip('20.0.0.1') }]);
  assert.equal(forward(vm, 0, ip('30.9.9.9')), 'rewrite 10.1.0.2 pg1');
  vm.vnet.deleteIp4Address(pg1, ip('10.1.0.1'), 16);
  assert.equal(forward(vm, 0, ip('20.1.2.3')), 'drop');
  assert.equal(forward(vm, 0, ip('30.9.9.9')), 'drop');
  assert.equal(fib.lookup(0, ip('20.1.2.3')), lb, 'the route keeps its load-balance, updated in place');
  vm.vnet.addIp4Address(pg1, ip('10.1.0.1'), 16);
  assert.equal(forward(vm, 0, ip('20.1.2.3')), 'incomplete 10.1.0.2 pg1');
  assert.equal(forward(vm, 0, ip('30.9.9.9')), 'incomplete 10.1.0.2 pg1');
});

test('a recursive route follows a cli route over its next hop, and never resolves through itself', () => {
  const { vm, pg1 } = setup();
  const fib = vm.vnet.fib;
  vm.vnet.addIp4Address(pg1, ip('10.1.0.1'), 16);
  fib.addRoute(0, ip('40.0.0.0'), 8, [{ nextHop: ip('50.0.0.1') }]);
  assert.equal(forward(vm, 0, ip('40.0.0.9')), 'drop');
  fib.addRoute(0, ip('50.0.0.0'), 8, [{ nextHop: ip('10.1.0.3'), swIfIndex: pg1 }]);
  assert.equal(forward(vm, 0, ip('40.0.0.9')), 'incomplete 10.1.0.3 pg1');
  fib.addRoute(0, ip('50.0.0.0'), 24, [{ nextHop: ip('10.1.0.4'), swIfIndex: pg1 }]);
  assert.equal(forward(vm, 0, ip('40.0.0.9')), 'incomplete 10.1.0.4 pg1', 'the more specific route over the next hop wins');
  fib.deleteRoute(0, ip('50.0.0.0'), 24);
  assert.equal(forward(vm, 0, ip('40.0.0.9')), 'incomplete 10.1.0.3 pg1');
  fib.deleteRoute(0, ip('50.0.0.0'), 8);
  assert.equal(forward(vm, 0, ip('40.0.0.9')), 'drop');
  // 60/8 via 60.0.0.1: the only match for its next hop is itself.
  fib.addRoute(0, ip('60.0.0.0'), 8, [{ nextHop: ip('60.0.0.1') }]);
  assert.equal(forward(vm, 0, ip('60.1.1.1')), 'drop');
  // With a cover, it resolves through the cover instead.
  fib.addRoute(0, ip('60.0.0.0'), 7, [{ nextHop: ip('10.1.0.5'), swIfIndex: pg1 }]);
  assert.equal(forward(vm, 0, ip('60.1.1.1')), 'incomplete 10.1.0.5 pg1');
});

test('attached routes glean on their interface; via drop and via local', () => {
  const { vm, pg0 } = setup();
  const fib = vm.vnet.fib;
  fib.addRoute(0, ip('70.0.0.0'), 8, [{ swIfIndex: pg0 }]);
  assert.equal(forward(vm, 0, ip('70.1.1.1')), 'glean pg0');
  fib.addRoute(0, ip('71.0.0.0'), 8, [{ special: 'drop' }]);
  assert.equal(forward(vm, 0, ip('71.1.1.1')), 'drop');
  fib.addRoute(0, ip('72.0.0.1'), 32, [{ special: 'local', nextHop: ip('72.0.0.1') }]);
  assert.equal(vm.vnet.adjacencies.kind[bucketsFor(vm, 0, ip('72.0.0.1'))[0]], AdjacencyKind.LOCAL);
});

// --- ECMP ----------------------------------------------------------------------------------

test('ECMP: N paths spread over the buckets, weights respected, paths added and removed one by one', () => {
  const { vm, pg1 } = setup();
  const fib = vm.vnet.fib;
  const adjs = vm.vnet.adjacencies;
  vm.vnet.addIp4Address(pg1, ip('10.1.0.1'), 16);
  const hop = (n: number): RoutePath => ({ nextHop: ip(`10.1.0.${n}`), swIfIndex: pg1 });
  const count = (buckets: number[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const adj of buckets) m.set(formatIp4(adjs.nextHop[adj]), (m.get(formatIp4(adjs.nextHop[adj])) ?? 0) + 1);
    return m;
  };
  fib.addRoute(0, ip('80.0.0.0'), 8, [hop(2), hop(3)]);
  assert.deepEqual(count(bucketsFor(vm, 0, ip('80.0.0.1'))), new Map([['10.1.0.2', 1], ['10.1.0.3', 1]]));
  for (const n of [3, 4, 5, 8]) {
    fib.addRoute(0, ip('81.0.0.0'), 8, Array.from({ length: n }, (_, i) => hop(10 + i)));
    const buckets = bucketsFor(vm, 0, ip('81.0.0.1'));
    const counts = count(buckets);
    assert.equal(counts.size, n, `${n} paths, ${n} adjacencies`);
    assert.equal(buckets.length & (buckets.length - 1), 0, 'a power of two');
    const values = [...counts.values()];
    assert.ok(Math.max(...values) - Math.min(...values) <= 1, `equal paths share evenly: ${values}`);
  }
  fib.addRoute(0, ip('82.0.0.0'), 8, [{ ...hop(2), weight: 1 }, { ...hop(3), weight: 3 }]);
  assert.deepEqual(count(bucketsFor(vm, 0, ip('82.0.0.1'))), new Map([['10.1.0.2', 1], ['10.1.0.3', 3]]));
  fib.addRoute(0, ip('83.0.0.0'), 8, [{ ...hop(2), weight: 2 }, { ...hop(3), weight: 5 }]);
  // VPP's rule: the fewest buckets (a power of two) whose rounding errs by at most 10% per
  // bucket: 2:5 → 1:3 of 4 buckets (error 0.29 ≤ 0.4).
  const weighted = count(bucketsFor(vm, 0, ip('83.0.0.1')));
  assert.deepEqual(weighted, new Map([['10.1.0.2', 1], ['10.1.0.3', 3]]));
  fib.addRoute(0, ip('85.0.0.0'), 8, [{ ...hop(2), weight: 1 }, { ...hop(3), weight: 10 }]);
  const skewed = bucketsFor(vm, 0, ip('85.0.0.1'));
  const skewedCounts = count(skewed);
  const error = Math.abs((skewedCounts.get('10.1.0.2') ?? 0) - skewed.length / 11) + Math.abs((skewedCounts.get('10.1.0.3') ?? 0) - (skewed.length * 10) / 11);
  assert.ok(error <= 0.1 * skewed.length && skewedCounts.get('10.1.0.2') === Math.round(skewed.length / 11), `1:10 → ${[...skewedCounts]} of ${skewed.length}`);
  // addPaths accumulates (VPP's `ip route add` again), deleteRoute with paths removes one.
  fib.addPaths(0, ip('84.0.0.0'), 8, [hop(2)]);
  fib.addPaths(0, ip('84.0.0.0'), 8, [hop(3)]);
  assert.equal(count(bucketsFor(vm, 0, ip('84.0.0.1'))).size, 2);
  fib.deleteRoute(0, ip('84.0.0.0'), 8, 'cli', [hop(2)]);
  assert.equal(forward(vm, 0, ip('84.0.0.1')), 'incomplete 10.1.0.3 pg1');
  fib.deleteRoute(0, ip('84.0.0.0'), 8, 'cli', [hop(3)]);
  assert.equal(forward(vm, 0, ip('84.0.0.1')), 'drop');
});

// --- VRFs -------------------------------------------------------------------------------

test('VRFs: the same prefix in two tables forwards differently; routes stay in their table', () => {
  const { vm, pg1, pg2 } = setup();
  const fib = vm.vnet.fib;
  const five = fib.createTable(5);
  assert.equal(fib.createTable(5), five, 'idempotent');
  assert.equal(fib.fibIndexOf(5), five);
  assert.equal(fib.tableIdOf(five), 5);
  vm.vnet.setIp4Table(pg2, 5);
  vm.vnet.addIp4Address(pg1, ip('10.1.0.1'), 16);
  vm.vnet.addIp4Address(pg2, ip('10.1.0.1'), 16);
  fib.addRoute(0, ip('20.0.0.0'), 8, [{ nextHop: ip('10.1.0.2') }]);
  fib.addRoute(five, ip('20.0.0.0'), 8, [{ nextHop: ip('10.1.0.2') }]);
  fib.addRoute(five, ip('21.0.0.0'), 8, [{ nextHop: ip('10.1.0.9'), swIfIndex: pg2 }]);
  assert.equal(forward(vm, 0, ip('20.0.0.1')), 'incomplete 10.1.0.2 pg1');
  assert.equal(forward(vm, five, ip('20.0.0.1')), 'incomplete 10.1.0.2 pg2');
  assert.equal(forward(vm, five, ip('21.0.0.1')), 'incomplete 10.1.0.9 pg2');
  assert.equal(forward(vm, 0, ip('21.0.0.1')), 'drop');
  assert.equal(fib.exactEntry(0, ip('21.0.0.0'), 8), undefined);
  // A neighbor on pg2 resolves table 5's adjacency only.
  vm.vnet.neighbors.add(pg2, ip('10.1.0.2'), mac('02:00:00:00:02:02'), false);
  assert.equal(forward(vm, five, ip('20.0.0.1')), 'rewrite 10.1.0.2 pg2');
  assert.equal(forward(vm, 0, ip('20.0.0.1')), 'incomplete 10.1.0.2 pg1');
  assert.ok(fib.exactEntry(five, ip('10.1.0.2'), 32) !== undefined, 'adj-fib in the interface\'s table');
  assert.equal(fib.exactEntry(0, ip('10.1.0.2'), 32), undefined);
});

test('tables: one with a bound interface cannot be deleted, table 0 never; deletion frees everything', () => {
  const { vm, pg2 } = setup();
  const fib = vm.vnet.fib;
  const baseLbs = vm.vnet.loadBalances.count;
  const seven = fib.createTable(7);
  vm.vnet.setIp4Table(pg2, 7);
  vm.vnet.addIp4Address(pg2, ip('10.7.0.1'), 24);
  fib.addRoute(seven, ip('20.0.0.0'), 8, [{ nextHop: ip('10.7.0.2') }]);
  assert.throws(() => fib.deleteTable(7), (e: unknown) => e instanceof FibError && e.code === 'EBUSY' && /pg2/.test(e.message));
  assert.throws(() => fib.deleteTable(0), (e: unknown) => e instanceof FibError && e.code === 'EPERM');
  assert.throws(() => fib.deleteTable(8), (e: unknown) => e instanceof FibError && e.code === 'ENOENT');
  assert.equal(fib.entryCount(seven), SPECIALS.length + 5);
  vm.vnet.deleteIp4Address(pg2, ip('10.7.0.1'), 24);
  vm.vnet.setIp4Table(pg2, 0);
  fib.deleteTable(7);
  assert.equal(fib.fibIndexOf(7), -1);
  assert.equal(vm.vnet.loadBalances.count, baseLbs, 'load-balances released');
  assert.equal(fib.mtries[seven].lookup(ip('20.0.0.1')), fib.dropLoadBalance, 'a stale fib index finds drop');
  assert.equal(fib.createTable(9), seven, 'the fib index is reused');
  assert.deepEqual(prefixes(vm, seven), SPECIALS);
});

test('path-lists and load-balances are shared by equal routes and given back when they go', () => {
  const { vm, pg1 } = setup();
  const fib = vm.vnet.fib;
  vm.vnet.addIp4Address(pg1, ip('10.1.0.1'), 16);
  const lbs = vm.vnet.loadBalances.count;
  const pls = fib.pathListCount;
  for (let i = 0; i < 200; i++) fib.addRoute(0, ((30 << 24) | (i << 8)) >>> 0, 24, [{ nextHop: ip('10.1.0.2'), swIfIndex: pg1 }]);
  for (let i = 0; i < 200; i++) fib.addRoute(0, ((31 << 24) | (i << 8)) >>> 0, 24, [{ nextHop: ip('10.1.0.2') }]);
  assert.equal(fib.pathListCount, pls + 2);
  assert.equal(vm.vnet.loadBalances.count, lbs + 2);
  for (let i = 0; i < 200; i++) fib.deleteRoute(0, ((30 << 24) | (i << 8)) >>> 0, 24);
  for (let i = 0; i < 200; i++) fib.deleteRoute(0, ((31 << 24) | (i << 8)) >>> 0, 24);
  assert.equal(fib.pathListCount, pls);
  assert.equal(vm.vnet.loadBalances.count, lbs);
  assert.equal(fib.entryCount(0), SPECIALS.length + 4);
});

test('sources: the interface source beats cli; removing it uncovers the cli route', () => {
  const { vm, pg0, pg1 } = setup();
  const fib = vm.vnet.fib;
  vm.vnet.addIp4Address(pg1, ip('10.1.0.1'), 16);
  fib.addRoute(0, ip('10.0.0.0'), 24, [{ nextHop: ip('10.1.0.2'), swIfIndex: pg1 }]);
  assert.equal(forward(vm, 0, ip('10.0.0.9')), 'incomplete 10.1.0.2 pg1');
  vm.vnet.addIp4Address(pg0, ip('10.0.0.1'), 24);
  assert.equal(forward(vm, 0, ip('10.0.0.9')), 'glean pg0');
  assert.deepEqual(fib.exactEntry(0, ip('10.0.0.0'), 24)?.sources.map((s) => s.source), ['interface', 'cli']);
  vm.vnet.deleteIp4Address(pg0, ip('10.0.0.1'), 24);
  assert.equal(forward(vm, 0, ip('10.0.0.9')), 'incomplete 10.1.0.2 pg1');
});

test('bad API input throws FibError with a code and changes nothing', () => {
  const { vm, pg1 } = setup();
  const fib = vm.vnet.fib;
  vm.vnet.addIp4Address(pg1, ip('10.1.0.1'), 16);
  const before = JSON.stringify(fib.entries(0));
  const bad: [() => void, string][] = [
    [() => fib.addRoute(0, ip('20.0.0.0'), 33, [{ nextHop: 1 }]), 'EINVAL'],
    [() => fib.addRoute(0, -1, 8, [{ nextHop: 1 }]), 'EINVAL'],
    [() => fib.addRoute(0, ip('20.0.0.0'), 8, []), 'EINVAL'],
    [() => fib.addRoute(0, ip('20.0.0.0'), 8, [{}]), 'EINVAL'],
    [() => fib.addRoute(0, ip('20.0.0.0'), 8, [{ swIfIndex: 99 }]), 'ENODEV'],
    [() => fib.addRoute(0, ip('20.0.0.0'), 8, [{ nextHop: 1, weight: 0 }]), 'EINVAL'],
    [() => fib.addRoute(42, ip('20.0.0.0'), 8, [{ nextHop: 1 }]), 'ENOENT'],
    [() => fib.deleteRoute(0, ip('20.0.0.0'), 8), 'ENOENT'],
    [() => fib.deleteRoute(0, 0, 0, 'default'), 'EPERM'],
    [() => fib.createTable(-1), 'EINVAL'],
  ];
  for (const [call, code] of bad) assert.throws(call, (e: unknown) => e instanceof FibError && e.code === code, String(call));
  assert.equal(JSON.stringify(fib.entries(0)), before);
});
