// veth-input alone: frames sent on `va` wait on `vb`'s rx ring (what va-tx does: a push of
// the buffer index per frame, included, cheap); each call puts the vector on the ring and
// calls the node, which drains it, resets the metadata a cable does not carry, counts rx
// per interface and picks ethernet-input. 64-byte frames, one pair.

import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { inputCall, preparePackets, VECTOR_SIZES } from '../node-bench.ts';
import { l2Engine } from './l2-bench-setup.ts';
import { udpFrame } from '../../test/nodes/l2-helpers.ts';

vectorBench(() => {
  const vm = l2Engine();
  vm.cli('create veth-pair va vb');
  vm.cli('set interface state va up');
  vm.cli('set interface state vb up');
  const input = inputCall(vm.node('veth-input')!);
  const vb = vm.vnet.interfaces.find('vb');
  const rings = vm.vnet.devices.veths.rings;
  const frame = udpFrame(vm.vnet.interfaces.macText(vb), '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1');
  return VECTOR_SIZES.map((vector): BenchCase => {
    const prepared = preparePackets(vm, [frame], vector);
    return {
      name: 'veth-input, 64 B frames, one pair',
      vector,
      packets: vector,
      run: () => {
        for (let i = 0; i < vector; i++) rings.push(vb, prepared[i]);
        return input.call();
      },
      note: 'incl. the ring push (the peer tx side)',
    };
  });
});

await runIfMain(import.meta.url);
