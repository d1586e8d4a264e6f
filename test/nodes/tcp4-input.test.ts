// tcp4-input on hand-made segments: a SYN to a listener is answered (SYN-ACK handed to
// tcp4-output with the options negotiated), a segment to a closed port gets a reset, bad
// checksums and malformed datagrams are dropped and counted, random bytes never throw, and
// every buffer is accounted for (freed by the node or handed to error-drop).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferFlag, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_FIB_INDEX } from '../../src/vnet/ip4-opaque.ts';
import { parseTcpHeader, TcpFlags } from '../../src/wire/tcp.ts';
import { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE } from '../../src/session/host-stack.ts';
import { errorsOf, ip, load, release, runNode } from './ip4-helpers.ts';
import { tcpDatagram, tcpEngine } from './tcp-helpers.ts';

function listener(setup: ReturnType<typeof tcpEngine>, port: number): void {
  const app = setup.host.attach({ name: `srv${port}`, callbacks: {} });
  setup.host.listen(app, 0, port);
}

test('tcp4-input: a SYN to a listener is answered with a SYN-ACK towards tcp4-output', () => {
  const setup = tcpEngine();
  const { vm, toOutput } = setup;
  listener(setup, 80);
  const before = vm.pool.available;
  const bi = load(vm, tcpDatagram({ flags: TcpFlags.SYN, seq: 5000, options: { mss: 1400, windowScale: 7, sackPermitted: true, timestamps: true, tsVal: 1 } }));
  const run = runNode(vm, 'tcp4-input', [bi]);
  assert.deepEqual(run.next, [], 'consumed');
  assert.equal(toOutput.length, 1);
  const out = toOutput[0];
  const pool = vm.pool;
  const h = parseTcpHeader(pool.bytes, pool.current[out], pool.length[out])!;
  assert.equal(h.flags, TcpFlags.SYN | TcpFlags.ACK);
  assert.equal(h.acknowledgmentNumber, 5001);
  assert.equal(h.srcPort, 80);
  assert.equal(h.dstPort, 40000);
  assert.ok(h.options.mss > 0 && h.options.sackPermitted && h.options.timestamps && h.options.windowScale >= 0);
  assert.equal(pool.opaque[out * OPAQUE_WORDS + OPAQUE_TCP_LOCAL], ip('10.10.1.1'));
  assert.equal(pool.opaque[out * OPAQUE_WORDS + OPAQUE_TCP_REMOTE], ip('10.10.1.2'));
  assert.equal(pool.opaque[out * OPAQUE_WORDS + OPAQUE_FIB_INDEX], 0);
  assert.equal(errorsOf(vm, 'tcp4-input')['segments received'], 1);
  release(vm, toOutput);
  assert.equal(vm.pool.available, before, 'the SYN buffer was freed');
});

test('tcp4-input: a segment to a closed port is answered with a reset (RFC 9293 §3.10.7.1)', () => {
  const { vm, toOutput } = tcpEngine();
  const bi = load(vm, tcpDatagram({ flags: TcpFlags.SYN, seq: 7, dstPort: 81 }));
  runNode(vm, 'tcp4-input', [bi]);
  assert.equal(toOutput.length, 1);
  const h = parseTcpHeader(vm.pool.bytes, vm.pool.current[toOutput[0]], vm.pool.length[toOutput[0]])!;
  assert.equal(h.flags, TcpFlags.RST | TcpFlags.ACK);
  assert.equal(h.acknowledgmentNumber, 8);
  assert.equal(errorsOf(vm, 'tcp4-input')['no listener for dst port'], 1);
  // A reset is never answered with a reset.
  toOutput.length = 0;
  runNode(vm, 'tcp4-input', [load(vm, tcpDatagram({ flags: TcpFlags.RST, dstPort: 81 }))]);
  assert.equal(toOutput.length, 0);
});

test('tcp4-input: bad checksum and malformed segments go to error-drop, counted', () => {
  const setup = tcpEngine();
  const { vm, toOutput } = setup;
  listener(setup, 80);
  const bad = load(vm, tcpDatagram({ badChecksum: true }));
  const short = load(vm, tcpDatagram().subarray(0, 30));
  const verified = load(vm, tcpDatagram({ badChecksum: true, flags: TcpFlags.ACK, dstPort: 99 }), { flags: BufferFlag.L4_CHECKSUM_CORRECT });
  const run = runNode(vm, 'tcp4-input', [bad, short, verified]);
  assert.deepEqual(run.next, ['error-drop', 'error-drop']);
  assert.deepEqual(run.buffers, [bad, short]);
  const errors = errorsOf(vm, 'tcp4-input');
  assert.equal(errors['bad tcp checksum'], 1);
  assert.equal(errors['malformed tcp segment'], 1);
  assert.equal(toOutput.length, 1, 'the segment whose checksum a device verified was processed (reset)');
  release(vm, [...run.buffers, ...toOutput]);
});

test('tcp4-input: random segments never throw and every buffer is accounted for', () => {
  const setup = tcpEngine();
  const { vm, toOutput } = setup;
  listener(setup, 80);
  const start = vm.pool.available;
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), fc.integer({ min: 0, max: 0x3f }), (junk, flags) => {
    const seg = tcpDatagram({ flags, seq: junk.length * 977, payload: junk.subarray(0, junk.length >> 1) });
    const mangled = seg.slice();
    for (let i = 0; i < (junk.length >> 1); i++) mangled[(junk[i] % seg.length)] ^= junk[junk.length - 1 - i];
    const bis = [load(vm, seg), load(vm, mangled), load(vm, junk)];
    const run = runNode(vm, 'tcp4-input', bis);
    for (const n of run.next) assert.equal(n, 'error-drop');
    release(vm, run.buffers);
    release(vm, toOutput.splice(0));
  }), { numRuns: 300, seed: 6 });
  // Connections half-opened by the random SYNs hold no buffers; the pool is whole again.
  assert.equal(vm.pool.available, start);
  assert.equal(vm.pool.doubleFrees, 0);
});

test('tcp4-input: without `session enable` every segment is dropped, counted', () => {
  const setup = tcpEngine();
  setup.host.tcp = null;
  const bi = load(setup.vm, tcpDatagram());
  const run = runNode(setup.vm, 'tcp4-input', [bi]);
  assert.deepEqual(run.next, ['error-drop']);
  assert.equal(errorsOf(setup.vm, 'tcp4-input')['session layer disabled'], 1);
});
