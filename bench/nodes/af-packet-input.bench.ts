// af-packet-input: frames a kernel sender writes into one end of a veth are read by the
// node from the other end's AF_PACKET socket (root only; see kernel-input-bench-setup.ts
// for what is measured and why the kernel is in it).

import { execFileSync } from 'node:child_process';
import { runIfMain } from '../harness.ts';
import { kernelInputBench } from './kernel-input-bench-setup.ts';

kernelInputBench('af-packet-input', (vm) => {
  const ours = `vba${process.pid % 100000}a`;
  const sender = `vba${process.pid % 100000}b`;
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore' });
  ip('link', 'add', ours, 'type', 'veth', 'peer', 'name', sender);
  // Removed on exit (the engine's fds are closed by the bench setup's report).
  process.on('exit', () => {
    try {
      ip('link', 'del', ours);
    } catch {
      // Already gone.
    }
  });
  for (const dev of [ours, sender]) execFileSync('sysctl', ['-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=1`], { stdio: 'ignore' });
  ip('link', 'set', sender, 'up');
  const name = vm.cli(`create host-interface name ${ours}`).trim();
  return { sender, sw: vm.vnet.interfaces.find(name), queues: vm.vnet.devices.hosts.queues };
});

await runIfMain(import.meta.url);
