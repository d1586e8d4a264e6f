// Socket interfaces (no root needed): frames as UDP datagrams over 127.0.0.1. Two VRFs of
// one engine joined by a pair of socket interfaces forward like two routers on a wire, with
// and without the VXLAN header; datagrams from elsewhere, with bad VXLAN flags, another VNI
// or too short are dropped and counted; CLI errors name the offending token.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createEngine } from '../../../src/index.ts';
import { SocketDrop } from '../../../src/vnet/devices/socket.ts';
import { InterfaceCounter } from '../../../src/vnet/interface.ts';
import { ethernet, ipv4, udp, vxlan } from '../../interop/frames.ts';
import { until } from '../../interop/kernel.ts';

const BASE = 43000 + (process.pid % 1000) * 4;

for (const vni of [undefined, 4242]) {
  test(`socket interfaces ${vni === undefined ? 'without' : 'with'} vxlan-vni carry frames between two VRFs`, async () => {
    const vm = createEngine();
    try {
      const suffix = vni === undefined ? '' : ` vxlan-vni ${vni}`;
      const port = BASE + (vni === undefined ? 0 : 2);
      const s0 = (await vm.cliAsync(`create socket-interface local 127.0.0.1:${port} remote 127.0.0.1:${port + 1}${suffix}`)).trim();
      const s1 = (await vm.cliAsync(`create socket-interface local 127.0.0.1:${port + 1} remote 127.0.0.1:${port}${suffix}`)).trim();
      assert.deepEqual([s0, s1], ['socket0', 'socket1']);
      for (const line of [
        'ip table add 1',
        'set interface ip table socket1 1',
        'set interface state socket0 up',
        'set interface state socket1 up',
        'set interface ip address socket0 10.200.2.1/24',
        'set interface ip address socket1 10.200.2.2/24',
      ]) vm.cli(line);
      vm.start();
      const ifs = vm.vnet.interfaces;
      const sw1 = ifs.find('socket1');
      // An ARP request from socket0 for socket1's address crosses as a datagram; socket1
      // (in the other VRF) answers over the same path, and socket0's side learns it.
      const arp = ethernet('ff:ff:ff:ff:ff:ff', ifs.macText(ifs.find('socket0')), 0x0806, Uint8Array.from([
        0, 1, 8, 0, 6, 4, 0, 1, ...ifs.mac.subarray(ifs.find('socket0') * 6, ifs.find('socket0') * 6 + 6), 10, 200, 2, 1,
        0, 0, 0, 0, 0, 0, 10, 200, 2, 2,
      ]));
      vm.enqueue('socket0-tx', [vm.pool.fromBytes(arp)]);
      assert.ok(await until(() => ifs.counter(sw1, InterfaceCounter.RX_PACKETS) >= 1), 'socket1 received the frame');
      assert.ok(await until(() => /10\.200\.2\.2 .*socket0|socket0.*10\.200\.2\.2/.test(vm.cli('show ip neighbors'))),
        `socket0 learned socket1: ${vm.cli('show ip neighbors')}`);
      assert.equal(vm.vnet.devices.sockets.dropCount(sw1, SocketDrop.WRONG_VNI), 0);
    } finally {
      vm.stop();
      vm.vnet.devices.closeAll();
    }
  });
}

test('socket interface: bad datagrams are dropped and counted, the engine keeps running', async () => {
  const vm = createEngine();
  const sender = createSocket('udp4');
  try {
    // Only the remote address is checked (a Linux vxlan device picks its source port per flow).
    await vm.cliAsync('create socket-interface local 127.0.0.1:0 remote 127.0.0.1:9 vxlan-vni 7');
    vm.start();
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
    const sw = vm.vnet.interfaces.find('socket0');
    const target = vm.vnet.devices.sockets.localPort(sw);
    const frame = ethernet('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:01', 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, udp(1, 2, new Uint8Array(10))));
    const send = (data: Uint8Array): Promise<void> => new Promise((resolve) => sender.send(data, target, '127.0.0.1', () => resolve()));
    await send(vxlan(7, frame, 0x00)); // I flag clear
    await send(vxlan(8, frame)); // another VNI
    await send(new Uint8Array(5)); // too short
    await send(vxlan(7, frame)); // good
    const drops = vm.vnet.devices.sockets;
    assert.ok(await until(() => vm.vnet.interfaces.counter(sw, InterfaceCounter.RX_PACKETS) === 1));
    assert.equal(drops.dropCount(sw, SocketDrop.BAD_FLAGS), 1);
    assert.equal(drops.dropCount(sw, SocketDrop.WRONG_VNI), 1);
    assert.equal(drops.dropCount(sw, SocketDrop.SHORT), 1);
    assert.match(vm.cli('show hardware-interfaces socket0'), /bad vxlan flags 1/);
  } finally {
    sender.close();
    vm.stop();
    vm.vnet.devices.closeAll();
  }
});

test('socket interface CLI: bad input names the token; a port in use is refused', async () => {
  const vm = createEngine();
  try {
    await assert.rejects(vm.cliAsync('create socket-interface local 127.0.0.1 remote 127.0.0.1:1'), /bad local '127\.0\.0\.1'/);
    await assert.rejects(vm.cliAsync('create socket-interface local 127.0.0.1:1'), /missing 'remote/);
    await assert.rejects(vm.cliAsync('create socket-interface local 127.0.0.1:0 remote 127.0.0.1:9 vxlan-vni 99999999'), /vxlan-vni/);
    await vm.cliAsync('create socket-interface local 127.0.0.1:0 remote 127.0.0.1:9');
    const taken = vm.vnet.devices.sockets.localPort(vm.vnet.interfaces.find('socket0'));
    await assert.rejects(vm.cliAsync(`create socket-interface local 127.0.0.1:${taken} remote 127.0.0.1:9`), /EADDRINUSE/);
  } finally {
    vm.vnet.devices.closeAll();
  }
});
