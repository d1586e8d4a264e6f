// loopback-input alone: frames a loopback sent wait on the loopback ring (rxInterface set
// by the loopback's tx); each call puts the vector on the ring (the tx side's work, cheap)
// and calls the node, which takes it off, counts rx per interface and picks the next.

import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess, l2Engine } from './l2-bench-setup.ts';
import { udpFrame } from '../../test/nodes/l2-helpers.ts';

vectorBench(() => {
  const vm = l2Engine();
  vm.cli('create loopback interface');
  vm.cli('set interface state loop0 up');
  const rt = vm.node('loopback-input')!;
  const process = rt.definition.process!;
  const pool = vm.pool;
  const loop0 = vm.vnet.interfaces.find('loop0');
  const loopbacks = vm.vnet.loopbacks;
  const frame = udpFrame('de:ad:00:00:00:00', '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1');
  return [1, 32, 256].map((vector): BenchCase => {
    const prepared = new Uint32Array(vector);
    for (let i = 0; i < vector; i++) {
      const bi = pool.fromBytes(frame);
      pool.rxInterface[bi] = loop0;
      prepared[i] = bi;
    }
    const buffers = new Uint32Array(FRAME_SIZE);
    const nexts = new Uint16Array(FRAME_SIZE);
    const ring = loopbacks.ring;
    return {
      name: 'loopback-input, 64 B frames, one loopback',
      vector,
      packets: vector,
      run: () => {
        loopbacks.head = 0;
        for (let i = 0; i < vector; i++) ring[i] = prepared[i];
        loopbacks.count = vector;
        rt.singleNext = -1;
        return callProcess(process, rt, buffers, 0, nexts);
      },
      note: 'incl. filling the ring',
    };
  });
});

await runIfMain(import.meta.url);
