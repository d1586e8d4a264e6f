// tcp4-output on segments as the session layer's sink leaves them: the IPv4 header goes in
// front (current −= 20) with a valid header checksum; the TCP checksum is left for the way out
// (the field holds the pseudo-header sum, the buffer is marked L4_CHECKSUM_OFFLOAD and
// L4_CHECKSUM_CORRECT) and finishing it gives a right checksum; the packet is locally
// originated towards ip4-lookup; a segment with no room in front is dropped, counted; and a
// whole SYN → SYN-ACK run through the graph leaves pg0 (a device that does not offload) with
// both checksums right, pcap tx capture or not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finishL4Checksum } from '../../nodes/interface-output.ts';
import { readPcapFile } from '../../src/vlib/pcap.ts';
import { BufferFlag, HEADROOM, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_FIB_INDEX } from '../../src/vnet/ip4-opaque.ts';
import { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE } from '../../src/session/host-stack.ts';
import { ip4HeaderChecksumIsValid } from '../../src/wire/ip4.ts';
import { emitTcpHeader, newTcpOptions, parseTcpHeader, tcp4ChecksumIsValid, TcpFlags } from '../../src/wire/tcp.ts';
import { ip4PseudoHeaderSum } from '../../src/wire/checksum.ts';
import { errorsOf, headerChecksumOk, ip, runNode } from './ip4-helpers.ts';
import { tcpDatagram, tcpEngine } from './tcp-helpers.ts';

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

test('tcp4-output: IPv4 header prepended, TCP checksum offloaded (finished right), to ip4-lookup', () => {
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
    const f = pool.flags[bi];
    assert.ok((f & BufferFlag.LOCALLY_ORIGINATED) !== 0);
    assert.ok((f & BufferFlag.L4_CHECKSUM_OFFLOAD) !== 0, 'checksum left to the way out');
    assert.ok((f & BufferFlag.L4_CHECKSUM_CORRECT) !== 0, 'not to be verified on local delivery');
    const field = (pool.bytes[cur + 36] << 8) | pool.bytes[cur + 37];
    assert.equal(field, ip4PseudoHeaderSum(ip('10.10.1.1'), ip('10.10.1.2'), 6, pool.length[bi] - 20), 'the field holds the pseudo-header sum');
    finishL4Checksum(pool, bi);
    assert.ok(tcp4ChecksumIsValid(pool.bytes, cur + 20, pool.length[bi] - 20, ip('10.10.1.1'), ip('10.10.1.2')));
    assert.equal(pool.flags[bi] & BufferFlag.L4_CHECKSUM_OFFLOAD, 0);
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

test('tcp4-output: a SYN-ACK through the graph leaves pg0 with both checksums right (with and without pcap tx capture)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-tcp4-output-'));
  // `pcap trace … file <name>` writes /tmp/<name>.
  const traceName = `vecnet-tcp4-output-${process.pid}.pcap`;
  try {
    const { vm, host } = tcpEngine();
    // Let segments run through the real graph (tcpEngine records them by default).
    const proto = Object.getPrototypeOf(vm) as { enqueue: typeof vm.enqueue };
    vm.enqueue = proto.enqueue.bind(vm);
    vm.cli('set ip neighbor pg0 10.10.1.2 02:00:00:00:01:02');
    const app = host.attach({ name: 'listener', callbacks: {} });
    host.listen(app, 0, 80);
    const captured: Uint8Array[] = [];
    for (const pcapTrace of [false, true]) {
      const file = join(dir, `pg0-${pcapTrace}.pcap`);
      vm.cli(`packet-generator capture pg0 pcap ${file}`);
      if (pcapTrace) vm.cli(`pcap trace tx max 100 file ${traceName}`);
      const bi = vm.pool.fromBytes(tcpDatagram({ flags: TcpFlags.SYN, srcPort: 40000 + Number(pcapTrace), options: { mss: 1460 } }));
      vm.pool.rxInterface[bi] = vm.vnet.interfaces.find('pg0');
      vm.enqueue('tcp4-input', [bi]);
      vm.runUntilIdle();
      vm.cli('packet-generator capture pg0 disable');
      if (pcapTrace) vm.cli('pcap trace off');
      const packets = readPcapFile(file).packets;
      assert.equal(packets.length, 1, `one SYN-ACK (pcap trace ${pcapTrace})`);
      captured.push(packets[0].data);
    }
    for (const frame of captured) {
      const ipHeader = frame.subarray(14);
      assert.ok(headerChecksumOk(ipHeader, 0));
      const length = ((ipHeader[2] << 8) | ipHeader[3]) - 20;
      assert.ok(tcp4ChecksumIsValid(ipHeader, 20, length, ip('10.10.1.1'), ip('10.10.1.2')), 'TCP checksum finished at pg0-output');
      assert.equal(parseTcpHeader(ipHeader.subarray(20), 0, length)!.flags, TcpFlags.SYN | TcpFlags.ACK);
    }
    const traced = readPcapFile(join('/tmp', traceName)).packets;
    assert.ok(traced.length >= 1);
    const ipHeader = traced[0].data.subarray(14);
    assert.ok(tcp4ChecksumIsValid(ipHeader, 20, ((ipHeader[2] << 8) | ipHeader[3]) - 20, ip('10.10.1.1'), ip('10.10.1.2')), 'pcap tx trace shows the finished checksum');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join('/tmp', traceName), { force: true });
  }
});
