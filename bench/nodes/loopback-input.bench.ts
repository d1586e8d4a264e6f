// loopback-input alone: frames a loopback sent wait on the loopback ring (rxInterface set
// by the loopback's tx); each call puts the vector on the ring (the tx side's work, cheap)
// and calls the node, which takes it off, counts rx per interface and picks the next.

import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { inputCall, preparePackets, VECTOR_SIZES } from '../node-bench.ts';
import { l2Engine } from './l2-bench-setup.ts';
import { udpFrame } from '../../test/nodes/l2-helpers.ts';

vectorBench(() => {
  const vm = l2Engine();
  vm.cli('create loopback interface');
  vm.cli('set interface state loop0 up');
  const input = inputCall(vm.node('loopback-input')!);
  const loop0 = vm.vnet.interfaces.find('loop0');
  const loopbacks = vm.vnet.loopbacks;
  const frame = udpFrame('de:ad:00:00:00:00', '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1');
  return VECTOR_SIZES.map((vector): BenchCase => {
    const prepared = preparePackets(vm, [frame], vector, { rxInterface: loop0 });
    const ring = loopbacks.ring;
    return {
      name: 'loopback-input, 64 B frames, one loopback',
      vector,
      packets: vector,
      run: () => {
        loopbacks.head = 0;
        for (let i = 0; i < vector; i++) ring[i] = prepared[i];
        loopbacks.count = vector;
        return input.call();
      },
      note: 'incl. filling the ring',
    };
  });
});

await runIfMain(import.meta.url);
