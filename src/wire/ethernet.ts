// Ethernet II framing (IEEE 802.3 with an EtherType, RFC 894): destination, source, type.
// Accessors over (bytes, offset) for the data path, a length check, the validated
// `EthernetHeader` for the control path and tests, and the trace formatter VPP users read
// ("IP4: <src> -> <dst>"). 802.1Q tags are not handled here.

import { formatMac } from './address.ts';

export const ETHERNET_HEADER_LENGTH = 14;
export const ETHERNET_DST_OFFSET = 0;
export const ETHERNET_SRC_OFFSET = 6;
export const ETHERNET_TYPE_OFFSET = 12;

export const EtherType = {
  IP4: 0x0800,
  ARP: 0x0806,
} as const;

// --- Accessors: never throw, never allocate -------------------------------------------------

export function ethernetType(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 12] << 8) | bytes[offset + 13]) & 0xffff;
}

export function setEthernetType(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 12] = value >>> 8;
  bytes[offset + 13] = value;
}

/** True for ff:ff:ff:ff:ff:ff. */
export function ethernetDstIsBroadcast(bytes: Uint8Array, offset: number): boolean {
  return (bytes[offset] & bytes[offset + 1] & bytes[offset + 2]
    & bytes[offset + 3] & bytes[offset + 4] & bytes[offset + 5]) === 0xff;
}

/** IEEE 802: the I/G bit, the least significant bit of the first byte, marks group addresses. */
export function ethernetDstIsGroup(bytes: Uint8Array, offset: number): boolean {
  return (bytes[offset] & 1) === 1;
}

/** True when the 6 bytes at `offset` equal the 6 bytes of `mac` at `macOffset`. */
export function macEquals(bytes: Uint8Array, offset: number, mac: Uint8Array, macOffset = 0): boolean {
  return bytes[offset] === mac[macOffset] && bytes[offset + 1] === mac[macOffset + 1]
    && bytes[offset + 2] === mac[macOffset + 2] && bytes[offset + 3] === mac[macOffset + 3]
    && bytes[offset + 4] === mac[macOffset + 4] && bytes[offset + 5] === mac[macOffset + 5];
}

/** Copies 6 bytes of `mac` (from `macOffset`) to `bytes` at `offset`. */
export function copyMac(bytes: Uint8Array, offset: number, mac: Uint8Array, macOffset = 0): void {
  bytes[offset] = mac[macOffset];
  bytes[offset + 1] = mac[macOffset + 1];
  bytes[offset + 2] = mac[macOffset + 2];
  bytes[offset + 3] = mac[macOffset + 3];
  bytes[offset + 4] = mac[macOffset + 4];
  bytes[offset + 5] = mac[macOffset + 5];
}

export function setEthernetDst(bytes: Uint8Array, offset: number, mac: Uint8Array, macOffset = 0): void {
  copyMac(bytes, offset, mac, macOffset);
}

export function setEthernetSrc(bytes: Uint8Array, offset: number, mac: Uint8Array, macOffset = 0): void {
  copyMac(bytes, offset + 6, mac, macOffset);
}

// --- Check ------------------------------------------------------------------------------------

export const EthernetCheck = {
  OK: 0,
  /** Fewer than 14 bytes. */
  TOO_SHORT: 1,
} as const;
export type EthernetCheck = (typeof EthernetCheck)[keyof typeof EthernetCheck];

/** Whether an Ethernet II header fits in the `available` bytes at `offset`. */
export function ethernetHeaderCheck(bytes: Uint8Array, offset: number, available: number): EthernetCheck {
  if (available < ETHERNET_HEADER_LENGTH || offset < 0 || offset + ETHERNET_HEADER_LENGTH > bytes.length) {
    return EthernetCheck.TOO_SHORT;
  }
  return EthernetCheck.OK;
}

// --- Validated representation -------------------------------------------------------------------

export interface EthernetHeader {
  dst: Uint8Array;
  src: Uint8Array;
  type: number;
}

/** Parses the header at `offset` given `length` bytes available; null when it does not fit. */
export function parseEthernetHeader(bytes: Uint8Array, offset: number, length: number): EthernetHeader | null {
  if (ethernetHeaderCheck(bytes, offset, length) !== EthernetCheck.OK) return null;
  return {
    dst: bytes.slice(offset, offset + 6),
    src: bytes.slice(offset + 6, offset + 12),
    type: ethernetType(bytes, offset),
  };
}

/** Writes the header at `offset`; returns the bytes written (14). */
export function emitEthernetHeader(header: EthernetHeader, bytes: Uint8Array, offset: number): number {
  copyMac(bytes, offset, header.dst);
  copyMac(bytes, offset + 6, header.src);
  setEthernetType(bytes, offset, header.type);
  return ETHERNET_HEADER_LENGTH;
}

// --- Trace format ---------------------------------------------------------------------------------

/** VPP's format_ethernet_type: the name vecnet knows, else the value as 0x%04x. */
export function formatEtherType(type: number): string {
  switch (type) {
    case EtherType.IP4: return 'IP4';
    case EtherType.ARP: return 'ARP';
    default: return `0x${(type & 0xffff).toString(16).padStart(4, '0')}`;
  }
}

/**
 * VPP's ethernet header line, source first: "IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00".
 * `length` is the bytes available at `offset` (default: to the end of `bytes`).
 */
export function formatEthernet(bytes: Uint8Array, offset: number, length = bytes.length - offset): string {
  if (ethernetHeaderCheck(bytes, offset, length) !== EthernetCheck.OK) return 'ethernet header truncated';
  return `${formatEtherType(ethernetType(bytes, offset))}: ${formatMac(bytes, offset + 6)} -> ${formatMac(bytes, offset)}`;
}
