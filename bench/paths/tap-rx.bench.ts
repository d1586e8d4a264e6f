// Packets per second through a tap, beside the Linux kernel doing the same job (root only;
// skipped with a note otherwise). A sender namespace floods a bounded burst of 64-byte
// UDP frames (raw AF_PACKET writes, test/interop/inject-frames.ts) at a router, which
// forwards them to a receiver namespace:
//   vecnet:  sender ─tap0→ vecnet (ip4 forward) ─tap1→ receiver
//   kernel:  sender ─veth→ router namespace (ip_forward=1) ─veth→ receiver
// Reported: frames sent, frames the router received and forwarded, and the rates over the
// sender's burst; for vecnet also its CPU time (process.cpuUsage) over the burst. All
// addresses are private test addresses inside namespaces made and removed here.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../../src/index.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { Cleanup, TAG, inNs, ip, kernelSkipReason, sleep } from '../../test/interop/kernel.ts';
import { ethernet, hex, ipv4, udp } from '../../test/interop/frames.ts';
import { benchReport, runIfMain } from '../harness.ts';

const FRAMES = 200_000;
const INJECT = fileURLToPath(new URL('../../test/interop/inject-frames.ts', import.meta.url));

function flood(ns: string, ifname: string, frame: Uint8Array): Promise<{ sent: number; failed: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', INJECT, ifname, '--flood', hex(frame), String(FRAMES)]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (status) => (status === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`flood failed: ${out}`))));
  });
}

function rxPackets(ns: string, ifname: string): number {
  const m = /RX:.*\n\s*\d+\s+(\d+)/.exec(inNs(ns, 'ip', '-s', 'link', 'show', 'dev', ifname));
  return m === null ? 0 : Number(m[1]);
}

function macOf(ns: string, ifname: string): string {
  return /link\/ether (\S+)/.exec(inNs(ns, 'ip', 'link', 'show', 'dev', ifname))![1];
}

const mpps = (n: number, s: number): string => `${(n / s / 1e6).toFixed(3)} Mpps`;

/** `forward`: to the receiver through tap1; otherwise to an address with no route (counted, dropped). */
async function vecnetRun(forward: boolean): Promise<string> {
  const cleanup = new Cleanup();
  const vm = createEngine({ buffers: 32768 });
  cleanup.add(() => vm.vnet.devices.closeAll());
  try {
    const sender = cleanup.netns(`vn-bs-${TAG}`);
    const receiver = cleanup.netns(`vn-br-${TAG}`);
    vm.cli(`create tap host-if-name bs${TAG} host-ns ${sender} host-ip4-addr 10.200.60.2/24`);
    vm.cli(`create tap host-if-name br${TAG} host-ns ${receiver} host-ip4-addr 10.200.61.2/24`);
    for (const line of [
      'set interface state tap0 up', 'set interface state tap1 up',
      'set interface ip address tap0 10.200.60.1/24', 'set interface ip address tap1 10.200.61.1/24',
      `set ip neighbor tap1 10.200.61.2 ${macOf(receiver, `br${TAG}`)} static`,
    ]) vm.cli(line);
    vm.start();
    cleanup.add(() => vm.stop());
    const ifs = vm.vnet.interfaces;
    const frame = ethernet(ifs.macText(ifs.find('tap0')), macOf(sender, `bs${TAG}`), 0x0800,
      ipv4('10.200.60.2', forward ? '10.200.61.2' : '10.200.99.99', 17, udp(1234, 9, new Uint8Array(18))));
    const delivered0 = rxPackets(receiver, `br${TAG}`);
    const cpu = process.cpuUsage();
    const result = await flood(sender, `bs${TAG}`, frame);
    await sleep(300);
    const used = process.cpuUsage(cpu);
    const rx = ifs.counter(ifs.find('tap0'), InterfaceCounter.RX_PACKETS);
    const tx = ifs.counter(ifs.find('tap1'), InterfaceCounter.TX_PACKETS);
    const delivered = rxPackets(receiver, `br${TAG}`) - delivered0;
    const cpuS = (used.user + used.system) / 1e6;
    const input = vm.node('tap-input')!;
    return `tap rx, vecnet ${forward ? 'forwarding tap0 → tap1' : 'receive + ip4 drop (no route)'}: ` +
      `sent ${result.sent} in ${result.seconds.toFixed(2)} s (${mpps(result.sent, result.seconds)}); ` +
      `vecnet rx ${rx} (${mpps(rx, result.seconds)}, ${(input.vectors / Math.max(1, input.calls)).toFixed(0)} frames/read batch), ` +
      `forwarded ${tx}, receiver got ${delivered}; vecnet CPU ${cpuS.toFixed(2)} s ` +
      `(${((cpuS * 1e9) / Math.max(1, rx)).toFixed(0)} ns/packet, kernel work of the tap writes included)`;
  } finally {
    await cleanup.run();
  }
}

async function kernelRun(): Promise<string> {
  const cleanup = new Cleanup();
  try {
    const sender = cleanup.netns(`vn-ks-${TAG}`);
    const router = cleanup.netns(`vn-kr-${TAG}`);
    const receiver = cleanup.netns(`vn-kd-${TAG}`);
    ip('link', 'add', `ks${TAG}`, 'netns', sender, 'type', 'veth', 'peer', 'name', `kr${TAG}a`, 'netns', router);
    ip('link', 'add', `kd${TAG}`, 'netns', receiver, 'type', 'veth', 'peer', 'name', `kr${TAG}b`, 'netns', router);
    inNs(sender, 'ip', 'addr', 'add', '10.200.60.2/24', 'dev', `ks${TAG}`);
    inNs(router, 'ip', 'addr', 'add', '10.200.60.1/24', 'dev', `kr${TAG}a`);
    inNs(router, 'ip', 'addr', 'add', '10.200.61.1/24', 'dev', `kr${TAG}b`);
    inNs(receiver, 'ip', 'addr', 'add', '10.200.61.2/24', 'dev', `kd${TAG}`);
    for (const [ns, dev] of [[sender, `ks${TAG}`], [router, `kr${TAG}a`], [router, `kr${TAG}b`], [receiver, `kd${TAG}`]]) {
      inNs(ns, 'ip', 'link', 'set', dev, 'up');
    }
    inNs(router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    inNs(router, 'ip', 'neigh', 'replace', '10.200.61.2', 'lladdr', macOf(receiver, `kd${TAG}`), 'dev', `kr${TAG}b`, 'nud', 'permanent');
    const frame = ethernet(macOf(router, `kr${TAG}a`), macOf(sender, `ks${TAG}`), 0x0800,
      ipv4('10.200.60.2', '10.200.61.2', 17, udp(1234, 9, new Uint8Array(18))));
    const delivered0 = rxPackets(receiver, `kd${TAG}`);
    const result = await flood(sender, `ks${TAG}`, frame);
    await sleep(300);
    const rx = rxPackets(router, `kr${TAG}a`);
    const delivered = rxPackets(receiver, `kd${TAG}`) - delivered0;
    return `veth rx, kernel forwarding: sent ${result.sent} in ${result.seconds.toFixed(2)} s (${mpps(result.sent, result.seconds)}); ` +
      `router rx ${rx}, receiver got ${delivered} (${mpps(delivered, result.seconds)})`;
  } finally {
    await cleanup.run();
  }
}

// The floods are asynchronous (the engine runs on this event loop while the kernel sends),
// and the harness's reports are synchronous: measure while the file loads (bench/run.ts
// awaits each import), report the lines afterwards.
const skip = kernelSkipReason(['ip']);
const lines: string[] = [];
if (skip !== null) {
  lines.push(`tap rx vs kernel forwarding: ${skip}`);
} else {
  lines.push(await vecnetRun(false));
  lines.push(await vecnetRun(true));
  lines.push(await kernelRun());
}
benchReport(() => lines);

await runIfMain(import.meta.url);
