// socket-input alone: the in-engine part of a socket interface's receive. The datagram
// handler (node:dgram, a fresh Buffer per datagram, copied into a pool buffer) is the
// event loop's and the kernel's cost, not the node's, so it is left out: the bench makes
// `socket0` with the socket device class and its rx ring but no UDP socket, puts the
// vector on the ring (the handler's push, included) and calls the node, which drains it,
// counts rx per interface and picks ethernet-input. 64-byte frames, one interface.

import { randomMac } from '../../src/vnet/devices/tap.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { inputCall, preparePackets, VECTOR_SIZES } from '../node-bench.ts';
import { l2Engine } from './l2-bench-setup.ts';
import { udpFrame } from '../../test/nodes/l2-helpers.ts';

vectorBench(() => {
  const vm = l2Engine();
  const sockets = vm.vnet.devices.sockets;
  const sw = vm.vnet.interfaces.create('socket0', sockets.deviceClass, randomMac(), 1500);
  sockets.rings.open(sw);
  vm.cli('set interface state socket0 up');
  const input = inputCall(vm.node('socket-input')!);
  const rings = sockets.rings;
  const frame = udpFrame(vm.vnet.interfaces.macText(sw), '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1');
  return VECTOR_SIZES.map((vector): BenchCase => {
    const prepared = preparePackets(vm, [frame], vector);
    return {
      name: 'socket-input, 64 B frames, one interface',
      vector,
      packets: vector,
      run: () => {
        for (let i = 0; i < vector; i++) rings.push(sw, prepared[i]);
        return input.call();
      },
      note: 'ring drain only (no UDP socket; incl. the ring push)',
    };
  });
});

await runIfMain(import.meta.url);
