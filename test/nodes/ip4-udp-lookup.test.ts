import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcapFile } from '../../src/vlib/pcap.ts';
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_ICMP_ERROR } from '../../src/vnet/ip4-opaque.ts';
import { bytesOf, errorsOf, hex, ip4, ip4Engine, load, malformedDatagrams, outcomeBeyondEnd, release, runNode, udp } from './ip4-helpers.ts';

const US = '10.10.1.1';

function withListener(port: number) {
  const setup = ip4Engine();
  setup.vm.registerNode({ name: 'test-udp-sink', process: (ctx, b, n) => { ctx.pool.free(b, 0, n); return 0; } });
  setup.vm.vnet.udpLocal.register(port, 'test-udp-sink');
  return setup;
}

test('a registered port: handed to its node with current at the UDP payload (as VPP advances)', () => {
  const { vm } = withListener(5678);
  const data = Uint8Array.from([1, 2, 3, 4, 5]);
  const datagram = ip4({ dst: US, payload: udp({ dst: US, data }) });
  const padded = new Uint8Array(datagram.length + 6);
  padded.set(datagram);
  // Total Length covers the padding (as a sender may), the UDP length does not.
  padded[3] = padded.length;
  const bi = load(vm, padded);
  const l3 = vm.pool.current[bi];
  assert.deepEqual(runNode(vm, 'ip4-udp-lookup', [bi]).next, ['test-udp-sink']);
  assert.equal(vm.pool.current[bi], l3 + 28);
  assert.equal(hex(bytesOf(vm, bi)), hex(data), 'payload only, trimmed to the UDP length');
  assert.equal(hex(vm.pool.bytes.subarray(l3 + 20, l3 + 24)), '04d2162e', 'the UDP header is the 8 bytes before');
  release(vm, [bi]);
});

test('nobody listening: ICMP port unreachable via ip4-icmp-error, counted, buffer left at the IPv4 header', () => {
  const { vm } = ip4Engine();
  const bi = load(vm, ip4({ dst: US, payload: udp({ dst: US, dstPort: 9 }) }));
  const l3 = vm.pool.current[bi];
  assert.deepEqual(runNode(vm, 'ip4-udp-lookup', [bi]).next, ['ip4-icmp-error']);
  assert.equal(vm.pool.current[bi], l3);
  assert.equal(vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ICMP_ERROR], (3 << 8) | 3);
  assert.deepEqual(errorsOf(vm, 'ip4-udp-lookup'), { 'No listener for dst port': 1 });
  const rt = vm.node('ip4-udp-lookup')!;
  assert.equal(rt.definition.trace!(rt, bi, 1), 'UDP: src-port 1234 dst-port 9 (no listener)');
  release(vm, [bi]);
});

test('no room for a UDP header: dropped, counted', () => {
  const { vm } = ip4Engine();
  const bi = load(vm, ip4({ dst: US, payload: new Uint8Array(4) }));
  assert.deepEqual(runNode(vm, 'ip4-udp-lookup', [bi]).next, ['error-drop']);
  assert.deepEqual(errorsOf(vm, 'ip4-udp-lookup'), { 'Packets with length errors': 1 });
  release(vm, [bi]);
});

test('through the graph: a datagram to a closed port comes back as port unreachable on pg0', () => {
  const { vm } = ip4Engine(['set ip neighbor pg0 10.10.1.2 02:00:00:00:00:10']);
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-udp-'));
  const file = join(dir, 'pg0.pcap');
  vm.cli(`packet-generator capture pg0 pcap ${file}`);
  vm.enqueue('ip4-input', [load(vm, ip4({ dst: US, payload: udp({ dst: US, dstPort: 9 }) }))]);
  vm.runUntilIdle();
  vm.cli('packet-generator capture pg0 disable');
  const packets = readPcapFile(file).packets;
  rmSync(dir, { recursive: true, force: true });
  assert.equal(packets.length, 1);
  const reply = packets[0].data;
  assert.equal(hex(reply.subarray(14 + 12, 14 + 20)), '0a0a01010a0a0102');
  assert.equal(hex(reply.subarray(14 + 20, 14 + 22)), '0303');
});

test('random datagrams: no throw, a counted next, nothing read past the buffer, every buffer back', () => {
  const { vm } = withListener(5678);
  const free0 = vm.pool.available;
  // To the registered port and to others, any size: the handed-on ones are advanced to their payload.
  const datagrams = fc.constantFrom(5678, 5679).chain((dstPort) =>
    malformedDatagrams((data) => ip4({ dst: US, payload: udp({ dst: US, dstPort, checksum: 'good', data }) })));
  fc.assert(
    fc.property(datagrams, fc.boolean(), (datagram, odd) => {
      const o = { l2: odd ? 15 : 14 };
      const { a, b } = outcomeBeyondEnd(vm, 'ip4-udp-lookup', datagram, o);
      assert.equal(a, b);
      vm.enqueue('ip4-udp-lookup', [load(vm, datagram, o)]);
      vm.runUntilIdle();
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 300 },
  );
});
