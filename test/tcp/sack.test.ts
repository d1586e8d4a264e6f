// The SACK scoreboard against a per-byte model of RFC 6675's definitions — IsLost, SetPipe,
// NextSeg rules 1 and 3 — with sequence numbers placed across the 2^32 wrap.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DUP_THRESH, SackScoreboard } from '../../src/tcp/sack.ts';

const SMSS = 100;
const SPAN = 3000;

/**
 * RFC 6675 IsLost for every byte of the model: more than (DupThresh − 1)·SMSS sacked bytes,
 * or DupThresh discontiguous sacked runs, above it. Suffix counts keep it linear.
 */
function lostMap(sacked: boolean[]): boolean[] {
  const n = sacked.length;
  const lost: boolean[] = new Array(n).fill(false);
  let bytes = 0;
  let runs = 0;
  for (let i = n - 1; i >= 0; i--) {
    lost[i] = runs >= DUP_THRESH || bytes > (DUP_THRESH - 1) * SMSS;
    if (sacked[i]) {
      bytes++;
      if (i === 0 || !sacked[i - 1]) runs++;
    }
  }
  return lost;
}

describe('tcp SACK scoreboard', () => {
  it('matches RFC 6675 IsLost / SetPipe / NextSeg on a per-byte model, across the wrap', () => {
    const block = fc.tuple(fc.integer({ min: -200, max: SPAN + 200 }), fc.integer({ min: 0, max: 600 }));
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.array(block, { minLength: 1, maxLength: 4 }).map((blocks) => ({ kind: 'sack' as const, blocks })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 800 }).map((n) => ({ kind: 'advance' as const, n })) },
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(0xffffff00), fc.integer({ min: 0, max: 0xffffffff })), fc.array(step, { maxLength: 12 }),
        fc.integer({ min: 0, max: SPAN }), fc.integer({ min: 4, max: 64 }),
        (base, steps, highRxtOffset, capacity) => {
          const board = new SackScoreboard(capacity);
          let una = 0;
          const sacked: boolean[] = new Array(SPAN).fill(false);
          const seq = (offset: number): number => (base + offset) >>> 0;
          for (const s of steps) {
            if (s.kind === 'advance') {
              una = Math.min(SPAN, una + s.n);
              board.advance(seq(una));
              for (let i = 0; i < una; i++) sacked[i] = false;
              continue;
            }
            // One block at a time, as the board takes them: inside (una, SPAN], the left edge
            // clipped to una; a full board refuses a block that merges with none it holds.
            for (const [left, length] of s.blocks) {
              const full = board.count === capacity;
              board.update(Uint32Array.from([seq(left), seq(left + length)]), 1, seq(una), seq(SPAN));
              const right = left + length;
              if (length <= 0 || right <= una || right > SPAN) continue;
              const from = Math.max(left, una);
              if (full && !board.isSacked(seq(from))) continue;
              for (let i = from; i < right; i++) sacked[i] = true;
            }
          }
          // Structure: sorted, disjoint, non-touching, within (una, SPAN], byte count right.
          let total = 0;
          for (let i = 0; i < board.count; i++) {
            const start = (board.starts[i] - base) >>> 0;
            const end = (board.ends[i] - base) >>> 0;
            assert.ok(start >= una && start < end && end <= SPAN, `block ${start}..${end} una ${una}`);
            if (i > 0) assert.ok(((board.ends[i - 1] - base) >>> 0) < start, 'blocks apart');
            total += end - start;
          }
          assert.ok(board.count <= capacity);
          assert.equal(board.sackedBytes, total);
          for (let i = una; i < SPAN; i++) assert.equal(board.isSacked(seq(i)), sacked[i], `byte ${i}`);
          // SetPipe, per byte.
          const highRxt = Math.max(una, Math.min(highRxtOffset, SPAN));
          const lost = lostMap(sacked);
          const isLost = (_: boolean[], i: number): boolean => lost[i];
          let pipe = 0;
          for (let i = una; i < SPAN; i++) {
            if (sacked[i]) continue;
            if (!isLost(sacked, i)) pipe++;
            if (i < highRxt) pipe++;
          }
          assert.equal(board.pipe(seq(una), seq(SPAN), seq(highRxt), SMSS), pipe, 'pipe');
          // NextSeg rules 1 and 3.
          let highSacked = -1;
          for (let i = SPAN - 1; i >= 0; i--) if (sacked[i]) { highSacked = i; break; }
          let rule1 = -1;
          let rule3 = -1;
          for (let i = highRxt; i < highSacked; i++) {
            if (sacked[i]) continue;
            if (rule3 < 0) rule3 = i;
            if (rule1 < 0 && isLost(sacked, i)) rule1 = i;
          }
          const got1 = board.nextRetransmit(seq(una), seq(highRxt), SMSS, true);
          assert.equal(got1 < 0 ? -1 : (got1 - base) >>> 0, rule1, 'rule 1');
          const got3 = board.nextRetransmit(seq(una), seq(highRxt), SMSS, false);
          assert.equal(got3 < 0 ? -1 : (got3 - base) >>> 0, rule3, 'rule 3');
          assert.equal(board.firstHoleLost(seq(una), SMSS), una < SPAN && !sacked[una] && highSacked > una && isLost(sacked, una));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ignores D-SACK blocks below SND.UNA and blocks past SND.MAX', () => {
    const board = new SackScoreboard();
    assert.equal(board.update(Uint32Array.from([50, 90, 200, 400]), 2, 100, 300), false);
    assert.equal(board.count, 0);
    assert.equal(board.update(Uint32Array.from([150, 160]), 1, 100, 300), true);
    assert.equal(board.update(Uint32Array.from([150, 160]), 1, 100, 300), false, 'nothing new');
    assert.equal(board.highSacked(0), 160);
  });
});
