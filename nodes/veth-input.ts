// veth-input: the input node of every veth pair end (an in-engine cable). A frame sent on
// one end was put, buffer and all, on the other end's rx ring by the sender's tx node;
// the frame arrives here on the next dispatch turn, with fresh metadata. This node drains
// the rings of the interfaces that have frames, at most a frame per call,
// sets rxInterface, counts rx per interface and hands the frames to ethernet-input (or the
// device-input feature arc). Interrupt mode: the peer's tx node schedules it.

import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import type {} from '../src/vnet/vnet.ts';

const NEXTS = { ethernet: 'ethernet-input', drop: 'error-drop' } as const;
const NEXT = indices(NEXTS);

const arcs = new WeakMap<NodeContext, number>();

export default defineNode({
  name: 'veth-input',
  type: 'input',
  state: 'interrupt',
  nexts: NEXTS,
  trace: (ctx, bi) =>
    `veth: sw_if_index ${ctx.pool.rxInterface[bi]} len ${ctx.pool.length[bi]}\n` +
    ctx.engine.vnet.formatPacket(ctx.pool, bi, ctx.pool.current[bi]),
  process(ctx, buffers, _n, nexts) {
    let arc = arcs.get(ctx);
    if (arc === undefined) arcs.set(ctx, (arc = ctx.engine.features.arcIndex('device-input')));
    return ctx.engine.vnet.devices.veths.rings.drain(ctx, buffers, nexts, NEXT.ethernet, arc);
  },
});
