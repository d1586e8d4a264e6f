// vxlan4-encap: packets routed to a tunnel interface leave with the outer IPv4/UDP/VXLAN
// headers VPP writes (TTL 254, UDP 4789, checksum 0, VNI), a valid IPv4 checksum, lengths
// that add up, a UDP source port drawn from the inner flow (same flow, same port), and the
// outer route looked up in the encap VRF. A packet sent to the node for an interface that
// is not a tunnel is dropped and counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ip4HeaderChecksumIsValid } from '../../src/wire/ip4.ts';
import { ethernet, ipv4, udp } from '../interop/frames.ts';
import { INNER_HOST_MAC, vxlanBed } from './vxlan-setup.ts';

/** A frame from a tenant host behind pg2 (table 100) to the inner host across the tunnel. */
function tenantFrames(bed: ReturnType<typeof vxlanBed>, flows: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < flows; i++) {
    frames.push(ethernet(bed.mac('pg2'), '02:00:00:00:c8:02', 0x0800,
      ipv4('10.200.200.2', '10.200.100.2', 17, udp(1000 + i, 2000, new Uint8Array(20)))));
  }
  return frames;
}

function withTenantPort(bed: ReturnType<typeof vxlanBed>): void {
  for (const line of [
    'create packet-generator interface pg2',
    'set interface ip table pg2 100',
    'set interface state pg2 up',
    'set interface ip address pg2 10.200.200.1/24',
  ]) bed.vm.cli(line);
}

test('vxlan4-encap: outer headers as VPP writes them; lengths and checksum add up', () => {
  const bed = vxlanBed();
  try {
    withTenantPort(bed);
    const out = bed.capture('pg0');
    bed.inject('pg2', tenantFrames(bed, 1));
    const [frame] = out();
    assert.ok(frame, bed.vm.cli('show errors'));
    const ip = 14;
    assert.equal(frame[ip], 0x45);
    assert.ok(frame[ip + 8] === 254, `outer TTL ${frame[ip + 8]}`);
    assert.equal(frame[ip + 9], 17);
    assert.ok(ip4HeaderChecksumIsValid(frame, ip));
    assert.equal((frame[ip + 2] << 8) | frame[ip + 3], frame.length - 14);
    assert.deepEqual([...frame.subarray(ip + 12, ip + 20)], [10, 200, 10, 1, 10, 200, 10, 2]);
    const u = ip + 20;
    const sport = (frame[u] << 8) | frame[u + 1];
    assert.ok(sport >= 49152, `source port ${sport} in the dynamic range`);
    assert.equal((frame[u + 2] << 8) | frame[u + 3], 4789);
    assert.equal((frame[u + 4] << 8) | frame[u + 5], frame.length - 14 - 20);
    assert.equal((frame[u + 6] << 8) | frame[u + 7], 0, 'UDP checksum 0');
    assert.deepEqual([...frame.subarray(u + 8, u + 16)], [8, 0, 0, 0, 0, 0, 100, 0]);
    const inner = u + 16;
    assert.equal(Buffer.from(frame.subarray(inner, inner + 6)).toString('hex'), INNER_HOST_MAC.replaceAll(':', ''));
    assert.equal(frame[inner + 14 + 8], 63, 'the inner packet was forwarded once');
    assert.equal(bed.vm.errorCounter('vxlan4-encap', 'good packets encapsulated'), 1);
  } finally {
    bed.close();
  }
});

test('vxlan4-encap: the UDP source port follows the inner flow', () => {
  const bed = vxlanBed();
  try {
    withTenantPort(bed);
    const out = bed.capture('pg0');
    const frames = tenantFrames(bed, 64);
    bed.inject('pg2', [...frames, ...frames]);
    const sent = out();
    assert.equal(sent.length, 128);
    const port = (f: Uint8Array): number => (f[34] << 8) | f[35];
    for (let i = 0; i < 64; i++) assert.equal(port(sent[i]), port(sent[i + 64]), 'one flow, one port');
    assert.ok(new Set(sent.map(port)).size > 40, 'flows spread over source ports');
  } finally {
    bed.close();
  }
});

test('vxlan4-encap: the outer route is looked up in the encap VRF', () => {
  const bed = vxlanBed(true);
  try {
    withTenantPort(bed);
    const { vm } = bed;
    vm.cli('ip table add 101');
    vm.cli('create vxlan tunnel src 10.200.50.1 dst 10.200.50.2 vni 55 encap-vrf-id 5');
    vm.cli('set interface ip table vxlan_tunnel1 101');
    vm.cli('set interface ip address vxlan_tunnel1 10.200.100.1/24');
    vm.cli(`set ip neighbor vxlan_tunnel1 10.200.100.2 ${INNER_HOST_MAC} static`);
    vm.cli('create packet-generator interface pg3');
    vm.cli('set interface ip table pg3 101');
    vm.cli('set interface state pg3 up');
    vm.cli('set interface ip address pg3 10.200.200.1/24');
    const out0 = bed.capture('pg0');
    const out1 = bed.capture('pg1');
    const frame = ethernet(bed.mac('pg3'), '02:00:00:00:c8:02', 0x0800, ipv4('10.200.200.2', '10.200.100.2', 17, udp(1, 2, new Uint8Array(20))));
    bed.inject('pg3', [frame]);
    assert.equal(out0().length, 0);
    const sent = out1();
    assert.equal(sent.length, 1, vm.cli('show errors'));
    assert.deepEqual([...sent[0].subarray(26, 34)], [10, 200, 50, 1, 10, 200, 50, 2]);
    assert.deepEqual([...sent[0].subarray(46, 50)], [0, 0, 55, 0]);
  } finally {
    bed.close();
  }
});

test('vxlan4-encap: a packet for an interface that is not a tunnel is dropped and counted', () => {
  const bed = vxlanBed();
  try {
    const { vm } = bed;
    const bi = vm.pool.fromBytes(ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x0800, ipv4('1.1.1.1', '2.2.2.2', 17, udp(1, 2, new Uint8Array(8)))));
    vm.pool.current[bi] += 0; // data at the start of the buffer: there is headroom before it
    vm.pool.txInterface[bi] = vm.vnet.interfaces.find('pg0');
    const available = vm.pool.available;
    vm.enqueue('vxlan4-encap', [bi]);
    vm.runUntilIdle();
    assert.equal(vm.errorCounter('vxlan4-encap', 'no such tunnel packets'), 1);
    assert.equal(vm.pool.available, available + 1);
  } finally {
    bed.close();
  }
});
