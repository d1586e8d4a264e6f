// The tap device against the Linux kernel (root only): frames cross in both directions at
// device level, the kernel in a namespace pings the engine's address with ARP resolving
// both ways, malformed frames sent into the tap are dropped and counted while the engine
// keeps answering, and an idle engine with a tap sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../../src/index.ts';
import { Cleanup, TAG, inNs, kernelSkipReason, pingFrom, runAsync, sleep, until } from './kernel.ts';
import { ethernet, hex, icmpEcho, ipv4, udp, vxlan } from './frames.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';

const skip = kernelSkipReason(['ip', 'ping']);
const INJECT = fileURLToPath(new URL('./inject-frames.ts', import.meta.url));

function hostMacOf(ns: string, ifname: string): string {
  const m = /link\/ether (\S+)/.exec(inNs(ns, 'ip', 'link', 'show', 'dev', ifname));
  assert.ok(m, `no MAC for ${ifname}`);
  return m[1];
}

async function tapSetup(cleanup: Cleanup, suffix: string) {
  const vm = createEngine();
  const ns = cleanup.netns(`vn-tap${suffix}-${TAG}`);
  const host = `vt${suffix}${TAG}`;
  cleanup.add(() => vm.vnet.devices.closeAll());
  const name = vm.cli(`create tap host-if-name ${host} host-ns ${ns} host-ip4-addr 10.200.1.2/24`).trim();
  assert.match(name, /^tap\d+$/);
  const sw = vm.vnet.interfaces.find(name);
  vm.cli(`set interface state ${name} up`);
  vm.cli(`set interface ip address ${name} 10.200.1.1/24`);
  vm.start();
  cleanup.add(() => vm.stop());
  return { vm, ns, host, name, sw };
}

test('tap: frames cross both ways at device level', { skip: skip ?? false }, async () => {
  const cleanup = new Cleanup();
  try {
    const { vm, ns, host, name, sw } = await tapSetup(cleanup, 'd');
    const ifs = vm.vnet.interfaces;
    const hostMac = hostMacOf(ns, host);
    const ourMac = ifs.macText(sw);
    // The kernel answers an echo request we write into the tap (its neighbor entry for us is
    // static so no ARP is needed): tx reaches the kernel, the reply comes back as rx.
    inNs(ns, 'ip', 'neigh', 'replace', '10.200.1.1', 'lladdr', ourMac, 'dev', host, 'nud', 'permanent');
    const before = ifs.counter(sw, InterfaceCounter.RX_PACKETS);
    const kernelRxBefore = Number(/RX:.*\n\s*\d+\s+(\d+)/.exec(inNs(ns, 'ip', '-s', 'link', 'show', 'dev', host))![1]);
    const frame = ethernet(hostMac, ourMac, 0x0800, ipv4('10.200.1.1', '10.200.1.2', 1, icmpEcho(0x77, 1)));
    const bi = vm.pool.fromBytes(frame);
    vm.enqueue(`${name}-tx`, [bi]);
    assert.ok(await until(() => ifs.counter(sw, InterfaceCounter.RX_PACKETS) > before), 'no frame came back from the kernel');
    const kernelRx = Number(/RX:.*\n\s*\d+\s+(\d+)/.exec(inNs(ns, 'ip', '-s', 'link', 'show', 'dev', host))![1]);
    assert.ok(kernelRx > kernelRxBefore, 'the kernel counted no rx on its side of the tap');
    assert.match(vm.cli(`show hardware-interfaces ${name}`), /host-if-name/);
    // Deleting the tap closes its fd, and the kernel interface goes with it.
    vm.cli(`delete tap ${name}`);
    assert.equal(ifs.find(name), -1);
    assert.throws(() => inNs(ns, 'ip', 'link', 'show', 'dev', host), /does not exist/);
  } finally {
    await cleanup.run();
  }
});

test('tap: the kernel in a netns pings the engine; ARP resolves both ways', { skip: skip ?? false }, async () => {
  const cleanup = new Cleanup();
  try {
    const { vm, ns, host, name, sw } = await tapSetup(cleanup, 'p');
    const result = await pingFrom(ns, '10.200.1.1', 3);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /3 received/);
    // The kernel's neighbor table holds the engine's MAC …
    const neighbor = inNs(ns, 'ip', 'neigh', 'show', '10.200.1.1', 'dev', host);
    assert.match(neighbor, new RegExp(vm.vnet.interfaces.macText(sw)));
    // … and the engine learned the kernel's.
    assert.match(vm.cli('show ip neighbors'), new RegExp(hostMacOf(ns, host)));
    assert.ok(vm.vnet.interfaces.counter(sw, InterfaceCounter.TX_PACKETS) >= 3);
    assert.match(vm.cli('show interface'), new RegExp(name));
  } finally {
    await cleanup.run();
  }
});

test('tap: malformed frames from the kernel side are dropped and counted; the engine keeps running', { skip: skip ?? false }, async () => {
  const cleanup = new Cleanup();
  try {
    const { vm, ns, host, sw } = await tapSetup(cleanup, 'm');
    const ours = vm.vnet.interfaces.macText(sw);
    const theirs = hostMacOf(ns, host);
    vm.cli('create vxlan tunnel src 10.200.1.1 dst 10.200.1.2 vni 77');
    const frames = [
      ethernet(ours, theirs, 0x0800, new Uint8Array(0)), // no IPv4 header at all
      ethernet(ours, theirs, 0x88b5, new Uint8Array(46)), // unknown ethertype
      ethernet(ours, theirs, 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, new Uint8Array(30), { badChecksum: true })),
      ethernet(ours, theirs, 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, new Uint8Array(30), { version: 6 })),
      ethernet(ours, theirs, 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, new Uint8Array(30), { totalLength: 400 })),
      ethernet('02:00:00:00:00:99', theirs, 0x0800, ipv4('10.200.1.2', '10.200.1.1', 1, icmpEcho(1, 1))), // not our MAC
      // VXLAN to our address: bad flags, unknown VNI, too short.
      ethernet(ours, theirs, 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, udp(5555, 4789, vxlan(77, new Uint8Array(60), 0x0c)))),
      ethernet(ours, theirs, 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, udp(5555, 4789, vxlan(78, new Uint8Array(60))))),
      ethernet(ours, theirs, 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, udp(5555, 4789, new Uint8Array(4)))),
    ];
    const rxBefore = vm.vnet.interfaces.counter(sw, InterfaceCounter.RX_PACKETS);
    const injected = await runAsync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', INJECT, host, ...frames.map(hex)]);
    assert.equal(injected.status, 0, injected.output);
    assert.match(injected.output, new RegExp(`"sent":${frames.length}`));
    assert.ok(await until(() => vm.vnet.interfaces.counter(sw, InterfaceCounter.RX_PACKETS) >= rxBefore + frames.length));
    await sleep(50);
    const errors = vm.cli('show errors');
    assert.match(errors, /bad ip4 checksum/);
    assert.match(errors, /ip4 version != 4/);
    assert.match(errors, /packets with bad flags field in vxlan header/);
    assert.match(errors, /no such tunnel packets/);
    assert.match(errors, /packets too short for vxlan/);
    assert.equal(vm.errorCounter('vxlan4-input', 'good packets decapsulated'), 0);
    // Still alive: the kernel's ping is answered.
    const result = await pingFrom(ns, '10.200.1.1', 2);
    assert.equal(result.status, 0, result.output);
  } finally {
    await cleanup.run();
  }
});

test('tap: an idle engine with a tap sleeps (adaptive rx)', { skip: skip ?? false }, async () => {
  const cleanup = new Cleanup();
  try {
    const { vm } = await tapSetup(cleanup, 'i');
    await sleep(300);
    const loops = vm.loops;
    const cpu = process.cpuUsage();
    await sleep(1000);
    const used = process.cpuUsage(cpu);
    const ms = (used.user + used.system) / 1000;
    // A spinning engine would burn ~1000 ms of CPU per second and run ~100k loops.
    assert.ok(ms < 100, `idle engine used ${ms.toFixed(1)} ms CPU in 1 s`);
    assert.ok(vm.loops - loops < 200, `idle engine ran ${vm.loops - loops} loops in 1 s`);
  } finally {
    await cleanup.run();
  }
});
