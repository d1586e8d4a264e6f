// loopback-input: what a loopback sends comes back in on it, through ethernet-input, with
// rx counters; ARP over a loopback answers its own address; delete and re-create.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { arpFrame, inject, udpFrame } from './l2-helpers.ts';

test('loopback-input: a frame sent on loop0 is received on loop0 and goes on to ethernet-input', () => {
  const vm = createEngine();
  assert.equal(vm.cli('create loopback interface'), 'loop0');
  vm.cli('set interface state loop0 up');
  const ifs = vm.vnet.interfaces;
  const loop0 = ifs.find('loop0');
  assert.equal(ifs.macText(loop0), 'de:ad:00:00:00:00');
  const f = udpFrame('de:ad:00:00:00:00', '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1');
  const free0 = vm.pool.available;
  const [bi] = inject(vm, 'interface-output', 0, [f]);
  vm.pool.txInterface[bi] = loop0;
  vm.runUntilIdle();
  assert.equal(ifs.counter(loop0, InterfaceCounter.TX_PACKETS), 1);
  assert.equal(ifs.counter(loop0, InterfaceCounter.RX_PACKETS), 1);
  assert.equal(ifs.counter(loop0, InterfaceCounter.RX_BYTES), f.length);
  assert.equal(vm.node('loopback-input')!.vectors, 1);
  assert.equal(vm.node('ethernet-input')!.vectors, 1);
  assert.equal(vm.pool.available, free0);
});

test('loopback-input: an ARP request on a loopback for its own address is answered onto the loopback', () => {
  const vm = createEngine();
  vm.cli('create loopback interface mac 02:00:00:00:aa:01');
  vm.cli('set interface state loop0 up');
  vm.cli('set interface ip address loop0 10.0.0.1/24');
  const loop0 = vm.vnet.interfaces.find('loop0');
  inject(vm, 'ethernet-input', loop0, [arpFrame({ op: 'request', sha: '02:00:00:00:00:10', spa: '10.0.0.2', tpa: '10.0.0.1' })]);
  vm.runUntilIdle();
  // The reply leaves on loop0 and comes back in, addressed to the requester's MAC: not ours.
  assert.equal(vm.errorCounter('arp-input', 'ARP replies sent'), 1);
  assert.equal(vm.errorCounter('ethernet-input', 'l3 mac mismatch'), 1);
  assert.equal(vm.vnet.interfaces.counter(loop0, InterfaceCounter.RX_PACKETS), 1);
});

test('loopback: instances, delete, and a name taken again', () => {
  const vm = createEngine();
  assert.equal(vm.cli('create loopback interface instance 5'), 'loop5');
  assert.equal(vm.cli('create loopback interface'), 'loop0');
  assert.equal(vm.cli('create loopback interface'), 'loop1');
  assert.throws(() => vm.cli('create loopback interface instance 5'), /loopback instance 5 is in use/);
  vm.cli('set interface ip address loop1 10.1.0.1/24');
  vm.cli('delete loopback interface intfc loop1');
  assert.equal(vm.vnet.interfaces.find('loop1'), -1);
  assert.doesNotMatch(vm.cli('show interface'), /loop1/);
  // The instance and its name are free again; the old graph nodes serve the new interface.
  assert.equal(vm.cli('create loopback interface'), 'loop1');
  const loop1 = vm.vnet.interfaces.find('loop1');
  assert.equal(vm.node('loop1-output')!.interfaceIndex, loop1);
  assert.equal(vm.node('loop1-tx')!.interfaceIndex, loop1);
  vm.cli('set interface state loop1 up');
  const [bi] = inject(vm, 'interface-output', 0, [udpFrame('de:ad:00:00:00:01', '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1')]);
  vm.pool.txInterface[bi] = loop1;
  vm.runUntilIdle();
  assert.equal(vm.vnet.interfaces.counter(loop1, InterfaceCounter.RX_PACKETS), 1);
});
