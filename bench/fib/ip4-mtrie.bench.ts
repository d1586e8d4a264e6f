// ip4 mtrie: lookup cost per destination address for a table of 1 route and of 100 000
// random routes, over one pre-generated vector of 256 destinations; then, for the 100 000
// routes, build time and memory of the mtrie alone and of the prefix table (maps + mtrie).
// Targets: the 100 000-route build in under 2 s and under 64 MiB.
//
// Routes are random prefixes in unicast space (first octet 1..223, not 127) with lengths
// 8..32 weighted like a public BGP table (most /24, then /22, /23, ...), plus a few
// longer than /24 as a FIB holds for attached hosts. Uniform random addresses are the
// mtrie's worst case: every /17../24 lands in its own /16 and so costs a 1.3 KB ply,
// where a real table clusters. Destinations fall inside random routes of the big table,
// so lookups walk the plies as traffic to announced space does.
//
// Run alone: node --import tsx bench/fib/ip4-mtrie.bench.ts

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { bench, do_not_optimize, run, summary } from 'mitata';
import { ip4Mask } from '../../src/wire/address.ts';
import { Ip4Mtrie } from '../../src/vnet/fib/ip4-mtrie.ts';
import { Ip4PrefixTable } from '../../src/vnet/fib/ip4-prefix-table.ts';

const ROUTES = 100_000;
const VECTOR = 256;
const MIB = 1024 * 1024;

/** mulberry32: a small seeded generator, so every run measures the same table. */
function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

// Per cent of routes per length, roughly a public table's shape with /25../32 added.
const LENGTH_WEIGHTS: readonly [number, number][] = [
  [8, 0.1], [9, 0.05], [10, 0.1], [11, 0.1], [12, 0.15], [13, 0.15], [14, 0.15], [15, 0.2],
  [16, 1.5], [17, 1], [18, 1.5], [19, 3], [20, 4], [21, 4.5], [22, 10], [23, 9], [24, 56],
  [25, 1.1], [26, 1.1], [27, 1.1], [28, 1.1], [29, 1.1], [30, 1.1], [31, 0.9], [32, 1],
];

interface Route {
  address: number;
  length: number;
  value: number;
}

function generateRoutes(count: number, random: () => number): Route[] {
  const total = LENGTH_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
  const routes: Route[] = [];
  for (let i = 0; i < count; i++) {
    let pick = random() * total;
    let length = 24;
    for (const [candidate, weight] of LENGTH_WEIGHTS) {
      pick -= weight;
      if (pick < 0) {
        length = candidate;
        break;
      }
    }
    let firstOctet = 1 + Math.floor(random() * 223);
    if (firstOctet === 127) firstOctet = 126;
    const address = ((firstOctet << 24) | Math.floor(random() * 0x1000000)) >>> 0;
    routes.push({ address: (address & ip4Mask(length)) >>> 0, length, value: 1 + i });
  }
  return routes;
}

/** Addresses inside random routes, host bits random. */
function generateDestinations(routes: readonly Route[], count: number, random: () => number): Uint32Array {
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const route = routes[Math.floor(random() * routes.length)];
    out[i] = (route.address | (Math.floor(random() * 0x100000000) & ~ip4Mask(route.length))) >>> 0;
  }
  return out;
}

// A gc() for honest heap deltas without asking the user for --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function memoryNow(): { heap: number; arrayBuffers: number } {
  collectGarbage();
  collectGarbage();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, arrayBuffers: usage.arrayBuffers };
}

const random = randomGenerator(0x5eed);
const routes = generateRoutes(ROUTES, random);
const destinations = generateDestinations(routes, VECTOR, random);

// --- build time and memory (script part) ----------------------------------------------

function measureBuild<T>(label: string, build: () => T, mtrieOf: (built: T) => Ip4Mtrie): T {
  const before = memoryNow();
  const start = performance.now();
  const built = build();
  const elapsed = performance.now() - start;
  const after = memoryNow();
  const mtrie = mtrieOf(built);
  const heapDelta = (after.heap - before.heap) / MIB;
  const bufferDelta = (after.arrayBuffers - before.arrayBuffers) / MIB;
  console.log(
    `${label.padEnd(28)} build ${elapsed.toFixed(0).padStart(5)} ms | ` +
    `memoryBytes ${(mtrie.memoryBytes() / MIB).toFixed(1)} MiB (${mtrie.plyCount} plies, ` +
    `reserved ${(mtrie.reservedBytes() / MIB).toFixed(1)}) | heap +${heapDelta.toFixed(1)} MiB, ` +
    `array buffers +${bufferDelta.toFixed(1)} MiB, total +${(heapDelta + bufferDelta).toFixed(1)} MiB`,
  );
  return built;
}

console.log(`${ROUTES} random routes, lengths 8..32 weighted to /24; targets: build < 2000 ms, < 64 MiB`);
measureBuild('Ip4Mtrie.add', () => {
  const mtrie = new Ip4Mtrie(0);
  for (const route of routes) mtrie.add(route.address, route.length, route.value);
  return mtrie;
}, (mtrie) => mtrie);
const bigTable = measureBuild('Ip4PrefixTable.set', () => {
  const table = new Ip4PrefixTable(0);
  for (const route of routes) table.set(route.address, route.length, route.value);
  return table;
}, (table) => table.mtrie);

const start = performance.now();
for (let i = 0; i < 10_000; i++) {
  const route = routes[i];
  bigTable.delete(route.address, route.length);
  bigTable.set(route.address, route.length, route.value);
}
console.log(`Ip4PrefixTable delete+set    ${((performance.now() - start) * 1e6 / 10_000).toFixed(0)} ns per pair (10 000 pairs in the full table)`);

// --- lookups --------------------------------------------------------------------------

const oneRoute = new Ip4PrefixTable(0);
oneRoute.set(routes[0].address, routes[0].length, routes[0].value);
const small = oneRoute.mtrie;
const big = bigTable.mtrie;

summary(() => {
  bench(`lookup x${VECTOR}, 1 route`, () => {
    for (let i = 0; i < VECTOR; i++) do_not_optimize(small.lookup(destinations[i]));
  });
  bench(`lookup x${VECTOR}, ${ROUTES} routes`, () => {
    for (let i = 0; i < VECTOR; i++) do_not_optimize(big.lookup(destinations[i]));
  });
});

const result = await run();
for (const trial of result.benchmarks) {
  for (const r of trial.runs) {
    if (r.stats) console.log(`${r.name.padEnd(28)} ${(r.stats.avg / VECTOR).toFixed(2)} ns/address (p50 ${(r.stats.p50 / VECTOR).toFixed(2)})`);
  }
}
