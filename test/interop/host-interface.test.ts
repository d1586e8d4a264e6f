// host-interface (AF_PACKET) against the Linux kernel (root only): a veth pair, one end in
// the root namespace taken by the engine as `host-<ifname>`, the other in the test's
// namespace; the kernel there pings the engine's address.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { Cleanup, TAG, inNs, ip, kernelSkipReason, pingFrom } from './kernel.ts';

const skip = kernelSkipReason(['ip', 'ping']);

test('host-interface: the kernel in a netns pings the engine over a veth', { skip: skip ?? false }, async () => {
  const cleanup = new Cleanup();
  const vm = createEngine();
  cleanup.add(() => vm.vnet.devices.closeAll());
  try {
    const ns = cleanup.netns(`vn-host-${TAG}`);
    const ours = `vh${TAG}a`;
    const theirs = `vh${TAG}b`;
    ip('link', 'add', ours, 'type', 'veth', 'peer', 'name', theirs);
    cleanup.link(ours);
    ip('link', 'set', theirs, 'netns', ns);
    inNs(ns, 'ip', 'addr', 'add', '10.200.40.2/24', 'dev', theirs);
    inNs(ns, 'ip', 'link', 'set', theirs, 'up');
    const name = vm.cli(`create host-interface name ${ours}`).trim();
    assert.equal(name, `host-${ours}`);
    const sw = vm.vnet.interfaces.find(name);
    // As VPP: the interface takes the Linux interface's MAC.
    assert.match(ip('link', 'show', ours), new RegExp(vm.vnet.interfaces.macText(sw)));
    vm.cli(`set interface state ${name} up`);
    vm.cli(`set interface ip address ${name} 10.200.40.1/24`);
    vm.start();
    cleanup.add(() => vm.stop());
    const result = await pingFrom(ns, '10.200.40.1', 3);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /3 received/);
    assert.ok(vm.vnet.interfaces.counter(sw, InterfaceCounter.RX_PACKETS) >= 4);
    vm.cli(`delete host-interface name ${ours}`);
    assert.equal(vm.vnet.interfaces.find(name), -1);
  } finally {
    await cleanup.run();
  }
});
