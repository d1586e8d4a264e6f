// The FIB benches' route set: random unicast prefixes (first octet 1..223, not 127) with
// lengths 8..32 weighted like a public BGP table (most /24, then /22, /23 …) plus a few
// longer than /24 as a FIB holds for attached hosts, from a seeded generator so every run
// measures the same table. Uniform random addresses are the mtrie's worst case (every
// /17../24 lands in its own /16 and costs a ply); a real table clusters.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ip4Mask } from '../../src/wire/address.ts';

export const MIB = 1024 * 1024;

export interface Route {
  readonly address: number;
  readonly length: number;
}

/** mulberry32: a small seeded generator. */
export function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

// Per cent of routes per length.
const LENGTH_WEIGHTS: readonly [number, number][] = [
  [8, 0.1], [9, 0.05], [10, 0.1], [11, 0.1], [12, 0.15], [13, 0.15], [14, 0.15], [15, 0.2],
  [16, 1.5], [17, 1], [18, 1.5], [19, 3], [20, 4], [21, 4.5], [22, 10], [23, 9], [24, 56],
  [25, 1.1], [26, 1.1], [27, 1.1], [28, 1.1], [29, 1.1], [30, 1.1], [31, 0.9], [32, 1],
];

export function generateRoutes(count: number, random: () => number): Route[] {
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
    routes.push({ address: (address & ip4Mask(length)) >>> 0, length });
  }
  return routes;
}

/** Addresses inside random routes of the set, host bits random. */
export function generateDestinations(routes: readonly Route[], count: number, random: () => number): Uint32Array {
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const route = routes[Math.floor(random() * routes.length)];
    out[i] = (route.address | (Math.floor(random() * 0x100000000) & ~ip4Mask(route.length))) >>> 0;
  }
  return out;
}

// A gc() for honest memory deltas without asking the user for --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Heap plus array buffers in bytes, after a full collection. */
export function memoryNow(): number {
  collectGarbage();
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** The set every FIB bench uses: 100 000 routes and 256 destinations inside them. */
export const ROUTES = 100_000;
export const VECTOR = 256;
const random = randomGenerator(0x5eed);
export const routes = generateRoutes(ROUTES, random);
export const destinations = generateDestinations(routes, VECTOR, random);
