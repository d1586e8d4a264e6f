// af-packet-input (root only): a veth made by the test, one end taken by
// `create host-interface name …`, the other in the test's namespace; frames written out of
// the namespace's end come out of af-packet-input. The cases are shared with tap-input:
// see kernel-input-helpers.ts.

import { kernelInputTests, inNs, ip, quietNetns, SENDER_MTU, TAG } from './kernel-input-helpers.ts';

kernelInputTests({
  node: 'af-packet-input',
  tracePrefix: 'af_packet',
  queues: (vm) => vm.vnet.devices.hosts.queues,
  make(vm, cleanup, k) {
    const ns = quietNetns(cleanup, `vn-ai${k}-${TAG}`);
    const ours = `vai${k}${TAG}a`;
    const peer = `vai${k}${TAG}b`;
    ip('link', 'add', ours, 'type', 'veth', 'peer', 'name', peer);
    cleanup.link(ours);
    // Room for the oversized-frame case: a veth drops what exceeds the receiving end's MTU.
    ip('link', 'set', ours, 'mtu', String(SENDER_MTU));
    ip('link', 'set', peer, 'netns', ns);
    inNs(ns, 'ip', 'link', 'set', peer, 'up');
    const name = vm.cli(`create host-interface name ${ours}`).trim();
    return { ns, peer, name, sw: vm.vnet.interfaces.find(name) };
  },
});
