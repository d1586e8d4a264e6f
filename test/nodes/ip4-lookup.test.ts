import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferFlag, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { AdjacencyKind } from '../../src/vnet/fib/adjacency.ts';
import { OPAQUE_ADJACENCY, OPAQUE_FIB_INDEX } from '../../src/vnet/ip4-opaque.ts';
import { ip4FlowHash } from '../../src/wire/ip4.ts';
import { ip, ip4, ip4Engine, load, malformedDatagrams, outcomeBeyondEnd, release, runNode, udp } from './ip4-helpers.ts';

const adjOf = (vm: ReturnType<typeof ip4Engine>['vm'], bi: number): number => vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY];

test('the next is the adjacency kind: rewrite, local, glean, drop', () => {
  const { vm } = ip4Engine();
  const dsts = ['48.0.0.1', '10.10.1.1', '10.10.1.9', '99.0.0.1', '10.10.2.2'];
  const bis = dsts.map((dst) => load(vm, ip4({ dst })));
  const run = runNode(vm, 'ip4-lookup', bis);
  assert.deepEqual(run.next, ['ip4-rewrite', 'ip4-local', 'ip4-glean', 'ip4-drop', 'ip4-rewrite']);
  const adjs = vm.vnet.adjacencies;
  assert.equal(adjs.kind[adjOf(vm, bis[0])], AdjacencyKind.REWRITE);
  assert.equal(adjs.nextHop[adjOf(vm, bis[0])], ip('10.10.2.2'));
  assert.equal(adjOf(vm, bis[0]), adjOf(vm, bis[4]), 'the route and the neighbor share one adjacency');
  assert.equal(adjs.kind[adjOf(vm, bis[2])], AdjacencyKind.GLEAN);
  release(vm, bis);
});

test('an unresolved next hop is an incomplete adjacency: ip4-arp', () => {
  const { vm } = ip4Engine(['ip route add 50.0.0.0/8 via 10.10.2.9']);
  const bi = load(vm, ip4({ dst: '50.1.2.3' }));
  assert.deepEqual(runNode(vm, 'ip4-lookup', [bi]).next, ['ip4-arp']);
  assert.equal(vm.vnet.adjacencies.nextHop[adjOf(vm, bi)], ip('10.10.2.9'));
  release(vm, [bi]);
});

test('longest prefix wins among overlapping routes', () => {
  const { vm } = ip4Engine([
    'set ip neighbor pg1 10.10.2.3 02:00:00:00:00:03',
    'set ip neighbor pg1 10.10.2.4 02:00:00:00:00:04',
    'ip route add 48.1.0.0/16 via 10.10.2.3',
    'ip route add 48.1.2.0/24 via 10.10.2.4',
  ]);
  const expect: [string, string][] = [['48.9.9.9', '10.10.2.2'], ['48.1.9.9', '10.10.2.3'], ['48.1.2.9', '10.10.2.4'], ['48.1.3.0', '10.10.2.3']];
  const bis = expect.map(([dst]) => load(vm, ip4({ dst })));
  runNode(vm, 'ip4-lookup', bis);
  expect.forEach(([dst, via], i) => assert.equal(vm.vnet.adjacencies.nextHop[adjOf(vm, bis[i])], ip(via), dst));
  release(vm, bis);
});

test('ECMP: flows spread over the paths by flow hash, and one flow keeps one path', () => {
  const { vm } = ip4Engine([
    'set ip neighbor pg1 10.10.2.3 02:00:00:00:00:03',
    'ip route add 49.0.0.0/8 via 10.10.2.2 via 10.10.2.3',
  ]);
  const lb = vm.vnet.fib.lookup(0, ip('49.0.0.1'));
  const buckets = vm.vnet.loadBalances.bucketsOf(lb);
  assert.ok(buckets.length > 1);
  const used = new Set<number>();
  for (let flow = 0; flow < 64; flow++) {
    const datagram = ip4({ dst: '49.0.0.1', payload: udp({ dst: '49.0.0.1', srcPort: 1000 + flow }) });
    const bis = [load(vm, datagram), load(vm, datagram), load(vm, datagram)];
    runNode(vm, 'ip4-lookup', bis);
    const adjs = bis.map((bi) => adjOf(vm, bi));
    assert.equal(new Set(adjs).size, 1, 'one flow, one path');
    const hash = ip4FlowHash(datagram, 0);
    assert.equal(adjs[0], buckets[hash & (buckets.length - 1)]);
    used.add(adjs[0]);
    release(vm, bis);
  }
  assert.equal(used.size, 2, 'both paths used');
});

test('tables: the rx interface picks the table; a locally originated packet names its own', () => {
  const { vm } = ip4Engine([
    'create packet-generator interface pg2',
    'ip table add 1',
    'set interface ip table pg2 1',
    'set interface ip address pg2 10.10.1.1/24',
    'set interface state pg2 up',
    'set ip neighbor pg2 10.10.1.7 02:00:00:00:00:07',
    'ip route add 48.0.0.0/8 table 1 via 10.10.1.7',
  ]);
  const pg2 = vm.vnet.interfaces.find('pg2');
  const a = load(vm, ip4(), { rx: 1 });
  const b = load(vm, ip4(), { rx: pg2 });
  const c = load(vm, ip4(), { rx: 1, flags: BufferFlag.LOCALLY_ORIGINATED, opaque: { [OPAQUE_FIB_INDEX]: 1 } });
  const d = load(vm, ip4({ dst: '10.10.2.2' }), { rx: pg2 });
  const run = runNode(vm, 'ip4-lookup', [a, b, c, d]);
  const adjs = vm.vnet.adjacencies;
  assert.equal(adjs.nextHop[adjOf(vm, a)], ip('10.10.2.2'));
  assert.equal(adjs.nextHop[adjOf(vm, b)], ip('10.10.1.7'));
  assert.equal(adjs.nextHop[adjOf(vm, c)], ip('10.10.1.7'));
  assert.equal(run.next[3], 'ip4-drop', 'table 1 has no route to 10.10.2.0/24');
  release(vm, [a, b, c, d]);
});

test('load-balance counters count packets and bytes', () => {
  const { vm } = ip4Engine();
  const lb = vm.vnet.fib.lookup(0, ip('48.0.0.1'));
  const bis = [load(vm, ip4()), load(vm, ip4({ dst: '48.0.0.2' })), load(vm, ip4({ dst: '10.10.1.1' })), load(vm, ip4())];
  runNode(vm, 'ip4-lookup', bis);
  assert.equal(vm.vnet.loadBalances.packets[lb], 3);
  assert.equal(vm.vnet.loadBalances.bytes[lb], 150);
  release(vm, bis);
});

test('trace: "fib 0 dpo-idx N flow hash: 0x…" and the header', () => {
  const { vm } = ip4Engine(['set ip neighbor pg1 10.10.2.3 02:00:00:00:00:03', 'ip route add 49.0.0.0/8 via 10.10.2.2 via 10.10.2.3']);
  const a = load(vm, ip4());
  const datagram = ip4({ dst: '49.0.0.1' });
  const b = load(vm, datagram);
  runNode(vm, 'ip4-lookup', [a, b]);
  const rt = vm.node('ip4-lookup')!;
  const ta = rt.definition.trace!(rt, a, 4);
  assert.match(ta, new RegExp(`^fib 0 dpo-idx ${adjOf(vm, a)} flow hash: 0x00000000\nUDP: 10.10.1.2 -> 48.0.0.1\n`));
  const tb = rt.definition.trace!(rt, b, 4);
  assert.match(tb, new RegExp(`^fib 0 dpo-idx ${adjOf(vm, b)} flow hash: 0x${ip4FlowHash(datagram, 0).toString(16).padStart(8, '0')}\n`));
  release(vm, [a, b]);
});

test('mixed frames: quads, pairs and single packets give the same adjacencies as one at a time', () => {
  const { vm } = ip4Engine([
    'set ip neighbor pg1 10.10.2.3 02:00:00:00:00:03',
    'ip route add 49.0.0.0/8 via 10.10.2.2 via 10.10.2.3',
    'ip route add 50.0.0.0/8 via 10.10.2.9',
    'ip route add 200.0.0.0/8 via 10.10.2.3',
    'ip route add 200.1.0.0/16 via 10.10.2.2',
  ]);
  // Destinations above 128.0.0.0 too: they are negative as int32, as the node keeps them.
  const dsts = ['48.0.0.1', '48.0.0.2', '49.0.0.1', '49.0.0.2', '50.0.0.1', '10.10.1.1', '10.10.1.5', '99.9.9.9',
    '200.0.0.1', '200.1.0.1', '200.1.0.2', '255.255.255.255', '223.1.1.1'];
  // Frames of any size up to 64 entries (size 'max': fast-check's default would keep them under 12),
  // some packets chained over buffers.
  const entry = fc.tuple(fc.constantFrom(...dsts), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.constantFrom(22, 22, 22, 3000));
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 64, size: 'max' }), (spec) => {
      // Runs of one destination exercise the quad path: repeat each entry a few times.
      spec = spec.flatMap((e, k) => Array.from({ length: 1 + (k % 5) }, () => e)).slice(0, 256);
      const make = ([dst, odd, port, size]: [string, boolean, number, number]): number =>
        load(vm, ip4({ dst, payload: udp({ dst, srcPort: 1000 + port, data: new Uint8Array(size) }) }), { l2: odd ? 15 : 14 });
      const together = spec.map(make);
      const alone = spec.map(make);
      const runAll = runNode(vm, 'ip4-lookup', together);
      for (let i = 0; i < spec.length; i++) {
        const one = runNode(vm, 'ip4-lookup', [alone[i]]);
        assert.equal(runAll.next[i], one.next[0]);
        assert.equal(adjOf(vm, together[i]), adjOf(vm, alone[i]));
      }
      release(vm, [...together, ...alone]);
    }),
    { numRuns: 100 },
  );
});

test('random datagrams: no throw, a valid next, nothing read past the buffer, every buffer back', () => {
  const { vm } = ip4Engine();
  const free0 = vm.pool.available;
  fc.assert(
    fc.property(malformedDatagrams((data) => ip4({ payload: udp({ data }) }), { minLength: 20 }), fc.boolean(), (datagram, odd) => {
      const { a, b } = outcomeBeyondEnd(vm, 'ip4-lookup', datagram, { l2: odd ? 15 : 14 });
      assert.equal(a, b);
      vm.enqueue('ip4-lookup', [load(vm, datagram)]);
      vm.runUntilIdle();
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 300 },
  );
});
