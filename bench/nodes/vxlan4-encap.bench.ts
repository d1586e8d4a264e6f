// vxlan4-encap alone: inner 64-byte UDP frames as a tunnel's tx node hands them on
// (current data at the inner Ethernet header, txInterface the tunnel), one tunnel and 256
// tunnels round-robin. Each call restores current/length/flags and calls the node's process
// directly; the node rewrites the 36 bytes before the frame every time, which needs no
// restoring.

import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess, innerFrame, vxlanEngine } from './vxlan-bench-setup.ts';

for (const tunnels of [1, 256]) {
  vectorBench(() => {
    const vm = vxlanEngine(tunnels);
    const rt = vm.node('vxlan4-encap')!;
    const process = rt.definition.process!;
    const pool = vm.pool;
    return [1, 32, 256].map((vector): BenchCase => {
      const prepared = new Uint32Array(vector);
      const current = new Uint32Array(vector);
      const length = new Uint32Array(vector);
      for (let i = 0; i < vector; i++) {
        const t = i % tunnels;
        const bi = pool.fromBytes(innerFrame(vm, t, i));
        pool.txInterface[bi] = vm.vnet.interfaces.find(`vxlan_tunnel${t}`);
        prepared[i] = bi;
        current[i] = pool.current[bi];
        length[i] = pool.length[bi];
      }
      const buffers = new Uint32Array(FRAME_SIZE);
      const nexts = new Uint16Array(FRAME_SIZE);
      const poolCurrent = pool.current;
      const poolLength = pool.length;
      const flags = pool.flags;
      return {
        name: `vxlan4-encap, ${tunnels} tunnel${tunnels > 1 ? 's' : ''}`,
        vector,
        packets: vector,
        run: () => {
          for (let i = 0; i < vector; i++) {
            const bi = prepared[i];
            poolCurrent[bi] = current[i];
            poolLength[bi] = length[i];
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
