// VXLAN tunnel configuration (VPP's `create vxlan tunnel` semantics): names by instance,
// VPP's error texts for missing or bad arguments, delete by key, `show vxlan tunnel`, the
// tunnel interface as an Ethernet interface (admin up, a MAC), and UDP 4789 registered to
// vxlan4-input with the first tunnel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';

test('create vxlan tunnel: names, errors, delete, show', () => {
  const vm = createEngine();
  assert.equal(vm.cli('show vxlan tunnel'), 'No vxlan tunnels configured...');
  assert.equal(vm.vnet.udpLocal.nodeOf(4789), undefined);
  assert.throws(() => vm.cli('create vxlan tunnel dst 10.200.0.2 vni 1'), /tunnel src address not specified/);
  assert.throws(() => vm.cli('create vxlan tunnel src 10.200.0.1 vni 1'), /tunnel dst address not specified/);
  assert.throws(() => vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.2'), /vni not specified/);
  assert.throws(() => vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.1 vni 1'), /src and dst addresses are identical/);
  assert.throws(() => vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.2 vni 16777216'), /vni/);
  assert.throws(() => vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.2 vni 1 encap-vrf-id 9'), /nonexistent encap-vrf-id 9/);
  assert.throws(() => vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.2 vni 1 bogus'), /bogus/);
  assert.equal(vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.2 vni 1'), 'vxlan_tunnel0');
  assert.equal(vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.3 vni 1 instance 42'), 'vxlan_tunnel42');
  assert.throws(() => vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.2 vni 1'), /tunnel already exists/);
  assert.throws(() => vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.4 vni 1 instance 42'), /instance 42 already in use/);
  assert.equal(vm.vnet.udpLocal.nodeOf(4789), 'vxlan4-input');
  const shown = vm.cli('show vxlan tunnel').split('\n');
  assert.equal(shown.length, 2);
  assert.match(shown[0], /^\[0\] instance 0 src 10\.200\.0\.1 dst 10\.200\.0\.2 src_port 4789 dst_port 4789 vni 1 fib-idx 0 sw-if-idx \d+ $/);
  assert.match(shown[1], /^\[1\] instance 42 src 10\.200\.0\.1 dst 10\.200\.0\.3 /);
  const sw = vm.vnet.interfaces.find('vxlan_tunnel0');
  assert.equal(vm.vnet.interfaces.adminUp[sw], 1, 'tunnels come up admin up, as in VPP');
  assert.match(vm.vnet.interfaces.macText(sw), /^02:fe:/);
  assert.match(vm.cli('show hardware-interfaces vxlan_tunnel0'), /VXLAN/);
  assert.throws(() => vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.9 vni 1 del'), /tunnel does not exist/);
  vm.cli('create vxlan tunnel src 10.200.0.1 dst 10.200.0.2 vni 1 del');
  assert.equal(vm.vnet.interfaces.find('vxlan_tunnel0'), -1);
  assert.doesNotMatch(vm.cli('show vxlan tunnel'), /instance 0 /);
  const json = JSON.parse(vm.cli('show vxlan tunnel --json')) as { instance: number; vni: number }[];
  assert.deepEqual(json.map((t) => [t.instance, t.vni]), [[42, 1]]);
});
