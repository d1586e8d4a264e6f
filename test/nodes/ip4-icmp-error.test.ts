import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferFlag, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { icmpErrorWord, OPAQUE_FIB_INDEX, OPAQUE_ICMP_ERROR } from '../../src/vnet/ip4-opaque.ts';
import { internetChecksum } from '../../src/wire/checksum.ts';
import { icmpErrorBucket } from '../../nodes/ip4-icmp-error.ts';
import { bytesOf, errorsOf, headerChecksumOk, hex, icmp, ip4, ip4Engine, load, malformedDatagrams, outcomeBeyondEnd, release, runNode, udp } from './ip4-helpers.ts';

const TIME_EXCEEDED = icmpErrorWord(11, 0);
const withError = (word: number) => ({ opaque: { [OPAQUE_ICMP_ERROR]: word } });

test('time exceeded: from the rx interface\'s address to the sender, TTL 64, the whole short datagram quoted', () => {
  const { vm } = ip4Engine();
  const original = ip4({ ttl: 1 });
  const bi = load(vm, original, { rx: 1, ...withError(TIME_EXCEEDED) });
  assert.deepEqual(runNode(vm, 'ip4-icmp-error', [bi]).next, ['ip4-lookup']);
  const out = bytesOf(vm, bi);
  assert.equal(out.length, 28 + original.length);
  assert.equal(hex(out.subarray(0, 10)), `4500${(28 + original.length).toString(16).padStart(4, '0')}000000004001`);
  assert.equal(hex(out.subarray(12, 20)), '0a0a01010a0a0102');
  assert.ok(headerChecksumOk(out));
  assert.equal(hex(out.subarray(20, 24)).slice(0, 4), '0b00');
  assert.equal(hex(out.subarray(24, 28)), '00000000');
  assert.equal(internetChecksum(out, 20, out.length - 20), 0);
  assert.equal(hex(out.subarray(28)), hex(original));
  assert.ok(vm.pool.flags[bi] & BufferFlag.LOCALLY_ORIGINATED);
  assert.equal(vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX], 0);
  assert.deepEqual(errorsOf(vm, 'ip4-icmp-error'), { 'hop limit exceeded response sent': 1 });
  release(vm, [bi]);
});

test('as VPP, the quote is as much as fits in 576 bytes; fragmentation needed carries the MTU (RFC 1191)', () => {
  const { vm } = ip4Engine();
  const original = ip4({ fragmentWord: 0x4000, payload: udp({ data: new Uint8Array(1200) }) });
  const bi = load(vm, original, withError(icmpErrorWord(3, 4, 1000)));
  runNode(vm, 'ip4-icmp-error', [bi]);
  const out = bytesOf(vm, bi);
  assert.equal(out.length, 576);
  assert.equal(hex(out.subarray(20, 22)), '0304');
  assert.equal(hex(out.subarray(24, 28)), '000003e8');
  assert.equal(hex(out.subarray(28)), hex(original.subarray(0, 548)));
  assert.equal(internetChecksum(out, 20, out.length - 20), 0);
  assert.deepEqual(errorsOf(vm, 'ip4-icmp-error'), { 'destination unreachable response sent': 1 });
  release(vm, [bi]);
});

test('RFC 1812 §4.3.2.7: never about an ICMP error, a later fragment, a broadcast or multicast, or from 0.0.0.0', () => {
  const { vm } = ip4Engine();
  const forbidden = [
    ip4({ protocol: 1, payload: icmp({ type: 3, code: 1 }) }),
    ip4({ fragmentWord: 185 }),
    ip4({ dst: '255.255.255.255' }),
    ip4({ dst: '224.0.0.5' }),
    ip4({ dst: '10.10.1.255' }),
    ip4({ src: '0.0.0.0' }),
  ];
  const bis = forbidden.map((d) => load(vm, d, withError(TIME_EXCEEDED)));
  const query = load(vm, ip4({ protocol: 1, payload: icmp({ type: 8 }) }), withError(TIME_EXCEEDED));
  const run = runNode(vm, 'ip4-icmp-error', [...bis, query]);
  assert.deepEqual(run.next, [...forbidden.map(() => 'error-drop'), 'ip4-lookup']);
  assert.equal(errorsOf(vm, 'ip4-icmp-error')['no ICMP error for this packet (RFC 1812 4.3.2.7)'], forbidden.length);
  release(vm, [...bis, query]);
});

test('rate limited by a token bucket; an interface without an address has no source to send from', () => {
  const { vm } = ip4Engine(['create packet-generator interface pg2']);
  const rt = vm.node('ip4-icmp-error')!;
  const bucket = icmpErrorBucket(rt);
  bucket.tokens = 0;
  bucket.lastNs = vm.nowNs() + 1e9;
  const limited = load(vm, ip4(), withError(TIME_EXCEEDED));
  assert.deepEqual(runNode(vm, 'ip4-icmp-error', [limited]).next, ['error-drop']);
  assert.equal(errorsOf(vm, 'ip4-icmp-error')['ICMP error rate limited'], 1);
  bucket.tokens = 10;
  bucket.lastNs = vm.nowNs();
  const pg2 = vm.vnet.interfaces.find('pg2');
  const noSource = load(vm, ip4(), { rx: pg2, ...withError(TIME_EXCEEDED) });
  assert.deepEqual(runNode(vm, 'ip4-icmp-error', [noSource]).next, ['error-drop']);
  assert.equal(errorsOf(vm, 'ip4-icmp-error')['no source address for ICMP error'], 1);
  release(vm, [limited, noSource]);
});

test('a burst beyond the bucket is cut at the burst size, counted', () => {
  const { vm } = ip4Engine([], 4096);
  const bis = Array.from({ length: 256 }, () => load(vm, ip4(), withError(TIME_EXCEEDED)));
  const more = Array.from({ length: 20 }, () => load(vm, ip4(), withError(TIME_EXCEEDED)));
  const first = runNode(vm, 'ip4-icmp-error', bis);
  // No time passes for the bucket before the next frame (a clock behind its last refill adds nothing).
  icmpErrorBucket(vm.node('ip4-icmp-error')!).lastNs = vm.nowNs() + 1e9;
  const second = runNode(vm, 'ip4-icmp-error', more);
  assert.equal(first.next.filter((n) => n === 'ip4-lookup').length, 256);
  assert.equal(second.next.filter((n) => n === 'ip4-lookup').length, 0);
  assert.equal(errorsOf(vm, 'ip4-icmp-error')['ICMP error rate limited'], 20);
  release(vm, [...bis, ...more]);
});

test('chained originals: only the first buffer is quoted, the rest freed', () => {
  const { vm } = ip4Engine();
  const free0 = vm.pool.available;
  const original = ip4({ payload: udp({ data: new Uint8Array(1400) }) });
  const first = load(vm, original.subarray(0, 100), withError(TIME_EXCEEDED));
  const second = vm.pool.fromBytes(original.subarray(100));
  vm.pool.appendBuffer(first, first, second);
  runNode(vm, 'ip4-icmp-error', [first]);
  assert.equal(vm.pool.flags[first] & BufferFlag.NEXT_PRESENT, 0);
  assert.equal(hex(bytesOf(vm, first).subarray(28)), hex(original.subarray(0, 100)));
  release(vm, [first]);
  assert.equal(vm.pool.available, free0);
});

test('no headroom for the new headers: dropped, counted', () => {
  const { vm } = ip4Engine();
  const bi = load(vm, ip4(), { l2: 0, ...withError(TIME_EXCEEDED) });
  const start = bi * vm.pool.stride + 10;
  vm.pool.bytes.copyWithin(start, vm.pool.current[bi], vm.pool.current[bi] + vm.pool.length[bi]);
  vm.pool.current[bi] = start;
  assert.deepEqual(runNode(vm, 'ip4-icmp-error', [bi]).next, ['error-drop']);
  assert.equal(errorsOf(vm, 'ip4-icmp-error')['error message dropped'], 1);
  release(vm, [bi]);
});

test('random originals and reasons: no throw, a counted next, nothing read past the buffer, every buffer back', () => {
  const { vm } = ip4Engine();
  const free0 = vm.pool.available;
  fc.assert(
    fc.property(malformedDatagrams((data) => ip4({ payload: udp({ data }) })), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(1, 2), (datagram, word, rx) => {
      icmpErrorBucket(vm.node('ip4-icmp-error')!).tokens = 256;
      const o = { rx, ...withError(word) };
      const { a, b } = outcomeBeyondEnd(vm, 'ip4-icmp-error', datagram, o);
      assert.equal(a, b);
      vm.enqueue('ip4-icmp-error', [load(vm, datagram, o)]);
      vm.runUntilIdle();
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 400 },
  );
});
