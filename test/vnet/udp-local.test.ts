// UDP ports handled locally: registration gives ip4-udp-lookup a next per port; a port is
// owned by one node; registrations made before ip4-udp-lookup exists are resolved later.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import { Engine } from '../../src/vlib/engine.ts';
import { attachVnet } from '../../src/vnet/vnet.ts';

test('udp-local: register, look up, unregister', () => {
  const vm = createEngine();
  vm.registerNode({ name: 'test-udp-app', process: (ctx, b, n) => (ctx.pool.free(b, 0, n), 0) });
  const ports = vm.vnet.udpLocal;
  assert.equal(ports.nextFor[5000], 0);
  ports.register(5000, 'test-udp-app');
  const next = ports.nextFor[5000];
  assert.ok(next > 0);
  assert.equal(vm.node('ip4-udp-lookup')!.nextNames[next], 'test-udp-app');
  ports.register(5000, 'test-udp-app'); // again: nothing changes
  assert.equal(ports.nextFor[5000], next);
  assert.throws(() => ports.register(5000, 'other-node'), (e: Error & { code?: string }) => e.code === 'EADDRINUSE' && /already registered to test-udp-app/.test(e.message));
  assert.throws(() => ports.register(0, 'test-udp-app'), /bad UDP port 0/);
  assert.throws(() => ports.register(65536, 'test-udp-app'), /bad UDP port 65536/);
  assert.deepEqual(ports.registered(), [{ port: 5000, node: 'test-udp-app', next }]);
  assert.equal(ports.unregister(5000), true);
  assert.equal(ports.nextFor[5000], 0);
  assert.equal(ports.unregister(5000), false);
});

test('udp-local: a registration made before ip4-udp-lookup exists is resolved when it does', () => {
  const vm = new Engine();
  const vnet = attachVnet(vm);
  vnet.udpLocal.register(4789, 'vxlan4-input');
  assert.equal(vnet.udpLocal.nextFor[4789], 0, 'pending: no node to take the next from');
  assert.deepEqual(vnet.udpLocal.registered(), [{ port: 4789, node: 'vxlan4-input', next: 0 }]);
  vm.registerNode({ name: 'ip4-udp-lookup', nexts: { drop: 'error-drop', icmpError: 'ip4-icmp-error' }, process: () => 0 });
  vnet.udpLocal.resolvePending();
  assert.equal(vnet.udpLocal.nextFor[4789], 2);
  assert.equal(vm.node('ip4-udp-lookup')!.nextNames[2], 'vxlan4-input');
});
