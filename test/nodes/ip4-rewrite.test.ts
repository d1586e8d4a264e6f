import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferFlag, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_ADJACENCY, OPAQUE_ICMP_ERROR } from '../../src/vnet/ip4-opaque.ts';
import { ip4DecrementTtlUpdateChecksum } from '../../src/wire/checksum.ts';
import {
  bytesOf, errorsOf, headerChecksumOk, hex, ip, ip4, ip4Engine, load, looked, malformedDatagrams, NEIGHBOR_MAC, outcomeBeyondEnd, PG1_MAC, release, runNode, udp,
} from './ip4-helpers.ts';

const macHex = (text: string): string => text.replaceAll(':', '');

test('forwarding: Ethernet header from the adjacency, TTL - 1 with a valid checksum, txInterface, next <if>-output', () => {
  const { vm, pg1 } = ip4Engine();
  const datagram = ip4();
  const bi = looked(vm, datagram);
  const cur = vm.pool.current[bi];
  const run = runNode(vm, 'ip4-rewrite', [bi]);
  assert.deepEqual(run.next, ['pg1-output']);
  assert.equal(vm.pool.current[bi], cur - 14);
  assert.equal(vm.pool.txInterface[bi], pg1);
  const out = bytesOf(vm, bi);
  assert.equal(hex(out.subarray(0, 14)), `${macHex(NEIGHBOR_MAC)}${macHex(PG1_MAC)}0800`);
  assert.equal(out[14 + 8], 63);
  assert.ok(headerChecksumOk(out, 14));
  assert.equal(hex(out.subarray(14 + 12)), hex(datagram.subarray(12)), 'addresses and payload untouched');
  release(vm, [bi]);
});

test('the incremental checksum is the wire helper\'s, bit for bit, on both paths, for any header', () => {
  const { vm } = ip4Engine();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 2, max: 255 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), fc.boolean()), { minLength: 1, maxLength: 20, size: 'max' }), (spec) => {
      const datagrams = spec.map(([ttl, id, tos]) => ip4({ ttl, identification: id, tos }));
      const bis = spec.map(([, , , odd], i) => looked(vm, datagrams[i], { l2: odd ? 15 : 14 }));
      runNode(vm, 'ip4-rewrite', bis);
      bis.forEach((bi, i) => {
        const expected = datagrams[i].slice();
        ip4DecrementTtlUpdateChecksum(expected, 0);
        const out = bytesOf(vm, bi);
        assert.equal(hex(out.subarray(14)), hex(expected));
        assert.ok(headerChecksumOk(out, 14));
      });
      release(vm, bis);
    }),
    { numRuns: 100 },
  );
});

test('TTL 1: to ip4-icmp-error with time exceeded, counted, not rewritten', () => {
  const { vm } = ip4Engine();
  const bi = looked(vm, ip4({ ttl: 1 }));
  const cur = vm.pool.current[bi];
  assert.deepEqual(runNode(vm, 'ip4-rewrite', [bi]).next, ['ip4-icmp-error']);
  assert.equal(vm.pool.current[bi], cur);
  assert.equal(vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ICMP_ERROR], 11 << 8);
  assert.equal(errorsOf(vm, 'ip4-rewrite')['ip4 ttl <= 1'], 1);
  release(vm, [bi]);
});

test('MTU: DF set → fragmentation needed with the MTU (TTL restored); no DF → dropped, counted (no fragmentation yet)', () => {
  const { vm } = ip4Engine(['set interface mtu 1000 pg1']);
  const big = (fragmentWord: number): Uint8Array => ip4({ fragmentWord, payload: udp({ data: new Uint8Array(1000) }) });
  const df = big(0x4000);
  const a = looked(vm, df);
  const b = looked(vm, big(0));
  const c = looked(vm, ip4({ payload: udp({ data: new Uint8Array(972) }) }));
  const run = runNode(vm, 'ip4-rewrite', [a, b, c]);
  assert.deepEqual(run.next, ['ip4-icmp-error', 'error-drop', 'pg1-output']);
  assert.equal(vm.pool.opaque[a * OPAQUE_WORDS + OPAQUE_ICMP_ERROR], ((1000 << 16) | (3 << 8) | 4) >>> 0);
  assert.equal(hex(bytesOf(vm, a)), hex(df), 'the header is quoted as it came');
  assert.deepEqual(errorsOf(vm, 'ip4-rewrite'), {
    'ip4 MTU exceeded and DF set': 1,
    'ip4 MTU exceeded (fragmentation not supported)': 1,
  });
  release(vm, [a, b, c]);
});

test('a locally originated packet keeps its TTL', () => {
  const { vm } = ip4Engine();
  const bi = looked(vm, ip4({ ttl: 1 }), { flags: BufferFlag.LOCALLY_ORIGINATED });
  assert.deepEqual(runNode(vm, 'ip4-rewrite', [bi]).next, ['pg1-output']);
  assert.equal(bytesOf(vm, bi)[14 + 8], 1);
  release(vm, [bi]);
});

test('an adjacency that is no longer a rewrite drops, counted; adjacency packets are counted', () => {
  const { vm } = ip4Engine(['ip route add 50.0.0.0/8 via 10.10.2.9']);
  const a = looked(vm, ip4({ dst: '50.0.0.1' }));
  const b = looked(vm, ip4());
  const c = looked(vm, ip4());
  const run = runNode(vm, 'ip4-rewrite', [a, b, c]);
  assert.deepEqual(run.next, ['error-drop', 'pg1-output', 'pg1-output']);
  assert.equal(errorsOf(vm, 'ip4-rewrite')['adjacency not resolved'], 1);
  assert.equal(vm.vnet.adjacencies.packets[vm.pool.opaque[b * OPAQUE_WORDS]], 2);
  release(vm, [a, b, c]);
});

test('trace: VPP\'s layout, byte for byte on VPP\'s own sample packet', () => {
  const { vm } = ip4Engine();
  // The anchor's packet: 10.10.1.2 → 48.0.0.1 UDP 1234 → 5678, data 00 01 02 …, UDP checksum 0x3b2c.
  const datagram = ip4({ payload: udp({ checksum: 'good' }) });
  const bi = looked(vm, datagram);
  runNode(vm, 'ip4-rewrite', [bi]);
  const adj = vm.pool.opaque[bi * OPAQUE_WORDS];
  const next = vm.vnet.adjacencies.rewriteNext[adj];
  const rt = vm.node('ip4-rewrite')!;
  assert.equal(rt.definition.trace!(rt, bi, next), [
    `tx_sw_if_index 2 dpo-idx ${adj} : ipv4 via 10.10.2.2 pg1: mtu:9000 next:${next} flags:[] 02000000000202fe000000010800 flow hash: 0x00000000`,
    '00000000: 02000000000202fe00000001080045000032000000003f1140af0a0a01023000',
    '00000020: 000104d2162e001e3b2c000102030405060708090a0b0c0d0e0f1011',
  ].join('\n'));
  release(vm, [bi]);
});

test('mixed frames: pairs and single packets give the same results as one at a time', () => {
  const { vm } = ip4Engine([
    'set ip neighbor pg1 10.10.2.3 02:00:00:00:00:03',
    'ip route add 49.0.0.0/8 via 10.10.2.3',
    'ip route add 50.0.0.0/8 via 10.10.2.9',
    'set interface mtu 1000 pg1',
  ]);
  const kinds = ['48', '49', '50', 'ttl1', 'ttl2', 'local', 'odd', 'big', 'bigdf', 'chained'] as const;
  fc.assert(
    // Frames of any size up to 48 (size 'max': fast-check's default would keep them under 12).
    fc.property(fc.array(fc.constantFrom(...kinds), { minLength: 1, maxLength: 48, size: 'max' }), (spec) => {
      const make = (k: (typeof kinds)[number]): number => {
        switch (k) {
          case '49': return looked(vm, ip4({ dst: '49.0.0.1' }));
          case '50': return looked(vm, ip4({ dst: '50.0.0.1' }));
          case 'ttl1': return looked(vm, ip4({ ttl: 1 }));
          case 'ttl2': return looked(vm, ip4({ ttl: 2 }));
          case 'local': return looked(vm, ip4({ ttl: 1 }), { flags: BufferFlag.LOCALLY_ORIGINATED });
          case 'odd': return looked(vm, ip4(), { l2: 15 });
          case 'big': return looked(vm, ip4({ payload: udp({ data: new Uint8Array(1000) }) }));
          case 'bigdf': return looked(vm, ip4({ fragmentWord: 0x4000, payload: udp({ data: new Uint8Array(1000) }) }));
          case 'chained': return looked(vm, ip4({ fragmentWord: 0x4000, payload: udp({ data: new Uint8Array(3000) }) }));
          default: return looked(vm, ip4());
        }
      };
      const together = spec.map(make);
      const alone = spec.map(make);
      const runAll = runNode(vm, 'ip4-rewrite', together);
      for (let i = 0; i < spec.length; i++) {
        const one = runNode(vm, 'ip4-rewrite', [alone[i]]);
        assert.equal(runAll.next[i], one.next[0], spec[i]);
        assert.equal(hex(bytesOf(vm, together[i])), hex(bytesOf(vm, alone[i])));
        assert.equal(vm.pool.txInterface[together[i]], vm.pool.txInterface[alone[i]]);
        if (one.next[0] === 'ip4-icmp-error') {
          assert.equal(vm.pool.opaque[together[i] * OPAQUE_WORDS + OPAQUE_ICMP_ERROR], vm.pool.opaque[alone[i] * OPAQUE_WORDS + OPAQUE_ICMP_ERROR]);
        }
      }
      release(vm, [...together, ...alone]);
    }),
    { numRuns: 100 },
  );
});

test('random headers: no throw, a counted next, nothing read past the buffer, every buffer back', () => {
  const { vm } = ip4Engine();
  const free0 = vm.pool.available;
  fc.assert(
    fc.property(malformedDatagrams((data) => ip4({ payload: udp({ data }) }), { minLength: 20 }), fc.boolean(), (datagram, odd) => {
      const adj = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, ip('48.0.0.1')))[0];
      const o = { l2: odd ? 15 : 14, opaque: { [OPAQUE_ADJACENCY]: adj } };
      const { a, b } = outcomeBeyondEnd(vm, 'ip4-rewrite', datagram, o);
      assert.equal(a, b);
      vm.enqueue('ip4-rewrite', [load(vm, datagram, o)]);
      vm.runUntilIdle();
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 300 },
  );
});
