// tap-input (root only): `create tap host-if-name … host-ns …` with the kernel side in a
// namespace made by the test; frames written into the tap from that namespace come out of
// tap-input. The cases are shared with af-packet-input: see kernel-input-helpers.ts.

import { kernelInputTests, quietNetns, TAG } from './kernel-input-helpers.ts';

kernelInputTests({
  node: 'tap-input',
  tracePrefix: 'tap',
  queues: (vm) => vm.vnet.devices.taps.queues,
  make(vm, cleanup, k) {
    const ns = quietNetns(cleanup, `vn-ti${k}-${TAG}`);
    const peer = `vti${k}${TAG}`;
    const name = vm.cli(`create tap host-if-name ${peer} host-ns ${ns} host-ip4-addr 10.200.1.2/24`).trim();
    return { ns, peer, name, sw: vm.vnet.interfaces.find(name) };
  },
});
