// interface-output (route each packet to `<txInterface>-output`) and a `<if>-output` node
// (pg1-output: tx counters, then the whole frame to pg1-tx) alone, on 64-byte frames with
// txInterface pg1 as ip4-rewrite leaves them. Neither node writes packet bytes or moves
// current, so nothing is reset between calls. VPP's output + tx: 6.5 clocks (2.5 ns).

import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess, frameCases, prepareFrame, preparePackets, VECTOR_SIZES } from '../node-bench.ts';
import { l2Engine, vppNs } from './l2-bench-setup.ts';
import { udpFrame } from '../../test/nodes/l2-helpers.ts';

const VPP_OUTPUT_TX_NS = vppNs(6.5);

for (const node of ['interface-output', 'pg1-output']) {
  vectorBench(() => {
    const vm = l2Engine();
    const rt = vm.node(node)!;
    const pg1 = vm.vnet.interfaces.find('pg1');
    const frame = udpFrame('02:00:00:00:00:02', '02:fe:00:00:00:01', '10.10.1.2', '48.0.0.1');
    return frameCases(
      node === 'pg1-output' ? '<if>-output (pg1-output)' : 'interface-output (route by txInterface)',
      VECTOR_SIZES,
      (vector) => {
        const packets = preparePackets(vm, [frame], vector);
        for (const bi of packets) vm.pool.txInterface[bi] = pg1;
        const prepared = prepareFrame(rt, packets, { restoreMetadata: [] });
        // The first call adds interface-output's arc to pg1-output; later calls hit the cache.
        prepared.run();
        return prepared;
      },
      (_ns, _reset, vector) => (node === 'pg1-output' && vector === 256 ? `VPP output + tx ${VPP_OUTPUT_TX_NS.toFixed(1)} ns` : ''),
    );
  });
}

// pg1-tx, the pg device's transmit (no capture on): frees the vector. The bench allocates
// it again each call; the second row is that allocation alone.
vectorBench(() => {
  const vm = l2Engine();
  const rt = vm.node('pg1-tx')!;
  const process = rt.definition.process!;
  const pool = vm.pool;
  return VECTOR_SIZES.flatMap((vector): BenchCase[] => {
    const buffers = new Uint32Array(FRAME_SIZE);
    const nexts = new Uint16Array(FRAME_SIZE);
    return [
      {
        name: '<if>-tx (pg1-tx, no capture), incl. alloc',
        vector,
        packets: vector,
        run: () => {
          const m = pool.alloc(buffers, 0, vector);
          return callProcess(process, rt, buffers, m, nexts);
        },
      },
      {
        name: '<if>-tx baseline: pool alloc + free',
        vector,
        packets: vector,
        run: () => {
          const m = pool.alloc(buffers, 0, vector);
          pool.free(buffers, 0, m);
          return m;
        },
      },
    ];
  });
});

await runIfMain(import.meta.url);
