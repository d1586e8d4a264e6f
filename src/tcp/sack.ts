// The sender's SACK scoreboard (RFC 2018, RFC 6675): which bytes above SND.UNA the peer has
// reported holding. Kept as sorted, disjoint (start, end) blocks in typed arrays — bounded,
// allocation-free — from which loss recovery derives what RFC 6675 §4 needs: whether a hole
// is lost (IsLost: more than (DupThresh − 1)·SMSS bytes, or DupThresh blocks, SACKed above
// it — the same for every byte of one hole, so decided per hole), the pipe (SetPipe), and
// the next segment to send (NextSeg rules 1 and 3; rule 2, new data, is the caller's).
// Blocks below SND.UNA (D-SACK, RFC 2883) or above SND.MAX are ignored; a block that would
// exceed the bound is dropped (the peer repeats its SACK information on later ACKs).

import { seqGeq, seqGt, seqLeq, seqLt, seqMax } from './seq.ts';

/** RFC 6675 §2: DupThresh. */
export const DUP_THRESH = 3;

export class SackScoreboard {
  readonly capacity: number;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  count = 0;
  /** Bytes in all blocks. */
  sackedBytes = 0;
  /** Set by nextRetransmit: the end of the hole it chose. */
  holeEnd = 0;

  constructor(capacity = 32) {
    this.capacity = capacity;
    this.starts = new Uint32Array(capacity);
    this.ends = new Uint32Array(capacity);
  }

  clear(): void {
    this.count = 0;
    this.sackedBytes = 0;
  }

  /** End of the highest block (RFC 6675 HighACK's complement: the highest SACKed byte + 1), or `otherwise`. */
  highSacked(otherwise: number): number {
    return this.count === 0 ? otherwise : this.ends[this.count - 1];
  }

  /**
   * Adds the peer's blocks (edges as pairs in `blocks`) valid for [sndUna, sndMax). Returns
   * true when the scoreboard learned something new (RFC 6675: such an ACK counts as a
   * duplicate for loss detection).
   */
  update(blocks: Uint32Array, blockCount: number, sndUna: number, sndMax: number): boolean {
    const before = this.sackedBytes;
    for (let k = 0; k < blockCount; k++) {
      let left = blocks[2 * k];
      const right = blocks[2 * k + 1];
      if (!seqLt(left, right) || seqLeq(right, sndUna) || seqGt(right, sndMax)) continue;
      if (seqLt(left, sndUna)) left = sndUna;
      this.insert(left, right);
    }
    return this.sackedBytes !== before;
  }

  /** Forgets everything below a new SND.UNA. */
  advance(sndUna: number): void {
    let drop = 0;
    while (drop < this.count && seqLeq(this.ends[drop], sndUna)) {
      this.sackedBytes -= (this.ends[drop] - this.starts[drop]) >>> 0;
      drop++;
    }
    if (drop > 0) this.remove(0, drop);
    if (this.count > 0 && seqLt(this.starts[0], sndUna)) {
      this.sackedBytes -= (sndUna - this.starts[0]) >>> 0;
      this.starts[0] = sndUna;
    }
  }

  /** Is the hole just below block `i` lost? (RFC 6675 §4 IsLost, evaluated per hole.) */
  holeIsLost(i: number, smss: number): boolean {
    if (this.count - i >= DUP_THRESH) return true;
    let above = 0;
    for (let k = i; k < this.count; k++) above += (this.ends[k] - this.starts[k]) >>> 0;
    return above > (DUP_THRESH - 1) * smss;
  }

  /** RFC 6675 IsLost(SND.UNA): the first hole is lost (false when nothing is SACKed). */
  firstHoleLost(sndUna: number, smss: number): boolean {
    return this.count > 0 && seqGt(this.starts[0], sndUna) && this.holeIsLost(0, smss);
  }

  /**
   * RFC 6675 SetPipe: bytes in [sndUna, sndMax) not SACKed and not lost, plus bytes
   * retransmitted (below highRxt) — once for lost holes, a second time for holes not lost.
   */
  pipe(sndUna: number, sndMax: number, highRxt: number, smss: number): number {
    let pipe = 0;
    let holeStart = sndUna;
    for (let i = 0; i < this.count; i++) {
      const holeEnd = this.starts[i];
      const hole = (holeEnd - holeStart) | 0;
      if (hole > 0) {
        let retransmitted = (highRxt - holeStart) | 0;
        if (retransmitted < 0) retransmitted = 0;
        else if (retransmitted > hole) retransmitted = hole;
        pipe += this.holeIsLost(i, smss) ? retransmitted : hole + retransmitted;
      }
      holeStart = seqMax(holeStart, this.ends[i]);
    }
    // Above the highest SACK nothing is lost; retransmitted bytes there count twice too.
    const rest = (sndMax - holeStart) | 0;
    if (rest <= 0) return pipe;
    let retransmitted = (highRxt - holeStart) | 0;
    if (retransmitted < 0) retransmitted = 0;
    else if (retransmitted > rest) retransmitted = rest;
    return pipe + rest + retransmitted;
  }

  /**
   * RFC 6675 NextSeg: the first byte at or above highRxt that is not SACKed and lies in a
   * lost hole (rule 1) or, with `lostOnly` false, in any hole below the highest SACK (rule
   * 3). Returns the sequence number, with the hole's end in `holeEnd`; −1 when there is none.
   */
  nextRetransmit(sndUna: number, highRxt: number, smss: number, lostOnly: boolean): number {
    let holeStart = sndUna;
    for (let i = 0; i < this.count; i++) {
      const end = this.starts[i];
      const start = seqMax(holeStart, highRxt);
      if (seqLt(start, end) && (!lostOnly || this.holeIsLost(i, smss))) {
        this.holeEnd = end;
        return start;
      }
      holeStart = seqMax(holeStart, this.ends[i]);
    }
    return -1;
  }

  /** Is `seq` inside a block? */
  isSacked(seq: number): boolean {
    for (let i = 0; i < this.count; i++) {
      if (seqGeq(seq, this.starts[i]) && seqLt(seq, this.ends[i])) return true;
    }
    return false;
  }

  private insert(left: number, right: number): void {
    const count = this.count;
    // Blocks i..j-1 overlap or touch [left, right).
    let i = 0;
    while (i < count && seqLt(this.ends[i], left)) i++;
    let j = i;
    while (j < count && seqLeq(this.starts[j], right)) j++;
    if (i === j) {
      if (count === this.capacity) return;
      this.starts.copyWithin(i + 1, i, count);
      this.ends.copyWithin(i + 1, i, count);
      this.starts[i] = left;
      this.ends[i] = right;
      this.count = count + 1;
      this.sackedBytes += (right - left) >>> 0;
      return;
    }
    let start = left;
    let end = right;
    for (let k = i; k < j; k++) {
      this.sackedBytes -= (this.ends[k] - this.starts[k]) >>> 0;
      if (seqLt(this.starts[k], start)) start = this.starts[k];
      if (seqGt(this.ends[k], end)) end = this.ends[k];
    }
    this.starts[i] = start;
    this.ends[i] = end;
    this.sackedBytes += (end - start) >>> 0;
    if (j - i > 1) this.remove(i + 1, j);
  }

  /** Removes blocks [i, j). */
  private remove(i: number, j: number): void {
    this.starts.copyWithin(i, j, this.count);
    this.ends.copyWithin(i, j, this.count);
    this.count -= j - i;
  }
}
