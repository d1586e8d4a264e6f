// ip4-vxlan-bypass: with `set interface ip vxlan-bypass pg0`, VXLAN for a local VTEP skips
// ip4-lookup/ip4-local/ip4-udp-lookup and is decapsulated and forwarded exactly as without
// it; other traffic is untouched; random packets never throw and every buffer is accounted
// for; and 3000 mixed packets give the same outputs, errors and interface counters whether
// they travel in frames of up to 256 or one per frame.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ip4PseudoHeaderSum, internetChecksum } from '../../src/wire/checksum.ts';
import { ethernet, ipv4, udp, vxlan } from '../interop/frames.ts';
import { INNER_HOST_MAC, REMOTE_VTEP_MAC, vxlanBed, type VxlanBed } from './vxlan-setup.ts';
import { BUFFER_DATA_SIZE, bytesOfLength } from '../arbitraries.ts';

function bed(bypass: boolean): VxlanBed {
  const b = vxlanBed();
  b.vm.cli('set interface ip address pg0 10.200.11.1/24');
  // Tunnel MACs are random: the same one in every engine so their packets compare.
  b.vm.cli('set interface mac address vxlan_tunnel0 02:fe:00:00:00:01');
  if (bypass) b.vm.cli('set interface ip vxlan-bypass pg0');
  return b;
}

/** An inner UDP datagram to the inner host (forwarded back out over the tunnel). */
function innerUdp(b: VxlanBed, flow: number, ttl = 64): Uint8Array {
  return ethernet(b.mac('vxlan_tunnel0'), INNER_HOST_MAC, 0x0800,
    ipv4('10.200.100.5', '10.200.100.2', 17, udp(1000 + flow, 5678, new Uint8Array(18 + (flow % 7))), { ttl }));
}

/** Fills the outer UDP checksum of an outer frame (IPv4 at 14, 20-byte header). */
function withUdpChecksum(frame: Uint8Array, corrupt = false): Uint8Array {
  const f = frame.slice();
  const u = 34;
  const len = (f[u + 4] << 8) | f[u + 5];
  const src = ((f[26] << 24) | (f[27] << 16) | (f[28] << 8) | f[29]) >>> 0;
  const dst = ((f[30] << 24) | (f[31] << 16) | (f[32] << 8) | f[33]) >>> 0;
  f[u + 6] = 0;
  f[u + 7] = 0;
  let c = internetChecksum(f, u, len, ip4PseudoHeaderSum(src, dst, 17, len));
  if (c === 0) c = 0xffff;
  if (corrupt) c ^= 0x1111;
  f[u + 6] = c >>> 8;
  f[u + 7] = c & 0xff;
  return f;
}

function vectors(b: VxlanBed, node: string): number {
  return b.vm.node(node)!.vectors;
}

test('ip4-vxlan-bypass: decap + forward gives the same packets and counters as without it, skipping ip4-lookup/ip4-local/ip4-udp-lookup', () => {
  const plain = bed(false);
  const bypass = bed(true);
  try {
    const results = [plain, bypass].map((b) => {
      const out = b.capture('pg0');
      const frames = [];
      for (let k = 0; k < 40; k++) {
        const outer = b.outer(innerUdp(b, k));
        frames.push(k % 3 === 0 ? withUdpChecksum(outer) : outer);
      }
      b.inject('pg0', frames);
      return { packets: out(), interfaces: b.vm.cli('show interface') };
    });
    assert.equal(results[0].packets.length, 40);
    assert.deepEqual(results[1].packets, results[0].packets);
    assert.equal(results[1].interfaces, results[0].interfaces);
    assert.equal(vectors(bypass, 'ip4-vxlan-bypass'), 40);
    assert.equal(vectors(bypass, 'ip4-udp-lookup'), 0);
    assert.equal(vectors(bypass, 'ip4-local'), 0);
    assert.equal(vectors(plain, 'ip4-local'), 40);
    // Without: outer lookup + inner lookup + encapsulated lookup; with: the outer one is skipped.
    assert.equal(vectors(plain, 'ip4-lookup'), 120);
    assert.equal(vectors(bypass, 'ip4-lookup'), 80);
    assert.equal(bypass.vm.errorCounter('vxlan4-input', 'good packets decapsulated'), 40);
    // `del` switches it off.
    bypass.vm.cli('set interface ip vxlan-bypass pg0 del');
    bypass.inject('pg0', [bypass.outer(innerUdp(bypass, 1))]);
    assert.equal(vectors(bypass, 'ip4-vxlan-bypass'), 40);
    assert.equal(vectors(bypass, 'ip4-udp-lookup'), 1);
  } finally {
    plain.close();
    bypass.close();
  }
});

test('ip4-vxlan-bypass: non-VXLAN and VXLAN to a non-endpoint address are untouched; bad checksums are dropped, counted', () => {
  const plain = bed(false);
  const bypass = bed(true);
  try {
    const results = [plain, bypass].map((b) => {
      const out = b.capture('pg0');
      const inner = innerUdp(b, 3);
      b.inject('pg0', [
        ethernet(b.mac('pg0'), REMOTE_VTEP_MAC, 0x0800, ipv4('10.200.10.2', '10.200.10.1', 17, udp(50000, 4790, vxlan(100, inner)))),
        ethernet(b.mac('pg0'), REMOTE_VTEP_MAC, 0x0800, ipv4('10.200.10.2', '10.200.11.1', 17, udp(50000, 4789, vxlan(100, inner)))),
        b.outer(inner, { vni: 101 }),
        b.outer(inner, { flags: 0 }),
        withUdpChecksum(b.outer(inner), true),
      ]);
      return { packets: out(), interfaces: b.vm.cli('show interface') };
    });
    assert.deepEqual(results[1].packets, results[0].packets);
    assert.equal(results[1].interfaces, results[0].interfaces);
    assert.equal(vectors(bypass, 'ip4-vxlan-bypass'), 5);
    // Port 4790 and the non-endpoint address went the ordinary way.
    assert.equal(vectors(bypass, 'ip4-udp-lookup'), 2);
    assert.equal(bypass.vm.errorCounter('vxlan4-input', 'no such tunnel packets'), 2);
    assert.equal(plain.vm.errorCounter('vxlan4-input', 'no such tunnel packets'), 2);
    assert.equal(bypass.vm.errorCounter('ip4-vxlan-bypass', 'bad udp checksum'), 1);
    assert.equal(plain.vm.errorCounter('ip4-local', 'bad udp checksum'), 1);
  } finally {
    plain.close();
    bypass.close();
  }
});

test('ip4-vxlan-bypass: random and malformed packets never throw and every buffer is accounted for', () => {
  const b = bed(true);
  try {
    const { vm } = b;
    const header = b.outer(innerUdp(b, 0)).subarray(0, 14 + 36);
    const free0 = vm.pool.available;
    fc.assert(
      // Whole outer packets around inner frames of any length up to a jumbo frame's (chained past
      // one buffer), or a valid header with a random tail; lengths drawn explicitly.
      fc.property(bytesOfLength(0, 8950, [BUFFER_DATA_SIZE - 50]), fc.boolean(), fc.nat(50), fc.nat(60), fc.nat(255), (tail, whole, cut, at, value) => {
        let f: Uint8Array;
        if (whole) {
          f = b.outer(ethernet(b.mac('vxlan_tunnel0'), INNER_HOST_MAC, 0x88b5, tail));
        } else {
          f = new Uint8Array(header.length + tail.length);
          f.set(header);
          f.set(tail, header.length);
        }
        if (at + 14 < f.length) f[14 + at] = value;
        b.inject('pg0', [f.subarray(0, Math.max(0, f.length - cut))]);
        assert.equal(vm.pool.available, free0);
      }),
      { numRuns: 400 },
    );
  } finally {
    b.close();
  }
});

test('ip4-vxlan-bypass: 3000 mixed packets, frames of up to 256 vs one per frame: same packets out, errors and interface counters', () => {
  const engines = [bed(true), bed(true)];
  try {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const b0 = engines[0];
    const frames: { data: Uint8Array; shift: number }[] = [];
    for (let k = 0; k < 3000; k++) {
      const kind = random(10);
      let f: Uint8Array;
      // TTL 1 on a few inner packets (few enough to stay under ip4-icmp-error's time-based rate limit).
      const inner = innerUdp(b0, k, kind === 8 && random(3) === 0 ? 1 : 64);
      if (kind === 0) f = b0.outer(inner, { flags: random(2) === 0 ? 0 : 0x0c });
      else if (kind === 1) f = b0.outer(inner, { vni: 101 + random(5) });
      else if (kind === 2) f = ethernet(b0.mac('pg0'), REMOTE_VTEP_MAC, 0x0800, ipv4('10.200.10.2', '10.200.10.1', 17, udp(50000, 4788 + random(3), vxlan(100, inner))));
      else if (kind === 3) f = withUdpChecksum(b0.outer(inner), random(2) === 0);
      else if (kind === 4) {
        f = b0.outer(inner).slice();
        f[14 + 6] = random(2) === 0 ? 0x20 : 0; // more fragments, or an offset
        f[14 + 7] = random(2) === 0 ? 0 : 8;
        f[14 + 10] = 0;
        f[14 + 11] = 0;
        const c = internetChecksum(f, 14, 20);
        f[14 + 10] = c >>> 8;
        f[14 + 11] = c & 0xff;
      } else if (kind === 5) f = b0.outer(inner).subarray(0, 14 + random(60));
      else if (kind === 6) f = ethernet(b0.mac('pg0'), REMOTE_VTEP_MAC, 0x0800, ipv4('10.200.10.2', '10.200.11.1', 17, udp(50000, 4789, vxlan(100, inner))));
      else f = b0.outer(inner);
      frames.push({ data: f, shift: random(4) });
    }
    const results = engines.map((b, e) => {
      const { vm } = b;
      const out = b.capture('pg0');
      const sw = vm.vnet.interfaces.find('pg0');
      const buffers = frames.map(({ data, shift }) => {
        const bi = vm.pool.fromBytes(data);
        const cur = vm.pool.current[bi];
        vm.pool.bytes.copyWithin(cur + shift, cur, cur + data.length);
        vm.pool.current[bi] = cur + shift;
        vm.pool.rxInterface[bi] = sw;
        return bi;
      });
      if (e === 0) {
        vm.enqueue('ethernet-input', buffers);
        vm.runUntilIdle();
      } else {
        for (const bi of buffers) {
          vm.enqueue('ethernet-input', [bi]);
          vm.runUntilIdle();
        }
      }
      return {
        packets: out().map((p) => Buffer.from(p).toString('hex')).sort(),
        errors: vm.cli('show errors'),
        interfaces: vm.cli('show interface'),
        bypassed: vm.node('ip4-vxlan-bypass')!.vectors,
      };
    });
    assert.ok(results[0].packets.length > 500);
    assert.deepEqual(results[1].packets, results[0].packets);
    assert.equal(results[1].errors, results[0].errors);
    assert.equal(results[1].interfaces, results[0].interfaces);
    assert.equal(results[1].bypassed, results[0].bypassed);
    assert.ok(engines[0].vm.node('ip4-vxlan-bypass')!.calls < engines[1].vm.node('ip4-vxlan-bypass')!.calls);
  } finally {
    for (const b of engines) b.close();
  }
});
