// Addresses as the data path holds them: an IPv4 address is a u32 in host order
// (a.b.c.d → a<<24 | b<<16 | c<<8 | d, always `>>> 0`), a MAC address is six bytes.
// Parsers here are for the control path (CLI, config, tests): they return null on
// bad text instead of throwing, so callers can name the offending token themselves.

/** Parses dotted-quad text ("10.0.0.1") to a u32; null unless exactly four decimal octets 0..255. */
export function parseIp4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p)) return null;
    const octet = Number(p);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/** Formats a u32 IPv4 address as dotted quad. */
export function formatIp4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** The netmask of a prefix length 0..32 as a u32 (length 0 → 0). */
export function ip4Mask(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

export interface Ip4Prefix {
  readonly address: number;
  readonly length: number;
}

/**
 * Parses "a.b.c.d/len". With `keepHostBits` false (the default) host bits are cleared, as a
 * route's prefix; with true they are kept, as an interface address ("10.0.0.1/24").
 */
export function parseIp4Prefix(text: string, keepHostBits = false): Ip4Prefix | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseIp4(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === null || !/^\d{1,2}$/.test(lengthText)) return null;
  const length = Number(lengthText);
  if (length > 32) return null;
  return { address: keepHostBits ? address : (address & ip4Mask(length)) >>> 0, length };
}

export function formatIp4Prefix(prefix: Ip4Prefix): string {
  return `${formatIp4(prefix.address)}/${prefix.length}`;
}

/** Parses "02:fe:00:00:00:01" (also with '-' or as "02fe.0000.0001", VPP's Cisco form) to 6 bytes. */
export function parseMac(text: string): Uint8Array | null {
  let hex: string;
  if (/^[0-9a-fA-F]{1,2}([:-][0-9a-fA-F]{1,2}){5}$/.test(text)) {
    hex = text.split(/[:-]/).map((b) => b.padStart(2, '0')).join('');
  } else if (/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(text)) {
    hex = text.replaceAll('.', '');
  } else {
    return null;
  }
  const mac = new Uint8Array(6);
  for (let i = 0; i < 6; i++) mac[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return mac;
}

/** Formats 6 bytes at `offset` as "02:fe:00:00:00:01". */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  let out = '';
  for (let i = 0; i < 6; i++) {
    const b = bytes[offset + i];
    out += (i ? ':' : '') + (b < 16 ? '0' : '') + b.toString(16);
  }
  return out;
}
