// The VXLAN header (RFC 7348 §5): 8 bytes after the outer UDP header, flags with the I bit
// (0x08) saying the VNI is valid, 24 reserved bits, the 24-bit VNI, 8 reserved bits. Reserved
// bits are sent as zero and ignored on receipt. Accessors for vxlan4-input and the encap
// path, a check, the validated `VxlanHeader`, a trace line, and the outer UDP source port
// drawn from the inner flow's hash (RFC 7348 §5: "a hash of fields from the inner packet",
// in the dynamic range 49152-65535).

export const VXLAN_HEADER_LENGTH = 8;
/** The IANA-assigned UDP destination port (RFC 7348 §5). */
export const VXLAN_UDP_PORT = 4789;

export const VxlanFlags = {
  /** The VNI is valid. */
  I: 0x08,
} as const;

// --- Accessors ---------------------------------------------------------------------------------------

export function vxlanFlags(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | 0;
}

export function setVxlanFlags(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value;
}

/** The 24-bit VXLAN Network Identifier in bytes 4..6. */
export function vxlanVni(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 4] << 16) | (bytes[offset + 5] << 8) | bytes[offset + 6]) & 0xffffff;
}

export function setVxlanVni(bytes: Uint8Array, offset: number, vni: number): void {
  bytes[offset + 4] = vni >>> 16;
  bytes[offset + 5] = vni >>> 8;
  bytes[offset + 6] = vni;
}

/** The outer UDP source port for an inner flow hash: 49152 plus 14 bits of the hash. */
export function vxlanSourcePort(flowHash: number): number {
  return 0xc000 | ((flowHash ^ (flowHash >>> 16)) & 0x3fff);
}

// --- Check -----------------------------------------------------------------------------------------------

export const VxlanCheck = {
  OK: 0,
  /** Fewer than 8 bytes. */
  TOO_SHORT: 1,
  /** The I flag is clear: no valid VNI (RFC 7348 §5). */
  NO_VNI: 2,
} as const;
export type VxlanCheck = (typeof VxlanCheck)[keyof typeof VxlanCheck];

export function vxlanHeaderCheck(bytes: Uint8Array, offset: number, available: number): VxlanCheck {
  if (available > bytes.length - offset) available = bytes.length - offset;
  if (available < VXLAN_HEADER_LENGTH || offset < 0) return VxlanCheck.TOO_SHORT;
  if ((bytes[offset] & VxlanFlags.I) === 0) return VxlanCheck.NO_VNI;
  return VxlanCheck.OK;
}

// --- Validated representation ------------------------------------------------------------------------------

/** A header with the I flag set; the reserved bits are not kept. */
export interface VxlanHeader {
  vni: number;
}

export function parseVxlanHeader(bytes: Uint8Array, offset: number, length: number): VxlanHeader | null {
  if (vxlanHeaderCheck(bytes, offset, length) !== VxlanCheck.OK) return null;
  return { vni: vxlanVni(bytes, offset) };
}

/** Writes flags 0x08, zero reserved fields and the VNI; returns the bytes written (8). */
export function emitVxlanHeader(header: VxlanHeader, bytes: Uint8Array, offset: number): number {
  bytes[offset] = VxlanFlags.I;
  bytes[offset + 1] = 0;
  bytes[offset + 2] = 0;
  bytes[offset + 3] = 0;
  setVxlanVni(bytes, offset, header.vni);
  bytes[offset + 7] = 0;
  return VXLAN_HEADER_LENGTH;
}

// --- Trace format ----------------------------------------------------------------------------------------------

/** "VXLAN: flags 0x08 vni 13". */
export function formatVxlanHeader(bytes: Uint8Array, offset: number, length = bytes.length - offset): string {
  if (length > bytes.length - offset) length = bytes.length - offset;
  if (length < VXLAN_HEADER_LENGTH || offset < 0) return 'VXLAN header truncated';
  return `VXLAN: flags 0x${vxlanFlags(bytes, offset).toString(16).padStart(2, '0')} vni ${vxlanVni(bytes, offset)}`;
}
