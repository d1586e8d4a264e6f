// nsim-output-feature at vector sizes 1, 32 and 256 on 64-byte IPv4/UDP frames leaving a
// pg interface, in ns/packet, under four configurations measured side by side:
//   pass-through  `delay 0`: every packet goes on at once (the cost of having nsim on);
//   held          `delay 1 ms`: every packet into the ring;
//   impaired      `delay 1 ms drop-fraction 0.05 reorder-fraction 0.05` (three draws a packet);
//   duplicating   the same plus `duplicate-fraction 0.01` (a buffer copy for 1 % of packets);
// and `held + wheel`: the held case plus nsim-wheel's release of the frame (hold and
// release, the whole cost of a delayed packet). The node's process is called directly on a
// prepared frame, as bench/node-bench.ts does; after each call the ring is emptied (copies
// freed) so every call sees the same state. The reset of the frame is in the figures and
// its own cost is in the notes. After the table: heap growth and GCs over 20 000 frames (the
// data path must allocate nothing). Run alone: node --import tsx plugins/nsim/bench/nsim.bench.ts

import { createEngine, FRAME_SIZE, ip4Frame, OPAQUE_WORDS, type Engine } from '../../../src/index.ts';
import { allocationCheck, benchReport, runIfMain, vectorBench, type BenchCase } from '../../../bench/harness.ts';
import { callProcess } from '../../../bench/node-bench.ts';
import nsim, { NSIM_ARC, NSIM_NODE, NSIM_WHEEL_NODE, nsimMain } from '../index.ts';

/** Attaches the plugin the way the loader does (its definition has no init to wait for). */
function engineWithNsim(config: string): { vm: Engine; sw: number } {
  const vm = createEngine({ buffers: 8 * FRAME_SIZE });
  for (const node of nsim.nodes ?? []) vm.registerNode(node);
  for (const feature of nsim.features ?? []) vm.features.registerFeature({ owner: 'nsim', ...feature });
  for (const command of nsim.commands ?? []) vm.commands.register(command, 'nsim');
  vm.seal();
  vm.cli('create packet-generator interface pg0');
  vm.cli('set interface state pg0 up');
  vm.cli(`set nsim ${config}`);
  vm.cli('nsim output-feature enable-disable pg0');
  return { vm, sw: vm.vnet.interfaces.expect('pg0') };
}

interface Prepared {
  readonly run: () => number;
  readonly reset: () => void;
}

/** One engine per configuration, shared by its three vector sizes (as one running vecnet would be). */
const engines = new Map<string, { vm: Engine; sw: number }>();

function prepare(config: string, vector: number, release: boolean): Prepared {
  let made = engines.get(config);
  if (made === undefined) engines.set(config, (made = engineWithNsim(config)));
  const { vm, sw } = made;
  const pool = vm.pool;
  const main = nsimMain(vm);
  const node = vm.node(NSIM_NODE)!;
  const wheel = vm.node(NSIM_WHEEL_NODE)!;
  const process = node.definition.process!;
  const arc = vm.features.arcIndex(NSIM_ARC);
  const prepared = new Uint32Array(vector);
  const isPrepared = new Uint8Array(pool.count);
  const chainWords = new Uint32Array(vector * 2);
  for (let i = 0; i < vector; i++) {
    const bi = pool.fromBytes(ip4Frame({ src: `10.0.0.${(i % 16) + 1}` }));
    prepared[i] = bi;
    isPrepared[bi] = 1;
    pool.txInterface[bi] = sw;
    // What pg0-output does for a packet entering the arc: the chain and position words.
    vm.features.start(arc, 'pg0-output', sw, bi);
    chainWords[2 * i] = pool.opaque[bi * OPAQUE_WORDS + OPAQUE_WORDS - 2];
    chainWords[2 * i + 1] = pool.opaque[bi * OPAQUE_WORDS + OPAQUE_WORDS - 1];
  }
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  const out = new Uint32Array(FRAME_SIZE * 2);
  const outNexts = new Uint16Array(FRAME_SIZE * 2);
  const ring = main.rings[sw]!;
  const opaque = pool.opaque;
  const error = pool.error;
  const reset = (): void => {
    for (let i = 0; i < vector; i++) {
      const bi = prepared[i];
      const o = bi * OPAQUE_WORDS + OPAQUE_WORDS - 2;
      opaque[o] = chainWords[2 * i];
      opaque[o + 1] = chainWords[2 * i + 1];
      error[bi] = 0;
      buffers[i] = bi;
    }
  };
  /** Empties the ring: copies made by duplication go back to the pool. */
  const discard = (): void => {
    for (let i = 0; i < ring.count; i++) {
      let at = ring.head + i;
      if (at >= ring.size) at -= ring.size;
      const bi = ring.buffers[at];
      if (isPrepared[bi] === 0) pool.freeChain(bi);
    }
    ring.head = 0;
    ring.count = 0;
  };
  const run = (): number => {
    reset();
    node.singleNext = -1;
    const m = callProcess(process, node, buffers, vector, nexts);
    if (release) {
      // The engine does not turn here: move its clock past the delay so the frame is due.
      vm.turnTimeNs += 2e6;
      const released = main.release(out, outNexts, FRAME_SIZE * 2);
      wheel.errors[0] += released;
      for (let i = 0; i < released; i++) if (isPrepared[out[i]] === 0) pool.freeChain(out[i]); // copies
    }
    discard();
    return m;
  };
  return { run, reset };
}

/** Nanoseconds per packet of the reset alone: the best of 20 short timed loops. */
function resetCost(prepared: Prepared, vector: number): number {
  const rounds = Math.max(50, Math.ceil(20000 / vector));
  let best = Infinity;
  for (let attempt = 0; attempt < 20; attempt++) {
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) prepared.reset();
    best = Math.min(best, performance.now() - t0);
  }
  return (best * 1e6) / (rounds * vector);
}

const CONFIGS: [string, string, boolean][] = [
  ['pass-through', 'delay 0 seed 1', false],
  ['held', 'delay 1 ms seed 1', false],
  ['held + wheel', 'delay 1 ms seed 1', true],
  ['impaired', 'delay 1 ms drop-fraction 0.05 reorder-fraction 0.05 seed 1', false],
  ['duplicating', 'delay 1 ms drop-fraction 0.05 reorder-fraction 0.05 duplicate-fraction 0.01 seed 1', false],
];

vectorBench(() => {
  const cases: BenchCase[] = [];
  for (const [label, config, release] of CONFIGS) {
    for (const vector of [1, 32, 256]) {
      const prepared = prepare(config, vector, release);
      let overhead = -1;
      cases.push({
        name: `nsim-output-feature, ${label}`,
        vector,
        packets: vector,
        run: prepared.run,
        note: () => {
          if (overhead < 0) overhead = resetCost(prepared, vector);
          return `${config}; incl. ${overhead.toFixed(1)} ns/packet of buffer reset`;
        },
      });
    }
  }
  return cases;
});

// The data path allocates nothing: 20 000 frames of 256 through hold (and copy) and release.
benchReport(async () => {
  const lines: string[] = [];
  // The engines of the table's cases: a new one would make the node's call sites polymorphic.
  for (const [label, config] of [
    ['held + wheel', CONFIGS[1][1]],
    ['duplicating + wheel', CONFIGS[4][1]],
  ]) {
    const prepared = prepare(config, 256, true);
    const { heapDeltaBytes, gcCount } = await allocationCheck(prepared.run, 20000);
    lines.push(`nsim ${label}: 20000 × 256 packets, heap ${heapDeltaBytes >= 0 ? '+' : ''}${heapDeltaBytes} bytes, ${gcCount} GCs`);
  }
  return lines;
});

await runIfMain(import.meta.url);
