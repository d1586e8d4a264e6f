// The neighbor (ARP) table: adding a neighbor turns its shared adjacency into a rewrite
// with the exact Ethernet header and installs its /32 (adj-fib); static beats learned;
// deleting makes the adjacency incomplete and takes the /32 away; learning off a
// connected subnet is ignored and counted; a MAC change rebuilds the rewrites; ages move.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import type { DeviceClass } from '../../src/vnet/interface.ts';
import { AdjacencyKind, REWRITE_BYTES } from '../../src/vnet/fib/adjacency.ts';
import { NeighborError } from '../../src/vnet/ip4-neighbor.ts';
import { parseIp4, parseMac } from '../../src/wire/address.ts';

const sink: DeviceClass = {
  name: 'test',
  tx: (ctx, buffers, n) => {
    ctx.pool.free(buffers, 0, n);
    return 0;
  },
};

function ip(text: string): number {
  return parseIp4(text) as number;
}

function mac(text: string): Uint8Array {
  return parseMac(text) as Uint8Array;
}

/** pg1 02:fe:00:00:00:01 with 10.10.2.1/24, and a route 48/8 via 10.10.2.2 pg1. */
function setup(): { vm: Engine; pg1: number } {
  const vm = createEngine({ buffers: 256 });
  const pg1 = vm.vnet.interfaces.create('pg1', sink, mac('02:fe:00:00:00:01'));
  vm.vnet.addIp4Address(pg1, ip('10.10.2.1'), 24);
  vm.vnet.fib.addRoute(0, ip('48.0.0.0'), 8, [{ nextHop: ip('10.10.2.2'), swIfIndex: pg1 }]);
  return { vm, pg1 };
}

function header(vm: Engine, adj: number): number[] {
  const adjs = vm.vnet.adjacencies;
  return Array.from(adjs.rewrite.subarray(adj * REWRITE_BYTES, adj * REWRITE_BYTES + adjs.rewriteLength[adj]));
}

function hasAdjFib(vm: Engine, address: number): boolean {
  return vm.vnet.fib.exactEntry(0, address, 32)?.sources.some((s) => s.source === 'adjacency') ?? false;
}

test('add: the adjacency becomes a rewrite with the 14 header bytes, routes through it forward, the /32 goes in', () => {
  const { vm, pg1 } = setup();
  const adjs = vm.vnet.adjacencies;
  const adj = adjs.findNeighbor(pg1, ip('10.10.2.2'));
  assert.equal(adjs.kind[adj], AdjacencyKind.INCOMPLETE);
  vm.vnet.neighbors.add(pg1, ip('10.10.2.2'), mac('02:00:00:00:00:02'), true);
  assert.equal(adjs.kind[adj], AdjacencyKind.REWRITE);
  assert.deepEqual(header(vm, adj), [0x02, 0, 0, 0, 0, 0x02, 0x02, 0xfe, 0, 0, 0, 0x01, 0x08, 0x00]);
  assert.equal(adjs.rewriteNext[adj], vm.addNext('ip4-rewrite', 'pg1-output'));
  assert.equal(vm.node('ip4-rewrite')?.nextNames[adjs.rewriteNext[adj]], 'pg1-output');
  const lb = vm.vnet.fib.lookup(0, ip('48.1.2.3'));
  assert.deepEqual(vm.vnet.loadBalances.bucketsOf(lb), [adj]);
  assert.ok(hasAdjFib(vm, ip('10.10.2.2')));
  assert.deepEqual(vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, ip('10.10.2.2'))), [adj]);
  const found = vm.vnet.neighbors.find(pg1, ip('10.10.2.2'));
  assert.equal(found?.isStatic, true);
  assert.deepEqual(Array.from(found?.mac ?? []), [2, 0, 0, 0, 0, 2]);
  assert.equal(vm.vnet.neighbors.all().length, 1);
});

test('static beats learned; learned entries follow new MACs; add over learned makes it static', () => {
  const { vm, pg1 } = setup();
  const neighbors = vm.vnet.neighbors;
  const adj = vm.vnet.adjacencies.findNeighbor(pg1, ip('10.10.2.2'));
  neighbors.add(pg1, ip('10.10.2.2'), mac('02:00:00:00:00:aa'), true);
  neighbors.learn(pg1, ip('10.10.2.2'), mac('02:00:00:00:00:bb'));
  neighbors.add(pg1, ip('10.10.2.2'), mac('02:00:00:00:00:cc'), false);
  assert.equal(header(vm, adj)[5], 0xaa);
  assert.equal(neighbors.find(pg1, ip('10.10.2.2'))?.isStatic, true);
  neighbors.learn(pg1, ip('10.10.2.3'), mac('02:00:00:00:00:01'));
  const adj3 = vm.vnet.adjacencies.findNeighbor(pg1, ip('10.10.2.3'));
  assert.equal(neighbors.find(pg1, ip('10.10.2.3'))?.isStatic, false);
  neighbors.learn(pg1, ip('10.10.2.3'), mac('02:00:00:00:00:02'));
  assert.equal(header(vm, adj3)[5], 0x02, 'a learned entry takes the newer MAC');
  neighbors.add(pg1, ip('10.10.2.3'), mac('02:00:00:00:00:03'), true);
  neighbors.learn(pg1, ip('10.10.2.3'), mac('02:00:00:00:00:04'));
  assert.equal(header(vm, adj3)[5], 0x03);
  assert.equal(neighbors.find(pg1, ip('10.10.2.3'))?.isStatic, true);
});

test('delete: the adjacency goes back to incomplete and the /32 goes', () => {
  const { vm, pg1 } = setup();
  const adjs = vm.vnet.adjacencies;
  vm.vnet.neighbors.add(pg1, ip('10.10.2.2'), mac('02:00:00:00:00:02'), false);
  const adj = adjs.findNeighbor(pg1, ip('10.10.2.2'));
  assert.equal(vm.vnet.neighbors.delete(pg1, ip('10.10.2.2')), true);
  assert.equal(adjs.kind[adj], AdjacencyKind.INCOMPLETE);
  assert.equal(vm.vnet.fib.exactEntry(0, ip('10.10.2.2'), 32), undefined);
  assert.equal(vm.vnet.neighbors.find(pg1, ip('10.10.2.2')), undefined);
  assert.equal(vm.vnet.neighbors.delete(pg1, ip('10.10.2.2')), false);
  // The route through it still points at the same adjacency: ip4-arp will ask again.
  assert.deepEqual(vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, ip('48.0.0.1'))), [adj]);
});

test('learn ignores (and counts) addresses off the interface\'s connected subnets', () => {
  const { vm, pg1 } = setup();
  const neighbors = vm.vnet.neighbors;
  neighbors.learn(pg1, ip('10.10.3.9'), mac('02:00:00:00:00:09'));
  neighbors.learn(pg1, ip('192.168.1.1'), mac('02:00:00:00:00:09'));
  assert.equal(neighbors.learnIgnored, 2);
  assert.equal(neighbors.all().length, 0);
  assert.equal(vm.vnet.adjacencies.findNeighbor(pg1, ip('10.10.3.9')), -1);
  neighbors.learn(pg1, ip('10.10.2.9'), mac('02:00:00:00:00:09'));
  assert.equal(neighbors.all().length, 1);
  assert.ok(hasAdjFib(vm, ip('10.10.2.9')));
  // A static entry off-subnet is allowed (as VPP), without a /32.
  neighbors.add(pg1, ip('10.10.3.9'), mac('02:00:00:00:00:09'), true);
  assert.equal(vm.vnet.fib.exactEntry(0, ip('10.10.3.9'), 32), undefined);
});

test('a MAC change rebuilds the rewrites and the glean header', () => {
  const { vm, pg1 } = setup();
  vm.vnet.neighbors.add(pg1, ip('10.10.2.2'), mac('02:00:00:00:00:02'), true);
  const adj = vm.vnet.adjacencies.findNeighbor(pg1, ip('10.10.2.2'));
  vm.vnet.setMac(pg1, mac('02:fe:aa:bb:cc:dd'));
  assert.deepEqual(header(vm, adj), [0x02, 0, 0, 0, 0, 0x02, 0x02, 0xfe, 0xaa, 0xbb, 0xcc, 0xdd, 0x08, 0x00]);
  const glean = vm.vnet.fib.gleanAdjacencyOf(pg1);
  assert.deepEqual(header(vm, glean), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0xfe, 0xaa, 0xbb, 0xcc, 0xdd, 0x08, 0x06]);
  assert.equal(vm.vnet.adjacencies.kind[glean], AdjacencyKind.GLEAN);
});

test('an address leaving the interface takes its neighbors; one coming back brings /32s of static ones', () => {
  const { vm, pg1 } = setup();
  const neighbors = vm.vnet.neighbors;
  neighbors.learn(pg1, ip('10.10.2.5'), mac('02:00:00:00:00:05'));
  vm.vnet.deleteIp4Address(pg1, ip('10.10.2.1'), 24);
  assert.equal(neighbors.all().length, 0);
  assert.equal(vm.vnet.fib.exactEntry(0, ip('10.10.2.5'), 32), undefined);
  neighbors.add(pg1, ip('10.10.2.6'), mac('02:00:00:00:00:06'), true);
  assert.equal(hasAdjFib(vm, ip('10.10.2.6')), false);
  vm.vnet.addIp4Address(pg1, ip('10.10.2.1'), 24);
  assert.equal(hasAdjFib(vm, ip('10.10.2.6')), true);
});

test('ages: updatedNs is set on add and moves on a learn refresh', async () => {
  const { vm, pg1 } = setup();
  vm.vnet.neighbors.learn(pg1, ip('10.10.2.7'), mac('02:00:00:00:00:07'));
  const first = vm.vnet.neighbors.find(pg1, ip('10.10.2.7'))?.updatedNs ?? -1;
  assert.ok(first >= 0 && first <= vm.nowNs());
  await new Promise((resolve) => setTimeout(resolve, 5));
  vm.runOnce(); // ages use the engine's per-turn clock: a later turn sees a later time
  vm.vnet.neighbors.learn(pg1, ip('10.10.2.7'), mac('02:00:00:00:00:07'));
  assert.ok((vm.vnet.neighbors.find(pg1, ip('10.10.2.7'))?.updatedNs ?? 0) > first);
});

test('bad input throws NeighborError with a code', () => {
  const { vm, pg1 } = setup();
  assert.throws(() => vm.vnet.neighbors.add(99, ip('10.10.2.2'), mac('02:00:00:00:00:02'), true), (e: unknown) => e instanceof NeighborError && e.code === 'ENODEV');
  assert.throws(() => vm.vnet.neighbors.add(pg1, -5, mac('02:00:00:00:00:02'), true), (e: unknown) => e instanceof NeighborError && e.code === 'EINVAL');
  assert.throws(() => vm.vnet.neighbors.add(pg1, ip('10.10.2.2'), new Uint8Array(3), true), (e: unknown) => e instanceof NeighborError && e.code === 'EINVAL');
  assert.equal(vm.vnet.neighbors.all().length, 0);
});
