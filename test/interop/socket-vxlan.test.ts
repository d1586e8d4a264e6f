// The socket device with `vxlan-vni` against a Linux vxlan device (root only, to make the
// kernel side): the engine runs in its own process as an unprivileged user (nobody) inside
// one test namespace, its socket interface bound on 10.200.31.1:4789; a Linux vxlan device
// in a second namespace (underlay 10.200.31.2, over a veth pair between the two) points at
// it, and the two exchange pings across the overlay (10.200.30.0/24). (Over 127.0.0.1 in
// one namespace the kernel's vxlan would not send at all: it short-cuts traffic to local
// addresses to its own vxlan devices, unless `nolocalbypass`, which older iproute2 lacks.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Cleanup, TAG, inNs, ip, kernelSkipReason, pingFrom } from './kernel.ts';

const skip = kernelSkipReason(['ip', 'ping']);
const ENGINE = fileURLToPath(new URL('./socket-engine.ts', import.meta.url));
const NOBODY = 65534;

test('socket device with vxlan-vni: a Linux vxlan device exchanges pings with an unprivileged engine', { skip: skip ?? false }, async () => {
  const cleanup = new Cleanup();
  try {
    const engineNs = cleanup.netns(`vn-soe-${TAG}`);
    const ns = cleanup.netns(`vn-sok-${TAG}`);
    const vx = `vs${TAG}`;
    ip('link', 'add', `vse${TAG}`, 'netns', engineNs, 'type', 'veth', 'peer', 'name', `vsk${TAG}`, 'netns', ns);
    inNs(engineNs, 'ip', 'addr', 'add', '10.200.31.1/24', 'dev', `vse${TAG}`);
    inNs(engineNs, 'ip', 'link', 'set', `vse${TAG}`, 'up');
    inNs(ns, 'ip', 'addr', 'add', '10.200.31.2/24', 'dev', `vsk${TAG}`);
    inNs(ns, 'ip', 'link', 'set', `vsk${TAG}`, 'up');
    inNs(ns, 'ip', 'link', 'add', vx, 'type', 'vxlan', 'id', '300', 'local', '10.200.31.2', 'remote', '10.200.31.1',
      'dstport', '4789', 'dev', `vsk${TAG}`);
    inNs(ns, 'ip', 'addr', 'add', '10.200.30.2/24', 'dev', vx);
    inNs(ns, 'ip', 'link', 'set', vx, 'up');

    const child = spawn('ip', ['netns', 'exec', engineNs, process.execPath, '--import', 'tsx', ENGINE, '--uid', String(NOBODY),
      'create socket-interface local 10.200.31.1:4789 remote 10.200.31.2:4789 vxlan-vni 300',
      'set interface state socket0 up',
      'set interface ip address socket0 10.200.30.1/24',
    ], { stdio: ['pipe', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    cleanup.add(() => {
      child.stdin!.end();
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout! });
    const answers: string[] = [];
    let waiter: ((line: string) => void) | null = null;
    lines.on('line', (line) => (waiter !== null ? (waiter(line), (waiter = null)) : answers.push(line)));
    const nextLine = (): Promise<string> =>
      answers.length > 0 ? Promise.resolve(answers.shift()!) : new Promise((resolve, reject) => {
        waiter = resolve;
        child.once('exit', () => reject(new Error(`engine exited: ${stderr}`)));
      });
    const ready = await nextLine();
    assert.match(ready, /^ready /, stderr);
    assert.equal(JSON.parse(ready.slice(6)).uid, NOBODY, 'the engine runs unprivileged');

    const result = await pingFrom(ns, '10.200.30.1', 3);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /3 received/);
    child.stdin!.write('show interface socket0\n');
    const shown = JSON.parse(await nextLine()) as { ok: boolean; text: string };
    assert.ok(shown.ok, shown.text);
    assert.match(shown.text, /rx packets/);
  } finally {
    await cleanup.run();
  }
});
