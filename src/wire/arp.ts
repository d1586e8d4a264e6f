// ARP (RFC 826) for IPv4 over Ethernet, the only pairing vecnet speaks: hardware type 1,
// protocol type 0x0800, address lengths 6 and 4, so the packet is 28 bytes. Field names follow
// RFC 826 (ar$hrd, ar$pro, ar$hln, ar$pln, ar$op, ar$sha, ar$spa, ar$tha, ar$tpa). Accessors for
// the data path, a check whose codes become arp-input's error counters, the validated
// `ArpPacket`, and VPP's trace layout.

import { formatIp4, formatMac } from './address.ts';
import { copyMac, EtherType, formatEtherType } from './ethernet.ts';

/** The length of an IPv4-over-Ethernet ARP packet. */
export const ARP_IP4_OVER_ETHERNET_LENGTH = 28;
/** The fixed part before the addresses: hrd, pro, hln, pln, op. */
export const ARP_FIXED_LENGTH = 8;

export const ARP_SHA_OFFSET = 8;
export const ARP_SPA_OFFSET = 14;
export const ARP_THA_OFFSET = 18;
export const ARP_TPA_OFFSET = 24;

export const ArpHardwareType = {
  ETHERNET: 1,
} as const;

export const ArpOp = {
  REQUEST: 1,
  REPLY: 2,
} as const;

// --- Accessors ----------------------------------------------------------------------------------

export function arpHardwareType(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 8) | bytes[offset + 1]) & 0xffff;
}

export function arpProtocolType(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 2] << 8) | bytes[offset + 3]) & 0xffff;
}

export function arpHardwareLength(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 4] | 0;
}

export function arpProtocolLength(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 5] | 0;
}

export function arpOp(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 6] << 8) | bytes[offset + 7]) & 0xffff;
}

export function setArpOp(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 6] = value >>> 8;
  bytes[offset + 7] = value;
}

/** Sender protocol address, as a u32. */
export function arpSpa(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 14] << 24) | (bytes[offset + 15] << 16) | (bytes[offset + 16] << 8) | bytes[offset + 17]) >>> 0;
}

export function setArpSpa(bytes: Uint8Array, offset: number, address: number): void {
  writeU32(bytes, offset + 14, address);
}

/** Target protocol address, as a u32. */
export function arpTpa(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 24] << 24) | (bytes[offset + 25] << 16) | (bytes[offset + 26] << 8) | bytes[offset + 27]) >>> 0;
}

export function setArpTpa(bytes: Uint8Array, offset: number, address: number): void {
  writeU32(bytes, offset + 24, address);
}

export function setArpSha(bytes: Uint8Array, offset: number, mac: Uint8Array, macOffset = 0): void {
  copyMac(bytes, offset + ARP_SHA_OFFSET, mac, macOffset);
}

export function setArpTha(bytes: Uint8Array, offset: number, mac: Uint8Array, macOffset = 0): void {
  copyMac(bytes, offset + ARP_THA_OFFSET, mac, macOffset);
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

// --- Check ---------------------------------------------------------------------------------------

export const ArpCheck = {
  OK: 0,
  /** Fewer than 28 bytes. */
  TOO_SHORT: 1,
  /** ar$hrd is not 1 (Ethernet). */
  NOT_ETHERNET: 2,
  /** ar$pro is not 0x0800 (IPv4). */
  NOT_IP4: 3,
  /** ar$hln is not 6 or ar$pln is not 4. */
  BAD_ADDRESS_LENGTH: 4,
  /** ar$op is neither request nor reply. */
  BAD_OP: 5,
} as const;
export type ArpCheck = (typeof ArpCheck)[keyof typeof ArpCheck];

/** Whether the `available` bytes at `offset` hold an IPv4-over-Ethernet request or reply. */
export function arpHeaderCheck(bytes: Uint8Array, offset: number, available: number): ArpCheck {
  if (available < ARP_IP4_OVER_ETHERNET_LENGTH || offset < 0 || offset + ARP_IP4_OVER_ETHERNET_LENGTH > bytes.length) {
    return ArpCheck.TOO_SHORT;
  }
  if (arpHardwareType(bytes, offset) !== ArpHardwareType.ETHERNET) return ArpCheck.NOT_ETHERNET;
  if (arpProtocolType(bytes, offset) !== EtherType.IP4) return ArpCheck.NOT_IP4;
  if (bytes[offset + 4] !== 6 || bytes[offset + 5] !== 4) return ArpCheck.BAD_ADDRESS_LENGTH;
  const op = arpOp(bytes, offset);
  if (op !== ArpOp.REQUEST && op !== ArpOp.REPLY) return ArpCheck.BAD_OP;
  return ArpCheck.OK;
}

// --- Validated representation ----------------------------------------------------------------------

export interface ArpPacket {
  op: number;
  sha: Uint8Array;
  spa: number;
  tha: Uint8Array;
  tpa: number;
}

/** Parses an IPv4-over-Ethernet request or reply; null for anything `arpHeaderCheck` rejects. */
export function parseArpPacket(bytes: Uint8Array, offset: number, length: number): ArpPacket | null {
  if (arpHeaderCheck(bytes, offset, length) !== ArpCheck.OK) return null;
  return {
    op: arpOp(bytes, offset),
    sha: bytes.slice(offset + ARP_SHA_OFFSET, offset + ARP_SHA_OFFSET + 6),
    spa: arpSpa(bytes, offset),
    tha: bytes.slice(offset + ARP_THA_OFFSET, offset + ARP_THA_OFFSET + 6),
    tpa: arpTpa(bytes, offset),
  };
}

/** Writes the 28-byte packet at `offset`; returns the bytes written. */
export function emitArpPacket(packet: ArpPacket, bytes: Uint8Array, offset: number): number {
  bytes[offset] = 0;
  bytes[offset + 1] = ArpHardwareType.ETHERNET;
  bytes[offset + 2] = EtherType.IP4 >>> 8;
  bytes[offset + 3] = EtherType.IP4 & 0xff;
  bytes[offset + 4] = 6;
  bytes[offset + 5] = 4;
  setArpOp(bytes, offset, packet.op);
  copyMac(bytes, offset + ARP_SHA_OFFSET, packet.sha);
  setArpSpa(bytes, offset, packet.spa);
  copyMac(bytes, offset + ARP_THA_OFFSET, packet.tha);
  setArpTpa(bytes, offset, packet.tpa);
  return ARP_IP4_OVER_ETHERNET_LENGTH;
}

// --- Trace format -------------------------------------------------------------------------------------

const OP_NAMES: readonly string[] = ['reserved', 'request', 'reply', 'reverse_request', 'reverse_reply'];

function formatArpOp(op: number): string {
  return op < OP_NAMES.length ? OP_NAMES[op] : `unknown 0x${op.toString(16)}`;
}

function formatArpHardwareType(type: number): string {
  return type === ArpHardwareType.ETHERNET ? 'ethernet' : `unknown 0x${type.toString(16)}`;
}

function formatHexBytes(bytes: Uint8Array, offset: number, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += bytes[offset + i].toString(16).padStart(2, '0');
  return out;
}

/**
 * VPP's ARP layout:
 *   request, type ethernet/IP4, address size 6/4
 *     02:fe:00:00:00:00: 10.0.0.1 -> 00:00:00:00:00:00: 10.0.0.2
 * Other address types print their addresses as hex, as VPP does, when they fit in `length`.
 */
export function formatArp(bytes: Uint8Array, offset: number, length = bytes.length - offset): string {
  if (length < ARP_FIXED_LENGTH || offset < 0 || offset + ARP_FIXED_LENGTH > bytes.length) return 'ARP header truncated';
  const hardwareType = arpHardwareType(bytes, offset);
  const protocolType = arpProtocolType(bytes, offset);
  const hln = arpHardwareLength(bytes, offset);
  const pln = arpProtocolLength(bytes, offset);
  let out = `${formatArpOp(arpOp(bytes, offset))}, type ${formatArpHardwareType(hardwareType)}/${formatEtherType(protocolType)}, address size ${hln}/${pln}`;
  const needed = ARP_FIXED_LENGTH + 2 * hln + 2 * pln;
  if (length < needed || offset + needed > bytes.length) return out + '\n  ARP addresses truncated';
  if (hardwareType === ArpHardwareType.ETHERNET && protocolType === EtherType.IP4 && hln === 6 && pln === 4) {
    out += `\n  ${formatMac(bytes, offset + ARP_SHA_OFFSET)}: ${formatIp4(arpSpa(bytes, offset))}`
      + ` -> ${formatMac(bytes, offset + ARP_THA_OFFSET)}: ${formatIp4(arpTpa(bytes, offset))}`;
  } else {
    const base = offset + ARP_FIXED_LENGTH;
    out += `\n  ${formatHexBytes(bytes, base, hln)}: ${formatHexBytes(bytes, base + hln, pln)}`
      + ` -> ${formatHexBytes(bytes, base + hln + pln, hln)}: ${formatHexBytes(bytes, base + 2 * hln + pln, pln)}`;
  }
  return out;
}
