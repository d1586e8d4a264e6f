// The prefix table against a naive reference (a list of prefixes): exact get, the control
// path's longestMatch, the mtrie's lookup, entries() order and size must all agree with
// it after random sets, deletes and re-sets; deleting everything frees every ply.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIp4, ip4Mask, parseIp4 } from '../../../src/wire/address.ts';
import { FibError } from '../../../src/vnet/fib/ip4-mtrie.ts';
import { Ip4PrefixTable, type Ip4Route } from '../../../src/vnet/fib/ip4-prefix-table.ts';

const DEFAULT = 0;

function ip(text: string): number {
  const address = parseIp4(text);
  assert.notEqual(address, null, text);
  return address as number;
}

function masked(address: number, length: number): number {
  return (address & ip4Mask(length)) >>> 0;
}

function referenceMatch(routes: readonly Ip4Route[], address: number): Ip4Route | undefined {
  let best: Ip4Route | undefined;
  for (const route of routes) {
    if (masked(address, route.length) === route.address && (best === undefined || route.length > best.length)) best = route;
  }
  return best;
}

test('host bits are cleared on set, get and delete', () => {
  const table = new Ip4PrefixTable(DEFAULT);
  table.set(ip('10.1.2.3'), 24, 4);
  assert.equal(table.get(ip('10.1.2.0'), 24), 4);
  assert.equal(table.get(ip('10.1.2.77'), 24), 4);
  assert.deepEqual([...table.entries()], [{ address: ip('10.1.2.0'), length: 24, value: 4 }]);
  assert.equal(table.delete(ip('10.1.2.200'), 24), true);
  assert.equal(table.size, 0);
});

test('set replaces, delete reports absence, size counts prefixes', () => {
  const table = new Ip4PrefixTable(DEFAULT);
  table.set(ip('10.0.0.0'), 8, 1);
  table.set(ip('10.0.0.0'), 8, 2);
  table.set(ip('10.0.0.0'), 16, 3);
  assert.equal(table.size, 2);
  assert.equal(table.get(ip('10.0.0.0'), 8), 2);
  assert.equal(table.delete(ip('10.0.0.0'), 24), false);
  assert.equal(table.delete(ip('11.0.0.0'), 8), false);
  assert.equal(table.size, 2);
  assert.equal(table.get(ip('10.0.0.0'), 24), undefined);
});

test('longestMatch and lookup: most specific wins, default when nothing matches', () => {
  const table = new Ip4PrefixTable(99);
  table.set(ip('10.0.0.0'), 8, 1);
  table.set(ip('10.1.0.0'), 16, 2);
  table.set(ip('10.1.2.0'), 24, 3);
  table.set(ip('10.1.2.3'), 32, 4);
  assert.deepEqual(table.longestMatch(ip('10.1.2.3')), { address: ip('10.1.2.3'), length: 32, value: 4 });
  assert.deepEqual(table.longestMatch(ip('10.1.2.4')), { address: ip('10.1.2.0'), length: 24, value: 3 });
  assert.deepEqual(table.longestMatch(ip('10.200.0.1')), { address: ip('10.0.0.0'), length: 8, value: 1 });
  assert.equal(table.longestMatch(ip('11.0.0.1')), undefined);
  assert.equal(table.lookup(ip('11.0.0.1')), 99);
  // Deleting the /16 under the /24 and /32: its slots go to the /8.
  table.delete(ip('10.1.0.0'), 16);
  assert.equal(table.lookup(ip('10.1.3.0')), 1);
  assert.equal(table.lookup(ip('10.1.2.3')), 4);
  table.set(0, 0, 5);
  assert.equal(table.lookup(ip('11.0.0.1')), 5);
  table.delete(0, 0);
  assert.equal(table.lookup(ip('11.0.0.1')), 99);
});

test('bad input throws FibError EINVAL and changes nothing', () => {
  const table = new Ip4PrefixTable(DEFAULT);
  const bad: (() => unknown)[] = [
    () => table.set(-1, 8, 1),
    () => table.set(0, 33, 1),
    () => table.set(0, 8, 2 ** 31),
    () => table.set(0, 8, 0.5),
    () => table.delete(2 ** 32, 8),
    () => table.get(0, -1),
    () => table.longestMatch(1.5),
    () => new Ip4PrefixTable(-1),
  ];
  for (const call of bad) {
    assert.throws(call, (error: unknown) => error instanceof FibError && error.code === 'EINVAL');
  }
  assert.equal(table.size, 0);
  assert.equal(table.mtrie.plyCount, 0);
});

// --- property -----------------------------------------------------------------------

const SEEDS = [0x00000000, 0x0a000000, 0x0a01027f, 0xc0a80101, 0x7fffffff, 0x80000000, 0xffffffff];
const addressArb = fc
  .tuple(fc.constantFrom(...SEEDS), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([seed, bits, noise]) => (seed ^ (noise & ~ip4Mask(32 - bits))) >>> 0);
const lengthArb = fc.oneof(fc.constantFrom(0, 8, 16, 17, 24, 25, 32), fc.integer({ min: 0, max: 32 }));
const valueArb = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0x7fffffff }));

type Op =
  | { kind: 'set'; address: number; length: number; value: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'deleteAbsent'; address: number; length: number }
  | { kind: 'reset'; pick: number; value: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), address: addressArb, length: lengthArb, value: valueArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteAbsent' as const), address: addressArb, length: lengthArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), pick: fc.nat(), value: valueArb }) },
);

function check(table: Ip4PrefixTable, routes: readonly Ip4Route[], probes: readonly number[]): void {
  assert.equal(table.size, routes.length);
  const sorted = [...routes].sort((a, b) => a.address - b.address || a.length - b.length);
  assert.deepEqual([...table.entries()], sorted);
  for (const route of routes) {
    // Exact get, with host bits set on the way in.
    assert.equal(table.get((route.address | ~ip4Mask(route.length)) >>> 0, route.length), route.value);
  }
  const addresses = [...probes];
  for (const route of routes) {
    const last = (route.address | ~ip4Mask(route.length)) >>> 0;
    addresses.push(route.address, last, (route.address - 1) >>> 0, (last + 1) >>> 0);
  }
  for (const address of addresses) {
    const expected = referenceMatch(routes, address);
    assert.deepEqual(table.longestMatch(address), expected, `longestMatch ${formatIp4(address)}`);
    assert.equal(table.lookup(address), expected === undefined ? table.defaultValue : expected.value, `lookup ${formatIp4(address)}`);
  }
}

test('property: get, longestMatch, lookup, entries and size agree with the reference; all deleted frees all plies', () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 50 }),
      fc.array(fc.oneof(addressArb, fc.integer({ min: 0, max: 0xffffffff })), { minLength: 8, maxLength: 24 }),
      valueArb,
      (ops, probes, defaultValue) => {
        const table = new Ip4PrefixTable(defaultValue);
        const baseline = table.mtrie.memoryBytes();
        let routes: Ip4Route[] = [];
        const deleted: Ip4Route[] = [];
        for (const op of ops) {
          if (op.kind === 'set') {
            const address = masked(op.address, op.length);
            routes = routes.filter((r) => !(r.address === address && r.length === op.length));
            routes.push({ address, length: op.length, value: op.value });
            table.set(op.address, op.length, op.value);
          } else if (op.kind === 'delete') {
            if (routes.length === 0) continue;
            const route = routes[op.pick % routes.length];
            routes = routes.filter((r) => r !== route);
            deleted.push(route);
            assert.equal(table.delete(route.address, route.length), true);
          } else if (op.kind === 'deleteAbsent') {
            const address = masked(op.address, op.length);
            const present = routes.some((r) => r.address === address && r.length === op.length);
            routes = routes.filter((r) => !(r.address === address && r.length === op.length));
            assert.equal(table.delete(op.address, op.length), present);
          } else {
            if (deleted.length === 0) continue;
            const route = deleted[op.pick % deleted.length];
            routes = routes.filter((r) => !(r.address === route.address && r.length === route.length));
            routes.push({ address: route.address, length: route.length, value: op.value });
            table.set(route.address, route.length, op.value);
          }
          check(table, routes, probes);
        }
        for (const route of [...routes].reverse()) {
          assert.equal(table.delete(route.address, route.length), true);
        }
        check(table, [], probes);
        assert.equal(table.mtrie.plyCount, 0);
        assert.equal(table.mtrie.memoryBytes(), baseline);
      },
    ),
    { numRuns: 300 },
  );
});
