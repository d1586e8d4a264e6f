// ip4-icmp-error building time-exceeded messages for the anchor's packets (TTL expired on
// pg0): new IPv4 and ICMP headers in the headroom, two checksums, the quote in place. Between
// runs current, length and flags go back and the rate limiter is refilled; that reset is
// measured alone and taken off in the note.
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { icmpErrorWord, OPAQUE_ICMP_ERROR } from '../../src/vnet/ip4-opaque.ts';
import { icmpErrorBucket } from '../../nodes/ip4-icmp-error.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { anchorEngine, caller, datagram, nodeCases, prepare, quickNs, VECTORS } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  const rt = vm.node('ip4-icmp-error')!;
  const bucket = icmpErrorBucket(rt);
  const make = (vector: number, process: boolean) => {
    const bufs = prepare(vm, [datagram({ ttl: 0 })], vector);
    for (const bi of bufs) vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ICMP_ERROR] = icmpErrorWord(11, 0);
    const current0 = Uint32Array.from(bufs, (bi) => vm.pool.current[bi]);
    const length0 = Uint32Array.from(bufs, (bi) => vm.pool.length[bi]);
    const call = caller(rt, bufs);
    const { current, length, flags } = vm.pool;
    return () => {
      for (let i = 0; i < vector; i++) {
        const bi = bufs[i];
        current[bi] = current0[i];
        length[bi] = length0[i];
        flags[bi] = 0;
      }
      bucket.tokens = 256;
      return process ? call() : 0;
    };
  };
  const resetNs = new Map<number, number>(VECTORS.map((v) => [v, quickNs(make(v, false), v)]));
  return nodeCases('ip4-icmp-error', (vector) => make(vector, true), { overhead: (v) => resetNs.get(v) ?? 0 });
});

await runIfMain(import.meta.url);
