// udp4-output on datagrams as the session layer stages them (payload at the data start,
// addresses and ports in opaque words): UDP and IPv4 headers go in front with valid
// checksums, the packet is locally originated towards ip4-lookup; one with no room for the
// headers is dropped, counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferFlag, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_FIB_INDEX } from '../../src/vnet/ip4-opaque.ts';
import { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE, OPAQUE_UDP_PORTS } from '../../src/session/host-stack.ts';
import { ip4HeaderChecksumIsValid } from '../../src/wire/ip4.ts';
import { udp4ChecksumIsValid } from '../../src/wire/udp.ts';
import { finishL4Checksum } from '../../nodes/interface-output.ts';
import { errorsOf, ip, ip4Engine, release, runNode } from './ip4-helpers.ts';

function staged(vm: ReturnType<typeof ip4Engine>['vm'], payload: number): number {
  const pool = vm.pool;
  const bi = pool.allocOne();
  const start = pool.dataStart(bi);
  for (let i = 0; i < payload; i++) pool.bytes[start + i] = i * 5;
  pool.current[bi] = start;
  pool.length[bi] = payload;
  pool.flags[bi] = BufferFlag.LOCALLY_ORIGINATED;
  const base = bi * OPAQUE_WORDS;
  pool.opaque[base + OPAQUE_TCP_LOCAL] = ip('10.10.1.1');
  pool.opaque[base + OPAQUE_TCP_REMOTE] = ip('10.10.1.2');
  pool.opaque[base + OPAQUE_UDP_PORTS] = ((5000 << 16) | 6000) >>> 0;
  pool.opaque[base + OPAQUE_FIB_INDEX] = 0;
  return bi;
}

test('udp4-output: UDP and IPv4 headers in front, the UDP checksum offloaded (right once finished), to ip4-lookup', () => {
  const { vm } = ip4Engine();
  vm.cli('session enable');
  const bis = [staged(vm, 0), staged(vm, 1), staged(vm, 1472)];
  const starts = bis.map((bi) => vm.pool.current[bi]);
  const run = runNode(vm, 'udp4-output', bis);
  assert.deepEqual(run.next, ['ip4-lookup', 'ip4-lookup', 'ip4-lookup']);
  const { bytes, current, length, l3Offset } = vm.pool;
  bis.forEach((bi, i) => {
    const cur = current[bi];
    assert.equal(cur, starts[i] - 28);
    assert.equal(l3Offset[bi], cur);
    assert.ok(ip4HeaderChecksumIsValid(bytes, cur));
    assert.equal(bytes[cur + 9], 17);
    assert.equal(bytes[cur + 6] & 0x40, 0, 'no DF');
    assert.equal((bytes[cur + 2] << 8) | bytes[cur + 3], length[bi]);
    assert.equal((bytes[cur + 20] << 8) | bytes[cur + 21], 5000);
    assert.equal((bytes[cur + 22] << 8) | bytes[cur + 23], 6000);
    assert.equal((bytes[cur + 24] << 8) | bytes[cur + 25], length[bi] - 20);
    const offload = BufferFlag.L4_CHECKSUM_OFFLOAD | BufferFlag.L4_CHECKSUM_CORRECT;
    assert.equal(vm.pool.flags[bi] & offload, offload, 'marked for the device or <if>-output to finish');
    finishL4Checksum(vm.pool, bi);
    assert.ok(udp4ChecksumIsValid(bytes, cur + 20, length[bi] - 20, ip('10.10.1.1'), ip('10.10.1.2')));
  });
  assert.equal(errorsOf(vm, 'udp4-output')['datagrams sent'], 3);
  release(vm, bis);
});

test('udp4-output: a datagram without headroom for its headers is dropped, counted', () => {
  const { vm } = ip4Engine();
  const tight = staged(vm, 10);
  // The payload 4 bytes into the buffer's headroom: no room for 28 bytes of headers in front.
  vm.pool.current[tight] = tight * vm.pool.stride + 4;
  const run = runNode(vm, 'udp4-output', [tight]);
  assert.deepEqual(run.next, ['error-drop']);
  assert.equal(errorsOf(vm, 'udp4-output')['datagram does not fit its buffer'], 1);
  release(vm, run.buffers);
});
