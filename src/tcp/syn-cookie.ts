// SYN cookies (RFC 4987 §3.6), as Linux makes them in spirit: when a listener's backlog of
// half-open connections is full, the SYN-ACK's ISN carries everything needed to build the
// connection later, and nothing is kept. This module owns the cookie's layout and its keyed
// hash; the stack (stack.ts) decides when to send one and builds the connection from the
// ACK that returns it.
//
// The ISN is h1 + ISN(client) + V with V = data · 2^28 + MAC₂₈, where
//   h1  = SipHash(tuple, domain "h1")            — hides V and makes the ISN per 4-tuple,
//   data = timestamps flag · 8 + MSS index        — 4 bits (an index into SYN_COOKIE_MSS_TABLE),
//   MAC = SipHash(tuple, ISN(client), t, data)    — 28 bits, t = ⌊now / 64 s⌋.
// The ACK's SEG.ACK − 1 is the cookie and SEG.SEQ − 1 the client's ISN; subtracting h1 and the
// ISN gives V, whose top 4 bits say what the MAC must cover. The MAC is checked for the
// current counter and the one before (a cookie lives 64–128 s), so a forged ACK passes with
// probability 2 · 2^−28 and any changed bit of a real cookie fails but for the same chance.
//
// When the SYN carried timestamps the SYN-ACK's TSval carries what the 32-bit ISN cannot: its
// low SYN_COOKIE_TS_BITS bits hold the peer's window scale, SACK-permitted and our window
// scale (Linux packs the same into its TSval), and the ACK's TSecr gives them back. TSval is
// the clock with those bits replaced, moved one step back if that put it in the future, so our
// later TSvals never go backwards for the peer's PAWS. Without timestamps a cookie connection
// has neither window scaling nor SACK (RFC 4987 §3.6's known cost).
//
// The keyed hash is SipHash-2-4 (what Linux uses for its cookies), in 32-bit halves over six
// words with no allocation: two per SYN, two or three per ACK, all under a flood. isn.ts's
// HMAC-SHA-256 through node:crypto would allocate and cost 12–17× as much (measured side by
// side: 0.10–0.14 µs per cookie against 1.7–1.8 µs per HMAC). The key is derived once from the
// stack's RFC 6528 secret (isn.ts) by that HMAC with a label, so the ISN hash and the cookie
// hash never share a key.

import { createHmac } from 'node:crypto';

/** MSS values a cookie can say (3 bits), ascending: the largest not above the peer's MSS is kept. */
export const SYN_COOKIE_MSS_TABLE: readonly number[] = [88, 536, 1220, 1360, 1440, 1460, 8960, 65495];
/** Length of one counter period. */
export const SYN_COOKIE_PERIOD_MS = 64_000;
/** How long after the last cookie sent an ACK to a listener may still carry a valid one (two periods). */
export const SYN_COOKIE_LIFETIME_MS = 2 * SYN_COOKIE_PERIOD_MS;
/** Low TSval bits that carry the options. */
export const SYN_COOKIE_TS_BITS = 9;
/** What `decodeSynCookie` and `decodeSynCookieTsEcr` return for a cookie that does not check. */
export const SYN_COOKIE_INVALID = -1;
/** In the packed options: no window scale (the peer offered none, or we do not scale). */
export const SYN_COOKIE_NO_WSCALE = 15;

const TS_MASK = (1 << SYN_COOKIE_TS_BITS) - 1;
const MAC_MASK = 0x0fffffff;
const DOMAIN_H1 = 0xffffffff;
const TIMESTAMPS_FLAG = 8;
const MAX_WSCALE = 14;

/** The 128-bit SipHash key as four little-endian words (k0 low, k0 high, k1 low, k1 high). */
export type SynCookieKey = Uint32Array;

/** The cookie key from the stack's ISN secret (setup only: node:crypto allocates). */
export function deriveSynCookieKey(secret: Uint8Array): SynCookieKey {
  const digest = createHmac('sha256', secret).update('vecnet tcp syn cookie key').digest();
  const key = new Uint32Array(4);
  for (let i = 0; i < 4; i++) key[i] = digest.readUInt32LE(4 * i);
  return key;
}

// ---------------------------------------------------------------- SipHash-2-4

/** The high word of the last result: a typed array, as a module `let` holding a number above 2^31 allocates per store. */
const highWord = new Uint32Array(1);

/**
 * SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF") under `key` of the
 * 24-byte message w0 ‖ w1 ‖ … ‖ w5, each word little-endian. Returns the low 32 bits of the
 * 64-bit result as an Int32 (`>>> 0` for the unsigned value); `sipHashHighWord()` gives the
 * high 32. Int32 because a number above 2^31 returned from a call V8 does not inline is boxed:
 * unsigned results cost one allocation per SYN (measured: 5 scavenges per 5 M cookies, 0 now).
 *
 * Each 64-bit state word is a pair of Int32 locals (high, low) so V8 keeps them in registers:
 * a 64-bit add is the low words' sum with its carry — the unsigned sum is below an addend
 * exactly when it wrapped — into the high words; a rotation left by b < 32 takes each half's
 * top b bits into the other half; by 32 it swaps the halves. Steps 0–2 compress the three
 * message blocks, step 3 the last block (no bytes left over, the length 24 in its top byte),
 * each with two SipRounds; step 4 is the finalization's four.
 */
export function sipHash24(key: SynCookieKey, w0: number, w1: number, w2: number, w3: number, w4: number, w5: number): number {
  const k0l = key[0] | 0, k0h = key[1] | 0, k1l = key[2] | 0, k1h = key[3] | 0;
  let v0l = k0l ^ 0x70736575, v0h = k0h ^ 0x736f6d65;
  let v1l = k1l ^ 0x6e646f6d, v1h = k1h ^ 0x646f7261;
  let v2l = k0l ^ 0x6e657261, v2h = k0h ^ 0x6c796765;
  let v3l = k1l ^ 0x79746573, v3h = k1h ^ 0x74656462;
  for (let step = 0; step < 5; step++) {
    let ml = 0;
    let mh = 0;
    let rounds = 2;
    if (step === 0) {
      ml = w0 | 0;
      mh = w1 | 0;
    } else if (step === 1) {
      ml = w2 | 0;
      mh = w3 | 0;
    } else if (step === 2) {
      ml = w4 | 0;
      mh = w5 | 0;
    } else if (step === 3) {
      mh = 24 << 24;
    } else {
      v2l ^= 0xff;
      rounds = 4;
    }
    v3l ^= ml;
    v3h ^= mh;
    for (let r = 0; r < rounds; r++) {
      let l: number;
      let h: number;
      // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
      l = (v0l + v1l) | 0;
      v0h = (v0h + v1h + ((l >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
      v0l = l;
      h = v1h;
      l = v1l;
      v1h = ((h << 13) | (l >>> 19)) ^ v0h;
      v1l = ((l << 13) | (h >>> 19)) ^ v0l;
      h = v0h;
      v0h = v0l;
      v0l = h;
      // v2 += v3; v3 = rotl(v3, 16) ^ v2
      l = (v2l + v3l) | 0;
      v2h = (v2h + v3h + ((l >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
      v2l = l;
      h = v3h;
      l = v3l;
      v3h = ((h << 16) | (l >>> 16)) ^ v2h;
      v3l = ((l << 16) | (h >>> 16)) ^ v2l;
      // v0 += v3; v3 = rotl(v3, 21) ^ v0
      l = (v0l + v3l) | 0;
      v0h = (v0h + v3h + ((l >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
      v0l = l;
      h = v3h;
      l = v3l;
      v3h = ((h << 21) | (l >>> 11)) ^ v0h;
      v3l = ((l << 21) | (h >>> 11)) ^ v0l;
      // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
      l = (v2l + v1l) | 0;
      v2h = (v2h + v1h + ((l >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
      v2l = l;
      h = v1h;
      l = v1l;
      v1h = ((h << 17) | (l >>> 15)) ^ v2h;
      v1l = ((l << 17) | (h >>> 15)) ^ v2l;
      h = v2h;
      v2h = v2l;
      v2l = h;
    }
    v0l ^= ml;
    v0h ^= mh;
  }
  highWord[0] = v0h ^ v1h ^ v2h ^ v3h;
  return v0l ^ v1l ^ v2l ^ v3l;
}

/** The high 32 bits of the last `sipHash24` result. */
export function sipHashHighWord(): number {
  return highWord[0];
}

// ---------------------------------------------------------------- the cookie

/** The index of the largest table MSS not above `mss` (0 below the table's first entry). */
export function synCookieMssIndex(mss: number): number {
  const table = SYN_COOKIE_MSS_TABLE;
  let i = table.length - 1;
  while (i > 0 && table[i] > mss) i--;
  return i;
}

/** The MSS a cookie's data stands for. */
export function synCookieMss(data: number): number {
  return SYN_COOKIE_MSS_TABLE[data & 7];
}

/** Whether a cookie's data says the SYN carried timestamps (and so the options are in TSecr). */
export function synCookieTimestamps(data: number): boolean {
  return (data & TIMESTAMPS_FLAG) !== 0;
}

/** The coarse clock: 64 s periods. */
export function synCookieCounter(nowMs: number): number {
  return Math.floor(nowMs / SYN_COOKIE_PERIOD_MS) >>> 0;
}

function h1(key: SynCookieKey, localAddress: number, ports: number, remoteAddress: number): number {
  return sipHash24(key, localAddress, ports, remoteAddress, 0, 0, DOMAIN_H1);
}

function mac(key: SynCookieKey, localAddress: number, ports: number, remoteAddress: number, clientIsn: number, counter: number, data: number): number {
  return sipHash24(key, localAddress, ports, remoteAddress, clientIsn, counter, data) & MAC_MASK;
}

/**
 * The ISN for a SYN-ACK answering a SYN with sequence number `clientIsn` on the 4-tuple, at
 * `nowMs`; `mssIndex` from `synCookieMssIndex`, `timestamps` when the SYN-ACK carries them.
 * As an Int32 (see `sipHash24`): `>>> 0` gives the sequence number.
 */
export function encodeSynCookie(
  key: SynCookieKey, localAddress: number, localPort: number, remoteAddress: number, remotePort: number,
  clientIsn: number, mssIndex: number, timestamps: boolean, nowMs: number,
): number {
  const ports = ((localPort & 0xffff) | ((remotePort & 0xffff) << 16)) >>> 0;
  const data = (mssIndex & 7) | (timestamps ? TIMESTAMPS_FLAG : 0);
  const counter = synCookieCounter(nowMs);
  const v = data * 0x10000000 + mac(key, localAddress, ports, remoteAddress, clientIsn, counter, data);
  return (h1(key, localAddress, ports, remoteAddress) + clientIsn + v) | 0;
}

/**
 * Checks `cookie` (SEG.ACK − 1) for `clientIsn` (SEG.SEQ − 1) on the 4-tuple at `nowMs`:
 * the cookie's data (`synCookieMss`, `synCookieTimestamps`), or SYN_COOKIE_INVALID when it
 * was not made for this tuple and ISN, was changed, or is older than two periods.
 */
export function decodeSynCookie(
  key: SynCookieKey, localAddress: number, localPort: number, remoteAddress: number, remotePort: number,
  clientIsn: number, cookie: number, nowMs: number,
): number {
  const ports = ((localPort & 0xffff) | ((remotePort & 0xffff) << 16)) >>> 0;
  const v = (cookie - h1(key, localAddress, ports, remoteAddress) - clientIsn) >>> 0;
  const data = v >>> 28;
  const given = v & MAC_MASK;
  const counter = synCookieCounter(nowMs);
  if (mac(key, localAddress, ports, remoteAddress, clientIsn, counter, data) === given) return data;
  if (counter > 0 && mac(key, localAddress, ports, remoteAddress, clientIsn, counter - 1, data) === given) return data;
  return SYN_COOKIE_INVALID;
}

// ---------------------------------------------------------------- options in the timestamp

/**
 * The SYN-ACK's TSval: the clock (ms) with its low bits replaced by the options — bits 0–3
 * the peer's window scale (SYN_COOKIE_NO_WSCALE for none), bit 4 SACK-permitted, bits 5–8 our
 * window scale — and one step (2^SYN_COOKIE_TS_BITS ms) back if that is ahead of the clock.
 */
export function encodeSynCookieTsVal(nowMs: number, peerWscale: number, sackPermitted: boolean, ourWscale: number): number {
  const now = Math.floor(nowMs) >>> 0;
  const peer = peerWscale < 0 ? SYN_COOKIE_NO_WSCALE : peerWscale > MAX_WSCALE ? MAX_WSCALE : peerWscale;
  const ours = peer === SYN_COOKIE_NO_WSCALE ? 0 : ourWscale > MAX_WSCALE ? MAX_WSCALE : ourWscale;
  const options = peer | (sackPermitted ? 16 : 0) | (ours << 5);
  const tsVal = ((now & ~TS_MASK) | options) >>> 0;
  return (tsVal & TS_MASK) > (now & TS_MASK) ? (tsVal - (TS_MASK + 1)) >>> 0 : tsVal;
}

/** The options packed in an ACK's TSecr (read with the accessors below), or SYN_COOKIE_INVALID. */
export function decodeSynCookieTsEcr(tsEcr: number): number {
  const options = tsEcr & TS_MASK;
  const peer = options & 15;
  const ours = options >>> 5;
  if (ours > MAX_WSCALE || (peer === SYN_COOKIE_NO_WSCALE && ours !== 0)) return SYN_COOKIE_INVALID;
  return options;
}

/** The peer's window scale from packed options, −1 for none. */
export function synCookiePeerWscale(options: number): number {
  const peer = options & 15;
  return peer === SYN_COOKIE_NO_WSCALE ? -1 : peer;
}

/** Our window scale from packed options (0 when the peer does not scale). */
export function synCookieOurWscale(options: number): number {
  return (options >>> 5) & 15;
}

/** SACK-permitted from packed options. */
export function synCookieSackPermitted(options: number): boolean {
  return (options & 16) !== 0;
}
