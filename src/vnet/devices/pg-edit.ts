// The packet generator's packet description (VPP's pg edit groups, src/vnet/pg/edit.c and
// each protocol's unformat_pg_*_header): the `data { … }` block of `packet-generator new`
// read into a `PgPacketSpec`, and the spec turned into the stream's packet templates.
//
//   data {
//     IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00          Ethernet: type, source -> destination
//     UDP: 10.10.1.2 - 10.10.1.254 -> 48.0.0.1 ttl 64      IPv4: protocol, addresses (a range counts up)
//     UDP: 1234 -> 5678                                    UDP ports (or TCP: … [SYN ACK …], ICMP echo_request)
//     incrementing 22                                      payload (or fixed 0x…, random <n>, 0x…)
//   }
//
// Ranges and `size <min>-<max>` each count up by one per packet and wrap, as VPP's
// increment edits do; packet i takes value (i mod n) of every field. The templates are
// every distinct packet of that cycle (their number is the least common multiple of the
// range sizes), built once, with lengths and checksums right, so pg-input only copies.
// Without an Ethernet line the packets start at the IPv4 header (for `node ip4-input`).

import { CliError, type CliInput } from '../../vlib/cli-input.ts';
import { formatIp4, parseIp4, parseMac } from '../../wire/address.ts';
import { emitArpPacket, ArpOp, ARP_IP4_OVER_ETHERNET_LENGTH } from '../../wire/arp.ts';
import { ETHERNET_HEADER_LENGTH, EtherType, emitEthernetHeader } from '../../wire/ethernet.ts';
import { Icmp4Type, icmp4ComputeChecksum, setIcmp4Checksum } from '../../wire/icmp4.ts';
import { emitIp4Header, IP4_HEADER_LENGTH, Ip4Flags, IpProtocol } from '../../wire/ip4.ts';
import { fillTcp4Checksum, TCP_HEADER_LENGTH, TcpFlags } from '../../wire/tcp.ts';
import { fillUdp4Checksum, UDP_HEADER_LENGTH } from '../../wire/udp.ts';

/** A field that counts up from `first` through `count` values, one per packet, and wraps. */
export interface PgRange {
  readonly first: number;
  readonly count: number;
}

export interface PgPacketSpec {
  ethernet?: { type: number; src: Uint8Array; dst: Uint8Array };
  arp?: { op: number; sha: Uint8Array; spa: number; tha: Uint8Array; tpa: number };
  ip4?: { protocol: number; src: PgRange; dst: PgRange; ttl: number; tos: number; id: number; dontFragment: boolean };
  udp?: { src: PgRange; dst: PgRange };
  tcp?: { src: PgRange; dst: PgRange; flags: number; window: number };
  icmp?: { type: number; code: number; id: number; sequence: number };
  payload: { kind: 'none' | 'incrementing' | 'fixed' | 'random'; pattern: Uint8Array; length: number };
}

/** Most templates one stream may hold, and most bytes. */
export const PG_MAX_TEMPLATES = 1 << 20;
export const PG_MAX_TEMPLATE_BYTES = 64 << 20;

const ICMP_HEADER_LENGTH = 8;

function fail(message: string): never {
  throw new CliError(message);
}

function one(value: number): PgRange {
  return { first: value >>> 0, count: 1 };
}

/** `<ip> [- <ip>]` */
function readIp4Range(input: CliInput, what: string): PgRange {
  const first = input.expectIp4(what);
  if (!input.keyword('-')) return one(first);
  const last = input.expectIp4(`end of ${what} range`);
  if (last < first) fail(`bad ${what} range ${formatIp4(first)} - ${formatIp4(last)}: the end is below the start`);
  return { first, count: last - first + 1 };
}

/** `<port> [- <port>]` */
function readPortRange(input: CliInput, what: string): PgRange {
  const first = input.expectNumber(what, { min: 0, max: 65535 });
  if (!input.keyword('-')) return one(first);
  const last = input.expectNumber(`end of ${what} range`, { min: 0, max: 65535 });
  if (last < first) fail(`bad ${what} range ${first} - ${last}: the end is below the start`);
  return { first, count: last - first + 1 };
}

function readMac(input: CliInput, what: string): Uint8Array {
  return input.expectMac(what);
}

/** `<mac>/<ip>` as ARP writes its addresses. */
function readMacAndIp4(input: CliInput, what: string): { mac: Uint8Array; ip: number } {
  const word = input.peek();
  const slash = word === undefined ? -1 : word.indexOf('/');
  const mac = slash < 0 ? null : parseMac(word!.slice(0, slash));
  const ip = slash < 0 ? null : parseIp4(word!.slice(slash + 1));
  if (mac === null || ip === null) fail(`expected <mac>/<ip4> for ${what}, got ${word === undefined ? 'end of input' : `'${word}'`}`);
  input.next();
  return { mac, ip };
}

function readHex(text: string, what: string): Uint8Array {
  const hex = text.replace(/^0x/i, '');
  if (hex.length === 0 || hex.length % 2 !== 0 || /[^0-9a-fA-F]/.test(hex)) fail(`expected hex bytes (0x…, an even number of digits) for ${what}, got '${text}'`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const L3_PROTOCOLS: Readonly<Record<string, number>> = { 'UDP:': IpProtocol.UDP, 'TCP:': IpProtocol.TCP, 'ICMP:': IpProtocol.ICMP };
const TCP_FLAG_WORDS: Readonly<Record<string, number>> = {
  FIN: TcpFlags.FIN, SYN: TcpFlags.SYN, RST: TcpFlags.RST, PSH: TcpFlags.PSH, ACK: TcpFlags.ACK, URG: TcpFlags.URG,
};
const ICMP_TYPES: Readonly<Record<string, number>> = { echo_request: Icmp4Type.ECHO_REQUEST, echo_reply: Icmp4Type.ECHO_REPLY };

/**
 * Reads a `data { … }` block's contents. Throws a CliError naming the token it could not
 * read and what it expected.
 */
export function parsePgData(input: CliInput): PgPacketSpec {
  const spec: PgPacketSpec = { payload: { kind: 'none', pattern: new Uint8Array(0), length: 0 } };
  // Layer 2: "IP4: <src> -> <dst>" or "ARP: <src> -> <dst>".
  const l2 = input.oneOf(['IP4:', 'ARP:']);
  if (l2 !== null) {
    const src = readMac(input, 'ethernet source');
    input.expectKeyword('->');
    const dst = readMac(input, 'ethernet destination');
    spec.ethernet = { type: l2 === 'IP4:' ? EtherType.IP4 : EtherType.ARP, src, dst };
    if (l2 === 'ARP:') {
      const op = input.expectOneOf(['request:', 'reply:'], 'ARP opcode');
      const sender = readMacAndIp4(input, 'ARP sender');
      input.expectKeyword('->');
      const target = readMacAndIp4(input, 'ARP target');
      spec.arp = { op: op === 'request:' ? ArpOp.REQUEST : ArpOp.REPLY, sha: sender.mac, spa: sender.ip, tha: target.mac, tpa: target.ip };
      readPayload(input, spec);
      return spec;
    }
  }
  // Layer 3: "<PROTO>: <src> [- <src>] -> <dst> [- <dst>] [ttl n] [tos n] [id n] [df]".
  const word = input.peek();
  if (word === undefined || L3_PROTOCOLS[word] === undefined) {
    if (spec.ethernet === undefined) fail(`expected 'IP4: <src-mac> -> <dst-mac>' or '<UDP|TCP|ICMP>: <src-ip> -> <dst-ip>', got ${word === undefined ? 'end of input' : `'${word}'`}`);
    fail(`expected '<UDP|TCP|ICMP>: <src-ip> -> <dst-ip>' after the ethernet header, got ${word === undefined ? 'end of input' : `'${word}'`}`);
  }
  input.next();
  const protocol = L3_PROTOCOLS[word];
  const src = readIp4Range(input, 'IPv4 source');
  input.expectKeyword('->');
  const dst = readIp4Range(input, 'IPv4 destination');
  const ip4 = { protocol, src, dst, ttl: 64, tos: 0, id: 0, dontFragment: false };
  for (;;) {
    if (input.keyword('ttl')) ip4.ttl = input.expectNumber('ttl', { min: 0, max: 255 });
    else if (input.keyword('tos')) ip4.tos = input.expectNumber('tos', { min: 0, max: 255 });
    else if (input.keyword('id')) ip4.id = input.expectNumber('fragment id', { min: 0, max: 65535 });
    else if (input.keyword('df')) ip4.dontFragment = true;
    else break;
  }
  spec.ip4 = ip4;
  // Layer 4.
  if (protocol === IpProtocol.UDP) {
    input.expectKeyword('UDP:');
    const sport = readPortRange(input, 'UDP source port');
    input.expectKeyword('->');
    spec.udp = { src: sport, dst: readPortRange(input, 'UDP destination port') };
  } else if (protocol === IpProtocol.TCP) {
    input.expectKeyword('TCP:');
    const sport = readPortRange(input, 'TCP source port');
    input.expectKeyword('->');
    const tcp = { src: sport, dst: readPortRange(input, 'TCP destination port'), flags: 0, window: 4096 };
    for (;;) {
      const flag = input.oneOf(Object.keys(TCP_FLAG_WORDS));
      if (flag !== null) tcp.flags |= TCP_FLAG_WORDS[flag];
      else if (input.keyword('window')) tcp.window = input.expectNumber('TCP window', { min: 0, max: 65535 });
      else break;
    }
    spec.tcp = tcp;
  } else {
    if (!input.keyword('ICMP') && !input.keyword('ICMP:')) fail(`expected 'ICMP echo_request|echo_reply', got ${input.peek() === undefined ? 'end of input' : `'${input.peek()}'`}`);
    const type = input.expectOneOf(Object.keys(ICMP_TYPES), 'ICMP type');
    const icmp = { type: ICMP_TYPES[type], code: 0, id: 0, sequence: 0 };
    for (;;) {
      if (input.keyword('id')) icmp.id = input.expectNumber('ICMP echo id', { min: 0, max: 65535 });
      else if (input.keyword('seq')) icmp.sequence = input.expectNumber('ICMP echo sequence', { min: 0, max: 65535 });
      else break;
    }
    spec.icmp = icmp;
  }
  readPayload(input, spec);
  return spec;
}

/** Payload: `incrementing <n>`, `random <n>`, `fixed 0x…` or bare `0x…`; nothing else may follow. */
function readPayload(input: CliInput, spec: PgPacketSpec): void {
  if (input.keyword('incrementing')) {
    spec.payload = { kind: 'incrementing', pattern: new Uint8Array(0), length: input.expectNumber('payload length', { max: 65535 }) };
  } else if (input.keyword('random')) {
    spec.payload = { kind: 'random', pattern: new Uint8Array(0), length: input.expectNumber('payload length', { max: 65535 }) };
  } else if (input.keyword('fixed')) {
    const bytes = readHex(input.expectWord('fixed payload'), 'fixed payload');
    spec.payload = { kind: 'fixed', pattern: bytes, length: bytes.length };
  } else if (input.peek()?.toLowerCase().startsWith('0x')) {
    const bytes = readHex(input.next()!, 'payload');
    spec.payload = { kind: 'fixed', pattern: bytes, length: bytes.length };
  }
  if (!input.atEnd()) input.fail();
}

/** Header bytes the spec describes (before the payload). */
export function pgHeaderLength(spec: PgPacketSpec): number {
  let n = spec.ethernet !== undefined ? ETHERNET_HEADER_LENGTH : 0;
  if (spec.arp !== undefined) return n + ARP_IP4_OVER_ETHERNET_LENGTH;
  if (spec.ip4 !== undefined) n += IP4_HEADER_LENGTH;
  if (spec.udp !== undefined) n += UDP_HEADER_LENGTH;
  if (spec.tcp !== undefined) n += TCP_HEADER_LENGTH;
  if (spec.icmp !== undefined) n += ICMP_HEADER_LENGTH;
  return n;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Every distinct packet of the spec's cycle, sizes from `minSize` to `maxSize` (each packet
 * one byte longer, wrapping; when both are 0 the size is headers + payload). Throws a
 * CliError when the sizes cannot hold the headers or the cycle is too large to keep.
 */
export function buildPgPackets(spec: PgPacketSpec, minSize = 0, maxSize = 0): Uint8Array[] {
  const headers = pgHeaderLength(spec);
  if (minSize === 0 && maxSize === 0) minSize = maxSize = headers + spec.payload.length;
  if (maxSize < minSize) fail(`max-size ${maxSize} < min-size ${minSize}`);
  if (minSize < headers) fail(`min-size ${minSize} < total header size ${headers}`);
  const ranges: number[] = [maxSize - minSize + 1];
  if (spec.ip4 !== undefined) ranges.push(spec.ip4.src.count, spec.ip4.dst.count);
  const l4 = spec.udp ?? spec.tcp;
  if (l4 !== undefined) ranges.push(l4.src.count, l4.dst.count);
  let count = 1;
  for (const r of ranges) {
    count = (count / gcd(count, r)) * r;
    if (count > PG_MAX_TEMPLATES) fail(`the stream's sizes and ranges make a cycle of more than ${PG_MAX_TEMPLATES} distinct packets: narrow them`);
  }
  if (count * ((minSize + maxSize) / 2) > PG_MAX_TEMPLATE_BYTES) {
    fail(`the stream's ${count} distinct packets would take more than ${PG_MAX_TEMPLATE_BYTES >>> 20} MiB: narrow the sizes or ranges`);
  }
  const sizes = maxSize - minSize + 1;
  const random = spec.payload.kind === 'random' ? randomBytes(maxSize) : null;
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(buildOne(spec, i, minSize + (i % sizes), headers, random));
  return out;
}

function at(range: PgRange, i: number): number {
  return (range.first + (i % range.count)) >>> 0;
}

function buildOne(spec: PgPacketSpec, i: number, size: number, headers: number, random: Uint8Array | null): Uint8Array {
  const p = new Uint8Array(size);
  let o = 0;
  if (spec.ethernet !== undefined) o += emitEthernetHeader(spec.ethernet, p, 0);
  // Payload first: the checksums below cover it.
  const payload = spec.payload;
  for (let j = headers, k = 0; j < size; j++, k++) {
    if (payload.kind === 'incrementing') p[j] = k & 0xff;
    else if (payload.kind === 'fixed' && payload.pattern.length > 0) p[j] = payload.pattern[k % payload.pattern.length];
    else if (random !== null) p[j] = random[k];
  }
  if (spec.arp !== undefined) {
    emitArpPacket(spec.arp, p, o);
    return p;
  }
  const ip4 = spec.ip4;
  if (ip4 === undefined) return p;
  const ip = o;
  const src = at(ip4.src, i);
  const dst = at(ip4.dst, i);
  emitIp4Header({
    dscp: ip4.tos >>> 2, ecn: ip4.tos & 3, totalLength: size - ip, identification: ip4.id,
    flags: ip4.dontFragment ? Ip4Flags.DONT_FRAGMENT : 0, fragmentOffset: 0, ttl: ip4.ttl,
    protocol: ip4.protocol, src, dst, options: new Uint8Array(0),
  }, p, ip);
  const l4 = ip + IP4_HEADER_LENGTH;
  const l4Length = size - l4;
  if (spec.udp !== undefined) {
    const sport = at(spec.udp.src, i);
    const dport = at(spec.udp.dst, i);
    p[l4] = sport >>> 8; p[l4 + 1] = sport;
    p[l4 + 2] = dport >>> 8; p[l4 + 3] = dport;
    p[l4 + 4] = l4Length >>> 8; p[l4 + 5] = l4Length;
    fillUdp4Checksum(p, l4, l4Length, src, dst);
  } else if (spec.tcp !== undefined) {
    const sport = at(spec.tcp.src, i);
    const dport = at(spec.tcp.dst, i);
    p[l4] = sport >>> 8; p[l4 + 1] = sport;
    p[l4 + 2] = dport >>> 8; p[l4 + 3] = dport;
    p[l4 + 12] = (TCP_HEADER_LENGTH >>> 2) << 4;
    p[l4 + 13] = spec.tcp.flags;
    p[l4 + 14] = spec.tcp.window >>> 8; p[l4 + 15] = spec.tcp.window;
    fillTcp4Checksum(p, l4, l4Length, src, dst);
  } else if (spec.icmp !== undefined) {
    p[l4] = spec.icmp.type;
    p[l4 + 1] = spec.icmp.code;
    p[l4 + 4] = spec.icmp.id >>> 8; p[l4 + 5] = spec.icmp.id;
    p[l4 + 6] = spec.icmp.sequence >>> 8; p[l4 + 7] = spec.icmp.sequence;
    setIcmp4Checksum(p, l4, icmp4ComputeChecksum(p, l4, l4Length));
  }
  return p;
}

/** Deterministic bytes (xorshift32) so a `random` payload is the same on every run. */
function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
