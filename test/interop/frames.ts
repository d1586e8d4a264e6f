// Hand-made frames for device and VXLAN tests: Ethernet, IPv4 (checksum filled, or spoiled
// on request), UDP, ICMP echo and VXLAN, built byte by byte from plain arguments so a test
// reads like the packet it sends.

import { parseIp4, parseMac } from '../../src/wire/address.ts';
import { internetChecksum } from '../../src/wire/checksum.ts';

export function mac(text: string): Uint8Array {
  const m = parseMac(text);
  if (m === null) throw new Error(`bad mac ${text}`);
  return m;
}

export function ip4(text: string): number {
  const a = parseIp4(text);
  if (a === null) throw new Error(`bad ip ${text}`);
  return a;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function ethernet(dst: string | Uint8Array, src: string | Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(14);
  h.set(typeof dst === 'string' ? mac(dst) : dst, 0);
  h.set(typeof src === 'string' ? mac(src) : src, 6);
  h[12] = type >>> 8;
  h[13] = type & 0xff;
  return concat(h, payload);
}

export interface Ip4Options {
  ttl?: number;
  badChecksum?: boolean;
  version?: number;
  totalLength?: number;
  id?: number;
}

export function ipv4(src: string, dst: string, protocol: number, payload: Uint8Array, options: Ip4Options = {}): Uint8Array {
  const h = new Uint8Array(20);
  const total = options.totalLength ?? 20 + payload.length;
  h[0] = ((options.version ?? 4) << 4) | 5;
  h[2] = total >>> 8;
  h[3] = total & 0xff;
  h[4] = (options.id ?? 0) >>> 8;
  h[5] = (options.id ?? 0) & 0xff;
  h[8] = options.ttl ?? 64;
  h[9] = protocol;
  const s = ip4(src);
  const d = ip4(dst);
  h.set([s >>> 24, (s >>> 16) & 0xff, (s >>> 8) & 0xff, s & 0xff], 12);
  h.set([d >>> 24, (d >>> 16) & 0xff, (d >>> 8) & 0xff, d & 0xff], 16);
  let c = internetChecksum(h, 0, 20);
  if (options.badChecksum) c ^= 0x5555;
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return concat(h, payload);
}

/** UDP header + payload with checksum 0 (allowed over IPv4). */
export function udp(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(8);
  const length = 8 + payload.length;
  h[0] = srcPort >>> 8;
  h[1] = srcPort & 0xff;
  h[2] = dstPort >>> 8;
  h[3] = dstPort & 0xff;
  h[4] = length >>> 8;
  h[5] = length & 0xff;
  return concat(h, payload);
}

export function vxlan(vni: number, payload: Uint8Array, flags = 0x08): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = flags;
  h[4] = (vni >>> 16) & 0xff;
  h[5] = (vni >>> 8) & 0xff;
  h[6] = vni & 0xff;
  return concat(h, payload);
}

export function icmpEcho(id: number, sequence: number, data: Uint8Array = new Uint8Array(32), type = 8): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = type;
  m[4] = id >>> 8;
  m[5] = id & 0xff;
  m[6] = sequence >>> 8;
  m[7] = sequence & 0xff;
  m.set(data, 8);
  const c = internetChecksum(m, 0, m.length);
  m[2] = c >>> 8;
  m[3] = c & 0xff;
  return m;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
