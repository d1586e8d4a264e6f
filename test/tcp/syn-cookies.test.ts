// SYN cookies (RFC 4987 §3.6): the keyed hash against SipHash-2-4's published vectors and a
// BigInt reference; the cookie and its TSval options as properties (round trip within two
// periods for any 4-tuple, MSS and options; rejection for another tuple or ISN, another key,
// any flipped bit, an expired or future counter); then two stacks back to back — a listener
// flooded with spoofed SYNs still lets a genuine client connect and move data byte-exact, a
// forged ACK gets a reset and no connection, and a cookie connection keeps the peer's MSS,
// window scale, SACK and timestamps. Last, the same through the whole graph in one engine:
// the builtin echo apps with every connection made from a cookie, seen in `show tcp stats`.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeSynCookie, decodeSynCookieTsEcr, encodeSynCookie, encodeSynCookieTsVal, sipHash24, sipHashHighWord,
  synCookieMss, synCookieMssIndex, synCookieOurWscale, synCookiePeerWscale, synCookieSackPermitted, synCookieTimestamps,
  SYN_COOKIE_INVALID, SYN_COOKIE_MSS_TABLE, SYN_COOKIE_PERIOD_MS, SYN_COOKIE_TS_BITS, type SynCookieKey,
} from '../../src/tcp/syn-cookie.ts';
import { TcpState, type TcpConnection } from '../../src/tcp/connection.ts';
import { TcpFlags, parseTcpHeader, type TcpHeader, type TcpOptions } from '../../src/wire/tcp.ts';
import { seqLeq } from '../../src/tcp/seq.ts';
import {
  ADDRESS_A, ADDRESS_B, checkAll, craft, heldHeaders, heldNet, Net, PORT_A, PORT_B, Random, streamBytes, type Host, type NetOptions,
} from './helpers.ts';
import { SERVER_IP, twoVrfs } from '../session/topology.ts';

const { SYN, ACK, RST } = TcpFlags;

// ---------------------------------------------------------------- SipHash-2-4

const MASK64 = (1n << 64n) - 1n;

function rotl64(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK64;
}

function readLe64(bytes: Uint8Array, at: number): bigint {
  let x = 0n;
  for (let i = 7; i >= 0; i--) x = (x << 8n) | BigInt(bytes[at + i]);
  return x;
}

/** SipHash-2-4 as the paper states it, on 64-bit BigInts, for any message length. */
function sipHashReference(key: Uint8Array, message: Uint8Array): bigint {
  const k0 = readLe64(key, 0);
  const k1 = readLe64(key, 8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & MASK64; v1 = rotl64(v1, 13n); v1 ^= v0; v0 = rotl64(v0, 32n);
    v2 = (v2 + v3) & MASK64; v3 = rotl64(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & MASK64; v3 = rotl64(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & MASK64; v1 = rotl64(v1, 17n); v1 ^= v2; v2 = rotl64(v2, 32n);
  };
  const compress = (m: bigint): void => {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  };
  const full = message.length & ~7;
  for (let at = 0; at < full; at += 8) compress(readLe64(message, at));
  let last = BigInt(message.length & 0xff) << 56n;
  for (let i = full; i < message.length; i++) last |= BigInt(message[i]) << BigInt(8 * (i - full));
  compress(last);
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

function keyWords(key: Uint8Array): SynCookieKey {
  const view = new DataView(key.buffer, key.byteOffset, 16);
  return new Uint32Array([0, 4, 8, 12].map((at) => view.getUint32(at, true)));
}

function messageWords(message: Uint8Array): number[] {
  const view = new DataView(message.buffer, message.byteOffset, 24);
  return [0, 4, 8, 12, 16, 20].map((at) => view.getUint32(at, true));
}

/** The fast 24-byte SipHash's full 64-bit result. */
function sipHashFast(key: Uint8Array, message: Uint8Array): bigint {
  const [w0, w1, w2, w3, w4, w5] = messageWords(message);
  const low = sipHash24(keyWords(key), w0, w1, w2, w3, w4, w5) >>> 0;
  return (BigInt(sipHashHighWord()) << 32n) | BigInt(low);
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

const range = (n: number, f: (i: number) => number = (i) => i): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i));

describe('syn cookies: SipHash-2-4', () => {
  // Published values (the SipHash paper's Appendix A and its test vectors), the last three
  // computed with OpenSSL 3 (`openssl mac -macopt hexkey:… -macopt size:8 SIPHASH`); each
  // is the 64-bit result whose little-endian bytes those tools print.
  const key = range(16);
  it('the reference matches the published vectors', () => {
    assert.equal(sipHashReference(key, new Uint8Array(0)), 0x726fdb47dd0e0e31n);
    assert.equal(sipHashReference(key, range(15)), 0xa129ca6149be45e5n);
    assert.equal(sipHashReference(key, range(24)), 0xb8ad50c6f649af94n);
  });

  it('the 24-byte fast path matches the vectors', () => {
    assert.equal(sipHashFast(key, range(24)), 0xb8ad50c6f649af94n);
    assert.equal(sipHashFast(hex('ffeeddccbbaa99887766554433221100'), new TextEncoder().encode('vecnet: syn cookies 4987')), 0x070f3b01835b5142n);
    assert.equal(sipHashFast(hex('0f1e2d3c4b5a69788796a5b4c3d2e1f0'), range(24, (i) => 255 - i)), 0x4612539be4d7fcaen);
  });

  it('the fast path equals the reference for any key and message', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 24, maxLength: 24 }),
      (k, m) => sipHashFast(k, m) === sipHashReference(k, m),
    ), { numRuns: 500 });
  });
});

// ---------------------------------------------------------------- the cookie

const arbKey = fc.tuple(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff)).map((w) => new Uint32Array(w));
const arbTuple = fc.record({
  localAddress: fc.nat(0xffffffff),
  localPort: fc.nat(0xffff),
  remoteAddress: fc.nat(0xffffffff),
  remotePort: fc.nat(0xffff),
  clientIsn: fc.nat(0xffffffff),
});
type Tuple = { localAddress: number; localPort: number; remoteAddress: number; remotePort: number; clientIsn: number };
/** Any time up to ~35 years of milliseconds. */
const arbNow = fc.integer({ min: 0, max: 2 ** 40 });

function encode(key: SynCookieKey, t: Tuple, mssIndex: number, timestamps: boolean, nowMs: number): number {
  return encodeSynCookie(key, t.localAddress, t.localPort, t.remoteAddress, t.remotePort, t.clientIsn, mssIndex, timestamps, nowMs);
}

function decode(key: SynCookieKey, t: Tuple, cookie: number, nowMs: number): number {
  return decodeSynCookie(key, t.localAddress, t.localPort, t.remoteAddress, t.remotePort, t.clientIsn, cookie, nowMs);
}

/** The latest time at which a cookie made at `nowMs` is still in its two periods. */
function lastValidMs(nowMs: number): number {
  return (Math.floor(nowMs / SYN_COOKIE_PERIOD_MS) + 2) * SYN_COOKIE_PERIOD_MS - 1;
}

describe('syn cookies: encode and decode', () => {
  it('keeps the largest table MSS not above the peer\'s', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 70000 }), (mss) => {
      const i = synCookieMssIndex(mss);
      const table = SYN_COOKIE_MSS_TABLE;
      if (i > 0) assert.ok(table[i] <= mss);
      if (i + 1 < table.length) assert.ok(table[i + 1] > mss);
    }));
    assert.equal(synCookieMssIndex(1460), SYN_COOKIE_MSS_TABLE.indexOf(1460));
    assert.equal(synCookieMssIndex(536), SYN_COOKIE_MSS_TABLE.indexOf(536));
  });

  it('round-trips any 4-tuple, MSS and timestamps flag for the whole of its two periods', () => {
    fc.assert(fc.property(
      arbKey, arbTuple, fc.integer({ min: 0, max: 65535 }), fc.boolean(), arbNow, fc.double({ min: 0, max: 1, noNaN: true }),
      (key, t, mss, timestamps, now, fraction) => {
        const mssIndex = synCookieMssIndex(mss);
        const cookie = encode(key, t, mssIndex, timestamps, now);
        const later = now + Math.floor(fraction * (lastValidMs(now) - now));
        const data = decode(key, t, cookie, later);
        assert.notEqual(data, SYN_COOKIE_INVALID, `made at ${now}, checked at ${later}`);
        assert.equal(synCookieMss(data), SYN_COOKIE_MSS_TABLE[mssIndex]);
        assert.equal(synCookieTimestamps(data), timestamps);
        // The last moment too.
        assert.equal(decode(key, t, cookie, lastValidMs(now)), data);
      },
    ), { numRuns: 500 });
  });

  it('rejects the cookie for any other 4-tuple or client ISN', () => {
    const field = fc.constantFrom<keyof Tuple>('localAddress', 'localPort', 'remoteAddress', 'remotePort', 'clientIsn');
    fc.assert(fc.property(arbKey, arbTuple, field, fc.nat(0xffffffff), fc.nat(7), fc.boolean(), arbNow, (key, t, which, other, mssIndex, ts, now) => {
      const cookie = encode(key, t, mssIndex, ts, now);
      const mask = which === 'localPort' || which === 'remotePort' ? 0xffff : 0xffffffff;
      let value = (other & mask) >>> 0;
      if (value === t[which]) value = ((value + 1) & mask) >>> 0;
      assert.equal(decode(key, { ...t, [which]: value }, cookie, now), SYN_COOKIE_INVALID, `${which} ${t[which]} → ${value}`);
    }), { numRuns: 1000 });
  });

  it('rejects a cookie with any one bit flipped, and under another key', () => {
    fc.assert(fc.property(arbKey, arbKey, arbTuple, fc.nat(7), fc.boolean(), arbNow, (key, otherKey, t, mssIndex, ts, now) => {
      const cookie = encode(key, t, mssIndex, ts, now);
      for (let bit = 0; bit < 32; bit++) {
        assert.equal(decode(key, t, (cookie ^ (1 << bit)) >>> 0, now), SYN_COOKIE_INVALID, `bit ${bit}`);
      }
      if (otherKey.some((w, i) => w !== key[i])) assert.equal(decode(otherKey, t, cookie, now), SYN_COOKIE_INVALID);
    }), { numRuns: 300 });
  });

  it('rejects an expired counter (two periods on) and a counter from the future', () => {
    fc.assert(fc.property(arbKey, arbTuple, fc.nat(7), fc.boolean(), arbNow, fc.integer({ min: 0, max: 1000 * SYN_COOKIE_PERIOD_MS }), (key, t, mssIndex, ts, now, extra) => {
      const cookie = encode(key, t, mssIndex, ts, now);
      assert.equal(decode(key, t, cookie, lastValidMs(now) + 1 + extra), SYN_COOKIE_INVALID, 'expired');
      const periodStart = Math.floor(now / SYN_COOKIE_PERIOD_MS) * SYN_COOKIE_PERIOD_MS;
      if (periodStart > 0) assert.equal(decode(key, t, cookie, periodStart - 1), SYN_COOKIE_INVALID, 'from the future');
    }), { numRuns: 500 });
  });

  it('a random ACK passes about 2 · 2^-28 of the time (none in 20 000)', () => {
    const key = new Uint32Array([1, 2, 3, 4]);
    const random = new Random(7);
    const t = { localAddress: ADDRESS_B, localPort: PORT_B, remoteAddress: ADDRESS_A, remotePort: 0, clientIsn: 0 };
    let passed = 0;
    for (let i = 0; i < 20000; i++) {
      t.remotePort = random.int(65536);
      t.clientIsn = random.int(2 ** 32);
      if (decode(key, t, random.int(2 ** 32), 1e6) !== SYN_COOKIE_INVALID) passed++;
    }
    assert.equal(passed, 0);
  });
});

describe('syn cookies: options in the timestamp', () => {
  it('TSval carries peer window scale, SACK and our window scale, never ahead of the clock', () => {
    const step = 1 << SYN_COOKIE_TS_BITS;
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: -1, max: 15 }), fc.boolean(), fc.nat(14),
      (now, peer, sack, ours) => {
        const tsVal = encodeSynCookieTsVal(now, peer, sack, ours);
        const clock = Math.floor(now) >>> 0;
        assert.ok(seqLeq(tsVal, clock), 'not ahead of the clock (PAWS at the peer)');
        assert.ok(((clock - tsVal) >>> 0) < 2 * step, 'less than two steps behind');
        const options = decodeSynCookieTsEcr(tsVal);
        assert.notEqual(options, SYN_COOKIE_INVALID);
        const expectedPeer = peer < 0 ? -1 : Math.min(peer, 14);
        assert.equal(synCookiePeerWscale(options), expectedPeer);
        assert.equal(synCookieSackPermitted(options), sack);
        assert.equal(synCookieOurWscale(options), expectedPeer < 0 ? 0 : ours);
      },
    ), { numRuns: 1000 });
  });

  it('rejects packed options no SYN-ACK could carry', () => {
    assert.equal(decodeSynCookieTsEcr(15 << 5), SYN_COOKIE_INVALID, 'our scale 15');
    assert.equal(decodeSynCookieTsEcr(15 | (3 << 5)), SYN_COOKIE_INVALID, 'our scale without the peer\'s');
  });
});

// ---------------------------------------------------------------- two stacks

/** 203.0.113.0/24 and 198.51.100.0/24 (RFC 5737): sources that never answer. */
function spoofedAddress(random: Random): number {
  return ((random.int(2) === 0 ? 0xcb007100 : 0xc6336400) | random.int(256)) >>> 0;
}

interface Seen {
  src: number;
  header: TcpHeader;
  payload: number;
}

/**
 * Records every segment put on the wire between A and B, parsed, with its payload length;
 * drops everything to or from anyone else (the spoofed sources do not exist).
 */
function watch(net: Net): Seen[] {
  const seen: Seen[] = [];
  const real = (address: number): boolean => address === ADDRESS_A || address === ADDRESS_B;
  net.filter = (s) => {
    if (!real(s.src) || !real(s.dst)) return false;
    seen.push({ src: s.src, header: parseTcpHeader(s.bytes, 0, s.bytes.length)!, payload: s.bytes.length - (s.bytes[12] >>> 4) * 4 });
    return true;
  };
  return seen;
}

function from(seen: Seen[], host: Host, flags: number): Seen[] {
  return seen.filter((s) => s.src === host.address && (s.header.flags & flags) === flags);
}

function synFrom(host: Host, src: number, srcPort: number, seq: number, options: Partial<TcpOptions> = {}): void {
  host.deliver(craft({ srcPort, dstPort: PORT_B, seq, flags: SYN, options }, src, host.address), src, host.address);
}

function flood(host: Host, count: number, seed: number): void {
  const random = new Random(seed);
  for (let i = 0; i < count; i++) {
    synFrom(host, spoofedAddress(random), 1024 + random.int(64000), random.int(2 ** 32), {
      mss: 1460, windowScale: 7, sackPermitted: true, timestamps: true, tsVal: random.int(2 ** 32),
    });
  }
}

function finished(client: TcpConnection): boolean {
  return client.state === TcpState.FREE || client.state === TcpState.TIME_WAIT;
}

describe('syn cookies: a listener with a full backlog', () => {
  it('answers SYNs beyond the backlog with a cookie SYN-ACK and keeps no state', () => {
    const net = heldNet({ configB: { synBacklog: 2 } });
    const listener = net.b.listen(PORT_B);
    for (let port = 1; port <= 5; port++) synFrom(net.b, ADDRESS_A, port, 1000 * port, { mss: 1460 });
    assert.equal(listener.synBacklog, 2);
    assert.equal(net.b.stack.connectionCount, 3, 'the listener and two half-open children');
    const stats = net.b.stack.stats;
    assert.equal(stats.synCookiesSent, 3);
    assert.equal(stats.synBacklogDrops, 0);
    const synAcks = heldHeaders(net);
    assert.equal(synAcks.length, 5);
    for (const [i, h] of synAcks.entries()) {
      assert.equal(h.flags, SYN | ACK);
      assert.equal(h.acknowledgmentNumber, 1000 * (i + 1) + 1);
      assert.equal(h.options.mss, 1460);
    }
    // The same SYN again gets the same cookie: nothing random, nothing remembered.
    net.dropHeld();
    synFrom(net.b, ADDRESS_A, 5, 5000, { mss: 1460 });
    assert.equal(heldHeaders(net)[0].sequenceNumber, synAcks[4].sequenceNumber);
    assert.equal(net.b.stack.connectionCount, 3);
    checkAll(net);
  });

  it('drops and counts SYNs beyond the backlog when cookies are off', () => {
    const net = heldNet({ configB: { synBacklog: 2, synCookies: false } });
    const listener = net.b.listen(PORT_B);
    for (let port = 1; port <= 3; port++) synFrom(net.b, ADDRESS_A, port, 1);
    assert.equal(listener.synBacklog, 2);
    assert.equal(net.b.stack.stats.synBacklogDrops, 1);
    assert.equal(net.b.stack.stats.synCookiesSent, 0);
    assert.equal(heldHeaders(net).length, 2);
  });

  it('a flood of spoofed SYNs fills the backlog, and a genuine client still connects and moves data byte-exact', () => {
    const up = streamBytes(300_000, 11);
    const down = streamBytes(200_000, 12);
    const net = new Net({ configB: { synBacklog: 16 }, fifoSize: 128 * 1024, impairments: { delayMs: 1, rateBps: 1e9, seed: 3 } });
    const seen = watch(net);
    const listener = net.b.listen(PORT_B, { expect: up, toSend: down, shutdownWhenSent: true });
    flood(net.b, 5000, 42);
    assert.equal(listener.synBacklog, 16);
    assert.equal(net.b.stack.connectionCount, 17, 'the flood holds no more than the backlog');
    assert.equal(net.b.stack.stats.synCookiesSent, 5000 - 16);
    const client = net.a.connect(net.b, PORT_B, PORT_A, { expect: down, toSend: up, shutdownWhenSent: true });
    // More spoofed SYNs while the genuine one is in flight.
    flood(net.b, 500, 43);
    assert.ok(net.run(() => finished(client), 20_000), `transfer did not finish: client state ${client.state} at ${net.now} ms`);
    const stats = net.b.stack.stats;
    assert.equal(stats.synCookiesValidated, 1);
    assert.equal(stats.synCookiesFailed, 0);
    assert.equal(stats.connectionsAccepted, 1);
    assert.equal(net.b.accepted.length, 1);
    const serverApp = net.b.finished.find((f) => f.app.receivedBytes > 0)?.app ?? net.b.app(net.b.accepted[0]);
    const clientApp = net.a.apps.get(client) ?? net.a.finished[0].app;
    assert.equal(serverApp.receivedBytes, up.length);
    assert.equal(serverApp.mismatchAt, -1, 'upstream bytes differ');
    assert.equal(clientApp.receivedBytes, down.length);
    assert.equal(clientApp.mismatchAt, -1, 'downstream bytes differ');
    assert.equal(serverApp.events[0], 'accepted');
    // The client's SYN-ACK was a cookie: the connection's ISS is that SYN-ACK's sequence number.
    const synAcks = from(seen, net.b, SYN | ACK);
    assert.equal(synAcks.length, 1);
    assert.equal(synAcks[0].header.sequenceNumber, net.b.accepted[0].iss);
    assert.equal(listener.synBacklog, 16, 'the flood\'s children are still there');
    checkAll(net);
  });

  it('a SYN-ACK lost: the client\'s SYN again gets a cookie again, and the connection is made', () => {
    const net = heldNet({ configB: { synBacklog: 0 } });
    net.b.listen(PORT_B);
    const client = net.a.connect(net.b, PORT_B, PORT_A);
    net.deliverHeld(); // SYN → B
    assert.equal(net.dropHeld(), 1, 'the cookie SYN-ACK is lost');
    for (let t = 1; t <= 1500 && net.pending.length === 0; t++) net.advanceTo(t);
    net.settle();
    assert.equal(client.state, TcpState.ESTABLISHED);
    assert.equal(client.synTransmits, 2);
    assert.equal(net.b.accepted.length, 1);
    assert.equal(net.b.accepted[0].state, TcpState.ESTABLISHED);
    assert.equal(net.b.stack.stats.synCookiesSent, 2);
    assert.equal(net.b.stack.stats.synCookiesValidated, 1);
    checkAll(net);
  });

  it('data on the first segment the listener sees (the pure ACK lost) makes the connection and is delivered', () => {
    const net = heldNet({ configB: { synBacklog: 0 } });
    const seen = watch(net);
    const listener = net.b.listen(PORT_B);
    const data = streamBytes(1000, 5);
    const client = net.a.connect(net.b, PORT_B, PORT_A, { toSend: data, expect: null });
    net.deliverHeld(); // SYN
    net.deliverHeld(); // cookie SYN-ACK: A is established, sends its ACK, then its data
    assert.equal(net.pending.length, 2);
    assert.equal(net.dropHeld((s) => s.bytes.length === (s.bytes[12] >>> 4) * 4), 1, 'the pure ACK is lost');
    net.deliverHeld();
    const server = net.b.accepted[0];
    assert.ok(server !== undefined, 'the data segment made the connection');
    assert.equal(server.listener, listener);
    assert.equal(server.state, TcpState.ESTABLISHED);
    assert.deepEqual(Buffer.from(net.b.app(server).text()), Buffer.from(data));
    net.advanceTo(100); // the delayed ACK
    net.settle();
    assert.equal(client.sndUna, client.sndMax, 'the data was acknowledged');
    assert.ok(from(seen, net.b, ACK).length >= 2);
    checkAll(net);
  });
});

describe('syn cookies: forged and stale ACKs', () => {
  /** B with a backlog of 0 that has sent a cookie (so it checks ACKs), the SYN-ACK taken off the wire. */
  function primed(): { net: Net; synAck: TcpHeader; seq: number } {
    const net = heldNet({ configB: { synBacklog: 0 } });
    net.b.listen(PORT_B);
    const seq = 777_000;
    synFrom(net.b, ADDRESS_A, 5555, seq, { mss: 1460 });
    const [synAck] = heldHeaders(net);
    net.dropHeld();
    return { net, synAck, seq };
  }

  function ackTo(net: Net, srcPort: number, seq: number, ack: number, options: Partial<TcpOptions> = {}): TcpHeader[] {
    net.b.deliver(craft({ srcPort, dstPort: PORT_B, seq, ack, flags: ACK, options }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    const out = heldHeaders(net);
    net.dropHeld();
    return out;
  }

  it('a bad cookie gets <SEQ=SEG.ACK><CTL=RST>, no connection, and is counted', () => {
    const { net, synAck, seq } = primed();
    const cookie = synAck.sequenceNumber;
    const forgeries: [string, number, number, number][] = [
      ['random ack', 5555, seq + 1, 0x12345678],
      ['bit 0 flipped', 5555, seq + 1, ((cookie ^ 1) + 1) >>> 0],
      ['bit 27 flipped', 5555, seq + 1, ((cookie ^ (1 << 27)) + 1) >>> 0],
      ['bit 31 flipped', 5555, seq + 1, ((cookie ^ 0x80000000) + 1) >>> 0],
      ['another port', 5556, seq + 1, (cookie + 1) >>> 0],
      ['another ISN', 5555, seq + 2, (cookie + 1) >>> 0],
    ];
    for (const [what, port, s, a] of forgeries) {
      const out = ackTo(net, port, s, a);
      assert.equal(out.length, 1, what);
      assert.equal(out[0].flags, RST, what);
      assert.equal(out[0].sequenceNumber, a, what);
      assert.equal(out[0].dstPort, port, what);
    }
    assert.equal(net.b.stack.stats.synCookiesFailed, forgeries.length);
    assert.equal(net.b.stack.stats.synCookiesValidated, 0);
    assert.equal(net.b.stack.connectionCount, 1, 'only the listener');
    assert.deepEqual(net.b.log, [], 'the app heard nothing');
    // The genuine ACK still works, and is not answered (nothing to send yet).
    assert.deepEqual(ackTo(net, 5555, seq + 1, (cookie + 1) >>> 0), []);
    assert.equal(net.b.stack.stats.synCookiesValidated, 1);
    assert.deepEqual(net.b.log, ['incoming:1', 'accepted:1']);
    checkAll(net);
  });

  it('a cookie two periods old gets a reset', () => {
    const { net, synAck, seq } = primed();
    net.advanceTo(2 * SYN_COOKIE_PERIOD_MS + 1);
    // Another SYN keeps cookie checking on, as a flood in progress would.
    synFrom(net.b, ADDRESS_A, 6000, 1);
    net.dropHeld();
    const out = ackTo(net, 5555, seq + 1, (synAck.sequenceNumber + 1) >>> 0);
    assert.equal(out[0]?.flags, RST);
    assert.equal(net.b.stack.stats.synCookiesFailed, 1);
    assert.equal(net.b.accepted.length, 0);
  });

  it('with no cookie sent lately an ACK to a listener is reset as RFC 9293 says, without a cookie check', () => {
    const { net, synAck, seq } = primed();
    net.advanceTo(2 * SYN_COOKIE_PERIOD_MS + 1);
    const out = ackTo(net, 5555, seq + 1, (synAck.sequenceNumber + 1) >>> 0);
    assert.equal(out[0]?.flags, RST);
    assert.equal(out[0].sequenceNumber, (synAck.sequenceNumber + 1) >>> 0);
    assert.equal(net.b.stack.stats.synCookiesFailed, 0);
    const fresh = heldNet();
    fresh.b.listen(PORT_B);
    assert.equal(ackTo(fresh, 7, 1, 99)[0].flags, RST);
    assert.equal(fresh.b.stack.stats.synCookiesFailed, 0);
  });

  it('cookies are per listener: an ACK to another listener, which sent none, is reset without a cookie check', () => {
    const { net } = primed();
    net.b.listen(PORT_B + 1);
    net.b.deliver(craft({ srcPort: 5555, dstPort: PORT_B + 1, seq: 1, ack: 99, flags: ACK }, ADDRESS_A, ADDRESS_B), ADDRESS_A, ADDRESS_B);
    const out = heldHeaders(net);
    assert.equal(out[0]?.flags, RST);
    assert.equal(net.b.stack.stats.synCookiesFailed, 0, 'not counted as a failed cookie');
  });

  it('an ACK for a cookie made with timestamps must carry them and our TSval\'s options', () => {
    const net = heldNet({ configB: { synBacklog: 0 } });
    net.b.listen(PORT_B);
    synFrom(net.b, ADDRESS_A, 5555, 10, { timestamps: true, tsVal: 1, windowScale: 2 });
    const [synAck] = heldHeaders(net);
    net.dropHeld();
    assert.ok(synAck.options.timestamps);
    const ack = (synAck.sequenceNumber + 1) >>> 0;
    assert.equal(ackTo(net, 5555, 11, ack)[0]?.flags, RST, 'no timestamps');
    // Our scale 15 cannot have been sent.
    assert.equal(ackTo(net, 5555, 11, ack, { timestamps: true, tsVal: 2, tsEcr: (synAck.options.tsVal & ~0x1ff) | (15 << 5) | 2 })[0]?.flags, RST, 'forged options');
    assert.equal(net.b.stack.stats.synCookiesFailed, 2);
    assert.deepEqual(ackTo(net, 5555, 11, ack, { timestamps: true, tsVal: 2, tsEcr: synAck.options.tsVal }), []);
    assert.equal(net.b.accepted[0]?.sndWscale, 2);
  });
});

describe('syn cookies: the connection keeps the peer\'s options', () => {
  function connectThroughCookie(options: NetOptions = {}): { net: Net; seen: Seen[]; client: TcpConnection; server: TcpConnection } {
    const net = heldNet({ ...options, configB: { synBacklog: 0, ...options.configB } });
    const seen = watch(net);
    net.b.listen(PORT_B);
    const client = net.a.connect(net.b, PORT_B, PORT_A);
    net.settle();
    assert.equal(client.state, TcpState.ESTABLISHED);
    assert.equal(net.b.stack.stats.synCookiesValidated, 1);
    const server = net.b.accepted[0];
    assert.equal(server.state, TcpState.ESTABLISHED);
    return { net, seen, client, server };
  }

  it('MSS, window scale, SACK-permitted and timestamps, agreeing on both sides', () => {
    // A first connection sizes the cookies for 512 KiB FIFOs.
    const { net, seen, client, server } = connectThroughCookie({ fifoSize: 512 * 1024 });
    const synAck = from(seen, net.b, SYN | ACK)[0].header;
    assert.ok(synAck.options.sackPermitted && synAck.options.timestamps);
    for (const c of [client, server]) {
      assert.ok(c.timestampsEnabled && c.sackEnabled);
      assert.equal(c.sndMss, 1460);
      assert.equal(c.smss, 1448);
    }
    assert.equal(server.sndWscale, client.rcvWscale, 'B scales A\'s windows by the shift A announced');
    assert.equal(server.rcvWscale, client.sndWscale, 'and its own by the shift it announced');
    assert.equal(server.sndWscale, 4, '512 KiB needs a shift of 4');
    assert.equal(server.tsRecent, from(seen, net.a, ACK).at(-1)!.header.options.tsVal);
    // A second one now that B has seen a 512 KiB FIFO: the SYN-ACK is sized for it.
    const second = net.a.connect(net.b, PORT_B, PORT_A + 1);
    net.settle();
    assert.equal(second.sndWscale, 4);
    assert.equal(net.b.accepted[1].rcvWscale, 4);
    checkAll(net);
  });

  it('a smaller peer MSS is kept (rounded down to the table) and never exceeded by what B sends', () => {
    const data = streamBytes(100_000, 9);
    const { net, seen, client, server } = connectThroughCookie({ configA: { mss: 1300 }, fifoSize: 256 * 1024 });
    assert.equal(server.sndMss, 1220);
    assert.equal(client.sndMss, 1300, 'A takes the MSS B announced, capped by its own');
    net.b.app(server).toSend = data;
    net.b.pump(server);
    net.settle();
    assert.equal(net.a.app(client).receivedBytes, data.length);
    const largest = Math.max(...from(seen, net.b, ACK).map((s) => s.payload));
    assert.equal(largest, 1220 - 12, 'full segments: the MSS less the timestamps option');
  });

  it('SACK repairs losses on a cookie connection, byte-exact both ways', () => {
    const up = streamBytes(400_000, 21);
    const down = streamBytes(400_000, 22);
    const net = new Net({ configB: { synBacklog: 0 }, fifoSize: 256 * 1024, impairments: { delayMs: 1, rateBps: 1e9, seed: 17 } });
    const seen = watch(net);
    net.b.listen(PORT_B, { expect: up, toSend: down, shutdownWhenSent: true });
    const client = net.a.connect(net.b, PORT_B, PORT_A, { expect: down, toSend: up, shutdownWhenSent: true });
    // The handshake is not lost, so the connection surely comes from the cookie; then loss.
    net.run(() => net.b.accepted.length === 1, 10_000);
    assert.equal(net.b.stack.stats.synCookiesValidated, 1);
    const server = net.b.accepted[0];
    assert.ok(server.sackEnabled && client.sackEnabled);
    net.setImpairments({ drop: 0.03, reorder: 0.02 });
    assert.ok(net.run(() => finished(client), 120_000), `did not finish: client ${client.state} at ${net.now} ms`);
    const serverApp = net.b.finished[0]?.app ?? net.b.app(server);
    const clientApp = net.a.apps.get(client) ?? net.a.finished[0].app;
    assert.equal(serverApp.receivedBytes, up.length);
    assert.equal(serverApp.mismatchAt, -1, 'upstream bytes differ');
    assert.equal(clientApp.receivedBytes, down.length);
    assert.equal(clientApp.mismatchAt, -1, 'downstream bytes differ');
    assert.ok(from(seen, net.b, ACK).some((s) => s.header.options.sackBlockCount > 0), 'B sent SACK blocks');
    assert.ok(from(seen, net.a, ACK).some((s) => s.header.options.sackBlockCount > 0), 'A sent SACK blocks');
    assert.ok(net.b.stack.stats.segmentsRetransmitted > 0 && net.a.stack.stats.segmentsRetransmitted > 0, 'losses were repaired');
    checkAll(net);
  });

  it('without timestamps on the SYN: MSS only, no window scale or SACK, and data still flows', () => {
    const data = streamBytes(200_000, 31);
    const { net, seen, client, server } = connectThroughCookie({ configA: { timestamps: false }, fifoSize: 512 * 1024 });
    const synAck = from(seen, net.b, SYN | ACK)[0].header;
    assert.equal(synAck.options.mss, 1460);
    assert.equal(synAck.options.windowScale, -1);
    assert.ok(!synAck.options.sackPermitted && !synAck.options.timestamps);
    for (const c of [client, server]) {
      assert.ok(!c.timestampsEnabled && !c.sackEnabled);
      assert.equal(c.sndWscale, 0);
      assert.equal(c.rcvWscale, 0);
    }
    net.a.app(client).toSend = data;
    net.a.pump(client);
    net.settle();
    assert.equal(net.b.app(server).receivedBytes, data.length);
    checkAll(net);
  });

  it('offers nothing B does not do: window scaling off on B', () => {
    const { net, seen, client, server } = connectThroughCookie({ configB: { windowScaling: false } });
    assert.equal(from(seen, net.b, SYN | ACK)[0].header.options.windowScale, -1);
    assert.equal(server.sndWscale, 0);
    assert.equal(client.sndWscale, 0);
    assert.ok(server.timestampsEnabled && server.sackEnabled);
  });
});

describe('syn cookies: through the graph', () => {
  it('echo clients whose every connection comes from a cookie finish byte-exact; show tcp stats counts the cookies', async () => {
    const { vm, host } = twoVrfs();
    // The stack took its configuration at `session enable`: a backlog of 0 on the live one.
    host.tcp!.config.synBacklog = 0;
    vm.start();
    try {
      vm.cli(`test echo server uri tcp://${SERVER_IP}/1234 fifo-size 64 appns server secret 1234`);
      const out = await vm.cliAsync(`test echo clients uri tcp://${SERVER_IP}/1234 nclients 20 bytes 100000 fifo-size 64 appns client secret 5678`);
      assert.match(out, /^Finished 20 of 20 connections$/m);
      assert.match(out, new RegExp(`^${2 * 20 * 100000} bytes \\(`, 'm'), 'every byte sent and echoed back');
      const stats = vm.cli('show tcp stats');
      assert.match(stats, /^ 20 syn cookies sent$/m);
      assert.match(stats, /^ 20 syn cookies validated$/m);
      assert.doesNotMatch(stats, /syn cookies failed/);
      assert.match(stats, /^ 20 connections accepted$/m);
    } finally {
      vm.stop();
    }
  });
});
