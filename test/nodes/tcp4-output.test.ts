// tcp4-output on segments as the session layer's sink leaves them: the IPv4 header goes in
// front (current −= 20) with a valid header checksum, the TCP checksum is right, the packet
// is locally originated towards ip4-lookup; a segment with no room in front is dropped,
// counted; and a whole SYN → SYN-ACK run through the graph leaves pg0 with both checksums right.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferFlag, HEADROOM, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_FIB_INDEX } from '../../src/vnet/ip4-opaque.ts';
import { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE } from '../../src/session/host-stack.ts';
import { ip4HeaderChecksumIsValid } from '../../src/wire/ip4.ts';
import { emitTcpHeader, newTcpOptions, tcp4ChecksumIsValid } from '../../src/wire/tcp.ts';
import { errorsOf, headerChecksumOk, ip, runNode } from './ip4-helpers.ts';
import { tcpEngine } from './tcp-helpers.ts';

function sinkSegment(vm: ReturnType<typeof tcpEngine>['vm'], payload: number): number {
  const pool = vm.pool;
  const bi = pool.allocOne();
  const at = pool.dataStart(bi);
  const length = emitTcpHeader({ srcPort: 80, dstPort: 40000, sequenceNumber: 1, acknowledgmentNumber: 2, flags: 0x18, window: 1000, checksum: 0, urgentPointer: 0, options: newTcpOptions() }, pool.bytes, at);
  for (let i = 0; i < payload; i++) pool.bytes[at + length + i] = i * 7;
  pool.length[bi] = length + payload;
  pool.flags[bi] = BufferFlag.LOCALLY_ORIGINATED;
  pool.opaque[bi * OPAQUE_WORDS + OPAQUE_TCP_LOCAL] = ip('10.10.1.1');
  pool.opaque[bi * OPAQUE_WORDS + OPAQUE_TCP_REMOTE] = ip('10.10.1.2');
  pool.opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX] = 0;
  return bi;
}

test('tcp4-output: IPv4 header prepended, both checksums right, to ip4-lookup', () => {
  const { vm } = tcpEngine();
  const bis = [sinkSegment(vm, 0), sinkSegment(vm, 1), sinkSegment(vm, 1448)];
  const starts = bis.map((bi) => vm.pool.current[bi]);
  const run = runNode(vm, 'tcp4-output', bis);
  assert.deepEqual(run.next, ['ip4-lookup', 'ip4-lookup', 'ip4-lookup']);
  const pool = vm.pool;
  bis.forEach((bi, i) => {
    const cur = pool.current[bi];
    assert.equal(cur, starts[i] - 20);
    assert.equal(pool.l3Offset[bi], cur);
    assert.ok(ip4HeaderChecksumIsValid(pool.bytes, cur));
    assert.ok(headerChecksumOk(pool.bytes, cur));
    assert.equal(pool.bytes[cur + 9], 6);
    assert.equal(pool.bytes[cur + 8], 64);
    assert.equal((pool.bytes[cur + 2] << 8) | pool.bytes[cur + 3], pool.length[bi]);
    assert.ok(tcp4ChecksumIsValid(pool.bytes, cur + 20, pool.length[bi] - 20, ip('10.10.1.1'), ip('10.10.1.2')));
    assert.ok((pool.flags[bi] & BufferFlag.LOCALLY_ORIGINATED) !== 0);
  });
  assert.equal(errorsOf(vm, 'tcp4-output')['segments sent'], 3);
  for (const bi of bis) pool.freeChain(bi);
});

test('tcp4-output: a segment without headroom for the IPv4 header is dropped, counted', () => {
  const { vm } = tcpEngine();
  const bi = sinkSegment(vm, 10);
  vm.pool.current[bi] -= HEADROOM - 10; // only 10 bytes left in front
  const run = runNode(vm, 'tcp4-output', [bi]);
  assert.deepEqual(run.next, ['error-drop']);
  assert.equal(errorsOf(vm, 'tcp4-output')['bad segment from the tcp core'], 1);
  vm.pool.freeChain(bi);
});
