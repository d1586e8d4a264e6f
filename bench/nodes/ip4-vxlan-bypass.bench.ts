// ip4-vxlan-bypass alone: outer VXLAN frames as ip4-input hands them on (current data and
// l3Offset at the outer IPv4 header, rxInterface the underlay pg0 with the bypass on), one
// local VTEP (the node's one-entry VTEP cache hits). Each call restores current/length/flags
// and calls the node's process directly; the node writes no packet bytes.

import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess, innerFrame, outerFrame, vxlanEngine } from './vxlan-bench-setup.ts';

vectorBench(() => {
  const vm = vxlanEngine(1);
  vm.cli('set interface ip vxlan-bypass pg0');
  const rt = vm.node('ip4-vxlan-bypass')!;
  const process = rt.definition.process!;
  const pool = vm.pool;
  const pg0 = vm.vnet.interfaces.find('pg0');
  return [1, 32, 256].map((vector): BenchCase => {
    const prepared = new Uint32Array(vector);
    const current = new Uint32Array(vector);
    const length = new Uint32Array(vector);
    for (let i = 0; i < vector; i++) {
      const bi = pool.fromBytes(outerFrame(vm, 0, innerFrame(vm, 0, i)));
      pool.l2Offset[bi] = pool.current[bi];
      pool.advance(bi, 14);
      pool.l3Offset[bi] = pool.current[bi];
      prepared[i] = bi;
      current[i] = pool.current[bi];
      length[i] = pool.length[bi];
    }
    const buffers = new Uint32Array(FRAME_SIZE);
    const nexts = new Uint16Array(FRAME_SIZE);
    const poolCurrent = pool.current;
    const poolLength = pool.length;
    const rx = pool.rxInterface;
    const flags = pool.flags;
    return {
      name: 'ip4-vxlan-bypass',
      vector,
      packets: vector,
      run: () => {
        for (let i = 0; i < vector; i++) {
          const bi = prepared[i];
          poolCurrent[bi] = current[i];
          poolLength[bi] = length[i];
          rx[bi] = pg0;
          flags[bi] = 0;
          buffers[i] = bi;
        }
        rt.singleNext = -1;
        return callProcess(process, rt, buffers, vector, nexts);
      },
      note: 'incl. the metadata reset',
    };
  });
});

await runIfMain(import.meta.url);
