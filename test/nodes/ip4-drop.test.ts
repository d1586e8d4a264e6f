import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import { errorsOf, ip4, ip4Engine, load, looked, malformedDatagrams, release, runNode, udp } from './ip4-helpers.ts';

test('no route: counted as a destination lookup miss, handed to error-drop whole', () => {
  const { vm } = ip4Engine();
  const bis = [looked(vm, ip4({ dst: '99.0.0.1' })), looked(vm, ip4({ dst: '10.10.1.255' }))];
  const run = runNode(vm, 'ip4-drop', bis);
  assert.deepEqual(run.next, ['error-drop', 'error-drop']);
  assert.deepEqual(errorsOf(vm, 'ip4-drop'), { 'ip4 destination lookup miss': 2 });
  assert.equal(vm.formatDropReason(vm.pool.error[bis[0]]), 'ip4-drop: ip4 destination lookup miss');
  release(vm, bis);
});

test('through the graph: show errors names the reason', () => {
  const { vm } = ip4Engine();
  const free0 = vm.pool.available;
  vm.enqueue('ip4-input', [load(vm, ip4({ dst: '99.0.0.1' })), load(vm, ip4({ dst: '99.0.0.2' }))]);
  vm.runUntilIdle();
  assert.match(vm.cli('show errors'), /\s2\s+ip4-drop\s+ip4 destination lookup miss/);
  assert.equal(vm.pool.available, free0);
});

test('packets sent here by another node keep their reason and count as ip4 drop', () => {
  const { vm } = ip4Engine();
  const bi = looked(vm, ip4());
  vm.pool.error[bi] = vm.node('ip4-input')!.errorCode(2);
  runNode(vm, 'ip4-drop', [bi]);
  assert.equal(vm.formatDropReason(vm.pool.error[bi]), 'ip4-input: bad ip4 checksum');
  assert.deepEqual(errorsOf(vm, 'ip4-drop'), { 'ip4 drop': 1 });
  release(vm, [bi]);
});

test('any adjacency word: no throw, every buffer back', () => {
  const { vm } = ip4Engine();
  const free0 = vm.pool.available;
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), malformedDatagrams((data) => ip4({ payload: udp({ data }) })), (adj, datagram) => {
    vm.enqueue('ip4-drop', [load(vm, datagram, { opaque: { [OPAQUE_ADJACENCY]: adj } })]);
    vm.runUntilIdle();
    assert.equal(vm.pool.available, free0);
  }), { numRuns: 200 });
});
