// socket-input (no root: UDP over 127.0.0.1 only): a datagram from the remote of
// `create socket-interface local 127.0.0.1:<port> remote 127.0.0.1:<port>` comes out of
// socket-input with rxInterface set, current at the Ethernet header, length = datagram
// (less the VXLAN header when configured), next ethernet-input and rx packets/bytes counted
// (`show interface`); short, oversized and foreign datagrams are dropped before the ring
// and counted (`show hardware-interfaces`); an admin-down interface still receives (rx
// counted) and ethernet-input drops; `trace add socket-input N`; every buffer accounted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createEngine, type Engine } from '../../src/index.ts';
import { NONE } from '../../src/vlib/buffer-pool.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { SocketDrop } from '../../src/vnet/devices/socket.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { ethernet, ipv4, udp, vxlan } from '../interop/frames.ts';
import { until } from '../interop/kernel.ts';

interface Setup {
  vm: Engine;
  sw: number;
  sender: Socket;
  send(data: Uint8Array): Promise<void>;
  close(): void;
}

/** An engine with socket0 whose remote is `sender` (bound on `from`, default 127.0.0.1). */
async function setup(options: { vni?: number; up?: boolean } = {}): Promise<Setup> {
  const vm = createEngine();
  const sender = createSocket('udp4');
  await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
  const remote = sender.address().port;
  const vni = options.vni === undefined ? '' : ` vxlan-vni ${options.vni}`;
  assert.equal((await vm.cliAsync(`create socket-interface local 127.0.0.1:0 remote 127.0.0.1:${remote}${vni}`)).trim(), 'socket0');
  const sw = vm.vnet.interfaces.find('socket0');
  if (options.up !== false) vm.cli('set interface state socket0 up');
  const port = vm.vnet.devices.sockets.localPort(sw);
  return {
    vm,
    sw,
    sender,
    send: (data) => new Promise((resolve) => sender.send(data, port, '127.0.0.1', () => resolve())),
    close: () => {
      sender.close();
      vm.stop();
      vm.vnet.devices.closeAll();
    },
  };
}

function udp64(vm: Engine, sw: number): Uint8Array {
  return ethernet(vm.vnet.interfaces.macText(sw), '02:00:00:00:00:01', 0x0800, ipv4('10.200.1.2', '10.200.1.1', 17, udp(1, 2, new Uint8Array(22))));
}

function queued(vm: Engine, sw: number): number {
  return vm.vnet.devices.sockets.rings.count[sw];
}

function shownRx(vm: Engine, name: string): { packets: number; bytes: number } {
  const text = vm.cli('show interface');
  const block = new RegExp(`^(${name} +\\d+ .*\\n?(?: {20,}.*\\n?)*)`, 'm').exec(text);
  assert.ok(block, `no ${name} in:\n${text}`);
  const get = (label: string): number => Number(new RegExp(`${label} +(\\d+)`).exec(block[1])?.[1] ?? 0);
  return { packets: get('rx packets'), bytes: get('rx bytes') };
}

test('socket-input: datagrams come out to ethernet-input with rx interface, current/length and counters', async () => {
  for (const vni of [undefined, 77]) {
    const s = await setup({ vni });
    try {
      const { vm, sw } = s;
      const free0 = vm.pool.available;
      const frames = [udp64(vm, sw), ethernet('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:01', 0x88b5, new Uint8Array(1486))];
      for (const f of frames) await s.send(vni === undefined ? f : vxlan(vni, f));
      assert.ok(await until(() => queued(vm, sw) === 2), 'both datagrams on the ring');
      const rt = vm.node('socket-input')!;
      const buffers = new Uint32Array(FRAME_SIZE);
      const nexts = new Uint16Array(FRAME_SIZE);
      rt.singleNext = -1;
      const n = rt.definition.process!(rt, buffers, 0, nexts);
      assert.equal(n, 2);
      for (let i = 0; i < n; i++) {
        const bi = buffers[i];
        assert.equal(rt.nextNames[nexts[i]], 'ethernet-input');
        assert.equal(vm.pool.rxInterface[bi], sw);
        assert.equal(vm.pool.txInterface[bi], NONE);
        assert.equal(vm.pool.current[bi], vm.pool.dataStart(bi), 'current at the Ethernet header');
        assert.deepEqual(vm.pool.toBytes(bi), frames[i]);
      }
      const bytes = frames[0].length + frames[1].length;
      assert.deepEqual(shownRx(vm, 'socket0'), { packets: 2, bytes });
      for (let i = 0; i < n; i++) vm.pool.freeChain(buffers[i]);
      assert.equal(vm.pool.available, free0);
      // Through the graph, engine running.
      vm.start();
      await s.send(vni === undefined ? frames[0] : vxlan(vni, frames[0]));
      assert.ok(await until(() => vm.node('ethernet-input')!.vectors === 1));
      assert.ok(await until(() => vm.pool.available === free0), 'every buffer back');
      assert.deepEqual(shownRx(vm, 'socket0'), { packets: 3, bytes: bytes + frames[0].length });
    } finally {
      s.close();
    }
  }
});

test('socket-input: short, oversized and foreign datagrams are dropped and counted; odd frames never throw', async () => {
  const s = await setup();
  const stranger = createSocket('udp4');
  try {
    const { vm, sw } = s;
    const free0 = vm.pool.available;
    vm.start();
    await s.send(new Uint8Array(13)); // shorter than an Ethernet header
    await s.send(new Uint8Array(vm.pool.dataSize + 1)); // larger than a buffer
    // From another loopback address than the remote: not taken.
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.2', resolve));
    await new Promise<void>((resolve) => stranger.send(udp64(vm, sw), vm.vnet.devices.sockets.localPort(sw), '127.0.0.1', () => resolve()));
    // Odd frames that pass the device's checks reach ethernet-input and are dropped there.
    await s.send(new Uint8Array(14)); // bare header, ethertype 0
    await s.send(ethernet(vm.vnet.interfaces.macText(sw), '02:00:00:00:00:01', 0x0800, new Uint8Array(2)));
    const sockets = vm.vnet.devices.sockets;
    assert.ok(await until(() => sockets.dropCount(sw, SocketDrop.BAD_SOURCE) === 1 && vm.node('ethernet-input')!.vectors === 2));
    assert.equal(sockets.dropCount(sw, SocketDrop.SHORT), 1);
    assert.equal(sockets.dropCount(sw, SocketDrop.TOO_BIG), 1);
    assert.match(vm.cli('show hardware-interfaces socket0'), /rx drops: not from remote 1, too short 1, larger than a buffer 1/);
    assert.deepEqual(shownRx(vm, 'socket0'), { packets: 2, bytes: 14 + 16 });
    assert.ok(await until(() => vm.node('error-drop')!.vectors === 2), 'both odd frames dropped, counted');
    // Random datagrams: never throw, each counted rx or as a device drop.
    for (let i = 0; i < 50; i++) {
      const size = (i * 97) % 300;
      await s.send(Uint8Array.from({ length: size }, (_, k) => (k * 31 + i) & 0xff));
    }
    const taken = (): number => vm.vnet.interfaces.counter(sw, InterfaceCounter.RX_PACKETS) + sockets.dropCount(sw, SocketDrop.SHORT);
    assert.ok(await until(() => taken() === 2 + 1 + 50), `counted ${taken()}`);
    assert.ok(await until(() => vm.pool.available === free0), 'every buffer back');
  } finally {
    stranger.close();
    s.close();
  }
});

test('socket-input: an admin-down interface still receives (rx counted); ethernet-input drops', async () => {
  const s = await setup({ up: false });
  try {
    const { vm, sw } = s;
    const free0 = vm.pool.available;
    vm.start();
    await s.send(udp64(vm, sw));
    await s.send(udp64(vm, sw));
    assert.ok(await until(() => vm.errorCounter('ethernet-input', 'interface down') === 2));
    assert.equal(vm.vnet.interfaces.counter(sw, InterfaceCounter.RX_PACKETS), 2);
    assert.equal(vm.node('ip4-input')!.vectors, 0);
    assert.ok(await until(() => vm.pool.available === free0));
    // Datagrams queued when the interface is deleted are freed with the ring.
    vm.stop();
    await s.send(udp64(vm, sw));
    assert.ok(await until(() => queued(vm, sw) === 1));
    vm.cli('delete socket-interface socket0');
    assert.equal(vm.pool.available, free0);
  } finally {
    s.close();
  }
});

test('socket-input: trace add socket-input N traces N packets from socket-input on', async () => {
  const s = await setup();
  try {
    const { vm, sw } = s;
    vm.cli('trace add socket-input 2');
    for (let i = 0; i < 3; i++) await s.send(udp64(vm, sw));
    assert.ok(await until(() => queued(vm, sw) === 3));
    vm.runUntilIdle();
    const text = vm.cli('show trace');
    assert.equal(text.match(/^Packet \d+$/gm)?.length, 2, text);
    assert.match(text, new RegExp(`^\\d\\d:\\d\\d:\\d\\d:\\d{6}: socket-input\\n  socket: sw_if_index ${sw} len 64\\n  IP4: 02:00:00:00:00:01 -> ${vm.vnet.interfaces.macText(sw)}\\n  UDP: 10\\.200\\.1\\.2 -> 10\\.200\\.1\\.1`, 'm'));
    assert.match(text, /socket-input\n(?:  .*\n)+\d\d:\d\d:\d\d:\d{6}: ethernet-input\n/);
    assert.equal(vm.node('ethernet-input')!.vectors, 3, 'traced or not, every packet goes on');
  } finally {
    s.close();
  }
});
