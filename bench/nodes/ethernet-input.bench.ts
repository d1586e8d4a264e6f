// ethernet-input alone: 64-byte IPv4/UDP frames for pg0's MAC (VPP's anchor packet), as
// pg-input hands them on. Each call restores current/length of the frame (the node moves
// them past the Ethernet header) and calls the node's process directly; it writes no
// packet bytes. VPP: 5.4 clocks/packet at 256 per frame (2.1 ns) on this machine kind.

import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess, l2Engine, vppNs } from './l2-bench-setup.ts';
import { pgFrames } from '../../test/nodes/l2-helpers.ts';

const VPP_NS = vppNs(5.4);

vectorBench(() => {
  const vm = l2Engine();
  const rt = vm.node('ethernet-input')!;
  const process = rt.definition.process!;
  const pool = vm.pool;
  const pg0 = vm.vnet.interfaces.find('pg0');
  const frame = pgFrames('IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.10.1.2 -> 48.0.0.1 UDP: 1234 -> 5678 incrementing 0', 64, 64)[0];
  return [1, 32, 256].map((vector): BenchCase => {
    const prepared = new Uint32Array(vector);
    const current = new Uint32Array(vector);
    for (let i = 0; i < vector; i++) {
      const bi = pool.fromBytes(frame);
      pool.rxInterface[bi] = pg0;
      prepared[i] = bi;
      current[i] = pool.current[bi];
    }
    const buffers = new Uint32Array(FRAME_SIZE);
    const nexts = new Uint16Array(FRAME_SIZE);
    const poolCurrent = pool.current;
    const poolLength = pool.length;
    return {
      name: 'ethernet-input, 64 B IPv4 frames',
      vector,
      packets: vector,
      run: () => {
        for (let i = 0; i < vector; i++) {
          const bi = prepared[i];
          poolCurrent[bi] = current[i];
          poolLength[bi] = 64;
          buffers[i] = bi;
        }
        rt.singleNext = -1;
        return callProcess(process, rt, buffers, vector, nexts);
      },
      note: (ns) => `incl. the metadata reset${vector === 256 ? `; VPP ${VPP_NS.toFixed(1)} ns: ${(ns / VPP_NS).toFixed(2)}x` : ''}`,
    };
  });
});

await runIfMain(import.meta.url);
