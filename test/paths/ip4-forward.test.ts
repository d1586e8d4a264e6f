// The IPv4 data plane end to end, the way VPP's own tests prove it: configuration through
// the CLI, packets in from a pcap file through a packet-generator interface, packets out
// captured to pcap files, asserted field by field; drops read back from `show errors`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../../src/index.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import { readPcapFile, writePcapFile } from '../../src/vlib/pcap.ts';
import { formatIp4, parseIp4, parseMac } from '../../src/wire/address.ts';
import { internetChecksum } from '../../src/wire/checksum.ts';
import { ip4FlowHash } from '../../src/wire/ip4.ts';

// ---------------------------------------------------------------------------- packets

function ip(text: string): number {
  const a = parseIp4(text);
  if (a === null) throw new Error(text);
  return a;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function mac(text: string): Uint8Array {
  const m = parseMac(text);
  if (m === null) throw new Error(text);
  return m;
}

interface Datagram {
  src?: string;
  dst?: string;
  ttl?: number;
  protocol?: number;
  srcPort?: number;
  dstPort?: number;
  /** ICMP echo request instead of UDP. */
  ping?: boolean;
  size?: number;
}

/** An Ethernet frame carrying IPv4 (UDP 1234 → 5678, or an ICMP echo request), valid checksums. */
function frame(dstMac: string, srcMac: string, d: Datagram = {}): Uint8Array {
  const size = d.size ?? 64;
  const out = new Uint8Array(size);
  out.set(mac(dstMac), 0);
  out.set(mac(srcMac), 6);
  out[12] = 0x08;
  const ipLength = size - 14;
  const h = 14;
  out[h] = 0x45;
  out[h + 2] = ipLength >>> 8;
  out[h + 3] = ipLength;
  out[h + 8] = d.ttl ?? 64;
  out[h + 9] = d.ping ? 1 : (d.protocol ?? 17);
  writeU32(out, h + 12, ip(d.src ?? '10.10.1.2'));
  writeU32(out, h + 16, ip(d.dst ?? '48.0.0.1'));
  const c = internetChecksum(out, h, 20);
  out[h + 10] = c >>> 8;
  out[h + 11] = c;
  const l4 = h + 20;
  for (let i = l4 + 8; i < size; i++) out[i] = i - l4 - 8;
  if (d.ping) {
    out[l4] = 8;
    out[l4 + 5] = 7;
    out[l4 + 7] = 1;
    const ic = internetChecksum(out, l4, ipLength - 20);
    out[l4 + 2] = ic >>> 8;
    out[l4 + 3] = ic;
  } else {
    const sp = d.srcPort ?? 1234;
    const dp = d.dstPort ?? 5678;
    out[l4] = sp >>> 8;
    out[l4 + 1] = sp;
    out[l4 + 2] = dp >>> 8;
    out[l4 + 3] = dp;
    out[l4 + 4] = (ipLength - 20) >>> 8;
    out[l4 + 5] = ipLength - 20;
  }
  return out;
}

function arpReply(dstMac: string, srcMac: string, spa: string, tpa: string): Uint8Array {
  const out = new Uint8Array(60);
  out.set(mac(dstMac), 0);
  out.set(mac(srcMac), 6);
  out[12] = 0x08;
  out[13] = 0x06;
  out.set([0, 1, 8, 0, 6, 4, 0, 2], 14);
  out.set(mac(srcMac), 22);
  writeU32(out, 28, ip(spa));
  out.set(mac(dstMac), 32);
  writeU32(out, 38, ip(tpa));
  return out;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

const u32 = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const ipHeaderOk = (f: Uint8Array): boolean => internetChecksum(f, 14, (f[14] & 0xf) * 4) === 0;

// ---------------------------------------------------------------------------- engine

const SENDER_MAC = '02:00:00:00:00:10';
const ANCHOR = [
  'create packet-generator interface pg0',
  'create packet-generator interface pg1',
  'set interface state pg0 up',
  'set interface state pg1 up',
  'set interface ip address pg0 10.10.1.1/24',
  'set interface ip address pg1 10.10.2.1/24',
  'set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02',
  'ip route add 48.0.0.0/8 via 10.10.2.2',
];

class Lab {
  readonly vm: Engine;
  private readonly dir = mkdtempSync(join(tmpdir(), 'vecnet-ip4-'));
  private streams = 0;

  constructor(lines: readonly string[]) {
    this.vm = createEngine({ buffers: 4096 });
    for (const line of lines) this.vm.cli(line);
  }

  macOf(name: string): string {
    return this.vm.vnet.interfaces.macText(this.vm.vnet.interfaces.find(name));
  }

  /**
   * Sends `frames` into each pg interface named (a pcap file each, a stream each), captures
   * what leaves the interfaces in `capture` to pcap files, runs the engine until idle and
   * returns the captured frames per interface.
   */
  run(input: Readonly<Record<string, readonly Uint8Array[]>>, capture: readonly string[]): Record<string, Uint8Array[]> {
    const vm = this.vm;
    const names: string[] = [];
    for (const [pg, frames] of Object.entries(input)) {
      const name = `s${this.streams++}`;
      const file = join(this.dir, `${name}.pcap`);
      writePcapFile(file, frames.map((data) => ({ data })));
      vm.cli(`packet-generator new pcap ${file} source ${pg} name ${name}`);
      names.push(name);
    }
    const files: Record<string, string> = {};
    for (const pg of capture) {
      files[pg] = join(this.dir, `${pg}-${this.streams}.pcap`);
      vm.cli(`packet-generator capture ${pg} pcap ${files[pg]}`);
    }
    for (const name of names) vm.cli(`packet-generator enable-stream ${name}`);
    vm.runUntilIdle();
    const out: Record<string, Uint8Array[]> = {};
    for (const pg of capture) {
      vm.cli(`packet-generator capture ${pg} disable`);
      out[pg] = readPcapFile(files[pg]).packets.map((p) => p.data);
    }
    return out;
  }

  /** `show errors` as count by "node reason". */
  errors(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const line of this.vm.cli('show errors').split('\n').slice(1)) {
      const m = /^\s*(\d+)\s+(\S+)\s+(.*?)\s+(error|info|warn)\s*$/.exec(line);
      if (m !== null) out[`${m[2]} ${m[3]}`] = Number(m[1]);
    }
    return out;
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------- tests

test('forwarding rewrites the MACs, decrements TTL and keeps the checksum valid', () => {
  const lab = new Lab(ANCHOR);
  const pg0 = lab.macOf('pg0');
  const pg1 = lab.macOf('pg1');
  const sent = [frame(pg0, SENDER_MAC), frame(pg0, SENDER_MAC, { ttl: 2, dst: '48.7.7.7', size: 200 }), frame(pg0, SENDER_MAC, { ttl: 255, src: '10.10.1.9' })];
  const { pg1: out } = lab.run({ pg0: sent }, ['pg1']);
  assert.equal(out.length, sent.length);
  out.forEach((f, i) => {
    assert.equal(hex(f.subarray(0, 12)), `02000000000${2}${hex(mac(pg1))}`);
    assert.equal(f[14 + 8], sent[i][14 + 8] - 1);
    assert.ok(ipHeaderOk(f));
    assert.equal(hex(f.subarray(14 + 12)), hex(sent[i].subarray(14 + 12)), 'addresses and payload unchanged');
    assert.equal(f.length, sent[i].length);
  });
  lab.close();
});

test('longest prefix wins over random overlapping route sets', () => {
  const hops = [
    { via: '10.10.2.2', pg: 'pg1', mac: '02:00:00:00:00:02' },
    { via: '10.10.2.3', pg: 'pg1', mac: '02:00:00:00:00:03' },
    { via: '10.10.3.2', pg: 'pg2', mac: '02:00:00:00:00:32' },
  ];
  const route = fc.record({ length: fc.integer({ min: 8, max: 32 }), bits: fc.integer({ min: 0, max: 0xffffff }), hop: fc.integer({ min: 0, max: 2 }) });
  fc.assert(
    fc.property(fc.array(route, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 0xffffff }), { minLength: 1, maxLength: 16 }), (routes, dsts) => {
      // Every prefix and destination inside 48.0.0.0/8, so some overlap.
      const prefixes = new Map<string, { address: number; length: number; hop: number }>();
      for (const r of routes) {
        const mask = r.length === 0 ? 0 : (0xffffffff << (32 - r.length)) >>> 0;
        const address = ((0x30000000 | r.bits) & mask) >>> 0;
        const key = `${address}/${r.length}`;
        if (!prefixes.has(key)) prefixes.set(key, { address, length: r.length, hop: r.hop });
      }
      const lines = [...ANCHOR.filter((l) => !l.startsWith('ip route')),
        'create packet-generator interface pg2', 'set interface state pg2 up', 'set interface ip address pg2 10.10.3.1/24',
        ...hops.map((h) => `set ip neighbor ${h.pg} ${h.via} ${h.mac}`),
        ...[...prefixes.values()].map((p) => `ip route add ${formatIp4(p.address)}/${p.length} via ${hops[p.hop].via}`)];
      const lab = new Lab(lines);
      const pg0 = lab.macOf('pg0');
      const frames = dsts.map((d) => frame(pg0, SENDER_MAC, { dst: formatIp4((0x30000000 | d) >>> 0) }));
      const out = lab.run({ pg0: frames }, ['pg1', 'pg2']);
      lab.close();
      // The reference: a linear scan for the longest matching prefix; none: dropped.
      const expected = frames.map((f) => {
        const dst = u32(f, 30);
        let best: { length: number; hop: number } | undefined;
        for (const p of prefixes.values()) {
          const mask = (0xffffffff << (32 - p.length)) >>> 0;
          if (((dst & mask) >>> 0) === p.address && (best === undefined || p.length > best.length)) best = p;
        }
        return best === undefined ? undefined : hops[best.hop];
      });
      const got = [...out.pg1, ...out.pg2].map((f) => ({ dst: u32(f, 30), mac: f.subarray(0, 6) }));
      assert.equal(got.length, expected.filter((e) => e !== undefined).length);
      for (let i = 0; i < frames.length; i++) {
        const g = got.find((x) => x.dst === u32(frames[i], 30));
        const e = expected[i];
        if (e === undefined) assert.equal(g, undefined);
        else assert.equal(hex(g!.mac), hex(mac(e.mac)), formatIp4(u32(frames[i], 30)));
      }
    }),
    { numRuns: 15 },
  );
});

test('ECMP spreads flows over the paths and keeps each flow on one path', () => {
  const lab = new Lab([...ANCHOR,
    'create packet-generator interface pg2', 'set interface state pg2 up', 'set interface ip address pg2 10.10.3.1/24',
    'set ip neighbor pg2 10.10.3.2 02:00:00:00:00:32',
    'ip route add 49.0.0.0/8 via 10.10.2.2 via 10.10.3.2']);
  const pg0 = lab.macOf('pg0');
  const frames: Uint8Array[] = [];
  for (let round = 0; round < 3; round++) for (let flow = 0; flow < 40; flow++) frames.push(frame(pg0, SENDER_MAC, { dst: '49.1.1.1', srcPort: 2000 + flow }));
  const out = lab.run({ pg0: frames }, ['pg1', 'pg2']);
  assert.equal(out.pg1.length + out.pg2.length, frames.length);
  assert.ok(out.pg1.length > 0 && out.pg2.length > 0, `spread ${out.pg1.length}/${out.pg2.length}`);
  const side = new Map<number, string>();
  for (const [pg, list] of Object.entries(out)) {
    for (const f of list) {
      const port = (f[34] << 8) | f[35];
      assert.equal(side.get(port) ?? pg, pg, `flow ${port} on one path`);
      side.set(port, pg);
    }
  }
  assert.equal(side.size, 40);
  // The path is the flow hash's bucket in the route's load-balance.
  const lb = lab.vm.vnet.fib.lookup(0, ip('49.1.1.1'));
  const buckets = lab.vm.vnet.loadBalances.bucketsOf(lb);
  for (const [pg, list] of Object.entries(out)) {
    for (const f of list) {
      const adj = buckets[ip4FlowHash(f, 14) & (buckets.length - 1)];
      assert.equal(lab.vm.vnet.interfaces.names[lab.vm.vnet.adjacencies.swIfIndex[adj]], pg);
    }
  }
  lab.close();
});

test('TTL 1: ICMP time exceeded goes back to the sender, quoting the packet', () => {
  const lab = new Lab([...ANCHOR, `set ip neighbor pg0 10.10.1.2 ${SENDER_MAC}`]);
  const pg0 = lab.macOf('pg0');
  const sent = frame(pg0, SENDER_MAC, { ttl: 1 });
  const out = lab.run({ pg0: [sent] }, ['pg0', 'pg1']);
  assert.equal(out.pg1.length, 0);
  assert.equal(out.pg0.length, 1);
  const reply = out.pg0[0];
  assert.equal(hex(reply.subarray(0, 12)), `${hex(mac(SENDER_MAC))}${hex(mac(pg0))}`);
  assert.equal(formatIp4(u32(reply, 26)), '10.10.1.1');
  assert.equal(formatIp4(u32(reply, 30)), '10.10.1.2');
  assert.equal(reply[23], 1);
  assert.ok(ipHeaderOk(reply));
  assert.equal(hex(reply.subarray(34, 36)), '0b00', 'time exceeded, in transit');
  assert.equal(internetChecksum(reply, 34, reply.length - 34), 0);
  // The quote: the header as VPP quotes it (TTL already 0) and the datagram's data.
  assert.equal(hex(reply.subarray(42 + 12)), hex(sent.subarray(14 + 12)));
  assert.equal(lab.errors()['ip4-icmp-error hop limit exceeded response sent'], 1);
  lab.close();
});

test('bad checksum, bad version, short header, truncated total length: dropped and counted in show errors', () => {
  const lab = new Lab(ANCHOR);
  const pg0 = lab.macOf('pg0');
  const good = frame(pg0, SENDER_MAC);
  const badChecksum = good.slice();
  badChecksum[24] ^= 0xff;
  const badVersion = good.slice();
  badVersion[14] = 0x65;
  const shortHeader = good.subarray(0, 14 + 16).slice();
  const truncated = good.slice();
  truncated[17] = 200;
  const c = internetChecksum((truncated[24] = 0, truncated[25] = 0, truncated), 14, 20);
  truncated[24] = c >>> 8;
  truncated[25] = c;
  const out = lab.run({ pg0: [badChecksum, badVersion, shortHeader, truncated] }, ['pg1']);
  assert.equal(out.pg1.length, 0);
  assert.deepEqual(
    Object.fromEntries(Object.entries(lab.errors()).filter(([k]) => k.startsWith('ip4-input'))),
    { 'ip4-input bad ip4 checksum': 1, 'ip4-input ip4 version != 4': 1, 'ip4-input ip4 length < 20 bytes': 1, 'ip4-input ip4 length > l2 length': 1 },
  );
  lab.close();
});

test('unresolved next hop: an ARP request on the egress interface; once the reply arrives, packets are forwarded', () => {
  const lab = new Lab([...ANCHOR, 'ip route add 50.0.0.0/8 via 10.10.2.9']);
  const pg0 = lab.macOf('pg0');
  const pg1 = lab.macOf('pg1');
  const first = lab.run({ pg0: [frame(pg0, SENDER_MAC, { dst: '50.1.1.1' })] }, ['pg1']);
  assert.equal(first.pg1.length, 1);
  const request = first.pg1[0];
  assert.equal(hex(request.subarray(0, 14)), `ffffffffffff${hex(mac(pg1))}0806`);
  assert.equal(hex(request.subarray(20, 22)), '0001', 'a request');
  assert.equal(formatIp4(u32(request, 28)), '10.10.2.1');
  assert.equal(formatIp4(u32(request, 38)), '10.10.2.9');
  assert.equal(lab.errors()['ip4-arp ARP requests sent'], 1);
  // The neighbor answers on pg1.
  lab.run({ pg1: [arpReply(pg1, '02:00:00:00:00:09', '10.10.2.9', '10.10.2.1')] }, []);
  const second = lab.run({ pg0: [frame(pg0, SENDER_MAC, { dst: '50.1.1.1' }), frame(pg0, SENDER_MAC, { dst: '50.2.2.2' })] }, ['pg1']);
  assert.equal(second.pg1.length, 2);
  for (const f of second.pg1) {
    assert.equal(hex(f.subarray(0, 12)), `020000000009${hex(mac(pg1))}`);
    assert.equal(f[22], 63);
  }
  lab.close();
});

test('ICMP echo to an interface address is answered', () => {
  const lab = new Lab([...ANCHOR, `set ip neighbor pg0 10.10.1.2 ${SENDER_MAC}`]);
  const pg0 = lab.macOf('pg0');
  const pg1 = lab.macOf('pg1');
  const pings = [frame(pg0, SENDER_MAC, { dst: '10.10.1.1', ping: true, ttl: 9 }), frame(pg0, SENDER_MAC, { dst: '10.10.2.1', ping: true })];
  const out = lab.run({ pg0: pings }, ['pg0', 'pg1']);
  assert.equal(out.pg1.length, 0);
  assert.equal(out.pg0.length, 2);
  out.pg0.forEach((reply, i) => {
    assert.equal(hex(reply.subarray(0, 12)), `${hex(mac(SENDER_MAC))}${hex(mac(pg0))}`);
    assert.equal(formatIp4(u32(reply, 26)), formatIp4(u32(pings[i], 30)), 'from the address pinged');
    assert.equal(formatIp4(u32(reply, 30)), '10.10.1.2');
    assert.equal(reply[22], 64);
    assert.ok(ipHeaderOk(reply));
    assert.equal(reply[34], 0, 'echo reply');
    assert.equal(internetChecksum(reply, 34, reply.length - 34), 0);
    assert.equal(hex(reply.subarray(38)), hex(pings[i].subarray(38)), 'id, seq and data');
  });
  assert.equal(lab.errors()['ip4-icmp-input echo replies sent'], 2);
  void pg1;
  lab.close();
});

test('two VRFs with overlapping prefixes stay isolated', () => {
  const lab = new Lab([...ANCHOR,
    'ip table add 7',
    'create packet-generator interface pg2', 'create packet-generator interface pg3',
    'set interface ip table pg2 7', 'set interface ip table pg3 7',
    'set interface state pg2 up', 'set interface state pg3 up',
    'set interface ip address pg2 10.10.1.1/24', 'set interface ip address pg3 10.10.2.1/24',
    'set ip neighbor pg3 10.10.2.2 02:00:00:00:00:72',
    'ip route add 48.0.0.0/8 table 7 via 10.10.2.2',
    'ip route add 60.0.0.0/8 via 10.10.2.2']);
  const out = lab.run({
    pg0: [frame(lab.macOf('pg0'), SENDER_MAC)],
    pg2: [frame(lab.macOf('pg2'), SENDER_MAC), frame(lab.macOf('pg2'), SENDER_MAC, { dst: '60.0.0.1' })],
  }, ['pg1', 'pg3']);
  assert.equal(out.pg1.length, 1);
  assert.equal(hex(out.pg1[0].subarray(0, 6)), '020000000002');
  assert.equal(out.pg3.length, 1, 'table 7 has no 60.0.0.0/8');
  assert.equal(hex(out.pg3[0].subarray(0, 6)), '020000000072');
  assert.equal(lab.errors()['ip4-drop ip4 destination lookup miss'], 1);
  lab.close();
});

test('an admin-down interface drops: nothing leaves it, nothing is received on it', () => {
  const lab = new Lab([...ANCHOR, 'set interface state pg1 down']);
  const pg0 = lab.macOf('pg0');
  const out = lab.run({ pg0: [frame(pg0, SENDER_MAC), frame(pg0, SENDER_MAC)] }, ['pg1']);
  assert.equal(out.pg1.length, 0);
  assert.equal(lab.errors()['pg1-output interface is down'], 2);
  lab.vm.cli('set interface state pg1 up');
  lab.vm.cli('set interface state pg0 down');
  const again = lab.run({ pg0: [frame(pg0, SENDER_MAC)] }, ['pg1']);
  assert.equal(again.pg1.length, 0);
  assert.ok(Object.entries(lab.errors()).some(([k, v]) => k.startsWith('ethernet-input') && v === 1), JSON.stringify(lab.errors()));
  lab.close();
});

test('tracing does not change what is forwarded, and the trace shows VPP\'s path', () => {
  const run = (traced: boolean): { out: Uint8Array[]; trace: string } => {
    const lab = new Lab([...ANCHOR, `set ip neighbor pg0 10.10.1.2 ${SENDER_MAC}`]);
    if (traced) lab.vm.cli('trace add pg-input 10');
    const pg0 = lab.macOf('pg0');
    const frames = [frame(pg0, SENDER_MAC), frame(pg0, SENDER_MAC, { ttl: 1 }), frame(pg0, SENDER_MAC, { dst: '10.10.1.1', ping: true })];
    const out = lab.run({ pg0: frames }, ['pg0', 'pg1']);
    const trace = traced ? lab.vm.cli('show trace') : '';
    lab.close();
    return { out: [...out.pg0, ...out.pg1], trace };
  };
  const plain = run(false);
  const traced = run(true);
  assert.deepEqual(traced.out.map(hex), plain.out.map(hex));
  for (const node of ['ethernet-input', 'ip4-input', 'ip4-lookup', 'ip4-rewrite', 'pg1-output', 'ip4-icmp-error', 'ip4-local', 'ip4-icmp-input']) {
    assert.match(traced.trace, new RegExp(`: ${node}\\n`), node);
  }
  assert.match(traced.trace, /tx_sw_if_index 2 dpo-idx \d+ : ipv4 via 10\.10\.2\.2 pg1: mtu:9000 next:\d+ flags:\[\] 02000000000202fe000000010800 flow hash: 0x00000000\n  00000000: /);
});
