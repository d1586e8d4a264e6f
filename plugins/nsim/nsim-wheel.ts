// nsim-wheel: sends on the packets nsim-output-feature held back (VPP's nsim-wheel, the
// "wheel scraper"), an input node in interrupt mode. It runs when an engine timer set for
// the earliest release time fires, or at once when a packet is already due (nsim-state.ts
// `wakeUp`), and moves due packets — per interface in release order, at most a frame per
// call — on along the interface-output arc to the interface's tx node. It shares the next
// arcs of nsim-output-feature (a sibling), so the next index the feature node took from
// the packet's feature chain is valid here. Reads: nothing but the rings. Writes: nothing.

import { defineNode } from '../../src/index.ts';
import { NSIM_NODE, NSIM_WHEEL_NODE, nsimMain } from './nsim-state.ts';

export default defineNode({
  name: NSIM_WHEEL_NODE,
  type: 'input',
  state: 'interrupt',
  siblingOf: NSIM_NODE,
  errors: { transmitted: 'Packets transmitted' },
  trace: (ctx, bi) => `NSIM: tx at ${(ctx.engine.turnTimeNs / 1e9).toFixed(6)} sw_if_index ${ctx.pool.txInterface[bi]}`,
  process(ctx, buffers, _n, nexts) {
    const m = nsimMain(ctx.engine).release(buffers, nexts, ctx.frameSize);
    ctx.errors[0] += m;
    return m;
  },
});
