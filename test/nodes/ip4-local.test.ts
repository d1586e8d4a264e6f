import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferFlag, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_ADJACENCY, OPAQUE_ICMP_ERROR } from '../../src/vnet/ip4-opaque.ts';
import { fillTcp4Checksum } from '../../src/wire/tcp.ts';
import { errorsOf, icmp, ip, ip4, ip4Engine, load, looked, malformedDatagrams, outcomeBeyondEnd, release, runNode, udp } from './ip4-helpers.ts';

const US = '10.10.1.1';

test('by protocol: ICMP → ip4-icmp-input, UDP → ip4-udp-lookup', () => {
  const { vm } = ip4Engine();
  const a = looked(vm, ip4({ dst: US, protocol: 1, payload: icmp() }));
  const b = looked(vm, ip4({ dst: US, payload: udp({ dst: US }) }));
  const c = looked(vm, ip4({ dst: '10.10.2.1', payload: udp({ dst: '10.10.2.1' }) }), { rx: 2 });
  assert.deepEqual(runNode(vm, 'ip4-local', [a, b, c]).next, ['ip4-icmp-input', 'ip4-udp-lookup', 'ip4-udp-lookup']);
  release(vm, [a, b, c]);
});

test('UDP checksum: good passes and is marked, bad is dropped, zero and already-verified are not checked', () => {
  const { vm } = ip4Engine();
  const good = looked(vm, ip4({ dst: US, payload: udp({ dst: US, checksum: 'good' }) }));
  const bad = looked(vm, ip4({ dst: US, payload: udp({ dst: US, checksum: 'bad' }) }));
  const zero = looked(vm, ip4({ dst: US, payload: udp({ dst: US, checksum: 'zero' }) }));
  const offloaded = looked(vm, ip4({ dst: US, payload: udp({ dst: US, checksum: 'bad' }) }), { flags: BufferFlag.L4_CHECKSUM_CORRECT });
  const run = runNode(vm, 'ip4-local', [good, bad, zero, offloaded]);
  assert.deepEqual(run.next, ['ip4-udp-lookup', 'error-drop', 'ip4-udp-lookup', 'ip4-udp-lookup']);
  assert.ok(vm.pool.flags[good] & BufferFlag.L4_CHECKSUM_CORRECT);
  assert.deepEqual(errorsOf(vm, 'ip4-local'), { 'bad udp checksum': 1 });
  release(vm, [good, bad, zero, offloaded]);
});

test('UDP checksum over a chained packet, split at an odd byte', () => {
  const { vm } = ip4Engine();
  for (const mode of ['good', 'bad'] as const) {
    const data = Uint8Array.from({ length: 1401 }, (_, i) => (i * 7) & 0xff);
    const datagram = ip4({ dst: US, payload: udp({ dst: US, data, checksum: mode }) });
    const first = looked(vm, datagram.subarray(0, 333));
    const second = vm.pool.fromBytes(datagram.subarray(333));
    vm.pool.appendBuffer(first, first, second);
    assert.deepEqual(runNode(vm, 'ip4-local', [first]).next, [mode === 'good' ? 'ip4-udp-lookup' : 'error-drop']);
    release(vm, [first]);
  }
});

test('UDP length beyond the datagram or under 8: inconsistent udp/ip lengths', () => {
  const { vm } = ip4Engine();
  const a = looked(vm, ip4({ dst: US, payload: udp({ dst: US, length: 31 }) }));
  const b = looked(vm, ip4({ dst: US, payload: udp({ dst: US, length: 7 }) }));
  assert.deepEqual(runNode(vm, 'ip4-local', [a, b]).next, ['error-drop', 'error-drop']);
  assert.deepEqual(errorsOf(vm, 'ip4-local'), { 'inconsistent udp/ip lengths': 2 });
  release(vm, [a, b]);
});

test('an unknown protocol is answered with protocol unreachable; TCP too until tcp4-input is a next', () => {
  const { vm } = ip4Engine();
  const a = looked(vm, ip4({ dst: US, protocol: 99, payload: new Uint8Array(12) }));
  const b = looked(vm, ip4({ dst: US, protocol: 6, payload: new Uint8Array(20) }));
  assert.deepEqual(runNode(vm, 'ip4-local', [a, b]).next, ['ip4-icmp-error', 'ip4-icmp-error']);
  assert.equal(vm.pool.opaque[a * OPAQUE_WORDS + OPAQUE_ICMP_ERROR], (3 << 8) | 2);
  assert.deepEqual(errorsOf(vm, 'ip4-local'), { 'unknown ip protocol': 2 });
  release(vm, [a, b]);

  if (vm.node('tcp4-input') === undefined) vm.registerNode({ name: 'tcp4-input', process: (ctx, bufs, n) => { ctx.pool.free(bufs, 0, n); return 0; } });
  vm.addNext('ip4-local', 'tcp4-input');
  const segment = new Uint8Array(20);
  segment[12] = 0x50;
  fillTcp4Checksum(segment, 0, segment.length, ip('10.10.1.2'), ip(US));
  const good = looked(vm, ip4({ dst: US, protocol: 6, payload: segment }));
  const badSegment = segment.slice();
  badSegment[16] ^= 1;
  const bad = looked(vm, ip4({ dst: US, protocol: 6, payload: badSegment }));
  assert.deepEqual(runNode(vm, 'ip4-local', [good, bad]).next, ['tcp4-input', 'error-drop']);
  assert.equal(errorsOf(vm, 'ip4-local')['bad tcp checksum'], 1);
  release(vm, [good, bad]);
});

test('source checks: our own address is spoofed, a source with no route back is a lookup miss', () => {
  const { vm } = ip4Engine();
  const spoofed = looked(vm, ip4({ src: US, dst: US, protocol: 1, payload: icmp() }));
  const miss = looked(vm, ip4({ src: '99.1.2.3', dst: US, protocol: 1, payload: icmp() }));
  const ours = looked(vm, ip4({ src: US, dst: US, protocol: 1, payload: icmp() }), { flags: BufferFlag.LOCALLY_ORIGINATED });
  const routed = looked(vm, ip4({ src: '48.1.2.3', dst: US, protocol: 1, payload: icmp() }));
  assert.deepEqual(runNode(vm, 'ip4-local', [spoofed, miss, ours, routed]).next, ['error-drop', 'error-drop', 'ip4-icmp-input', 'ip4-icmp-input']);
  assert.deepEqual(errorsOf(vm, 'ip4-local'), { 'ip4 source lookup miss': 1, 'ip4 spoofed local-address packet drops': 1 });
  release(vm, [spoofed, miss, ours, routed]);
});

test('fragments and non-local adjacencies are dropped, counted', () => {
  const { vm } = ip4Engine();
  const fragment = looked(vm, ip4({ dst: US, fragmentWord: 0x2000, payload: udp({ dst: US }) }));
  const notLocal = looked(vm, ip4());
  assert.deepEqual(runNode(vm, 'ip4-local', [fragment, notLocal]).next, ['error-drop', 'error-drop']);
  assert.deepEqual(errorsOf(vm, 'ip4-local'), { 'fragments dropped (no reassembly)': 1, 'destination is not a local address': 1 });
  release(vm, [fragment, notLocal]);
});

test('trace: the forwarding record', () => {
  const { vm } = ip4Engine();
  const bi = looked(vm, ip4({ dst: US, protocol: 1, payload: icmp() }));
  runNode(vm, 'ip4-local', [bi]);
  const rt = vm.node('ip4-local')!;
  const adj = vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY];
  assert.match(rt.definition.trace!(rt, bi, 1), new RegExp(`^fib 0 dpo-idx ${adj} flow hash: 0x00000000\nICMP: 10.10.1.2 -> 10.10.1.1\n`));
  release(vm, [bi]);
});

test('random datagrams to us: no throw, a counted next, nothing read past the buffer, every buffer back', () => {
  const { vm } = ip4Engine();
  const free0 = vm.pool.available;
  const local = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, ip(US)))[0];
  const datagrams = fc.constantFrom(1, 6, 17, 99).chain((protocol) =>
    malformedDatagrams((data) => ip4({ dst: US, protocol, payload: protocol === 1 ? icmp({ data }) : udp({ dst: US, checksum: 'good', data }) })));
  fc.assert(
    fc.property(datagrams, fc.boolean(), (datagram, odd) => {
      const o = { l2: odd ? 15 : 14, opaque: { [OPAQUE_ADJACENCY]: local } };
      const { a, b } = outcomeBeyondEnd(vm, 'ip4-local', datagram, o);
      assert.equal(a, b);
      const before = Object.values(errorsOf(vm, 'ip4-local')).reduce((x, y) => x + y, 0);
      const bi = load(vm, datagram, o);
      const run = runNode(vm, 'ip4-local', [bi]);
      if (run.next[0] === 'error-drop') assert.equal(Object.values(errorsOf(vm, 'ip4-local')).reduce((x, y) => x + y, 0), before + 1);
      release(vm, run.buffers);
      vm.enqueue('ip4-local', [load(vm, datagram, o)]);
      vm.runUntilIdle();
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 400 },
  );
});
