// ip4-lookup: one flow (the anchor's 48.0.0.1), 254 flows under one route, and 254 flows
// each in its own route of a 100 000-route table (/16../32, random, as the path bench
// builds it). The node only writes opaque word 0 and counters: nothing to reset.
import type { Engine } from '../../src/vlib/engine.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, nodeCases, prepare } from './ip4-bench.ts';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

vectorBench(() => {
  const vm = anchorEngine();
  const many = Array.from({ length: 254 }, (_, i) => datagram({ dst: 0x30000001 + i }));
  // 100 000 random routes; the flows go to hosts in 254 of them.
  const big = anchorEngine();
  const rand = lcg(0x5eed);
  const dsts: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    let address = rand();
    if (address >>> 24 === 10 || address >>> 28 >= 0xe || address >>> 24 === 0) address = (address & 0x00ffffff) | 0x30000000;
    const length = 16 + (rand() % 17);
    const mask = (0xffffffff << (32 - length)) >>> 0;
    address = (address & mask) >>> 0;
    big.vnet.fib.addRoute(0, address, length, [{ nextHop: 0x0a0a0202 }]);
    if (dsts.length < 254 && i % 393 === 0) dsts.push((address | (rand() & ~mask)) >>> 0);
  }
  const spread = dsts.map((dst) => datagram({ dst }));
  // The node only writes opaque word 0 and counters: nothing to restore.
  const frame = (engine: Engine, datagrams: Uint8Array[], vector: number) =>
    prepareFrame(engine.node('ip4-lookup')!, prepare(engine, datagrams, vector), { restoreMetadata: [] });
  return [
    ...nodeCases('ip4-lookup', (vector) => frame(vm, [datagram()], vector), 'ip4-lookup (1 flow)'),
    ...nodeCases('ip4-lookup', (vector) => frame(vm, many, vector), 'ip4-lookup (254 flows, 1 route)'),
    ...nodeCases('ip4-lookup', (vector) => frame(big, spread, vector), 'ip4-lookup (254 flows in 100k routes)'),
  ];
});

await runIfMain(import.meta.url);
