// ip4-drop (VPP's ip4-drop, vnet/ip/ip4_forward.c): where ip4-lookup sends packets whose
// adjacency (opaque word 0) is a drop adjacency — no route to the destination, the default
// route of every table, or a route that drops. Each packet is counted under its reason and
// handed to error-drop in one frame. A packet that reaches it with some other adjacency (a
// node sent it here with its own error code already set) keeps that code and is counted as
// "ip4 drop". VPP's own drop path counts no-route packets under null-node's "blackholed
// packets" (error 0); vecnet names the reason where it happens.

import { OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { AdjacencyKind } from '../src/vnet/fib/adjacency.ts';
import { OPAQUE_ADJACENCY } from '../src/vnet/ip4-opaque.ts';
import type {} from '../src/vnet/vnet.ts';
import { formatForwardTrace, packetFlowHash } from './ip4-lookup.ts';

const NEXTS = { drop: 'error-drop' } as const;
const NEXT = indices(NEXTS);

// VPP's ip4_error.h texts.
const ERRORS = {
  lookupMiss: 'ip4 destination lookup miss',
  drop: 'ip4 drop',
} as const;
const ERROR = indices(ERRORS);

export default defineNode({
  name: 'ip4-drop',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  trace: (ctx, bi) => formatForwardTrace(ctx, bi, packetFlowHash(ctx, bi)),
  process(ctx, buffers, n) {
    const pool = ctx.pool;
    const opaque = pool.opaque;
    const error = pool.error;
    const adjs = ctx.engine.vnet.adjacencies;
    const kind = adjs.kind;
    const count = adjs.count;
    const missCode = ctx.errorBase + ERROR.lookupMiss;
    const dropCode = ctx.errorBase + ERROR.drop;
    let misses = 0;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const adj = opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY];
      if (adj < count && kind[adj] === AdjacencyKind.DROP) {
        error[bi] = missCode;
        misses++;
      } else if (error[bi] === 0) {
        error[bi] = dropCode;
      }
    }
    ctx.errors[ERROR.lookupMiss] += misses;
    ctx.errors[ERROR.drop] += n - misses;
    ctx.toSingleNext(NEXT.drop);
    return n;
  },
});
