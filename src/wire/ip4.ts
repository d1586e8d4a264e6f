// The IPv4 header (RFC 791, with the TOS byte as DSCP and ECN per RFC 2474 and RFC 3168).
// Accessors over (bytes, offset) for ip4-input, ip4-lookup and ip4-rewrite; `ip4HeaderCheck`,
// whose codes those nodes turn into error counters; the validated `Ip4Header` for the control
// path and tests; VPP's trace layout; and the flow hash used for ECMP and VXLAN source ports.
// Addresses are u32 in host order (see address.ts).

import { formatIp4 } from './address.ts';
import { checksumFold, checksumSum, internetChecksum } from './checksum.ts';

/** The header without options. */
export const IP4_HEADER_LENGTH = 20;
/** IHL is 4 bits of 32-bit words: at most 15 * 4 bytes. */
export const IP4_MAX_HEADER_LENGTH = 60;

export const IpProtocol = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
} as const;

/** The 3-bit Flags field (RFC 791 §3.1): bit 0 reserved, DF, MF. */
export const Ip4Flags = {
  RESERVED: 0b100,
  DONT_FRAGMENT: 0b010,
  MORE_FRAGMENTS: 0b001,
} as const;

/** Masks over the 16-bit flags-and-fragment-offset word at offset 6. */
export const Ip4FragmentWord = {
  RESERVED: 0x8000,
  DONT_FRAGMENT: 0x4000,
  MORE_FRAGMENTS: 0x2000,
  OFFSET_MASK: 0x1fff,
} as const;

// --- Accessors ------------------------------------------------------------------------------------

export function ip4Version(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] >>> 4) & 0xf;
}

/** Internet Header Length, in 32-bit words. */
export function ip4Ihl(bytes: Uint8Array, offset: number): number {
  return bytes[offset] & 0xf;
}

/** IHL in bytes. */
export function ip4HeaderLength(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] & 0xf) << 2;
}

export function ip4Tos(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 1] | 0;
}

export function setIp4Tos(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 1] = value;
}

/** RFC 2474: the upper six bits of the TOS byte. */
export function ip4Dscp(bytes: Uint8Array, offset: number): number {
  return (bytes[offset + 1] >>> 2) & 0x3f;
}

/** RFC 3168: the lower two bits of the TOS byte. */
export function ip4Ecn(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 1] & 0x3;
}

export function ip4TotalLength(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 2] << 8) | bytes[offset + 3]) & 0xffff;
}

export function setIp4TotalLength(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

export function ip4Identification(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 4] << 8) | bytes[offset + 5]) & 0xffff;
}

export function setIp4Identification(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 4] = value >>> 8;
  bytes[offset + 5] = value;
}

/** The whole word at offset 6: flags in the top 3 bits, fragment offset in the low 13. */
export function ip4FlagsAndFragmentOffset(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 6] << 8) | bytes[offset + 7]) & 0xffff;
}

export function setIp4FlagsAndFragmentOffset(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 6] = value >>> 8;
  bytes[offset + 7] = value;
}

/** The 3-bit Flags field (see `Ip4Flags`). */
export function ip4Flags(bytes: Uint8Array, offset: number): number {
  return (bytes[offset + 6] >>> 5) & 0x7;
}

/** Fragment Offset in 8-byte units, as carried. */
export function ip4FragmentOffset(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 6] << 8) | bytes[offset + 7]) & 0x1fff;
}

export function ip4DontFragment(bytes: Uint8Array, offset: number): boolean {
  return (bytes[offset + 6] & 0x40) !== 0;
}

/** True for any fragment: MF set or a non-zero offset. */
export function ip4IsFragment(bytes: Uint8Array, offset: number): boolean {
  return (((bytes[offset + 6] << 8) | bytes[offset + 7]) & 0x3fff) !== 0;
}

export function ip4Ttl(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 8] | 0;
}

/** Sets TTL without touching the checksum (see `ip4DecrementTtlUpdateChecksum` for the fast path). */
export function setIp4Ttl(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 8] = value;
}

export function ip4Protocol(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 9] | 0;
}

export function setIp4Protocol(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 9] = value;
}

export function ip4Checksum(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 10] << 8) | bytes[offset + 11]) & 0xffff;
}

export function setIp4Checksum(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 10] = value >>> 8;
  bytes[offset + 11] = value;
}

export function ip4Src(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 12] << 24) | (bytes[offset + 13] << 16) | (bytes[offset + 14] << 8) | bytes[offset + 15]) >>> 0;
}

export function setIp4Src(bytes: Uint8Array, offset: number, address: number): void {
  bytes[offset + 12] = address >>> 24;
  bytes[offset + 13] = address >>> 16;
  bytes[offset + 14] = address >>> 8;
  bytes[offset + 15] = address;
}

export function ip4Dst(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 16] << 24) | (bytes[offset + 17] << 16) | (bytes[offset + 18] << 8) | bytes[offset + 19]) >>> 0;
}

export function setIp4Dst(bytes: Uint8Array, offset: number, address: number): void {
  bytes[offset + 16] = address >>> 24;
  bytes[offset + 17] = address >>> 16;
  bytes[offset + 18] = address >>> 8;
  bytes[offset + 19] = address;
}

/**
 * The header checksum the header should carry, computed over IHL * 4 bytes with the checksum
 * field taken as zero: the stored field is subtracted back out of the sum (one's complement
 * subtraction is adding its complement), so the packet is not written.
 */
export function ip4HeaderChecksum(bytes: Uint8Array, offset: number): number {
  const sum = checksumSum(bytes, offset, (bytes[offset] & 0xf) << 2, 0);
  return ~checksumFold(sum + (~ip4Checksum(bytes, offset) & 0xffff)) & 0xffff;
}

/**
 * Writes the 20-byte header a host sends (no options, TOS 0, identification 0, no fragment
 * offset; DF when `dontFragment`) with its checksum, summed from the words just written
 * rather than by a pass over the bytes. The fast path of the host stack's output nodes.
 */
export function writeIp4Header(
  bytes: Uint8Array, offset: number, totalLength: number, protocol: number, ttl: number,
  src: number, dst: number, dontFragment: boolean,
): void {
  const flags = dontFragment ? 0x40 : 0;
  bytes[offset] = 0x45;
  bytes[offset + 1] = 0;
  bytes[offset + 2] = totalLength >>> 8;
  bytes[offset + 3] = totalLength;
  bytes[offset + 4] = 0;
  bytes[offset + 5] = 0;
  bytes[offset + 6] = flags;
  bytes[offset + 7] = 0;
  bytes[offset + 8] = ttl;
  bytes[offset + 9] = protocol;
  bytes[offset + 12] = src >>> 24;
  bytes[offset + 13] = src >>> 16;
  bytes[offset + 14] = src >>> 8;
  bytes[offset + 15] = src;
  bytes[offset + 16] = dst >>> 24;
  bytes[offset + 17] = dst >>> 16;
  bytes[offset + 18] = dst >>> 8;
  bytes[offset + 19] = dst;
  const sum = 0x4500 + totalLength + (flags << 8) + ((ttl << 8) | protocol)
    + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  const checksum = ~checksumFold(sum) & 0xffff;
  bytes[offset + 10] = checksum >>> 8;
  bytes[offset + 11] = checksum;
}

/** RFC 1071 §1 (2): a header is intact when the sum over it, checksum included, is all ones. */
export function ip4HeaderChecksumIsValid(bytes: Uint8Array, offset: number): boolean {
  return checksumSum(bytes, offset, (bytes[offset] & 0xf) << 2, 0) === 0xffff;
}

// --- Check -------------------------------------------------------------------------------------------

export const Ip4Check = {
  OK: 0,
  /** Fewer than 20 bytes available. */
  TOO_SHORT: 1,
  /** Version is not 4. */
  BAD_VERSION: 2,
  /** IHL below 5, or the header with options is longer than what is available. */
  BAD_IHL: 3,
  /** Total Length below the header length or beyond the bytes available. */
  BAD_TOTAL_LENGTH: 4,
  /** The header checksum does not verify. */
  BAD_CHECKSUM: 5,
} as const;
export type Ip4Check = (typeof Ip4Check)[keyof typeof Ip4Check];

/** RFC 1812 §5.2.2: the checks a router makes before it forwards; `available` is the bytes at `offset`. */
export function ip4HeaderCheck(bytes: Uint8Array, offset: number, available: number): Ip4Check {
  if (available > bytes.length - offset) available = bytes.length - offset;
  if (available < IP4_HEADER_LENGTH || offset < 0) return Ip4Check.TOO_SHORT;
  const versionIhl = bytes[offset];
  if (versionIhl >>> 4 !== 4) return Ip4Check.BAD_VERSION;
  const headerLength = (versionIhl & 0xf) << 2;
  if (headerLength < IP4_HEADER_LENGTH || headerLength > available) return Ip4Check.BAD_IHL;
  const totalLength = ip4TotalLength(bytes, offset);
  if (totalLength < headerLength || totalLength > available) return Ip4Check.BAD_TOTAL_LENGTH;
  if (checksumSum(bytes, offset, headerLength, 0) !== 0xffff) return Ip4Check.BAD_CHECKSUM;
  return Ip4Check.OK;
}

// --- Validated representation -----------------------------------------------------------------------

/**
 * A header whose checksum verified. The checksum itself is not kept: `emitIp4Header` computes
 * it. `options` is the raw options area (a multiple of 4 bytes, at most 40), not interpreted.
 */
export interface Ip4Header {
  dscp: number;
  ecn: number;
  totalLength: number;
  identification: number;
  /** The 3-bit Flags field (`Ip4Flags`). */
  flags: number;
  /** In 8-byte units, as carried. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
  options: Uint8Array;
}

/**
 * Parses the header at `offset` from `length` available bytes. Null unless the version is 4,
 * the IHL fits, Total Length covers the header, and the checksum verifies. Total Length may
 * exceed `length`, so a header quoted inside an ICMP error parses.
 */
export function parseIp4Header(bytes: Uint8Array, offset: number, length: number): Ip4Header | null {
  if (length > bytes.length - offset) length = bytes.length - offset;
  if (length < IP4_HEADER_LENGTH || offset < 0) return null;
  if (ip4Version(bytes, offset) !== 4) return null;
  const headerLength = ip4HeaderLength(bytes, offset);
  if (headerLength < IP4_HEADER_LENGTH || headerLength > length) return null;
  if (ip4TotalLength(bytes, offset) < headerLength) return null;
  if (!ip4HeaderChecksumIsValid(bytes, offset)) return null;
  return {
    dscp: ip4Dscp(bytes, offset),
    ecn: ip4Ecn(bytes, offset),
    totalLength: ip4TotalLength(bytes, offset),
    identification: ip4Identification(bytes, offset),
    flags: ip4Flags(bytes, offset),
    fragmentOffset: ip4FragmentOffset(bytes, offset),
    ttl: ip4Ttl(bytes, offset),
    protocol: ip4Protocol(bytes, offset),
    src: ip4Src(bytes, offset),
    dst: ip4Dst(bytes, offset),
    options: bytes.slice(offset + IP4_HEADER_LENGTH, offset + headerLength),
  };
}

/**
 * Writes the header at `offset` with its checksum; returns the header length written. Options
 * are padded with zeros (End of Option List, RFC 791) to a multiple of 4 and cut at 40 bytes.
 */
export function emitIp4Header(header: Ip4Header, bytes: Uint8Array, offset: number): number {
  const optionsLength = Math.min(header.options.length, IP4_MAX_HEADER_LENGTH - IP4_HEADER_LENGTH);
  const paddedLength = (optionsLength + 3) & ~3;
  const headerLength = IP4_HEADER_LENGTH + paddedLength;
  bytes[offset] = 0x40 | (headerLength >>> 2);
  bytes[offset + 1] = ((header.dscp & 0x3f) << 2) | (header.ecn & 0x3);
  setIp4TotalLength(bytes, offset, header.totalLength);
  setIp4Identification(bytes, offset, header.identification);
  setIp4FlagsAndFragmentOffset(bytes, offset, ((header.flags & 0x7) << 13) | (header.fragmentOffset & 0x1fff));
  bytes[offset + 8] = header.ttl;
  bytes[offset + 9] = header.protocol;
  bytes[offset + 10] = 0;
  bytes[offset + 11] = 0;
  setIp4Src(bytes, offset, header.src);
  setIp4Dst(bytes, offset, header.dst);
  for (let i = 0; i < paddedLength; i++) {
    bytes[offset + IP4_HEADER_LENGTH + i] = i < optionsLength ? header.options[i] : 0;
  }
  setIp4Checksum(bytes, offset, internetChecksum(bytes, offset, headerLength));
  return headerLength;
}

// --- Flow hash ---------------------------------------------------------------------------------------------

/**
 * A u32 hash of source, destination, protocol and, for TCP and UDP when the packet is not a
 * fragment, the two ports (fragments leave the ports out so every fragment of a flow hashes
 * alike). Not symmetric. Built as MurmurHash3's 32-bit block mix over those words plus its
 * finalizer, so one changed bit moves about half of the output bits; ECMP and VXLAN source
 * ports take bits from it. Reads past the end of `bytes` count as zero; it never throws.
 */
export function ip4FlowHash(bytes: Uint8Array, offset: number): number {
  const protocol = bytes[offset + 9] | 0;
  let h = mixBlock(0x2f8d5a3b, ip4Src(bytes, offset));
  h = mixBlock(h, ip4Dst(bytes, offset));
  let ports = 0;
  if ((protocol === IpProtocol.TCP || protocol === IpProtocol.UDP) && !ip4IsFragment(bytes, offset)) {
    const l4 = offset + ((bytes[offset] & 0xf) << 2);
    ports = ((bytes[l4] << 24) | (bytes[l4 + 1] << 16) | (bytes[l4 + 2] << 8) | bytes[l4 + 3]) >>> 0;
  }
  h = mixBlock(h, ports);
  h = mixBlock(h, protocol);
  // MurmurHash3 fmix32: avalanche the last block into every bit.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

// --- Trace format -------------------------------------------------------------------------------------------

const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'IP6_HOP_BY_HOP_OPTIONS', 1: 'ICMP', 2: 'IGMP', 4: 'IP_IN_IP', 6: 'TCP', 17: 'UDP', 41: 'IPV6',
  47: 'GRE', 50: 'IPSEC_ESP', 51: 'IPSEC_AH', 58: 'ICMP6', 89: 'OSPF', 103: 'PIM', 112: 'VRRP',
  115: 'L2TP', 132: 'SCTP', 136: 'UDP_LITE', 137: 'MPLS_IN_IP',
};

/** VPP's format_ip_protocol: "UDP", or "unknown 99". */
export function formatIpProtocol(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? `unknown ${protocol}`;
}

// RFC 2474 class selectors, RFC 2597 AF, RFC 3246 EF.
const DSCP_NAMES: Readonly<Record<number, string>> = {
  0: 'CS0', 8: 'CS1', 10: 'AF11', 12: 'AF12', 14: 'AF13', 16: 'CS2', 18: 'AF21', 20: 'AF22', 22: 'AF23',
  24: 'CS3', 26: 'AF31', 28: 'AF32', 30: 'AF33', 32: 'CS4', 34: 'AF41', 36: 'AF42', 38: 'AF43',
  40: 'CS5', 46: 'EF', 48: 'CS6', 56: 'CS7',
};

export function formatIpDscp(dscp: number): string {
  return DSCP_NAMES[dscp] ?? 'unknown';
}

// RFC 3168 §5: 01 is ECT(1), 10 is ECT(0).
const ECN_NAMES: readonly string[] = ['NON_ECN', 'ECT_1', 'ECT_0', 'CE'];

export function formatIpEcn(ecn: number): string {
  return ECN_NAMES[ecn & 3];
}

/**
 * VPP's format_ip4_header:
 *   UDP: 10.10.1.2 -> 48.0.0.1
 *     tos 0x00, ttl 64, length 50, checksum 0x3faf dscp CS0 ecn NON_ECN
 *     fragment id 0x0000
 * with "version 4, header length 24" when those are unusual, "(should be 0x....)" after a
 * wrong checksum, and " offset 0, flags DONT_FRAGMENT" when flags or offset are set.
 * `length` is the bytes available at `offset`.
 */
export function formatIp4Header(bytes: Uint8Array, offset: number, length = bytes.length - offset): string {
  if (length > bytes.length - offset) length = bytes.length - offset;
  if (length < IP4_HEADER_LENGTH || offset < 0) return 'IP header truncated';
  const version = ip4Version(bytes, offset);
  const headerLength = ip4HeaderLength(bytes, offset);
  const checksum = ip4Checksum(bytes, offset);
  let out = `${formatIpProtocol(ip4Protocol(bytes, offset))}: ${formatIp4(ip4Src(bytes, offset))} -> ${formatIp4(ip4Dst(bytes, offset))}`;
  if (version !== 4 || headerLength !== IP4_HEADER_LENGTH) {
    out += `\n  version ${version}, header length ${headerLength}`;
  }
  out += `\n  tos 0x${hex(ip4Tos(bytes, offset), 2)}, ttl ${ip4Ttl(bytes, offset)}, length ${ip4TotalLength(bytes, offset)}, checksum 0x${hex(checksum, 4)}`;
  if (headerLength >= IP4_HEADER_LENGTH && headerLength <= length) {
    const expected = ip4HeaderChecksum(bytes, offset);
    if (expected !== checksum) out += ` (should be 0x${hex(expected, 4)})`;
  }
  out += ` dscp ${formatIpDscp(ip4Dscp(bytes, offset))} ecn ${formatIpEcn(ip4Ecn(bytes, offset))}`;
  out += `\n  fragment id 0x${hex(ip4Identification(bytes, offset), 4)}`;
  const word = ip4FlagsAndFragmentOffset(bytes, offset);
  const flagBits = word & ~Ip4FragmentWord.OFFSET_MASK;
  const fragmentOffsetBytes = (word & Ip4FragmentWord.OFFSET_MASK) * 8;
  if (fragmentOffsetBytes !== 0 || flagBits !== 0) out += ` offset ${fragmentOffsetBytes}`;
  if (flagBits !== 0) {
    // VPP's order and names (its CONGESTION is RFC 791's reserved bit); VPP runs the names
    // together, vecnet separates them with a space.
    const names: string[] = [];
    if (flagBits & Ip4FragmentWord.MORE_FRAGMENTS) names.push('MORE_FRAGMENTS');
    if (flagBits & Ip4FragmentWord.DONT_FRAGMENT) names.push('DONT_FRAGMENT');
    if (flagBits & Ip4FragmentWord.RESERVED) names.push('CONGESTION');
    out += `, flags ${names.join(' ')}`;
  }
  return out;
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}
