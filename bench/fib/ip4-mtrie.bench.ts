// ip4 mtrie alone: lookup cost per destination address for a table of 1 route and of
// 100 000 random routes (bench/fib/routes.ts), over one vector of 256 destinations inside
// the routes; and the 100 000-route build's time and memory. Targets: build < 2 s, < 64 MiB.
//
// Run alone: node --import tsx bench/fib/ip4-mtrie.bench.ts

import { Ip4Mtrie } from '../../src/vnet/fib/ip4-mtrie.ts';
import { benchReport, runIfMain, vectorBench } from '../harness.ts';
import { destinations, memoryNow, MIB, ROUTES, routes, VECTOR } from './routes.ts';

function build(count: number): Ip4Mtrie {
  const mtrie = new Ip4Mtrie(0);
  for (let i = 0; i < count; i++) mtrie.add(routes[i].address, routes[i].length, 1 + i);
  return mtrie;
}

vectorBench(() =>
  [1, ROUTES].map((count) => {
    const mtrie = build(count);
    return {
      name: `ip4 mtrie lookup, ${count} route${count === 1 ? '' : 's'} (ns/address)`,
      vector: VECTOR,
      packets: VECTOR,
      run: () => {
        let sum = 0;
        for (let i = 0; i < VECTOR; i++) sum += mtrie.lookup(destinations[i]);
        return sum;
      },
    };
  }),
);

benchReport(() => {
  const before = memoryNow();
  const start = performance.now();
  const mtrie = build(ROUTES);
  const ms = performance.now() - start;
  const used = (memoryNow() - before) / MIB;
  return [
    `ip4 mtrie build, ${ROUTES} routes: ${ms.toFixed(0)} ms (target < 2000), ${used.toFixed(1)} MiB (target < 64): ` +
      `${(mtrie.reservedBytes() / MIB).toFixed(1)} MiB reserved, ${(mtrie.memoryBytes() / MIB).toFixed(1)} MiB in ${mtrie.plyCount} plies`,
  ];
});

await runIfMain(import.meta.url);
