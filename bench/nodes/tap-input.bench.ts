// tap-input: frames a kernel sender writes into a tap are read by the node (root only; see
// kernel-input-bench-setup.ts for what is measured and why the kernel is in it).

import { execFileSync } from 'node:child_process';
import { runIfMain } from '../harness.ts';
import { kernelInputBench } from './kernel-input-bench-setup.ts';

kernelInputBench('tap-input', (vm) => {
  const host = `vbt${process.pid % 100000}`;
  const name = vm.cli(`create tap host-if-name ${host}`).trim();
  // No IPv6 chatter from the kernel side while measuring.
  execFileSync('sysctl', ['-q', '-w', `net.ipv6.conf.${host}.disable_ipv6=1`], { stdio: 'ignore' });
  // The tap goes with its fd when the process exits.
  const sw = vm.vnet.interfaces.find(name);
  return { sender: host, sw, queues: vm.vnet.devices.taps.queues };
});

await runIfMain(import.meta.url);
