// veth-input: the input node of every veth pair end (an in-engine cable). A frame sent on
// one end was put, buffer and all, on the other end's rx ring by the sender's tx node;
// the frame arrives here on the next dispatch turn, with fresh metadata. This node drains
// the rings of the interfaces that have frames, at most a frame per call,
// sets rxInterface, counts rx per interface and hands the frames to ethernet-input (or the
// device-input feature arc). A packet that crossed with its L4 checksum offloaded (the pair's
// `offloaded` mark, written by the sender's tx; the hand-over clears every flag) arrives
// marked L4_CHECKSUM_CORRECT, so ip4-local and tcp4-input do not sum it, and still
// L4_CHECKSUM_OFFLOAD, so that if this side forwards it the `<if>-output` it leaves by
// finishes the checksum (Linux keeps CHECKSUM_PARTIAL across a veth the same way).
// Interrupt mode: the peer's tx node schedules it.

import { BufferFlag } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import type {} from '../src/vnet/vnet.ts';

const NEXTS = { ethernet: 'ethernet-input', drop: 'error-drop' } as const;
const NEXT = indices(NEXTS);

const arcs = new WeakMap<NodeContext, number>();
const OFFLOADED = BufferFlag.L4_CHECKSUM_CORRECT | BufferFlag.L4_CHECKSUM_OFFLOAD;

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
    const veths = ctx.engine.vnet.devices.veths;
    const n = veths.rings.drain(ctx, buffers, nexts, NEXT.ethernet, arc);
    const offloaded = veths.offloaded;
    if (offloaded.length === 0) return n;
    const flags = ctx.pool.flags;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      if (offloaded[bi] !== 0) flags[bi] |= OFFLOADED;
    }
    return n;
  },
});
