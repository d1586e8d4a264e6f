// The 16-8-8 mtrie against a naive reference: a list of prefixes scanned for the longest
// match. Examples pin the cases the design exists for (more specific kept under a later
// less specific, delete restoring the cover, plies freed); the properties run random
// adds, deletes and re-adds and compare every lookup, at random addresses and at the
// edges of every prefix.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIp4, ip4Mask, parseIp4 } from '../../../src/wire/address.ts';
import { Ip4Mtrie } from '../../../src/vnet/fib/ip4-mtrie.ts';
import { FibError } from '../../../src/vnet/fib/fib-error.ts';

interface Route {
  address: number;
  length: number;
  value: number;
}

const DEFAULT = 7;

function ip(text: string): number {
  const address = parseIp4(text);
  assert.notEqual(address, null, text);
  return address as number;
}

function masked(address: number, length: number): number {
  return (address & ip4Mask(length)) >>> 0;
}

function contains(route: { address: number; length: number }, address: number): boolean {
  return masked(address, route.length) === route.address;
}

/** The naive longest match: scan every route. */
function referenceLookup(routes: readonly Route[], defaultValue: number, address: number): number {
  let best: Route | undefined;
  for (const route of routes) {
    if (contains(route, address) && (best === undefined || route.length > best.length)) best = route;
  }
  return best === undefined ? defaultValue : best.value;
}

/** The covering prefix of `route`: the longest strictly shorter route containing it. */
function referenceCover(routes: readonly Route[], defaultValue: number, route: Route): { value: number; length: number } {
  let best: Route | undefined;
  for (const other of routes) {
    if (other.length < route.length && contains(other, route.address) && (best === undefined || other.length > best.length)) {
      best = other;
    }
  }
  return best === undefined ? { value: defaultValue, length: 0 } : { value: best.value, length: best.length };
}

/** The first and last address of every route and their neighbours outside it. */
function edgeAddresses(routes: readonly Route[]): number[] {
  const out: number[] = [];
  for (const route of routes) {
    const last = (route.address | ~ip4Mask(route.length)) >>> 0;
    out.push(route.address, last, (route.address - 1) >>> 0, (last + 1) >>> 0);
  }
  return out;
}

/** A model with the reference routes kept beside the mtrie, driving `remove` as the prefix table does. */
class Model {
  readonly routes: Route[] = [];
  readonly mtrie: Ip4Mtrie;
  constructor(readonly defaultValue: number) {
    this.mtrie = new Ip4Mtrie(defaultValue);
  }
  add(address: number, length: number, value: number): void {
    const key = masked(address, length);
    const existing = this.routes.find((r) => r.address === key && r.length === length);
    if (existing) existing.value = value;
    else this.routes.push({ address: key, length, value });
    this.mtrie.add(address, length, value);
  }
  remove(route: Route): void {
    this.routes.splice(this.routes.indexOf(route), 1);
    const cover = referenceCover(this.routes, this.defaultValue, route);
    this.mtrie.remove(route.address, route.length, cover.value, cover.length);
  }
  check(addresses: readonly number[]): void {
    for (const address of addresses) {
      assert.equal(this.mtrie.lookup(address), referenceLookup(this.routes, this.defaultValue, address),
        `lookup ${formatIp4(address)} with ${this.routes.map((r) => `${formatIp4(r.address)}/${r.length}=${r.value}`).join(' ')}`);
    }
  }
}

test('empty mtrie returns the default everywhere and holds only the root', () => {
  const mtrie = new Ip4Mtrie(DEFAULT);
  for (const address of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) assert.equal(mtrie.lookup(address), DEFAULT);
  assert.equal(mtrie.plyCount, 0);
  assert.equal(mtrie.memoryBytes(), 65536 * 5);
});

test('/0, /8, /16, /24 and /32 each resolve their own range, and plies appear only past /16', () => {
  const mtrie = new Ip4Mtrie(DEFAULT);
  mtrie.add(0, 0, 1);
  mtrie.add(ip('10.0.0.0'), 8, 2);
  mtrie.add(ip('10.1.0.0'), 16, 3);
  assert.equal(mtrie.plyCount, 0);
  mtrie.add(ip('10.1.2.0'), 24, 4);
  assert.equal(mtrie.plyCount, 1);
  mtrie.add(ip('10.1.2.3'), 32, 5);
  assert.equal(mtrie.plyCount, 2);
  assert.equal(mtrie.lookup(ip('9.255.255.255')), 1);
  assert.equal(mtrie.lookup(ip('10.0.0.0')), 2);
  assert.equal(mtrie.lookup(ip('10.1.0.0')), 3);
  assert.equal(mtrie.lookup(ip('10.1.1.255')), 3);
  assert.equal(mtrie.lookup(ip('10.1.2.0')), 4);
  assert.equal(mtrie.lookup(ip('10.1.2.3')), 5);
  assert.equal(mtrie.lookup(ip('10.1.2.4')), 4);
  assert.equal(mtrie.lookup(ip('10.1.3.0')), 3);
  assert.equal(mtrie.lookup(ip('10.2.0.0')), 2);
  assert.equal(mtrie.lookup(ip('11.0.0.0')), 1);
});

test('a less specific prefix added later does not overwrite a more specific one', () => {
  const mtrie = new Ip4Mtrie(DEFAULT);
  mtrie.add(ip('10.1.2.3'), 32, 5);
  mtrie.add(ip('10.1.2.0'), 24, 4);
  mtrie.add(ip('10.0.0.0'), 8, 2);
  mtrie.add(0, 0, 1);
  assert.equal(mtrie.lookup(ip('10.1.2.3')), 5);
  assert.equal(mtrie.lookup(ip('10.1.2.2')), 4);
  assert.equal(mtrie.lookup(ip('10.1.3.3')), 2);
  assert.equal(mtrie.lookup(ip('11.1.2.3')), 1);
});

test('deleting a less specific prefix under a more specific one gives its slots to the cover', () => {
  const mtrie = new Ip4Mtrie(DEFAULT);
  mtrie.add(ip('10.0.0.0'), 8, 2);
  mtrie.add(ip('10.1.0.0'), 20, 3);
  mtrie.add(ip('10.1.2.3'), 32, 5);
  mtrie.remove(ip('10.1.0.0'), 20, 2, 8);
  assert.equal(mtrie.lookup(ip('10.1.2.3')), 5);
  assert.equal(mtrie.lookup(ip('10.1.2.4')), 2);
  assert.equal(mtrie.lookup(ip('10.1.15.0')), 2);
  mtrie.remove(ip('10.1.2.3'), 32, 2, 8);
  assert.equal(mtrie.lookup(ip('10.1.2.3')), 2);
  assert.equal(mtrie.plyCount, 0, 'uniform plies collapse back into a leaf');
});

test('delete only touches the deleted prefix even when a more specific one has the same value', () => {
  const mtrie = new Ip4Mtrie(DEFAULT);
  mtrie.add(ip('10.1.0.0'), 16, 3);
  mtrie.add(ip('10.1.2.0'), 24, 3);
  mtrie.remove(ip('10.1.0.0'), 16, DEFAULT, 0);
  assert.equal(mtrie.lookup(ip('10.1.2.9')), 3);
  assert.equal(mtrie.lookup(ip('10.1.3.9')), DEFAULT);
});

test('removing a prefix that is not there changes nothing', () => {
  const mtrie = new Ip4Mtrie(DEFAULT);
  mtrie.add(ip('10.1.2.0'), 24, 4);
  mtrie.remove(ip('10.1.2.128'), 25, 9, 24);
  mtrie.remove(ip('10.1.0.0'), 16, 9, 0);
  assert.equal(mtrie.lookup(ip('10.1.2.200')), 4);
  assert.equal(mtrie.lookup(ip('10.1.3.0')), DEFAULT);
});

test('bad arguments throw FibError EINVAL and change nothing', () => {
  const mtrie = new Ip4Mtrie(DEFAULT);
  const bad: (() => void)[] = [
    () => mtrie.add(-1, 8, 1),
    () => mtrie.add(2 ** 32, 8, 1),
    () => mtrie.add(0, 33, 1),
    () => mtrie.add(0, 1.5, 1),
    () => mtrie.add(0, 8, 2 ** 31),
    () => mtrie.add(0, 8, -1),
    () => mtrie.remove(0, 8, 1, 8),
    () => mtrie.remove(0, 8, 1, 9),
    () => new Ip4Mtrie(2 ** 31),
  ];
  for (const call of bad) {
    assert.throws(call, (error: unknown) => error instanceof FibError && error.code === 'EINVAL');
  }
  assert.equal(mtrie.lookup(0), DEFAULT);
  assert.equal(mtrie.plyCount, 0);
});

test('the ply pool grows past its initial size and shrinks back when emptied', () => {
  const mtrie = new Ip4Mtrie(DEFAULT);
  const baseline = mtrie.reservedBytes();
  for (let i = 0; i < 1000; i++) mtrie.add((i << 16) | 0x0100, 24, i);
  assert.equal(mtrie.plyCount, 1000);
  for (let i = 0; i < 1000; i++) assert.equal(mtrie.lookup((i << 16) | 0x0142), i);
  for (let i = 0; i < 1000; i++) mtrie.remove((i << 16) | 0x0100, 24, DEFAULT, 0);
  assert.equal(mtrie.plyCount, 0);
  assert.equal(mtrie.reservedBytes(), baseline);
});

// --- properties ---------------------------------------------------------------------

// Addresses near a few seeds, so prefixes overlap and nest; lengths biased to the ply edges.
const SEEDS = [0x00000000, 0x0a000000, 0x0a01027f, 0xc0a80101, 0x7fffffff, 0x80000000, 0xffffffff];
const addressArb = fc
  .tuple(fc.constantFrom(...SEEDS), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([seed, bits, noise]) => (seed ^ (noise & ~ip4Mask(32 - bits))) >>> 0);
const lengthArb = fc.oneof(
  fc.constantFrom(0, 8, 15, 16, 17, 23, 24, 25, 31, 32),
  fc.integer({ min: 0, max: 32 }),
);
// Few distinct values, so equal values under nested prefixes are common.
const valueArb = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0x7fffffff }));

type Op =
  | { kind: 'add'; address: number; length: number; value: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'readd'; pick: number; value: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), address: addressArb, length: lengthArb, value: valueArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('readd' as const), pick: fc.nat(), value: valueArb }) },
);

function runOps(model: Model, ops: readonly Op[], probes: readonly number[], checkEachStep: boolean): void {
  const removed: Route[] = [];
  for (const op of ops) {
    if (op.kind === 'add') {
      model.add(op.address, op.length, op.value);
    } else if (op.kind === 'remove') {
      if (model.routes.length === 0) continue;
      const route = model.routes[op.pick % model.routes.length];
      model.remove(route);
      removed.push(route);
    } else {
      if (removed.length === 0) continue;
      const route = removed[op.pick % removed.length];
      model.add(route.address, route.length, op.value);
    }
    if (checkEachStep) model.check([...probes, ...edgeAddresses(model.routes)]);
  }
}

test('property: lookups equal the naive longest match after random adds, deletes and re-adds', () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 40 }),
      fc.array(fc.oneof(addressArb, fc.integer({ min: 0, max: 0xffffffff })), { minLength: 8, maxLength: 24 }),
      valueArb,
      (ops, probes, defaultValue) => {
        const model = new Model(defaultValue);
        runOps(model, ops, probes, true);
        model.check([...probes, ...edgeAddresses(model.routes)]);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: the structure is canonical and memory returns to baseline when all is deleted', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), fc.nat(), (ops, order) => {
      const model = new Model(DEFAULT);
      const baseline = model.mtrie.memoryBytes();
      runOps(model, ops, [], false);
      // The same routes added afresh need exactly the same plies: no uniform ply survives a delete.
      const fresh = new Ip4Mtrie(DEFAULT);
      for (const route of model.routes) fresh.add(route.address, route.length, route.value);
      assert.equal(model.mtrie.plyCount, fresh.plyCount);
      // Delete everything, in an order that is not the insertion order.
      while (model.routes.length > 0) {
        model.remove(model.routes[(order + model.routes.length * 7) % model.routes.length]);
        model.check(edgeAddresses(model.routes));
      }
      assert.equal(model.mtrie.plyCount, 0);
      assert.equal(model.mtrie.memoryBytes(), baseline);
      model.check(SEEDS);
    }),
    { numRuns: 300 },
  );
});
