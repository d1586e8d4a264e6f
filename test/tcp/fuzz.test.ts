// Property: random and malformed segments in every state never throw and leave every
// connection valid (checkConnection) or gone through a reset/close the app was told of.
// Segments are built around the connection's own numbers (so they reach deep into the state
// machine: in-window sequence numbers, ACKs near SND.UNA/SND.MAX, SACK blocks and timestamps
// near the real ones) or are raw bytes (bad data offsets, truncated or garbage options). After
// the burst the real peer answers whatever came back and timers run for five minutes of
// virtual time; every connection of both hosts must still be valid.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TcpConnection, TcpState } from '../../src/tcp/connection.ts';
import { craft, checkAll, checkConnection, STATE_FIXTURES } from './helpers.ts';

interface Structured {
  kind: 'structured';
  seqBase: 'rcvNxt' | 'any';
  seqDelta: number;
  ackBase: 'sndUna' | 'sndMax' | 'any';
  ackDelta: number;
  flags: number;
  window: number;
  mss: number | null;
  windowScale: number | null;
  sackPermitted: boolean;
  timestamps: { delta: number; ecr: number } | null;
  sack: [number, number][];
  dataLength: number;
}

interface Raw {
  kind: 'raw';
  bytes: Uint8Array;
  /** Keep a plausible header (ports, data offset) but garbage options. */
  garbageOptions: boolean;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const near = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -70000, max: 70000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const flagsArbitrary = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0x10, 0x18, 0x11, 0x19, 0x04, 0x14, 0x02, 0x12, 0x01) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

const structured: fc.Arbitrary<Structured> = fc.record({
  kind: fc.constant('structured' as const),
  seqBase: fc.constantFrom('rcvNxt' as const, 'rcvNxt' as const, 'any' as const),
  seqDelta: near,
  ackBase: fc.constantFrom('sndUna' as const, 'sndMax' as const, 'any' as const),
  ackDelta: near,
  flags: flagsArbitrary,
  window: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65535 })),
  mss: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }),
  windowScale: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
  sackPermitted: fc.boolean(),
  timestamps: fc.option(fc.record({ delta: near, ecr: u32 }), { nil: null }),
  sack: fc.array(fc.tuple(near, fc.integer({ min: -2000, max: 70000 })), { maxLength: 3 }),
  dataLength: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 3000 })),
});

const raw: fc.Arbitrary<Raw> = fc.record({
  kind: fc.constant('raw' as const),
  bytes: fc.uint8Array({ minLength: 0, maxLength: 90 }),
  garbageOptions: fc.boolean(),
});

const segmentArbitrary = fc.oneof({ weight: 4, arbitrary: structured }, { weight: 1, arbitrary: raw });

function build(s: Structured | Raw, c: TcpConnection): Uint8Array {
  if (s.kind === 'raw') {
    const bytes = s.bytes.slice();
    if (s.garbageOptions && bytes.length >= 24) {
      bytes[0] = c.remotePort >>> 8;
      bytes[1] = c.remotePort;
      bytes[2] = c.localPort >>> 8;
      bytes[3] = c.localPort;
      bytes[12] = (Math.min(15, bytes.length >>> 2) << 4) | (bytes[12] & 0x0f);
    }
    return bytes;
  }
  const seq = s.seqBase === 'any' ? s.seqDelta >>> 0 : (c.rcvNxt + s.seqDelta) >>> 0;
  const ack = s.ackBase === 'any' ? s.ackDelta >>> 0 : ((s.ackBase === 'sndUna' ? c.sndUna : c.sndMax) + s.ackDelta) >>> 0;
  const sackBlocks = s.sack.map(([left, length]) => [(c.sndUna + left) >>> 0, (c.sndUna + left + length) >>> 0]).flat();
  const data = new Uint8Array(s.dataLength);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seq) & 0xff;
  return craft({
    srcPort: c.remotePort, dstPort: c.localPort, seq, ack, flags: s.flags, window: s.window, data,
    options: {
      mss: s.mss ?? -1, windowScale: s.windowScale ?? -1, sackPermitted: s.sackPermitted,
      timestamps: s.timestamps !== null, tsVal: s.timestamps === null ? 0 : (c.tsRecent + s.timestamps.delta) >>> 0,
      tsEcr: s.timestamps?.ecr ?? 0,
      // A SACK option does not fit beside everything else: keep it only when short enough.
      sackBlockCount: s.mss === null && s.timestamps === null ? sackBlocks.length / 2 : 0, sackBlocks: Uint32Array.from(sackBlocks.concat([0, 0, 0, 0, 0, 0, 0, 0]).slice(0, 8)),
    },
  }, c.remoteAddress, c.localAddress);
}

describe('tcp: random and malformed segments in every state', () => {
  for (const fixture of STATE_FIXTURES) {
    it(`${fixture.state}: never throws, stays valid or is reset`, () => {
      fc.assert(
        fc.property(fc.array(segmentArbitrary, { minLength: 1, maxLength: 25 }), (segments) => {
          const { net, host, connection } = fixture.make();
          assert.equal(TcpState[fixture.state], connection.state);
          const remote = connection.remoteAddress;
          const local = connection.localAddress;
          const index = connection.index;
          for (const s of segments) {
            // What the 4-tuple lookup finds: the connection (or listener) until it is gone.
            if (connection.state === TcpState.FREE) break;
            const bytes = build(s, connection);
            host.stack.input(connection, bytes, 0, bytes.length, remote || 0x0a000099, local);
            if ((connection.state as TcpState) !== TcpState.FREE) checkConnection(host.stack, connection);
          }
          if (connection.state === TcpState.FREE && fixture.state !== 'LISTEN') {
            // Gone: the app heard of it, last.
            assert.ok(host.log.includes(`closed:${index}`), `closed event for ${index}: ${host.log.join(', ')}`);
          }
          checkAll(net);
          // The real peer answers what came back; timers run.
          net.settle(50);
          for (let t = 0; t < 5; t++) {
            net.advanceTo(net.now + 60_000);
            net.settle(50);
            checkAll(net);
          }
        }),
        { numRuns: 40 },
      );
    });
  }
});
