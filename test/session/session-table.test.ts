// Session lookup against a Map model: random adds, replaces, lookups and deletes over a
// small key space (so probe runs collide and deletions shift entries back), through growth;
// then the session layer's rules — one session per 5-tuple per fib, listeners with a
// wildcard address that an exact one overrides, fibs (VRFs) that never see each other.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SessionLookup, SessionTableError, TupleHash } from '../../src/session/session-table.ts';

const TCP = 6;
const UDP = 17;

describe('session table: the hash', () => {
  it('matches a Map under random set / get / delete with collisions, deletions and growth', () => {
    const word = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(0xffffffff), fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }));
    const key = fc.tuple(fc.integer({ min: 0, max: 2 }), word, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 5 }));
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key, value: fc.integer({ min: 0, max: 1000 }) }),
      fc.record({ kind: fc.constant('delete' as const), key }),
      fc.record({ kind: fc.constant('get' as const), key }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300, size: 'max' }), (ops) => {
        const table = new TupleHash(1);
        const model = new Map<string, number>();
        const name = (k: number[]): string => k.map((w) => w >>> 0).join(',');
        for (const o of ops) {
          const [a, b, c, d] = o.key;
          const k = name(o.key);
          if (o.kind === 'set') {
            assert.equal(table.set(a, b, c, d, o.value), model.get(k) ?? -1);
            model.set(k, o.value);
          } else if (o.kind === 'delete') {
            assert.equal(table.delete(a, b, c, d), model.get(k) ?? -1);
            model.delete(k);
          } else {
            assert.equal(table.get(a, b, c, d), model.get(k) ?? -1);
          }
          assert.equal(table.size, model.size);
        }
        for (const [k, v] of model) {
          const [a, b, c, d] = k.split(',').map(Number);
          assert.equal(table.get(a, b, c, d), v);
        }
        assert.equal(table.entries().length, model.size);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses negative values', () => {
    assert.throws(() => new TupleHash().set(1, 2, 3, 4, -1), (e: unknown) => e instanceof SessionTableError && e.code === 'EINVAL');
  });
});

describe('session table: sessions and listeners', () => {
  it('finds a session by its 5-tuple within its fib only, and refuses a duplicate', () => {
    const lookup = new SessionLookup(4);
    lookup.addSession(0, TCP, 0x0a000001, 80, 0x0a000002, 40000, 7);
    lookup.addSession(1, TCP, 0x0a000001, 80, 0x0a000002, 40000, 8);
    lookup.addSession(0, UDP, 0x0a000001, 80, 0x0a000002, 40000, 9);
    assert.equal(lookup.lookupSession(0, TCP, 0x0a000001, 80, 0x0a000002, 40000), 7);
    assert.equal(lookup.lookupSession(1, TCP, 0x0a000001, 80, 0x0a000002, 40000), 8);
    assert.equal(lookup.lookupSession(0, UDP, 0x0a000001, 80, 0x0a000002, 40000), 9);
    assert.equal(lookup.lookupSession(0, TCP, 0x0a000001, 80, 0x0a000002, 40001), -1);
    assert.equal(lookup.lookupSession(2, TCP, 0x0a000001, 80, 0x0a000002, 40000), -1);
    assert.throws(() => lookup.addSession(0, TCP, 0x0a000001, 80, 0x0a000002, 40000, 1), (e: unknown) => e instanceof SessionTableError && e.code === 'EEXIST' && /tcp 10\.0\.0\.1:80->10\.0\.0\.2:40000/.test(e.message));
    assert.ok(lookup.removeSession(0, TCP, 0x0a000001, 80, 0x0a000002, 40000));
    assert.ok(!lookup.removeSession(0, TCP, 0x0a000001, 80, 0x0a000002, 40000));
    assert.equal(lookup.lookupSession(0, TCP, 0x0a000001, 80, 0x0a000002, 40000), -1);
    assert.equal(lookup.lookupSession(1, TCP, 0x0a000001, 80, 0x0a000002, 40000), 8);
    // High addresses (negative as Int32) round-trip.
    lookup.addSession(0, TCP, 0xc0a80001, 65535, 0xffffffff, 1, 3);
    assert.equal(lookup.lookupSession(0, TCP, 0xc0a80001 | 0, 65535, -1, 1), 3);
  });

  it('a listener on the wildcard address takes every address; an exact one wins; EADDRINUSE on a second', () => {
    const lookup = new SessionLookup();
    lookup.addListener(0, TCP, 0, 80, 1);
    lookup.addListener(0, TCP, 0x0a000001, 80, 2);
    assert.equal(lookup.lookupListener(0, TCP, 0x0a000001, 80), 2);
    assert.equal(lookup.lookupListener(0, TCP, 0x0a000009, 80), 1);
    assert.equal(lookup.lookupListener(0, TCP, 0x0a000001, 81), -1);
    assert.equal(lookup.lookupListener(1, TCP, 0x0a000001, 80), -1, 'another fib sees nothing');
    assert.equal(lookup.lookupListener(0, UDP, 0x0a000001, 80), -1);
    assert.throws(() => lookup.addListener(0, TCP, 0, 80, 3), (e: unknown) => e instanceof SessionTableError && e.code === 'EADDRINUSE' && /tcp 0\.0\.0\.0:80/.test(e.message));
    assert.ok(lookup.removeListener(0, TCP, 0x0a000001, 80));
    assert.equal(lookup.lookupListener(0, TCP, 0x0a000001, 80), 1);
    assert.throws(() => lookup.addListener(-1, TCP, 0, 80, 3), /invalid fib index -1/);
  });
});
