// The UDP header (RFC 768): ports, length and checksum. The checksum covers an IPv4
// pseudo-header (source, destination, protocol, UDP length), the header and the data; a zero
// checksum means the sender computed none, so a computed zero is sent as 0xffff. Accessors
// for ip4-udp-lookup and the UDP transport, a length check, checksum compute/verify/fill, the
// validated `UdpHeader`, and VPP's trace layout.

import { checksumFold, checksumSum, checksumUpdate16, ip4PseudoHeaderSum } from './checksum.ts';
import { IpProtocol } from './ip4.ts';

export const UDP_HEADER_LENGTH = 8;

// --- Accessors ---------------------------------------------------------------------------------------

export function udpSrcPort(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 8) | bytes[offset + 1]) & 0xffff;
}

export function setUdpSrcPort(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 8;
  bytes[offset + 1] = value;
}

export function udpDstPort(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 2] << 8) | bytes[offset + 3]) & 0xffff;
}

export function setUdpDstPort(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

/** Header plus data, in bytes. */
export function udpLength(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 4] << 8) | bytes[offset + 5]) & 0xffff;
}

export function setUdpLength(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 4] = value >>> 8;
  bytes[offset + 5] = value;
}

export function udpChecksum(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 6] << 8) | bytes[offset + 7]) & 0xffff;
}

export function setUdpChecksum(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 6] = value >>> 8;
  bytes[offset + 7] = value;
}

/**
 * The checksum the `length`-byte datagram at `offset` should carry over IPv4 (field taken as
 * zero), already mapped from 0 to 0xffff per RFC 768.
 */
export function udp4Checksum(bytes: Uint8Array, offset: number, length: number, src: number, dst: number): number {
  // The stored field is subtracted back out: one's complement subtraction adds its complement.
  const initial = checksumFold(ip4PseudoHeaderSum(src, dst, IpProtocol.UDP, length) + (~udpChecksum(bytes, offset) & 0xffff));
  const checksum = ~checksumSum(bytes, offset, length, initial) & 0xffff;
  return checksum === 0 ? 0xffff : checksum;
}

/** True when the checksum is zero (none sent) or verifies over the `length`-byte datagram. */
export function udp4ChecksumIsValid(bytes: Uint8Array, offset: number, length: number, src: number, dst: number): boolean {
  if (udpChecksum(bytes, offset) === 0) return true;
  return checksumSum(bytes, offset, length, ip4PseudoHeaderSum(src, dst, IpProtocol.UDP, length)) === 0xffff;
}

/** Computes and stores the checksum over the `length`-byte datagram at `offset`. */
export function fillUdp4Checksum(bytes: Uint8Array, offset: number, length: number, src: number, dst: number): void {
  setUdpChecksum(bytes, offset, 0);
  const checksum = ~checksumSum(bytes, offset, length, ip4PseudoHeaderSum(src, dst, IpProtocol.UDP, length)) & 0xffff;
  setUdpChecksum(bytes, offset, checksum === 0 ? 0xffff : checksum);
}

/**
 * RFC 1624 eqn. 3 for a UDP checksum when one covered 16-bit word changes (a port, half an
 * address): a zero checksum stays zero (none was sent) and a result of 0 is sent as 0xffff.
 */
export function udpChecksumUpdate16(oldChecksum: number, oldField: number, newField: number): number {
  if (oldChecksum === 0) return 0;
  const checksum = checksumUpdate16(oldChecksum, oldField, newField);
  return checksum === 0 ? 0xffff : checksum;
}

// --- Check ----------------------------------------------------------------------------------------------

export const UdpCheck = {
  OK: 0,
  /** Fewer than 8 bytes. */
  TOO_SHORT: 1,
  /** The Length field is below 8 or beyond the bytes available. */
  BAD_LENGTH: 2,
} as const;
export type UdpCheck = (typeof UdpCheck)[keyof typeof UdpCheck];

/** `available` is the bytes at `offset` (the IP payload); the checksum is checked apart. */
export function udpHeaderCheck(bytes: Uint8Array, offset: number, available: number): UdpCheck {
  if (available > bytes.length - offset) available = bytes.length - offset;
  if (available < UDP_HEADER_LENGTH || offset < 0) return UdpCheck.TOO_SHORT;
  const length = udpLength(bytes, offset);
  if (length < UDP_HEADER_LENGTH || length > available) return UdpCheck.BAD_LENGTH;
  return UdpCheck.OK;
}

// --- Validated representation ---------------------------------------------------------------------------

/** The header as carried; `fillUdp4Checksum` computes the checksum once the data is in place. */
export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

/** Parses the header at `offset`; null for anything `udpHeaderCheck` rejects. */
export function parseUdpHeader(bytes: Uint8Array, offset: number, length: number): UdpHeader | null {
  if (udpHeaderCheck(bytes, offset, length) !== UdpCheck.OK) return null;
  return {
    srcPort: udpSrcPort(bytes, offset),
    dstPort: udpDstPort(bytes, offset),
    length: udpLength(bytes, offset),
    checksum: udpChecksum(bytes, offset),
  };
}

/** Writes the 8-byte header; returns the bytes written. */
export function emitUdpHeader(header: UdpHeader, bytes: Uint8Array, offset: number): number {
  setUdpSrcPort(bytes, offset, header.srcPort);
  setUdpDstPort(bytes, offset, header.dstPort);
  setUdpLength(bytes, offset, header.length);
  setUdpChecksum(bytes, offset, header.checksum);
  return UDP_HEADER_LENGTH;
}

// --- Trace format -------------------------------------------------------------------------------------------

/** VPP's format_udp_header: "UDP: 1234 -> 5678\n  length 30, checksum 0x3b2c". */
export function formatUdpHeader(bytes: Uint8Array, offset: number, length = bytes.length - offset): string {
  if (length > bytes.length - offset) length = bytes.length - offset;
  if (length < UDP_HEADER_LENGTH || offset < 0) return 'UDP header truncated';
  return `UDP: ${udpSrcPort(bytes, offset)} -> ${udpDstPort(bytes, offset)}`
    + `\n  length ${udpLength(bytes, offset)}, checksum 0x${udpChecksum(bytes, offset).toString(16).padStart(4, '0')}`;
}
