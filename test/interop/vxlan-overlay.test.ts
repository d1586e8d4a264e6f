// VXLAN against the Linux kernel (root only): a Linux `vxlan` device in a namespace, whose
// underlay reaches the engine over a tap, pings an address that sits behind the engine's
// VXLAN tunnel in a tenant VRF; and two tenants on two VNIs with the same inner subnet in
// two VRFs each reach only their own side — traffic aimed across tenants never arrives
// (checked by capture on the other tenant's side).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../src/index.ts';
import { Cleanup, TAG, capture, inNs, kernelSkipReason, pingFrom, readCapture, sleep } from './kernel.ts';

const skip = kernelSkipReason(['ip', 'ping', 'tcpdump']);

interface Tenant {
  readonly ns: string;
  readonly underlayHost: string;
  readonly vxlanHost: string;
}

/**
 * One tenant: a namespace whose tap reaches the engine at 10.200.<u>.1 (its side .2), and a
 * Linux vxlan device (VNI `vni`, 10.200.100.2/24) tunnelled to the engine; the engine's
 * tunnel interface gets 10.200.100.1/24 in table `table`, and a loopback in that table
 * holds `behind`/32.
 */
function tenant(vm: Engine, cleanup: Cleanup, u: number, vni: number, table: number, behind: string): Tenant {
  const ns = cleanup.netns(`vn-vx${u}-${TAG}`);
  const underlayHost = `vu${u}${TAG}`;
  const vxlanHost = `vx${vni}`;
  const tap = vm.cli(`create tap host-if-name ${underlayHost} host-ns ${ns} host-ip4-addr 10.200.${u}.2/24`).trim();
  vm.cli(`set interface state ${tap} up`);
  vm.cli(`set interface ip address ${tap} 10.200.${u}.1/24`);
  vm.cli(`ip table add ${table}`);
  const tunnel = vm.cli(`create vxlan tunnel src 10.200.${u}.1 dst 10.200.${u}.2 vni ${vni}`).trim();
  assert.match(tunnel, /^vxlan_tunnel\d+$/);
  vm.cli(`set interface ip table ${tunnel} ${table}`);
  vm.cli(`set interface ip address ${tunnel} 10.200.100.1/24`);
  const loop = vm.cli('create loopback interface').trim();
  vm.cli(`set interface ip table ${loop} ${table}`);
  vm.cli(`set interface state ${loop} up`);
  vm.cli(`set interface ip address ${loop} ${behind}/32`);
  inNs(ns, 'ip', 'link', 'add', vxlanHost, 'type', 'vxlan', 'id', String(vni), 'local', `10.200.${u}.2`, 'remote', `10.200.${u}.1`,
    'dstport', '4789', 'dev', underlayHost);
  inNs(ns, 'ip', 'link', 'set', vxlanHost, 'up');
  inNs(ns, 'ip', 'addr', 'add', '10.200.100.2/24', 'dev', vxlanHost);
  inNs(ns, 'ip', 'route', 'add', '10.200.101.0/24', 'via', '10.200.100.1');
  inNs(ns, 'ip', 'route', 'add', '10.200.102.0/24', 'via', '10.200.100.1');
  return { ns, underlayHost, vxlanHost };
}

test('vxlan overlay: a Linux vxlan device reaches an address behind the engine\'s tunnel', { skip: skip ?? false }, async () => {
  const cleanup = new Cleanup();
  const vm = createEngine();
  cleanup.add(() => vm.vnet.devices.closeAll());
  try {
    const a = tenant(vm, cleanup, 10, 100, 100, '10.200.101.1');
    vm.start();
    cleanup.add(() => vm.stop());
    const result = await pingFrom(a.ns, '10.200.101.1', 3);
    assert.equal(result.status, 0, `${result.output}\n${vm.cli('show errors')}`);
    assert.match(result.output, /3 received/);
    assert.ok(vm.errorCounter('vxlan4-input', 'good packets decapsulated') >= 3);
    assert.ok(vm.errorCounter('vxlan4-encap', 'good packets encapsulated') >= 3);
    assert.match(vm.cli('show vxlan tunnel'), /src 10\.200\.10\.1 dst 10\.200\.10\.2 src_port 4789 dst_port 4789 vni 100 fib-idx 0/);
  } finally {
    await cleanup.run();
  }
});

test('vxlan overlay: two tenants, same inner subnet, two VNIs, two VRFs: each reaches only its own side', { skip: skip ?? false }, async () => {
  const cleanup = new Cleanup();
  const vm = createEngine();
  cleanup.add(() => vm.vnet.devices.closeAll());
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-vxlan-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const a = tenant(vm, cleanup, 10, 100, 100, '10.200.101.1');
    const b = tenant(vm, cleanup, 20, 200, 200, '10.200.102.1');
    // An address only tenant B holds, inside the subnet both tenants use.
    inNs(b.ns, 'ip', 'addr', 'add', '10.200.100.22/24', 'dev', b.vxlanHost);
    vm.start();
    cleanup.add(() => vm.stop());

    assert.equal((await pingFrom(a.ns, '10.200.101.1', 2)).status, 0, 'tenant A reaches its own side');
    assert.equal((await pingFrom(b.ns, '10.200.102.1', 2)).status, 0, 'tenant B reaches its own side');

    const inner = await capture(b.ns, b.vxlanHost, join(dir, 'b-inner.pcap'));
    const outer = await capture(b.ns, b.underlayHost, join(dir, 'b-outer.pcap'));
    cleanup.add(() => inner.stop());
    cleanup.add(() => outer.stop());
    assert.notEqual((await pingFrom(a.ns, '10.200.102.1', 2, 1)).status, 0, "tenant A must not reach tenant B's side");
    assert.notEqual((await pingFrom(a.ns, '10.200.100.22', 2, 1)).status, 0, "tenant A must not reach tenant B's host");
    assert.notEqual((await pingFrom(b.ns, '10.200.101.1', 2, 1)).status, 0, "tenant B must not reach tenant A's side");
    await sleep(200);
    await inner.stop();
    await outer.stop();
    const innerLines = readCapture(join(dir, 'b-inner.pcap'));
    const outerLines = readCapture(join(dir, 'b-outer.pcap'));
    assert.deepEqual(innerLines.filter((l) => l.includes('10.200.100.22') && !l.includes('10.200.100.22 >')), [],
      "nothing of tenant A's arrives at tenant B");
    assert.deepEqual(innerLines.filter((l) => /ICMP echo request/.test(l) && l.includes('> 10.200.100.2')), []);
    assert.deepEqual(outerLines.filter((l) => l.includes('vni 100')), [], 'no VNI 100 traffic on tenant B\'s underlay');
    // Each VRF holds only its own loopback.
    assert.doesNotMatch(vm.cli('show ip fib table 100'), /10\.200\.102\.1/);
    assert.doesNotMatch(vm.cli('show ip fib table 200'), /10\.200\.101\.1/);
  } finally {
    await cleanup.run();
  }
});
