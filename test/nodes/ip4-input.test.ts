import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { OPAQUE_ICMP_ERROR } from '../../src/vnet/ip4-opaque.ts';
import {
  assertCountedDrops, bytesOf, errorsOf, errorTotal, hex, ip4, ip4Engine, load, malformedDatagrams, outcomeBeyondEnd, release, runNode, udp,
} from './ip4-helpers.ts';

test('an intact datagram goes to ip4-lookup, l3Offset set, the ip4 counter counted, the frame handed over whole', () => {
  const { vm, pg0 } = ip4Engine();
  const bis = [load(vm, ip4()), load(vm, ip4({ dst: '10.10.2.2' })), load(vm, ip4({ ttl: 1 }))];
  const run = runNode(vm, 'ip4-input', bis);
  assert.deepEqual(run.next, ['ip4-lookup', 'ip4-lookup', 'ip4-lookup']);
  for (const bi of bis) assert.equal(vm.pool.l3Offset[bi], vm.pool.current[bi]);
  assert.equal(vm.vnet.interfaces.counter(pg0, InterfaceCounter.IP4), 3);
  assert.equal(vm.node('ip4-input')!.singleNext, -1, 'runNode resets it; the run itself used it');
  assert.deepEqual(errorsOf(vm, 'ip4-input'), {});
  release(vm, bis);
});

test('link padding after Total Length is trimmed (RFC 1812 §5.2.2)', () => {
  const { vm } = ip4Engine();
  const datagram = ip4();
  const padded = new Uint8Array(datagram.length + 10);
  padded.set(datagram);
  padded.fill(0xee, datagram.length);
  const bi = load(vm, padded);
  assert.deepEqual(runNode(vm, 'ip4-input', [bi]).next, ['ip4-lookup']);
  assert.equal(vm.pool.length[bi], datagram.length);
  assert.equal(hex(bytesOf(vm, bi)), hex(datagram));
  release(vm, [bi]);
});

test('a header with options is checked and forwarded, not dropped', () => {
  const { vm } = ip4Engine();
  const bi = load(vm, ip4({ options: Uint8Array.from([0x94, 0x04, 0, 0]) })); // router alert
  assert.deepEqual(runNode(vm, 'ip4-input', [bi]).next, ['ip4-lookup']);
  const bad = load(vm, ip4({ options: Uint8Array.from([0x94, 0x04, 0, 0]), badChecksum: true }));
  assert.deepEqual(runNode(vm, 'ip4-input', [bad]).next, ['error-drop']);
  release(vm, [bi, bad]);
});

test('each malformed header is dropped and counted under VPP\'s error text', () => {
  const { vm } = ip4Engine();
  const cases: [string, Uint8Array][] = [
    ['bad ip4 checksum', ip4({ badChecksum: true })],
    ['ip4 version != 4', (() => { const d = ip4(); d[0] = 0x65; return d; })()],
    ['ip4 IHL < 5', (() => { const d = ip4(); d[0] = 0x44; return d; })()],
    ['ip4 length < 20 bytes', ip4().subarray(0, 19)],
    ['ip4 length < 20 bytes', ip4({ totalLength: 19 })],
    ['ip4 length > l2 length', ip4({ totalLength: 51 })],
    ['ip4 length > l2 length', ip4({ options: new Uint8Array(8) }).subarray(0, 24)],
    ['ip4 fragment offset == 1', ip4({ fragmentWord: 1 })],
  ];
  for (const [reason, datagram] of cases) {
    const before = errorsOf(vm, 'ip4-input')[reason] ?? 0;
    const bi = load(vm, datagram);
    const run = runNode(vm, 'ip4-input', [bi]);
    assert.deepEqual(run.next, ['error-drop'], reason);
    assert.equal(errorsOf(vm, 'ip4-input')[reason], before + 1, reason);
    assert.equal(vm.formatDropReason(vm.pool.error[bi]), `ip4-input: ${reason}`);
    release(vm, [bi]);
  }
});

test('TTL 0 goes to ip4-icmp-error with time exceeded in opaque word 2', () => {
  const { vm } = ip4Engine();
  const bi = load(vm, ip4({ ttl: 0 }));
  assert.deepEqual(runNode(vm, 'ip4-input', [bi]).next, ['ip4-icmp-error']);
  assert.equal(vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ICMP_ERROR], (11 << 8) | 0);
  assert.equal(errorsOf(vm, 'ip4-input')['ip4 ttl <= 1'], 1);
  release(vm, [bi]);
});

test('odd offsets and chained buffers take the general path with the same answers', () => {
  const { vm } = ip4Engine();
  const odd = load(vm, ip4(), { l2: 15 });
  const oddBad = load(vm, ip4({ badChecksum: true }), { l2: 15 });
  const run = runNode(vm, 'ip4-input', [odd, oddBad]);
  assert.deepEqual(run.next, ['ip4-lookup', 'error-drop']);
  // A chain: the header in the first buffer, the rest of the datagram in a second.
  const datagram = ip4({ payload: new Uint8Array(1500) });
  const first = load(vm, datagram.subarray(0, 100));
  const second = vm.pool.fromBytes(datagram.subarray(100));
  vm.pool.appendBuffer(first, first, second);
  assert.deepEqual(runNode(vm, 'ip4-input', [first]).next, ['ip4-lookup']);
  assert.equal(vm.pool.packetLength(first), datagram.length);
  release(vm, [odd, oddBad, first]);
});

test('mixed frames: pairs and single packets give the same answers as one at a time', () => {
  fc.assert(
    // Frames of any size up to 40 (size 'max': fast-check's default would keep them under 12).
    fc.property(fc.array(fc.constantFrom('good', 'bad', 'ttl0', 'short', 'pg1', 'padded', 'chained'), { minLength: 1, maxLength: 40, size: 'max' }), (kinds) => {
      const { vm } = ip4Engine([], 512);
      const make = (k: string): number => {
        switch (k) {
          case 'bad': return load(vm, ip4({ badChecksum: true }));
          case 'ttl0': return load(vm, ip4({ ttl: 0 }));
          case 'short': return load(vm, ip4().subarray(0, 12));
          case 'pg1': return load(vm, ip4(), { rx: 2 });
          case 'padded': { const d = new Uint8Array(70); d.set(ip4()); return load(vm, d); }
          case 'chained': return load(vm, ip4({ payload: udp({ data: new Uint8Array(3000) }) }));
          default: return load(vm, ip4());
        }
      };
      const together = kinds.map(make);
      const alone = kinds.map(make);
      const runAll = runNode(vm, 'ip4-input', together);
      for (let i = 0; i < kinds.length; i++) {
        const one = runNode(vm, 'ip4-input', [alone[i]]);
        assert.equal(runAll.next[i], one.next[0], kinds[i]);
        assert.equal(vm.pool.length[together[i]], vm.pool.length[alone[i]]);
      }
      const ifs = vm.vnet.interfaces;
      const rx1 = kinds.filter((k) => k !== 'pg1').length * 2;
      assert.equal(ifs.counter(1, InterfaceCounter.IP4), rx1);
      assert.equal(ifs.counter(2, InterfaceCounter.IP4), (kinds.length * 2) - rx1);
      release(vm, [...together, ...alone]);
    }),
    { numRuns: 50 },
  );
});

test('an ip4-unicast feature gets the packets of the interface it is enabled on', () => {
  const { vm } = ip4Engine();
  vm.registerNode({ name: 'test-ip4-feature', process: (ctx, b, n) => { ctx.pool.free(b, 0, n); return 0; } });
  vm.features.registerFeature({ arc: 'ip4-unicast', node: 'test-ip4-feature' });
  vm.features.enable('ip4-unicast', 'test-ip4-feature', 1, true);
  const bis = [load(vm, ip4(), { rx: 1 }), load(vm, ip4(), { rx: 2 }), load(vm, ip4(), { rx: 1 })];
  assert.deepEqual(runNode(vm, 'ip4-input', bis).next, ['test-ip4-feature', 'ip4-lookup', 'test-ip4-feature']);
  release(vm, bis);
});

test('trace: VPP\'s ip4 header lines', () => {
  const { vm } = ip4Engine();
  const bi = load(vm, ip4());
  runNode(vm, 'ip4-input', [bi]);
  const rt = vm.node('ip4-input')!;
  assert.equal(rt.definition.trace!(rt, bi, 1), [
    'UDP: 10.10.1.2 -> 48.0.0.1',
    '  tos 0x00, ttl 64, length 50, checksum 0x3faf dscp CS0 ecn NON_ECN',
    '  fragment id 0x0000',
    'UDP: 1234 -> 5678',
    '  length 30, checksum 0x0000',
  ].join('\n'));
  release(vm, [bi]);
});

test('random and malformed datagrams: no throw, a counted next, nothing read past the buffer, every buffer back', () => {
  const { vm } = ip4Engine();
  const free0 = vm.pool.available;
  fc.assert(
    fc.property(malformedDatagrams((data) => ip4({ payload: udp({ data }) })), fc.boolean(), (datagram, odd) => {
      const o = { l2: odd ? 15 : 14 };
      const { a, b } = outcomeBeyondEnd(vm, 'ip4-input', datagram, o);
      assert.equal(a, b);
      const before = errorTotal(vm, 'ip4-input');
      const bi = load(vm, datagram, o);
      const run = runNode(vm, 'ip4-input', [bi]);
      assertCountedDrops(vm, 'ip4-input', run, before);
      release(vm, run.buffers);
      // And through the whole graph: nothing throws, nothing leaks.
      vm.enqueue('ip4-input', [load(vm, datagram, o)]);
      vm.runUntilIdle();
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 400 },
  );
  assert.equal(vm.pool.doubleFrees, 0);
});
