// vxlan4-input alone: frames as ip4-udp-lookup hands them on (current data at the VXLAN
// header, l3Offset at the outer IPv4 header, rxInterface the underlay), one tunnel (the
// one-entry cache hits) and 256 tunnels round-robin (every packet a table lookup). Each
// call restores current/length/rxInterface/flags of the frame and calls the node's
// process directly; the node writes no packet bytes.

import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess, innerFrame, outerFrame, vxlanEngine } from './vxlan-bench-setup.ts';

const OUTER_HEADERS = 14 + 20 + 8;

for (const tunnels of [1, 256]) {
  vectorBench(() => {
    const vm = vxlanEngine(tunnels);
    const rt = vm.node('vxlan4-input')!;
    const process = rt.definition.process!;
    const pool = vm.pool;
    const pg0 = vm.vnet.interfaces.find('pg0');
    return [1, 32, 256].map((vector): BenchCase => {
      const prepared = new Uint32Array(vector);
      const current = new Uint32Array(vector);
      const length = new Uint32Array(vector);
      for (let i = 0; i < vector; i++) {
        const t = i % tunnels;
        const bi = pool.fromBytes(outerFrame(vm, t, innerFrame(vm, t, i)));
        pool.l2Offset[bi] = pool.current[bi];
        pool.l3Offset[bi] = pool.current[bi] + 14;
        pool.advance(bi, OUTER_HEADERS);
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
        name: `vxlan4-input, ${tunnels} tunnel${tunnels > 1 ? 's' : ''}`,
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
}

await runIfMain(import.meta.url);
