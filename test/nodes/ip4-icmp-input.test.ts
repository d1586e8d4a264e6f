import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferFlag, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_FIB_INDEX } from '../../src/vnet/ip4-opaque.ts';
import { internetChecksum } from '../../src/wire/checksum.ts';
import { bytesOf, errorsOf, headerChecksumOk, hex, icmp, ip4, ip4Engine, load, malformedDatagrams, outcomeBeyondEnd, release, runNode } from './ip4-helpers.ts';

const US = '10.10.1.1';

test('echo request → echo reply in place: same id, seq and data, addresses swapped, TTL 64, checksums valid', () => {
  const { vm } = ip4Engine();
  const request = ip4({ dst: US, ttl: 17, protocol: 1, identification: 0x1234, payload: icmp({ rest: (0xbeef << 16) | 42 }) });
  const bi = load(vm, request, { rx: 1 });
  const run = runNode(vm, 'ip4-icmp-input', [bi]);
  assert.deepEqual(run.next, ['ip4-lookup']);
  const reply = bytesOf(vm, bi);
  assert.equal(hex(reply.subarray(12, 16)), hex(request.subarray(16, 20)), 'from the address pinged');
  assert.equal(hex(reply.subarray(16, 20)), hex(request.subarray(12, 16)), 'to the sender');
  assert.equal(reply[8], 64);
  assert.ok(headerChecksumOk(reply));
  assert.equal(reply[20], 0, 'echo reply');
  assert.equal(hex(reply.subarray(24)), hex(request.subarray(24)), 'identifier, sequence and data kept');
  assert.equal(internetChecksum(reply, 20, reply.length - 20), 0, 'ICMP checksum valid');
  assert.ok(vm.pool.flags[bi] & BufferFlag.LOCALLY_ORIGINATED);
  assert.equal(vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX], 0);
  assert.equal(vm.pool.rxInterface[bi], 1);
  assert.deepEqual(errorsOf(vm, 'ip4-icmp-input'), { 'echo replies sent': 1 });
  release(vm, [bi]);
});

test('the reply is looked up in the rx interface\'s table', () => {
  const { vm } = ip4Engine(['create packet-generator interface pg2', 'ip table add 3', 'set interface ip table pg2 3', 'set interface ip address pg2 10.10.1.1/24']);
  const pg2 = vm.vnet.interfaces.find('pg2');
  const bi = load(vm, ip4({ dst: US, protocol: 1, payload: icmp() }), { rx: pg2 });
  runNode(vm, 'ip4-icmp-input', [bi]);
  assert.equal(vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX], vm.vnet.fib.fibIndexOf(3));
  release(vm, [bi]);
});

test('other types are counted and dropped; a message under 8 bytes is too small', () => {
  const { vm } = ip4Engine();
  const a = load(vm, ip4({ dst: US, protocol: 1, payload: icmp({ type: 13 }) }));
  const b = load(vm, ip4({ dst: US, protocol: 1, payload: icmp({ type: 0 }) }));
  const c = load(vm, ip4({ dst: US, protocol: 1, payload: new Uint8Array([8, 0, 0, 0]) }));
  assert.deepEqual(runNode(vm, 'ip4-icmp-input', [a, b, c]).next, ['error-drop', 'error-drop', 'error-drop']);
  assert.deepEqual(errorsOf(vm, 'ip4-icmp-input'), { 'unknown type': 2, 'payload length too small for type': 1 });
  release(vm, [a, b, c]);
});

test('trace: the packet\'s ip4 and ICMP lines', () => {
  const { vm } = ip4Engine();
  const bi = load(vm, ip4({ dst: US, protocol: 1, payload: icmp() }));
  runNode(vm, 'ip4-icmp-input', [bi]);
  const rt = vm.node('ip4-icmp-input')!;
  assert.match(rt.definition.trace!(rt, bi, 1), /^ICMP: 10\.10\.1\.1 -> 10\.10\.1\.2\n[^]*\nICMP echo_reply checksum 0x[0-9a-f]{4} id 7 seq 1$/);
  release(vm, [bi]);
});

test('random ICMP: no throw, a counted next, nothing read past the buffer, every buffer back', () => {
  const { vm } = ip4Engine();
  const free0 = vm.pool.available;
  fc.assert(
    // Messages of any size (chained past one buffer): random bytes, or echo requests with one header byte changed.
    fc.property(malformedDatagrams((data) => icmp({ data }), { mutable: 8 }), fc.constantFrom(0, 20, 24), (message, extraHeader) => {
      const datagram = extraHeader === 0
        ? message
        : ip4({ dst: US, protocol: 1, payload: message, options: new Uint8Array(extraHeader - 20) });
      const { a, b } = outcomeBeyondEnd(vm, 'ip4-icmp-input', datagram);
      assert.equal(a, b);
      vm.enqueue('ip4-icmp-input', [load(vm, datagram)]);
      vm.runUntilIdle();
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 300 },
  );
});
