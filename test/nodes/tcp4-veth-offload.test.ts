// TCP over the veth pair's offloads (no root needed). Checksums: what tcp4-output leaves
// unfinished crosses the cable marked and arrives marked correct (and still offloaded, so a
// forwarding peer finishes it on its way out: frames leaving pg1 carry right checksums).
// Segmentation: consecutive segments of one flow become one chained segment on the way
// across — only what may be merged (same flow and headers, contiguous sequence numbers, no
// PSH before the end, offloaded, not traced, for a destination the peer delivers itself) —
// and whatever is merged, the bytes come out in order and every buffer is accounted for.
// tcp4-input takes a chained segment whole, however it is split, and acknowledges it at once.
// The TCP core cuts full segments so that copies out of the tx FIFO line up (mod 8).
// End to end: an echo over the pair is byte-exact with coalescing on and off, and a pcap tx
// trace during it shows right checksums.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createEngine, type Engine } from '../../src/index.ts';
import { finishL4Checksum } from '../../nodes/interface-output.ts';
import { runEchoClients } from '../../src/apps/echo.ts';
import { OPAQUE_TCP_LOCAL, OPAQUE_TCP_REMOTE } from '../../src/session/host-stack.ts';
import { BufferFlag, NONE, OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { readPcapFile } from '../../src/vlib/pcap.ts';
import { OPAQUE_FIB_INDEX } from '../../src/vnet/ip4-opaque.ts';
import { ip4PseudoHeaderSum } from '../../src/wire/checksum.ts';
import { ip4HeaderChecksumIsValid } from '../../src/wire/ip4.ts';
import { emitTcpHeader, newTcpOptions, parseTcpHeader, tcp4ChecksumIsValid, TcpFlags, tcpHeaderLength } from '../../src/wire/tcp.ts';
import { ethernet, ip4, ipv4 } from '../interop/frames.ts';
import { SERVER_IP, twoVrfs } from '../session/topology.ts';
import { tcpDatagram, tcpEngine } from './tcp-helpers.ts';
import { checkAll, pairIn, streamBytes } from '../tcp/helpers.ts';

const { ACK, PSH, SYN } = TcpFlags;
const A = '10.200.2.1';
const B = '10.200.2.2';

interface Segment {
  seq: number;
  ack?: number;
  flags?: number;
  window?: number;
  payload: Uint8Array;
  /** Marked L4_CHECKSUM_OFFLOAD as tcp4-output leaves it (default true). */
  offloaded?: boolean;
  traced?: boolean;
}

/** va (table 0) – vb (table 1), so B is local on vb's side; returns the two sw_if_indices. */
function pair(vm: Engine): { a: number; b: number } {
  for (const line of ['create veth-pair va vb', 'set interface state va up', 'set interface state vb up',
    'ip table add 1', 'set interface ip table vb 1', `set interface ip address va ${A}/24`, `set interface ip address vb ${B}/24`]) vm.cli(line);
  return { a: vm.vnet.interfaces.find('va'), b: vm.vnet.interfaces.find('vb') };
}

/** A frame as ip4-rewrite leaves it for va-tx: Ethernet, IPv4, TCP with timestamps, checksum as tcp4-output leaves it. */
function frame(vm: Engine, s: Segment, dst = B): number {
  const ifs = vm.vnet.interfaces;
  const options = { ...newTcpOptions(), timestamps: true, tsVal: 77, tsEcr: 55 };
  const tcp = new Uint8Array(60 + s.payload.length);
  const h = emitTcpHeader({
    srcPort: 40000, dstPort: 80, sequenceNumber: s.seq >>> 0, acknowledgmentNumber: s.ack ?? 9000, flags: s.flags ?? ACK,
    window: s.window ?? 500, checksum: 0, urgentPointer: 0, options,
  }, tcp, 0);
  tcp.set(s.payload, h);
  const segment = tcp.subarray(0, h + s.payload.length);
  const pseudo = ip4PseudoHeaderSum(ip4(A), ip4(dst), 6, segment.length);
  segment[16] = pseudo >>> 8;
  segment[17] = pseudo & 0xff;
  const bytes = ethernet(ifs.macText(ifs.find('vb')), ifs.macText(ifs.find('va')), 0x0800, ipv4(A, dst, 6, segment, { ttl: 64 }));
  bytes[14 + 6] = 0x40; // DF, as tcp4-output sends; the header checksum is redone below
  const bi = vm.pool.fromBytes(bytes);
  assert.notEqual(bi, NONE);
  const pool = vm.pool;
  const ip = pool.current[bi] + 14;
  pool.bytes[ip + 10] = 0;
  pool.bytes[ip + 11] = 0;
  let sum = 0;
  for (let k = 0; k < 20; k += 2) sum += (pool.bytes[ip + k] << 8) | pool.bytes[ip + k + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  pool.bytes[ip + 10] = (~sum >>> 8) & 0xff;
  pool.bytes[ip + 11] = ~sum & 0xff;
  pool.l3Offset[bi] = ip;
  pool.flags[bi] |= BufferFlag.LOCALLY_ORIGINATED | (s.offloaded === false ? 0 : BufferFlag.L4_CHECKSUM_OFFLOAD);
  if (s.traced === true) pool.flags[bi] |= BufferFlag.TRACED;
  return bi;
}

/** Sends frames on va and takes what veth-input hands out on vb (several calls if need be). */
function across(vm: Engine, bis: number[]): number[] {
  vm.enqueue('va-tx', bis);
  vm.runOnce(); // va-tx: onto vb's ring
  const rt = vm.node('veth-input')!;
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  const out: number[] = [];
  for (;;) {
    rt.singleNext = -1;
    const n = rt.definition.process!(rt, buffers, 0, nexts);
    if (n === 0) return out;
    out.push(...buffers.subarray(0, n));
  }
}

interface Received {
  seq: number;
  flags: number;
  payload: Uint8Array;
}

/** A delivered frame: headers checked (IPv4 checksum, TCP checksum once finished), payload gathered. */
function parse(vm: Engine, bi: number): Received {
  const pool = vm.pool;
  assert.ok((pool.flags[bi] & BufferFlag.L4_CHECKSUM_CORRECT) !== 0, 'arrives marked correct');
  assert.ok((pool.flags[bi] & BufferFlag.L4_CHECKSUM_OFFLOAD) !== 0, 'and still offloaded');
  pool.l3Offset[bi] = pool.current[bi] + 14;
  finishL4Checksum(pool, bi);
  const bytes = pool.toBytes(bi);
  const ipHeader = bytes.subarray(14);
  assert.ok(ip4HeaderChecksumIsValid(ipHeader, 0), 'IPv4 header checksum');
  const total = (ipHeader[2] << 8) | ipHeader[3];
  assert.equal(total, bytes.length - 14, 'total length covers the chain');
  assert.ok(tcp4ChecksumIsValid(ipHeader, 20, total - 20, ip4(A), ip4(B)), 'TCP checksum right once finished');
  const h = parseTcpHeader(ipHeader, 20, total - 20)!;
  return { seq: h.sequenceNumber, flags: h.flags, payload: ipHeader.slice(20 + tcpHeaderLength(ipHeader, 20), total) };
}

function payload(n: number, seed: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 31 + seed * 7) & 0xff;
  return p;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function coalescedCount(vm: Engine, name: string): number {
  return Number(/segments coalesced (\d+)/.exec(vm.cli(`show hardware-interfaces ${name}`))?.[1] ?? -1);
}

test('veth coalescing: five full segments and a short one with PSH cross as one chained segment', () => {
  const vm = createEngine({ buffers: 512 });
  pair(vm);
  const free = vm.pool.available;
  const sizes = [1448, 1448, 1448, 1448, 1448, 700];
  let seq = 1_000_000;
  const sent = sizes.map((n, k) => {
    const s: Segment = { seq, payload: payload(n, k), flags: k === sizes.length - 1 ? ACK | PSH : ACK };
    seq += n;
    return s;
  });
  const out = across(vm, sent.map((s) => frame(vm, s)));
  assert.equal(out.length, 1);
  assert.ok((vm.pool.flags[out[0]] & BufferFlag.NEXT_PRESENT) !== 0, 'a chain, not a copy');
  const r = parse(vm, out[0]);
  assert.equal(r.seq, 1_000_000);
  assert.equal(r.flags, ACK | PSH, 'PSH of the last segment');
  assert.deepEqual(r.payload, concat(sent.map((s) => s.payload)));
  assert.equal(coalescedCount(vm, 'va'), 5);
  vm.pool.freeChain(out[0]);
  assert.equal(vm.pool.available, free);
});

test('veth coalescing: what may not be merged is not (ACK, window, gap, PSH, offload, trace, larger, not local)', () => {
  const vm = createEngine({ buffers: 512 });
  pair(vm);
  const cases: { name: string; change: (s: Segment[]) => void; runs: number[] }[] = [
    { name: 'another ACK', change: (s) => { s[2].ack = 9001; s[3].ack = 9001; }, runs: [2, 2] },
    { name: 'another window', change: (s) => { for (let k = 1; k < 4; k++) s[k].window = 501; }, runs: [1, 3] },
    { name: 'a sequence gap', change: (s) => { s[2].seq += 1; s[3].seq += 1; }, runs: [2, 2] },
    { name: 'PSH in the middle', change: (s) => { s[1].flags = ACK | PSH; }, runs: [2, 2] },
    { name: 'PSH on the first', change: (s) => { s[0].flags = ACK | PSH; }, runs: [1, 3] },
    { name: 'a SYN', change: (s) => { s[2].flags = ACK | SYN; }, runs: [2, 1, 1] },
    { name: 'checksum not offloaded', change: (s) => { s[2].offloaded = false; }, runs: [2, 1, 1] },
    { name: 'traced', change: (s) => { s[0].traced = true; }, runs: [1, 3] },
    { name: 'larger than the first', change: (s) => { s[0].payload = payload(1000, 9); for (let k = 1; k < 4; k++) s[k].seq -= 448; }, runs: [1, 3] },
    { name: 'shorter ends the run', change: (s) => { s[1].payload = payload(1000, 9); for (let k = 2; k < 4; k++) s[k].seq -= 448; }, runs: [2, 2] },
  ];
  for (const c of cases) {
    const segments: Segment[] = [0, 1, 2, 3].map((k) => ({ seq: 5000 + k * 1448, payload: payload(1448, k) }));
    c.change(segments);
    const bis = segments.map((s) => frame(vm, s));
    const traced = bis.filter((bi) => (vm.pool.flags[bi] & BufferFlag.TRACED) !== 0);
    for (const bi of traced) vm.pool.traceSlot[bi] = NONE;
    const out = across(vm, bis);
    const runs = out.map((bi) => {
      let n = 1;
      for (let b = bi; (vm.pool.flags[b] & BufferFlag.NEXT_PRESENT) !== 0; b = vm.pool.nextBuffer[b]) n++;
      return n;
    });
    assert.deepEqual(runs, c.runs, c.name);
    for (const bi of out) vm.pool.freeChain(bi);
  }
  // A destination the peer does not deliver itself (forwarded on) is never merged.
  const bis = [0, 1, 2].map((k) => frame(vm, { seq: 5000 + k * 1448, payload: payload(1448, k) }, '10.200.9.9'));
  const out = across(vm, bis);
  assert.equal(out.length, 3, 'not local on the peer: no coalescing');
  for (const bi of out) vm.pool.freeChain(bi);
});

test('veth coalescing: any mix of segments comes out whole, in order, each a valid segment; no buffer lost', () => {
  const vm = createEngine({ buffers: 2048 });
  pair(vm);
  const free = vm.pool.available;
  const segmentArb = fc.record({
    length: fc.integer({ min: 1, max: 1460 }),
    full: fc.boolean(),
    push: fc.integer({ min: 0, max: 9 }),
    ack: fc.integer({ min: 0, max: 9 }),
    offloaded: fc.integer({ min: 0, max: 9 }),
  });
  fc.assert(fc.property(fc.array(segmentArb, { minLength: 1, maxLength: 120 }), fc.integer({ min: 0, max: 0xffffffff }), (specs, start) => {
    let seq = start;
    const sent: Segment[] = specs.map((p, k) => {
      const s: Segment = {
        seq, payload: payload(p.full ? 1448 : p.length, k),
        flags: p.push === 0 ? ACK | PSH : ACK, ack: p.ack === 0 ? 9001 : 9000, offloaded: p.offloaded !== 0,
      };
      seq = (seq + s.payload.length) >>> 0;
      return s;
    });
    const out = across(vm, sent.map((s) => frame(vm, s)));
    assert.ok(out.length >= 1 && out.length <= sent.length);
    const got: Uint8Array[] = [];
    let expected = start;
    for (const bi of out) {
      const offloaded = (vm.pool.flags[bi] & BufferFlag.L4_CHECKSUM_OFFLOAD) !== 0;
      if (offloaded) {
        const r = parse(vm, bi);
        assert.equal(r.seq, expected >>> 0, 'in order, no byte lost or repeated');
        got.push(r.payload);
        expected += r.payload.length;
      } else {
        // A frame with its checksum already computed crosses alone and unchanged.
        assert.equal(vm.pool.flags[bi] & BufferFlag.NEXT_PRESENT, 0);
        const bytes = vm.pool.toBytes(bi);
        const h = parseTcpHeader(bytes, 34, bytes.length - 34)!;
        assert.equal(h.sequenceNumber, expected >>> 0);
        const p = bytes.slice(34 + tcpHeaderLength(bytes, 34));
        got.push(p);
        expected += p.length;
      }
      vm.pool.freeChain(bi);
    }
    assert.deepEqual(concat(got), concat(sent.map((s) => s.payload)));
    assert.equal(vm.pool.available, free, 'every buffer accounted for');
  }), { numRuns: 60, seed: 61 });
  assert.equal(vm.pool.doubleFrees, 0);
});

test('tcp4-input: a chained segment, however split, goes whole into the rx FIFO and is ACKed at once', () => {
  const setup = tcpEngine();
  const { vm, host, toOutput } = setup;
  const pool = vm.pool;
  let received: Uint8Array[] = [];
  const app = host.attach({
    name: 'sink', rxFifoSize: 1 << 20, txFifoSize: 1 << 16,
    callbacks: {
      rx: (s) => {
        const fifo = s.rxFifo!;
        const chunk = new Uint8Array(fifo.maxDequeue());
        fifo.dequeue(chunk, 0, chunk.length);
        received.push(chunk);
        host.rxConsumed(s);
      },
    },
  });
  host.listen(app, 0, 80);
  const pg0 = vm.vnet.interfaces.find('pg0');
  const feed = (datagram: Uint8Array, pieces: number[], verified: boolean): void => {
    // A chain with the given piece lengths (the first holds at least the headers).
    const first = pool.allocOne();
    let at = 0;
    let last = first;
    for (let k = 0; k < pieces.length; k++) {
      const bi = k === 0 ? first : pool.allocOne();
      pool.bytes.set(datagram.subarray(at, at + pieces[k]), pool.current[bi]);
      pool.length[bi] = pieces[k];
      if (k > 0) {
        pool.appendBuffer(first, last, bi);
        last = bi;
      }
      at += pieces[k];
    }
    pool.rxInterface[first] = pg0;
    if (verified) pool.flags[first] |= BufferFlag.L4_CHECKSUM_CORRECT;
    vm.enqueue('tcp4-input', [first]);
    vm.runUntilIdle();
  };
  const syn = pool.fromBytes(tcpDatagram({ flags: SYN, seq: 999, options: { mss: 1460, windowScale: 7 } }));
  pool.rxInterface[syn] = pg0;
  vm.enqueue('tcp4-input', [syn]);
  vm.runUntilIdle();
  const synAck = parseTcpHeader(pool.bytes, pool.current[toOutput[0]], pool.length[toOutput[0]])!;
  feed(tcpDatagram({ flags: ACK, seq: 1000, ack: synAck.sequenceNumber + 1, window: 4096 }), [52], true);
  for (const bi of toOutput.splice(0)) pool.freeChain(bi);
  let seq = 1000;
  const free = pool.available;
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 60000 }).chain((n) => fc.tuple(fc.uint8Array({ minLength: n, maxLength: n }), fc.array(fc.integer({ min: 1, max: 2048 }), { minLength: 1, maxLength: 40 }), fc.boolean())),
    ([data, cuts, verified]) => {
      const datagram = tcpDatagram({ flags: ACK | PSH, seq, ack: synAck.sequenceNumber + 1, window: 4096, payload: data });
      const pieces: number[] = [Math.max(40, cuts[0])];
      let used = pieces[0];
      for (let k = 1; used < datagram.length; k++) {
        const n = Math.min(cuts[k % cuts.length], datagram.length - used);
        pieces.push(n);
        used += n;
      }
      pieces[0] = Math.min(pieces[0], datagram.length);
      received = [];
      feed(datagram, pieces, verified);
      assert.deepEqual(concat(received), data);
      seq += data.length;
      const acks = toOutput.splice(0).map((bi) => {
        const h = parseTcpHeader(pool.bytes, pool.current[bi], pool.length[bi])!;
        pool.freeChain(bi);
        return h;
      });
      // More than an MSS in one segment counts as two: ACKed at once (a lone small one waits).
      if (data.length > 1460) assert.ok(acks.some((h) => h.acknowledgmentNumber === seq), 'ACKed at once');
      assert.equal(pool.available, free, 'the chain was freed');
    },
  ), { numRuns: 80, seed: 62 });
  assert.equal(vm.node('tcp4-input')!.errors.reduce((s, e) => s + e, 0) - (vm.node('tcp4-input')!.errors[0] ?? 0), 0, 'no drops');
});

test('veth offload: a segment the peer forwards leaves pg1 with its checksum finished, not coalesced', () => {
  const dir = `/tmp/vecnet-veth-offload-${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  const vm = createEngine({ buffers: 1024 });
  for (const line of [
    'create packet-generator interface pg1', 'create veth-pair left right', 'ip table add 1',
    'set interface ip table right 1', 'set interface ip table pg1 1',
    'set interface state pg1 up', 'set interface state left up', 'set interface state right up',
    'set interface ip address left 10.200.2.1/24', 'set interface ip address right 10.200.2.2/24',
    'set interface ip address pg1 10.200.3.1/24', 'ip route add 10.200.3.0/24 via 10.200.2.2 left',
    'set ip neighbor pg1 10.200.3.2 02:00:00:00:03:02 static',
  ]) vm.cli(line);
  const ifs = vm.vnet.interfaces;
  vm.cli(`set ip neighbor left 10.200.2.2 ${ifs.macText(ifs.find('right'))} static`);
  const file = join('/tmp', `vecnet-veth-offload-${process.pid}.pcap`);
  vm.cli(`packet-generator capture pg1 pcap ${file}`);
  try {
    const pool = vm.pool;
    const bis: number[] = [];
    for (let k = 0; k < 6; k++) {
      // As the session layer's sink leaves a segment for tcp4-output.
      const bi = pool.allocOne();
      const at = pool.dataStart(bi);
      const h = emitTcpHeader({ srcPort: 80, dstPort: 40000, sequenceNumber: 1 + k * 1000, acknowledgmentNumber: 2, flags: ACK, window: 1000, checksum: 0, urgentPointer: 0, options: newTcpOptions() }, pool.bytes, at);
      pool.bytes.set(payload(1000, k), at + h);
      pool.length[bi] = h + 1000;
      pool.flags[bi] = BufferFlag.LOCALLY_ORIGINATED;
      pool.opaque[bi * OPAQUE_WORDS + OPAQUE_TCP_LOCAL] = ip4('10.200.2.1');
      pool.opaque[bi * OPAQUE_WORDS + OPAQUE_TCP_REMOTE] = ip4('10.200.3.2');
      pool.opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX] = 0;
      bis.push(bi);
    }
    vm.enqueue('tcp4-output', bis);
    vm.runUntilIdle();
    vm.cli('packet-generator capture pg1 disable');
    const packets = readPcapFile(file).packets;
    assert.equal(packets.length, 6, 'each segment on its own');
    packets.forEach((p, k) => {
      const ipHeader = p.data.subarray(14);
      assert.equal(ipHeader[8], 63, 'forwarded once');
      assert.ok(tcp4ChecksumIsValid(ipHeader, 20, ((ipHeader[2] << 8) | ipHeader[3]) - 20, ip4('10.200.2.1'), ip4('10.200.3.2')), `segment ${k}: checksum finished at pg1-output`);
    });
    assert.equal(coalescedCount(vm, 'left'), 0);
  } finally {
    rmSync(file, { force: true });
  }
});

async function echo(vm: Engine, bytes: number): Promise<void> {
  vm.start();
  try {
    vm.cli(`test echo server uri tcp://${SERVER_IP}/1234 fifo-size 1m appns server secret 1234`);
    const r = await runEchoClients(vm, { uri: `tcp://${SERVER_IP}/1234`, bytes, fifoSize: 1 << 20, namespace: 'client', secret: 5678, testTimeoutS: 60 });
    assert.deepEqual(r.errors, []);
    assert.equal(r.finished, 1);
  } finally {
    vm.stop();
  }
}

test('veth offload end to end: echo byte-exact with coalescing on and off; a pcap tx trace shows right checksums', async () => {
  const traceName = `vecnet-veth-offload-trace-${process.pid}.pcap`;
  try {
    for (const coalesce of [true, false]) {
      const { vm } = twoVrfs({ mtu: 1500 });
      vm.vnet.devices.veths.coalesce = coalesce;
      if (coalesce) vm.cli(`pcap trace tx max 50 max-bytes-per-pkt 9000 intfc any file ${traceName}`);
      await echo(vm, 4 << 20);
      const errors = vm.cli('show errors');
      assert.doesNotMatch(errors, /bad tcp checksum/);
      const merged = coalescedCount(vm, 'left') + coalescedCount(vm, 'right');
      if (coalesce) {
        assert.ok(merged > 100, `segments coalesced: ${merged}`);
        vm.cli('pcap trace off');
        const packets = readPcapFile(join('/tmp', traceName)).packets.filter((p) => p.data[14 + 9] === 6);
        assert.ok(packets.length > 0);
        for (const p of packets) {
          const ipHeader = p.data.subarray(14);
          const src = (ipHeader[12] << 24 | ipHeader[13] << 16 | ipHeader[14] << 8 | ipHeader[15]) >>> 0;
          const dst = (ipHeader[16] << 24 | ipHeader[17] << 16 | ipHeader[18] << 8 | ipHeader[19]) >>> 0;
          assert.ok(tcp4ChecksumIsValid(ipHeader, 20, ((ipHeader[2] << 8) | ipHeader[3]) - 20, src, dst), 'captured with the checksum a wire would carry');
        }
      } else {
        assert.equal(merged, 0);
      }
    }
  } finally {
    rmSync(join('/tmp', traceName), { force: true });
  }
});

test('TCP core: full segments are cut so the next starts 8-aligned in the tx FIFO, never one segment more', () => {
  const { net, client } = pairIn('ESTABLISHED');
  // Three bytes first: the stream (and the tx FIFO's head) is then 3 bytes off alignment.
  net.a.app(client).toSend = streamBytes(3, 1);
  net.a.pump(client);
  net.settle();
  const smss = client.smss;
  const total = 8 * smss + 100;
  net.a.app(client).toSend = streamBytes(total, 2);
  net.a.app(client).sent = 0;
  net.a.pump(client);
  const data = net.pending.map((s) => parseTcpHeader(s.bytes, 0, s.bytes.length)!).map((h, k) => ({
    offset: (h.sequenceNumber - client.iss - 1) >>> 0,
    length: net.pending[k].bytes.length - tcpHeaderLength(net.pending[k].bytes, 0),
  })).filter((s) => s.length > 0);
  assert.equal(data.length, Math.ceil(total / smss), 'as many segments as without the rule');
  assert.equal(data.reduce((sum, s) => sum + s.length, 0), total);
  const header = client.timestampsEnabled ? 32 : 20;
  assert.ok(data[0].length < smss, 'the first is cut short');
  for (const s of data.slice(1)) assert.equal((s.offset - header) & 7, 0, `segment at ${s.offset} lines up with its payload's place in a buffer`);
  net.settle();
  checkAll(net);
});
