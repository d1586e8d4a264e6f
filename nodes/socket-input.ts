// socket-input: the input node of every `socket<n>` interface (UDP socket device). The
// device's datagram handler has already checked each datagram (source, VXLAN header and
// VNI when configured) and copied the frame into a pool buffer on the interface's rx ring;
// this node drains the rings of the interfaces that have frames, at most a frame per call,
// sets rxInterface, counts rx per interface and hands the frames to ethernet-input (or the
// device-input feature arc). Interrupt mode: the datagram handler wakes it.

import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import type {} from '../src/vnet/vnet.ts';

const NEXTS = { ethernet: 'ethernet-input', drop: 'error-drop' } as const;
const NEXT = indices(NEXTS);

const arcs = new WeakMap<NodeContext, number>();

export default defineNode({
  name: 'socket-input',
  type: 'input',
  state: 'interrupt',
  nexts: NEXTS,
  trace: (ctx, bi) =>
    `socket: sw_if_index ${ctx.pool.rxInterface[bi]} len ${ctx.pool.length[bi]}\n` +
    ctx.engine.vnet.formatPacket(ctx.pool, bi, ctx.pool.current[bi]),
  process(ctx, buffers, _n, nexts) {
    let arc = arcs.get(ctx);
    if (arc === undefined) arcs.set(ctx, (arc = ctx.engine.features.arcIndex('device-input')));
    return ctx.engine.vnet.devices.sockets.rings.drain(ctx, buffers, nexts, NEXT.ethernet, arc);
  },
});
