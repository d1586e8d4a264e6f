import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { arpThrottleOf } from '../../src/vnet/arp-request.ts';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import { bytesOf, errorsOf, hex, ip, ip4, ip4Engine, load, looked, malformedDatagrams, outcomeBeyondEnd, PG1_MAC, release, runNode, udp } from './ip4-helpers.ts';

const macHex = (text: string): string => text.replaceAll(':', '');

test('an incomplete next hop: the packet is dropped, an ARP request for the next hop leaves the egress interface', () => {
  const { vm, pg1 } = ip4Engine(['ip route add 50.0.0.0/8 via 10.10.2.9']);
  const bi = looked(vm, ip4({ dst: '50.1.2.3' }));
  const run = runNode(vm, 'ip4-arp', [bi]);
  assert.deepEqual(run.next, ['error-drop', 'interface-output']);
  assert.equal(vm.formatDropReason(vm.pool.error[bi]), 'ip4-arp: ARP requests sent');
  const request = run.buffers[1];
  assert.equal(vm.pool.txInterface[request], pg1);
  assert.equal(hex(bytesOf(vm, request)), [
    'ffffffffffff', macHex(PG1_MAC), '0806',
    '0001', '0800', '06', '04', '0001',
    macHex(PG1_MAC), '0a0a0201', '000000000000', '0a0a0209',
  ].join(''));
  assert.deepEqual(errorsOf(vm, 'ip4-arp'), { 'ARP requests sent': 1 });
  release(vm, run.buffers);
});

test('throttled: one request per (interface, target) per window; a new window asks again', () => {
  const { vm } = ip4Engine(['ip route add 50.0.0.0/8 via 10.10.2.9', 'ip route add 51.0.0.0/8 via 10.10.2.8']);
  const bis = [looked(vm, ip4({ dst: '50.0.0.1' })), looked(vm, ip4({ dst: '50.0.0.2' })), looked(vm, ip4({ dst: '51.0.0.1' }))];
  const run = runNode(vm, 'ip4-arp', bis);
  assert.deepEqual(run.next, ['error-drop', 'error-drop', 'error-drop', 'interface-output', 'interface-output']);
  assert.deepEqual(errorsOf(vm, 'ip4-arp'), { 'ARP requests sent': 2, 'ARP requests throttled': 1 });
  release(vm, run.buffers);
  arpThrottleOf(vm).reset();
  const again = runNode(vm, 'ip4-arp', [looked(vm, ip4({ dst: '50.0.0.1' }))]);
  assert.deepEqual(again.next, ['error-drop', 'interface-output']);
  release(vm, again.buffers);
});

test('resolved since the lookup, a glean adjacency, no source address, no buffers: each counted', () => {
  const { vm } = ip4Engine([
    'ip route add 50.0.0.0/8 via 10.10.2.9',
    'create packet-generator interface pg2',
    'set interface state pg2 up',
    'ip route add 52.0.0.0/8 via 10.20.0.1 pg2',
  ]);
  const resolved = looked(vm, ip4({ dst: '50.0.0.1' }));
  vm.cli('set ip neighbor pg1 10.10.2.9 02:00:00:00:00:09');
  const glean = looked(vm, ip4({ dst: '10.10.1.9' }));
  const noSource = looked(vm, ip4({ dst: '52.0.0.1' }));
  assert.equal(vm.vnet.adjacencies.kind[vm.pool.opaque[noSource * OPAQUE_WORDS + OPAQUE_ADJACENCY]], 3, 'incomplete on pg2');
  const run = runNode(vm, 'ip4-arp', [resolved, glean, noSource]);
  assert.deepEqual(run.next, ['error-drop', 'error-drop', 'error-drop']);
  assert.deepEqual(errorsOf(vm, 'ip4-arp'), {
    'ARP requests resolved': 1, 'ARPs to non-ARP adjacencies': 1, 'no source address for ARP request': 1,
  });
  release(vm, run.buffers);

  vm.cli('ip route add 53.0.0.0/8 via 10.10.2.7');
  const bi = looked(vm, ip4({ dst: '53.0.0.1' }));
  const hog = new Uint32Array(vm.pool.available);
  vm.pool.alloc(hog, 0, hog.length);
  const starved = runNode(vm, 'ip4-arp', [bi]);
  assert.deepEqual(starved.next, ['error-drop']);
  assert.equal(errorsOf(vm, 'ip4-arp')['ARP requests out of buffer'], 1);
  vm.pool.free(hog, 0, hog.length);
  release(vm, starved.buffers);
});

test('random datagrams on an incomplete adjacency: no throw, counted, nothing read past the buffer, every buffer back', () => {
  const { vm } = ip4Engine(['ip route add 50.0.0.0/8 via 10.10.2.9']);
  const adj = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, ip('50.0.0.1')))[0];
  const free0 = vm.pool.available;
  fc.assert(
    fc.property(malformedDatagrams((data) => ip4({ dst: '50.0.0.1', payload: udp({ data }) })), fc.integer({ min: 0, max: 40 }), (datagram, garbageAdj) => {
      const o = { opaque: { [OPAQUE_ADJACENCY]: garbageAdj === 0 ? 1e6 : garbageAdj === 1 ? adj : garbageAdj % 12 } };
      const { a, b } = outcomeBeyondEnd(vm, 'ip4-arp', datagram, o, () => arpThrottleOf(vm).reset());
      assert.equal(a, b);
      vm.enqueue('ip4-arp', [load(vm, datagram, o)]);
      vm.runUntilIdle();
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 300 },
  );
});
