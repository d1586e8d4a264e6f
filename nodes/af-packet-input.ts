// af-packet-input (VPP's af-packet-input): the input node of every `host-<ifname>` interface.
// Reads each AF_PACKET socket that may hold frames with readv(2) into pool buffers until the fd
// says EAGAIN or the frame is full (then it stays scheduled), one Ethernet frame per
// packet (chained over buffers when larger than one; cut frames dropped as "frame too
// long"), current data at the Ethernet header. Sets rxInterface, counts rx packets and
// bytes per interface and hands the frame to ethernet-input (or to the device-input
// feature arc's first feature). Runs in interrupt mode: the engine's FdWatcher wakes it
// when an idle fd becomes readable (src/vnet/devices/kernel-queues.ts).

import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { kernelRx } from '../src/vnet/devices/kernel-queues.ts';
import type {} from '../src/vnet/vnet.ts';

const NEXTS = { ethernet: 'ethernet-input', drop: 'error-drop' } as const;
const NEXT = indices(NEXTS);
const ERRORS = { noBuffer: 'no free buffers', read: 'read error', tooLong: 'frame too long' } as const;
const ERROR = indices(ERRORS);
const INDEX = { ...NEXT, ...ERROR };

const arcs = new WeakMap<NodeContext, number>();

export default defineNode({
  name: 'af-packet-input',
  type: 'input',
  state: 'interrupt',
  nexts: NEXTS,
  errors: ERRORS,
  trace: (ctx, bi) =>
    `af_packet: sw_if_index ${ctx.pool.rxInterface[bi]} len ${ctx.pool.packetLength(bi)}\n` +
    ctx.engine.vnet.formatPacket(ctx.pool, bi, ctx.pool.current[bi]),
  process(ctx, buffers, _n, nexts) {
    let arc = arcs.get(ctx);
    if (arc === undefined) arcs.set(ctx, (arc = ctx.engine.features.arcIndex('device-input')));
    return kernelRx(ctx, ctx.engine.vnet.devices.hosts.queues, buffers, nexts, INDEX, arc);
  },
});
