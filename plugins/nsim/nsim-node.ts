// nsim-output-feature: the network simulator on an interface's output (VPP's nsim output
// feature), a feature on the `interface-output` arc between `<if>-output` and `<if>-tx`.
// Per packet, with the engine's seeded random source (nsim-state.ts), in this order of
// draws (each true when a 31-bit draw is below fraction × 2^31; none for a fraction of 0):
// lose it (drop-fraction → error-drop, counted); reorder it (reorder-fraction: it skips
// the delay and goes on at once, overtaking what is held); duplicate it
// (duplicate-fraction: a copy of the whole buffer chain is held after it). Every other
// packet is held in the interface's ring until its release time (delay, and pacing by
// bandwidth), when `nsim-wheel` sends it on along the arc; with neither delay nor
// bandwidth it goes on at once unless packets are held before it. A full ring drops the
// packet, counted. Reads: txInterface, length, flags, chainRest. Writes: error (drops).
// Next: the arc's next feature (the interface's tx) or error-drop; held packets leave the
// vector (the node returns fewer than it was given).

import { BufferFlag, defineNode, indices, NONE, type NodeContext } from '../../src/index.ts';
import { NSIM_NODE, nsimMain } from './nsim-state.ts';

const NEXTS = { drop: 'error-drop' } as const;
/** VPP's nsim counters, and the two duplicates add. */
export const NSIM_ERRORS = {
  buffered: 'Packets buffered',
  full: 'Packets dropped due to lack of space',
  loss: 'Network loss simulation drop packets',
  reordered: 'Packets reordered',
  duplicated: 'Packets duplicated',
  noBuffer: 'Packets not duplicated for want of a buffer',
} as const;
export const NSIM_NEXT = indices(NEXTS);
export const NSIM_ERROR = indices(NSIM_ERRORS);

const NEXT_PRESENT = BufferFlag.NEXT_PRESENT;

function trace(ctx: NodeContext, bi: number): string {
  const pool = ctx.pool;
  const code = pool.error[bi];
  if (code === ctx.errorCode(NSIM_ERROR.loss)) return 'NSIM: dropped, simulated network loss';
  if (code === ctx.errorCode(NSIM_ERROR.full)) return 'NSIM: dropped, no space in ring';
  const sw = pool.txInterface[bi];
  const ring = nsimMain(ctx.engine).rings[sw] ?? null;
  if (ring !== null) {
    // The trace pass runs in the same turn as the node: a held packet is still in its ring.
    for (let i = 0; i < ring.count; i++) {
      const at = (ring.head + i) % ring.size;
      if (ring.buffers[at] === bi) return `NSIM: tx time ${(ring.release[at] / 1e9).toFixed(6)} sw_if_index ${sw}`;
    }
  }
  return `NSIM: sent on at once, sw_if_index ${sw}`;
}

export default defineNode({
  name: NSIM_NODE,
  nexts: NEXTS,
  errors: NSIM_ERRORS,
  trace,
  process(ctx, buffers, n, nexts) {
    const main = nsimMain(ctx.engine);
    const pool = ctx.pool;
    const txInterface = pool.txInterface;
    const length = pool.length;
    const flags = pool.flags;
    const chainRest = pool.chainRest;
    const bufferError = pool.error;
    const rings = main.rings;
    const ringCount = rings.length;
    const random = main.random;
    const drop = main.dropThreshold;
    const reorder = main.reorderThreshold;
    const duplicate = main.duplicateThreshold;
    const passThrough = main.passThrough;
    main.nowNs = ctx.engine.turnTimeNs;
    const lossCode = ctx.errorCode(NSIM_ERROR.loss);
    const fullCode = ctx.errorCode(NSIM_ERROR.full);
    let m = 0;
    let buffered = 0;
    let full = 0;
    let lost = 0;
    let reordered = 0;
    let duplicated = 0;
    let noBuffer = 0;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const sw = txInterface[bi];
      const ring = sw < ringCount ? rings[sw] : null;
      if (ring === null) {
        // Never enabled here (a packet of another arc chain): nothing to simulate.
        nexts[m] = ctx.featureNext(bi);
        buffers[m++] = bi;
        continue;
      }
      if (drop > 0 && random.nextU31() < drop) {
        nexts[m] = NSIM_NEXT.drop;
        bufferError[bi] = lossCode;
        buffers[m++] = bi;
        lost++;
        continue;
      }
      const k = ctx.featureNext(bi);
      const reorderThis = reorder > 0 && random.nextU31() < reorder;
      let copy = NONE;
      if (duplicate > 0 && random.nextU31() < duplicate) {
        copy = main.copyPacket(pool, bi);
        if (copy === NONE) noBuffer++;
        else duplicated++;
      }
      if (reorderThis) {
        // A reordered packet skips the delay, so it overtakes the packets held.
        nexts[m] = k;
        buffers[m++] = bi;
        reordered++;
      } else if (passThrough && ring.count === 0) {
        nexts[m] = k;
        buffers[m++] = bi;
      } else {
        const bytes = length[bi] + ((flags[bi] & NEXT_PRESENT) !== 0 ? chainRest[bi] : 0);
        if (main.hold(ring, bi, k, bytes)) buffered++;
        else {
          nexts[m] = NSIM_NEXT.drop;
          bufferError[bi] = fullCode;
          buffers[m++] = bi;
          full++;
        }
      }
      if (copy !== NONE) {
        const bytes = length[copy] + ((flags[copy] & NEXT_PRESENT) !== 0 ? chainRest[copy] : 0);
        if (main.hold(ring, copy, k, bytes)) buffered++;
        else {
          pool.freeChain(copy); // never entered the graph: freed here, counted as a full-ring drop
          full++;
        }
      }
    }
    const errors = ctx.errors;
    errors[NSIM_ERROR.buffered] += buffered;
    errors[NSIM_ERROR.full] += full;
    errors[NSIM_ERROR.loss] += lost;
    errors[NSIM_ERROR.reordered] += reordered;
    errors[NSIM_ERROR.duplicated] += duplicated;
    errors[NSIM_ERROR.noBuffer] += noBuffer;
    if (main.earliestNs !== Infinity) main.wakeUp();
    return m;
  },
});
