// The IPv4 FIB at 100 000 routes: build time and memory of `ip route add`-style routes
// added through Ip4Fib.addRoute (entries, path-lists, load-balances and the mtrie), and
// the data path's lookup cost per destination (mtrie leaf → load-balance → adjacency, as
// ip4-lookup does it) with 1 and with 100 000 routes. Targets: build < 2 s, < 64 MiB.
//
// Routes: the FIB benches' set (bench/fib/routes.ts: random unicast prefixes,
// lengths 8..32 weighted like a public BGP table, seed 0x5eed), all via 10.0.0.2 on pg0
// (10.0.0.1/24, neighbor resolved): `ip route add <prefix> via 10.0.0.2 pg0`. A second build
// adds them as recursive routes (`via 10.0.0.2`, resolved through the connected /24).
// Memory is heap + array buffers after a full GC, before and after the build.
//
// Run alone: node --import tsx bench/fib/ip4-fib-build.bench.ts

import { createEngine } from '../../src/index.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import type { DeviceClass } from '../../src/vnet/interface.ts';
import { parseIp4, parseMac } from '../../src/wire/address.ts';
import { benchReport, runIfMain, vectorBench } from '../harness.ts';
import { destinations, memoryNow, MIB, ROUTES, routes, VECTOR } from './routes.ts';

const NEXT_HOP = parseIp4('10.0.0.2') as number;

const sink: DeviceClass = {
  name: 'bench',
  tx: (ctx, buffers, n) => {
    ctx.pool.free(buffers, 0, n);
    return 0;
  },
};

/** An engine with pg0 10.0.0.1/24 and its neighbor 10.0.0.2 resolved. */
function engineWithNeighbor(): { vm: Engine; pg0: number } {
  const vm = createEngine({ buffers: 1024 });
  const pg0 = vm.vnet.interfaces.create('pg0', sink, parseMac('02:fe:00:00:00:00') as Uint8Array);
  vm.vnet.addIp4Address(pg0, parseIp4('10.0.0.1') as number, 24);
  vm.vnet.neighbors.add(pg0, NEXT_HOP, parseMac('02:00:00:00:00:02') as Uint8Array, true);
  return { vm, pg0 };
}

function addRoutes(vm: Engine, pg0: number, count: number, recursive: boolean): void {
  const fib = vm.vnet.fib;
  const paths = recursive ? [{ nextHop: NEXT_HOP }] : [{ nextHop: NEXT_HOP, swIfIndex: pg0 }];
  for (let i = 0; i < count; i++) fib.addRoute(0, routes[i].address, routes[i].length, paths);
}

/** One ip4-lookup step per destination: mtrie leaf, then the load-balance's bucket. */
function lookupCase(vm: Engine, label: string): { name: string; vector: number; packets: number; run: () => number } {
  const mtrie = vm.vnet.fib.mtries[0];
  const lbs = vm.vnet.loadBalances;
  return {
    name: `ip4 fib lookup, ${label}`,
    vector: VECTOR,
    packets: VECTOR,
    run: () => {
      const start = lbs.start;
      const buckets = lbs.buckets;
      let sum = 0;
      for (let i = 0; i < VECTOR; i++) sum += buckets[start[mtrie.lookup(destinations[i])]];
      return sum;
    },
  };
}

vectorBench(() => {
  const one = engineWithNeighbor();
  addRoutes(one.vm, one.pg0, 1, false);
  const full = engineWithNeighbor();
  addRoutes(full.vm, full.pg0, ROUTES, false);
  return [lookupCase(one.vm, '1 route (ns/address)'), lookupCase(full.vm, `${ROUTES} routes (ns/address)`)];
});

/** Builds the table in a fresh engine; the engine dies with the call, so the next build starts clean. */
function measureBuild(recursive: boolean): string {
  const { vm, pg0 } = engineWithNeighbor();
  const before = memoryNow();
  const start = performance.now();
  addRoutes(vm, pg0, ROUTES, recursive);
  const ms = performance.now() - start;
  const used = (memoryNow() - before) / MIB;
  const fib = vm.vnet.fib;
  const mtrie = fib.mtries[0];
  const form = recursive ? 'via 10.0.0.2 (recursive)' : 'via 10.0.0.2 pg0';
  return (
    `ip4 fib build, ${ROUTES} routes ${form}: ${ms.toFixed(0)} ms (target < 2000), ` +
    `${used.toFixed(1)} MiB heap + typed arrays (target < 64): mtrie ${(mtrie.reservedBytes() / MIB).toFixed(1)} MiB reserved ` +
    `(${(mtrie.memoryBytes() / MIB).toFixed(1)} in ${mtrie.plyCount} plies), entries and hashes ${(fib.reservedBytes() / MIB).toFixed(1)} MiB, ` +
    `${fib.entryCount(0)} entries, ${fib.pathListCount} path-lists`
  );
}

benchReport(() => [measureBuild(false), measureBuild(true)]);

await runIfMain(import.meta.url);
