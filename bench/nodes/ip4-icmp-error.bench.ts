// ip4-icmp-error building time-exceeded messages for the anchor's packets (TTL expired on
// pg0): new IPv4 and ICMP headers in the headroom, two checksums, the quote in place. Between
// runs current, length and flags go back and the rate limiter is refilled; that reset is
// measured alone and taken off in the note.
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { icmpErrorWord, OPAQUE_ICMP_ERROR } from '../../src/vnet/ip4-opaque.ts';
import { icmpErrorBucket } from '../../nodes/ip4-icmp-error.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  const rt = vm.node('ip4-icmp-error')!;
  const bucket = icmpErrorBucket(rt);
  return nodeCases('ip4-icmp-error', (vector) => {
    const bufs = prepare(vm, [datagram({ ttl: 0 })], vector);
    for (const bi of bufs) vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ICMP_ERROR] = icmpErrorWord(11, 0);
    return prepareFrame(rt, bufs, { restoreMetadata: ['current', 'flags'], resetState: () => (bucket.tokens = 256) });
  });
});

await runIfMain(import.meta.url);
