// tcp4-reset: the resets that answer segments for no connection leave the session layer
// through this node, not tcp4-output, and through the graph they reach the wire as a host
// sends them — IPv4 header pushed, TCP checksum finished at a device that does not offload —
// counted as "Resets sent". A reset for a connection (an abort) still goes by tcp4-output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcapFile } from '../../src/vlib/pcap.ts';
import { parseTcpHeader, tcp4ChecksumIsValid, TcpFlags } from '../../src/wire/tcp.ts';
import { errorsOf, headerChecksumOk, ip, load, runNode } from './ip4-helpers.ts';
import { tcpDatagram, tcpEngine } from './tcp-helpers.ts';

test('tcp4-reset: a reset for a closed port is staged for tcp4-reset, one for a connection for tcp4-output', () => {
  const { vm, host, toOutput, toReset } = tcpEngine();
  runNode(vm, 'tcp4-input', [load(vm, tcpDatagram({ flags: TcpFlags.SYN, seq: 7, dstPort: 81 }))]);
  assert.equal(toReset.length, 1, 'the reset for port 81 went to tcp4-reset');
  assert.equal(parseTcpHeader(vm.pool.bytes, vm.pool.current[toReset[0]], vm.pool.length[toReset[0]])!.flags, TcpFlags.RST | TcpFlags.ACK);
  // An abort of an established connection: its reset goes by tcp4-output. (Handshake by hand.)
  const app = host.attach({ name: 'srv', callbacks: {} });
  host.listen(app, 0, 80);
  toOutput.length = 0;
  runNode(vm, 'tcp4-input', [load(vm, tcpDatagram({ flags: TcpFlags.SYN, seq: 100, options: { mss: 1460 } }))]);
  const synAck = parseTcpHeader(vm.pool.bytes, vm.pool.current[toOutput[0]], vm.pool.length[toOutput[0]])!;
  runNode(vm, 'tcp4-input', [load(vm, tcpDatagram({ flags: TcpFlags.ACK, seq: 101, ack: synAck.sequenceNumber + 1 }))]);
  const session = host.liveSessionList().find((x) => x.listenerIndex >= 0)!;
  toOutput.length = 0;
  toReset.length = 0;
  host.abort(session);
  assert.equal(toReset.length, 0);
  assert.equal(toOutput.length, 1);
  assert.equal(parseTcpHeader(vm.pool.bytes, vm.pool.current[toOutput[0]], vm.pool.length[toOutput[0]])!.flags & TcpFlags.RST, TcpFlags.RST);
});

test('tcp4-reset: through the graph, a SYN to a closed port gets a reset on pg0 with both checksums right, counted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-tcp4-reset-'));
  try {
    const { vm } = tcpEngine();
    const proto = Object.getPrototypeOf(vm) as { enqueue: typeof vm.enqueue };
    vm.enqueue = proto.enqueue.bind(vm);
    vm.cli('set ip neighbor pg0 10.10.1.2 02:00:00:00:01:02');
    const file = join(dir, 'pg0.pcap');
    vm.cli(`packet-generator capture pg0 pcap ${file}`);
    const bi = vm.pool.fromBytes(tcpDatagram({ flags: TcpFlags.SYN, seq: 1000, srcPort: 40000, dstPort: 81 }));
    vm.pool.rxInterface[bi] = vm.vnet.interfaces.find('pg0');
    vm.enqueue('tcp4-input', [bi]);
    vm.runUntilIdle();
    vm.cli('packet-generator capture pg0 disable');
    const packets = readPcapFile(file).packets;
    assert.equal(packets.length, 1);
    const ipHeader = packets[0].data.subarray(14);
    assert.ok(headerChecksumOk(ipHeader, 0));
    const length = ((ipHeader[2] << 8) | ipHeader[3]) - 20;
    assert.ok(tcp4ChecksumIsValid(ipHeader, 20, length, ip('10.10.1.1'), ip('10.10.1.2')));
    const h = parseTcpHeader(ipHeader.subarray(20), 0, length)!;
    assert.equal(h.flags, TcpFlags.RST | TcpFlags.ACK);
    assert.equal(h.acknowledgmentNumber, 1001);
    assert.equal(h.dstPort, 40000);
    assert.equal(errorsOf(vm, 'tcp4-reset')['Resets sent'], 1);
    assert.equal(errorsOf(vm, 'tcp4-output')['segments sent'] ?? 0, 0);
    assert.match(vm.cli('show errors'), /tcp4-reset\s+Resets sent/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
