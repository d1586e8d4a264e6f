// vxlan4-input: VXLAN packets for our address are decapsulated onto their tunnel's
// interface (found by src, dst, VNI and encap VRF) and routed in the tunnel's table;
// unknown tunnels, bad flags and short packets are dropped and counted; random payloads
// never throw and every buffer is accounted for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { ethernet, ipv4, udp } from '../interop/frames.ts';
import { vxlanBed } from './vxlan-setup.ts';
import { BUFFER_DATA_SIZE, bytesOfLength } from '../arbitraries.ts';

test('vxlan4-input: an echo request over the tunnel is decapsulated, answered in the tenant VRF and sent back encapsulated', () => {
  const bed = vxlanBed();
  try {
    const { vm } = bed;
    const out = bed.capture('pg0');
    bed.inject('pg0', [bed.outer(bed.innerEcho('10.200.100.1'))]);
    const sent = out();
    assert.equal(vm.errorCounter('vxlan4-input', 'good packets decapsulated'), 1);
    const tunnel = vm.vnet.interfaces.find('vxlan_tunnel0');
    assert.equal(vm.vnet.interfaces.counter(tunnel, InterfaceCounter.RX_PACKETS), 1);
    assert.equal(sent.length, 1, vm.cli('show errors'));
    const reply = sent[0];
    // Outer: to the remote VTEP, UDP 4789, VNI 100; inner: the echo reply to the inner host.
    assert.equal(reply[14 + 9], 17);
    assert.deepEqual([...reply.subarray(14 + 16, 14 + 20)], [10, 200, 10, 2]);
    assert.equal((reply[36] << 8) | reply[37], 4789);
    assert.deepEqual([...reply.subarray(46, 50)], [0, 0, 100, 0]);
    const inner = 50;
    assert.deepEqual([...reply.subarray(inner + 14 + 16, inner + 14 + 20)], [10, 200, 100, 2]);
    assert.equal(reply[inner + 14 + 20], 0, 'ICMP echo reply');
  } finally {
    bed.close();
  }
});

test('vxlan4-input: unknown VNI, wrong source, bad flags and short packets are dropped and counted', () => {
  const bed = vxlanBed();
  try {
    const { vm } = bed;
    const inner = bed.innerEcho('10.200.100.1');
    bed.inject('pg0', [
      bed.outer(inner, { vni: 101 }),
      bed.outer(inner, { src: '10.200.10.3' }),
      bed.outer(inner, { flags: 0x0c }),
      bed.outer(inner, { flags: 0x00 }),
      ethernet(bed.mac('pg0'), '02:00:00:00:0a:02', 0x0800, ipv4('10.200.10.2', '10.200.10.1', 17, udp(1, 4789, new Uint8Array(12)))),
    ]);
    assert.equal(vm.errorCounter('vxlan4-input', 'no such tunnel packets'), 2);
    assert.equal(vm.errorCounter('vxlan4-input', 'packets with bad flags field in vxlan header'), 2);
    assert.equal(vm.errorCounter('vxlan4-input', 'packets too short for vxlan'), 1);
    assert.equal(vm.errorCounter('vxlan4-input', 'good packets decapsulated'), 0);
    assert.match(vm.cli('show errors'), /no such tunnel packets/);
  } finally {
    bed.close();
  }
});

test('vxlan4-input: the encap VRF is part of the key', () => {
  const bed = vxlanBed(true);
  try {
    const { vm } = bed;
    // Same src/dst/VNI as vxlan_tunnel0, but its underlay is table 5.
    vm.cli('create vxlan tunnel src 10.200.10.1 dst 10.200.10.2 vni 100 encap-vrf-id 5 instance 7');
    assert.throws(() => vm.cli('create vxlan tunnel src 10.200.10.1 dst 10.200.10.2 vni 100 encap-vrf-id 5'), /tunnel already exists/);
    assert.throws(() => vm.cli('create vxlan tunnel src 10.200.10.1 dst 10.200.10.2 vni 100 encap-vrf-id 9'), /nonexistent encap-vrf-id 9/);
    // Table 5 gets the same VTEP addresses as table 0: the local one on pg1, and a route to
    // the remote one (ip4-local checks the source is reachable, as VPP does).
    vm.cli('set interface ip address pg1 10.200.10.1/32');
    vm.cli('ip route add 10.200.10.2/32 table 5 via 10.200.50.2 pg1');
    const t0 = vm.vnet.interfaces.find('vxlan_tunnel0');
    const t7 = vm.vnet.interfaces.find('vxlan_tunnel7');
    const frame = ethernet(bed.mac('pg1'), '02:00:00:00:0a:02', 0x0800,
      ipv4('10.200.10.2', '10.200.10.1', 17, udp(50000, 4789, bed.outer(bed.innerEcho('10.200.100.1')).subarray(14 + 28))));
    bed.inject('pg1', [frame]);
    assert.equal(vm.vnet.interfaces.counter(t7, InterfaceCounter.RX_PACKETS), 1);
    assert.equal(vm.vnet.interfaces.counter(t0, InterfaceCounter.RX_PACKETS), 0);
    assert.match(vm.cli('show vxlan tunnel'), /instance 7 src 10\.200\.10\.1 dst 10\.200\.10\.2 .* vni 100 fib-idx 2 /);
    vm.cli('create vxlan tunnel src 10.200.10.1 dst 10.200.10.2 vni 100 encap-vrf-id 5 del');
    assert.doesNotMatch(vm.cli('show vxlan tunnel'), /instance 7/);
  } finally {
    bed.close();
  }
});

test('vxlan4-input: random VXLAN payloads never throw and every buffer is accounted for', () => {
  const bed = vxlanBed();
  try {
    const { vm } = bed;
    const available = vm.pool.available;
    fc.assert(
      // Inner frames of any length up to a jumbo frame's (the outer packet chained past one buffer),
      // drawn explicitly: fast-check's default size would keep them under 12 bytes.
      fc.property(bytesOfLength(0, 8950, [14, BUFFER_DATA_SIZE - 50]), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 99, max: 101 }), (payload, flags, vni) => {
        bed.inject('pg0', [bed.outer(payload, { flags, vni })]);
        return vm.pool.available === available;
      }),
      { numRuns: 300 },
    );
  } finally {
    bed.close();
  }
});
