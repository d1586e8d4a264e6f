// The engine's own cost: an input node hands out a prepared vector of buffers, four
// pass-through nodes forward it, a sink takes it (nothing is allocated or freed, so what
// is measured is dispatch: frame hand-over or scatter, runtime counters, the pending
// queue). Two styles: every node writes one next per packet (scatter), or says "all to
// one next" (whole-frame hand-over). Target: ≤ 2 ns/packet/node at vector 256, and no
// allocation in steady state (heap and GC count flat).

import { Engine } from '../../src/vlib/engine.ts';
import { allocationCheck, benchReport, runIfMain, vectorBench } from '../harness.ts';

const NODES = 4;

type Style = 'hand-over' | 'scatter halves' | 'scatter alternating';

/** Per layer two nodes (a, b); packets go to the next layer's a or b by `style`. */
function buildChain(vector: number, style: Style): { vm: Engine; step: () => void } {
  const vm = new Engine({ buffers: 1024, mode: 'polling' });
  const prepared = new Uint32Array(vector);
  vm.pool.alloc(prepared, 0, vector);
  let armed = false;
  const half = vector >>> 1;
  const choose = (nexts: Uint16Array, n: number): void => {
    if (style === 'scatter halves') for (let i = 0; i < n; i++) nexts[i] = i < half ? 0 : 1;
    else for (let i = 0; i < n; i++) nexts[i] = i & 1;
  };
  const layer = (k: number): Record<string, string> =>
    k < NODES ? { a: `pass-${k}a`, b: `pass-${k}b` } : { a: 'bench-sink', b: 'bench-sink-b' };
  vm.registerNode({
    name: 'bench-input',
    type: 'input',
    nexts: layer(0),
    process(ctx, buffers, _n, nexts) {
      if (!armed) return 0;
      armed = false;
      buffers.set(prepared);
      if (style === 'hand-over') ctx.toSingleNext(0);
      else choose(nexts, vector);
      return vector;
    },
  });
  for (let k = 0; k < NODES; k++) {
    for (const side of ['a', 'b']) {
      vm.registerNode({
        name: `pass-${k}${side}`,
        nexts: layer(k + 1),
        process:
          style === 'hand-over'
            ? (ctx, _buffers, n) => {
                ctx.toSingleNext(0);
                return n;
              }
            : (_ctx, _buffers, n, nexts) => {
                choose(nexts, n);
                return n;
              },
      });
    }
  }
  vm.registerNode({ name: 'bench-sink', process: () => 0 });
  vm.registerNode({ name: 'bench-sink-b', process: () => 0 });
  vm.seal();
  return {
    vm,
    step: () => {
      armed = true;
      vm.runOnce();
    },
  };
}

const STYLES: Style[] = ['hand-over', 'scatter halves', 'scatter alternating'];
for (const style of STYLES) {
  vectorBench(() =>
    [1, 32, 256].map((vector) => {
      const { step } = buildChain(vector, style);
      return {
        name: `engine dispatch, ${NODES} nodes deep, ${style}`,
        vector,
        packets: vector,
        run: step,
        note: (ns: number) => `${(ns / (NODES + 1)).toFixed(2)} ns/packet/node (target ≤ 2 at 256)`,
      };
    }),
  );
}

benchReport(async () => {
  const lines: string[] = [];
  for (const style of STYLES) {
    const { vm, step } = buildChain(256, style);
    const { heapDeltaBytes, gcCount } = await allocationCheck(step, 200_000);
    lines.push(
      `dispatch steady state (${style}, 200000 frames of 256): heap ${(heapDeltaBytes / 1024).toFixed(1)} KiB, ` +
        `${gcCount} GCs, frames created ${vm.frames.created}`,
    );
  }
  return lines;
});

await runIfMain(import.meta.url);
