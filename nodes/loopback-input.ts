// loopback-input: receives what loopback interfaces sent (VPP's loopback tx hands the
// frame back to ethernet-input as rx on the same interface). The loopback device's tx
// (src/vnet/devices/loopback.ts) puts the buffers on a ring, sets rxInterface to the
// loopback and interrupts this node; each call takes up to a frame off the ring and
// interrupts itself again while more wait. Reads rxInterface, length; counts rx
// packets/bytes per interface (once per run of one interface); pcap rx capture. Next:
// ethernet-input, or the first device-input feature enabled on the interface.

import { defineNode } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { InterfaceCounter, Interfaces } from '../src/vnet/interface.ts';
import type {} from '../src/vnet/vnet.ts';

const NEXTS = { ethernet: 'ethernet-input' } as const;
const COUNTERS = Interfaces.countersPerInterface;

const deviceInputArc = new WeakMap<NodeContext, number>();

function process(ctx: NodeContext, buffers: Uint32Array, _n: number, nexts: Uint16Array): number {
  const vm = ctx.engine;
  const vnet = vm.vnet;
  const loopbacks = vnet.loopbacks;
  const m = loopbacks.take(buffers, ctx.frameSize);
  if (loopbacks.count > 0) vm.interrupt(ctx);
  if (m === 0) return 0;
  const pool = ctx.pool;
  const rx = pool.rxInterface;
  const counters = vnet.interfaces.counters;
  let arc = deviceInputArc.get(ctx);
  if (arc === undefined || arc < 0) deviceInputArc.set(ctx, (arc = vm.features.arcIndex('device-input')));
  const features = vm.features;
  let single = true;
  // Runs of one interface: counters and the feature check once per run.
  let i = 0;
  while (i < m) {
    const sw = rx[buffers[i]];
    const featuresOn = arc >= 0 && features.isEnabled(arc, sw);
    let bytes = 0;
    const runStart = i;
    for (; i < m; i++) {
      const bi = buffers[i];
      if (rx[bi] !== sw) break;
      bytes += pool.packetLength(bi);
      nexts[i] = 0;
      if (featuresOn) {
        const k = features.start(arc, ctx.name, sw, bi);
        if (k >= 0) {
          nexts[i] = k;
          single = false;
        }
      }
    }
    counters[sw * COUNTERS + InterfaceCounter.RX_PACKETS] += i - runStart;
    counters[sw * COUNTERS + InterfaceCounter.RX_BYTES] += bytes;
    const pcap = vnet.pcapTrace;
    if (pcap.rxEnabled) pcap.captureFrame(pool, buffers.subarray(runStart, i), i - runStart, sw);
  }
  if (single) ctx.toSingleNext(0);
  return m;
}

export default defineNode({
  name: 'loopback-input',
  type: 'input',
  state: 'interrupt',
  nexts: NEXTS,
  trace: (ctx, bi) =>
    `loopback: sw_if_index ${ctx.pool.rxInterface[bi]}, ${ctx.pool.packetLength(bi)} bytes\n` +
    ctx.engine.vnet.formatPacket(ctx.pool, bi, ctx.pool.current[bi]),
  process,
});
