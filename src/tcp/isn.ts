// Initial sequence numbers (RFC 6528 §3): ISN = M + F(localip, localport, remoteip,
// remoteport, secretkey), with M a 4-microsecond timer and F a keyed hash, so that an
// off-path attacker cannot predict the ISN of a connection it did not see while sequence
// numbers of successive incarnations of one 4-tuple still move forward. F is the first 32
// bits of HMAC-SHA-256 under a secret made at stack creation. It runs at connection setup
// only (node:crypto allocates), never per segment.

import { createHmac, randomBytes } from 'node:crypto';

export class IsnGenerator {
  private readonly secret: Uint8Array;
  private readonly tuple = new Uint8Array(12);

  /** `secret`: 16+ bytes; random when absent (tests pass one to replay a run). */
  constructor(secret?: Uint8Array) {
    this.secret = secret ?? randomBytes(16);
  }

  /** `nowMs` is the stack's clock; M counts 4 µs ticks of it. */
  isn(localAddress: number, localPort: number, remoteAddress: number, remotePort: number, nowMs: number): number {
    const t = this.tuple;
    t[0] = localAddress >>> 24;
    t[1] = localAddress >>> 16;
    t[2] = localAddress >>> 8;
    t[3] = localAddress;
    t[4] = localPort >>> 8;
    t[5] = localPort;
    t[6] = remoteAddress >>> 24;
    t[7] = remoteAddress >>> 16;
    t[8] = remoteAddress >>> 8;
    t[9] = remoteAddress;
    t[10] = remotePort >>> 8;
    t[11] = remotePort;
    const digest = createHmac('sha256', this.secret).update(t).digest();
    const f = ((digest[0] << 24) | (digest[1] << 16) | (digest[2] << 8) | digest[3]) >>> 0;
    const m = Math.floor(nowMs * 250) % 4294967296;
    return (f + m) >>> 0;
  }
}
