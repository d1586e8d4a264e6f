import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { arpThrottleOf } from '../../src/vnet/arp-request.ts';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import { bytesOf, errorsOf, hex, ip, ip4, ip4Engine, load, looked, malformedDatagrams, outcomeBeyondEnd, PG0_MAC, release, runNode, udp } from './ip4-helpers.ts';

const macHex = (text: string): string => text.replaceAll(':', '');

test('a host on a connected subnet with no neighbor: the packet is dropped, an ARP request for its destination leaves', () => {
  const { vm, pg0 } = ip4Engine();
  const bi = looked(vm, ip4({ dst: '10.10.1.77' }));
  const run = runNode(vm, 'ip4-glean', [bi]);
  assert.deepEqual(run.next, ['error-drop', 'interface-output']);
  const request = run.buffers[1];
  assert.equal(vm.pool.txInterface[request], pg0);
  assert.equal(hex(bytesOf(vm, request)), [
    'ffffffffffff', macHex(PG0_MAC), '0806', '0001', '0800', '06', '04', '0001',
    macHex(PG0_MAC), '0a0a0101', '000000000000', '0a0a014d',
  ].join(''));
  assert.deepEqual(errorsOf(vm, 'ip4-glean'), { 'ARP requests sent': 1 });
  release(vm, run.buffers);
});

test('ip4-arp and ip4-glean share the throttle, as in VPP; an incomplete adjacency is not a glean one', () => {
  const { vm } = ip4Engine(['ip route add 50.0.0.0/8 via 10.10.1.77']);
  const a = runNode(vm, 'ip4-arp', [looked(vm, ip4({ dst: '50.0.0.1' }))]);
  const b = runNode(vm, 'ip4-glean', [looked(vm, ip4({ dst: '10.10.1.77' }))]);
  assert.deepEqual(b.next, ['error-drop']);
  assert.deepEqual(errorsOf(vm, 'ip4-glean'), { 'ARP requests throttled': 1 });
  const c = runNode(vm, 'ip4-glean', [looked(vm, ip4({ dst: '50.0.0.1' }))]);
  assert.deepEqual(errorsOf(vm, 'ip4-glean')['ARPs to non-ARP adjacencies'], 1);
  release(vm, [...a.buffers, ...b.buffers, ...c.buffers]);
});

test('a full frame of distinct hosts: requests that do not fit behind the frame go out as their own frame', () => {
  const { vm } = ip4Engine([], 4096);
  const free0 = vm.pool.available;
  const bis = Array.from({ length: 256 }, (_, i) => looked(vm, ip4({ dst: `10.10.${1 + (i >> 8)}.${(i % 250) + 3}` })));
  vm.enqueue('ip4-glean', bis);
  vm.runUntilIdle();
  assert.equal(errorsOf(vm, 'ip4-glean')['ARP requests sent'] + (errorsOf(vm, 'ip4-glean')['ARP requests throttled'] ?? 0), 256);
  assert.equal(vm.vnet.interfaces.counter(1, InterfaceCounter.TX_PACKETS), errorsOf(vm, 'ip4-glean')['ARP requests sent'], 'every request left pg0');
  assert.equal(vm.pool.available, free0);
});

test('random datagrams on a glean adjacency: no throw, counted, nothing read past the buffer, every buffer back', () => {
  const { vm } = ip4Engine();
  const adj = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, ip('10.10.1.9')))[0];
  const free0 = vm.pool.available;
  fc.assert(
    fc.property(malformedDatagrams((data) => ip4({ dst: '10.10.1.9', payload: udp({ data }) })), (datagram) => {
      const o = { opaque: { [OPAQUE_ADJACENCY]: adj } };
      const { a, b } = outcomeBeyondEnd(vm, 'ip4-glean', datagram, o, () => arpThrottleOf(vm).reset());
      assert.equal(a, b);
      vm.enqueue('ip4-glean', [load(vm, datagram, o)]);
      vm.runUntilIdle();
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 300 },
  );
});
