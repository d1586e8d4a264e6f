// The TCP header (RFC 9293 §3.1) and its options: MSS (RFC 9293 §3.2), window scale and
// timestamps (RFC 7323), SACK-permitted and SACK blocks (RFC 2018), NOP and End of Option
// List. Accessors for tcp4-input and tcp-output; a length check; checksum compute, verify and
// fill over the IPv4 pseudo-header; an allocation-free options parser into a reusable
// `TcpOptions` for the data path; the validated `TcpHeader` for the control path and tests;
// and VPP's trace layout. Option lists that are malformed (a length below 2, a length past the
// end, a known option with the wrong length) are rejected; unknown options are skipped by
// their length (RFC 9293 §3.2: "must be prepared to handle an illegal option length").

import { checksumFold, checksumSum, ip4PseudoHeaderSum } from './checksum.ts';
import { IpProtocol } from './ip4.ts';

/** The header without options. */
export const TCP_HEADER_LENGTH = 20;
/** Data Offset is 4 bits of 32-bit words: at most 60 bytes, 40 of options. */
export const TCP_MAX_HEADER_LENGTH = 60;
export const TCP_MAX_OPTIONS_LENGTH = 40;
/** RFC 2018 §3: 40 bytes of options hold at most 4 SACK blocks. */
export const TCP_MAX_SACK_BLOCKS = 4;

/** Control bits in the byte at offset 13 (RFC 9293 §3.1; ECE and CWR from RFC 3168). */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const;

// --- Accessors -------------------------------------------------------------------------------------------

export function tcpSrcPort(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 8) | bytes[offset + 1]) & 0xffff;
}

export function setTcpSrcPort(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 8;
  bytes[offset + 1] = value;
}

export function tcpDstPort(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 2] << 8) | bytes[offset + 3]) & 0xffff;
}

export function setTcpDstPort(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

export function tcpSequenceNumber(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 4] << 24) | (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7]) >>> 0;
}

export function setTcpSequenceNumber(bytes: Uint8Array, offset: number, value: number): void {
  writeU32(bytes, offset + 4, value);
}

export function tcpAcknowledgmentNumber(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 8] << 24) | (bytes[offset + 9] << 16) | (bytes[offset + 10] << 8) | bytes[offset + 11]) >>> 0;
}

export function setTcpAcknowledgmentNumber(bytes: Uint8Array, offset: number, value: number): void {
  writeU32(bytes, offset + 8, value);
}

/** Data Offset, in 32-bit words. */
export function tcpDataOffset(bytes: Uint8Array, offset: number): number {
  return (bytes[offset + 12] >>> 4) & 0xf;
}

/** Data Offset in bytes: header plus options. */
export function tcpHeaderLength(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 12] >>> 4) & 0xf) << 2;
}

/** Sets Data Offset (in words) and clears the reserved bits beside it, as a sender must. */
export function setTcpDataOffset(bytes: Uint8Array, offset: number, words: number): void {
  bytes[offset + 12] = (words & 0xf) << 4;
}

export function tcpFlags(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 13] | 0;
}

export function setTcpFlags(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 13] = value;
}

export function tcpWindow(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 14] << 8) | bytes[offset + 15]) & 0xffff;
}

export function setTcpWindow(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 14] = value >>> 8;
  bytes[offset + 15] = value;
}

export function tcpChecksum(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 16] << 8) | bytes[offset + 17]) & 0xffff;
}

export function setTcpChecksum(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 16] = value >>> 8;
  bytes[offset + 17] = value;
}

export function tcpUrgentPointer(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 18] << 8) | bytes[offset + 19]) & 0xffff;
}

export function setTcpUrgentPointer(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 18] = value >>> 8;
  bytes[offset + 19] = value;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

// --- Checksum ------------------------------------------------------------------------------------------------

/** The checksum the `length`-byte segment at `offset` should carry over IPv4 (field taken as zero). */
export function tcp4Checksum(bytes: Uint8Array, offset: number, length: number, src: number, dst: number): number {
  // The stored field is subtracted back out: one's complement subtraction adds its complement.
  const initial = checksumFold(ip4PseudoHeaderSum(src, dst, IpProtocol.TCP, length) + (~tcpChecksum(bytes, offset) & 0xffff));
  return ~checksumSum(bytes, offset, length, initial) & 0xffff;
}

/** RFC 9293 §3.1: the sum over pseudo-header and segment, checksum included, must be all ones. */
export function tcp4ChecksumIsValid(bytes: Uint8Array, offset: number, length: number, src: number, dst: number): boolean {
  return checksumSum(bytes, offset, length, ip4PseudoHeaderSum(src, dst, IpProtocol.TCP, length)) === 0xffff;
}

/** Computes and stores the checksum over the `length`-byte segment at `offset`. */
export function fillTcp4Checksum(bytes: Uint8Array, offset: number, length: number, src: number, dst: number): void {
  setTcpChecksum(bytes, offset, 0);
  setTcpChecksum(bytes, offset, ~checksumSum(bytes, offset, length, ip4PseudoHeaderSum(src, dst, IpProtocol.TCP, length)) & 0xffff);
}

// --- Check ----------------------------------------------------------------------------------------------------

export const TcpCheck = {
  OK: 0,
  /** Fewer than 20 bytes. */
  TOO_SHORT: 1,
  /** Data Offset below 5 words, or header plus options longer than the bytes available. */
  BAD_DATA_OFFSET: 2,
} as const;
export type TcpCheck = (typeof TcpCheck)[keyof typeof TcpCheck];

/** `available` is the segment length at `offset`. Options and checksum are checked apart. */
export function tcpHeaderCheck(bytes: Uint8Array, offset: number, available: number): TcpCheck {
  if (available > bytes.length - offset) available = bytes.length - offset;
  if (available < TCP_HEADER_LENGTH || offset < 0) return TcpCheck.TOO_SHORT;
  const headerLength = tcpHeaderLength(bytes, offset);
  if (headerLength < TCP_HEADER_LENGTH || headerLength > available) return TcpCheck.BAD_DATA_OFFSET;
  return TcpCheck.OK;
}

// --- Options ------------------------------------------------------------------------------------------------------

/**
 * The options vecnet understands, in a fixed shape so one object can be reused for every
 * segment. Absent MSS and window scale are -1; absent timestamps leave `tsVal`/`tsEcr` 0;
 * `sackBlocks` holds `sackBlockCount` (left, right) edge pairs, zeros after them.
 */
export interface TcpOptions {
  mss: number;
  /** The shift count as sent; RFC 7323 §2.3 has the receiver clamp values above 14. */
  windowScale: number;
  sackPermitted: boolean;
  timestamps: boolean;
  tsVal: number;
  tsEcr: number;
  sackBlockCount: number;
  sackBlocks: Uint32Array;
}

export function newTcpOptions(): TcpOptions {
  return {
    mss: -1, windowScale: -1, sackPermitted: false, timestamps: false,
    tsVal: 0, tsEcr: 0, sackBlockCount: 0, sackBlocks: new Uint32Array(2 * TCP_MAX_SACK_BLOCKS),
  };
}

export function clearTcpOptions(options: TcpOptions): void {
  options.mss = -1;
  options.windowScale = -1;
  options.sackPermitted = false;
  options.timestamps = false;
  options.tsVal = 0;
  options.tsEcr = 0;
  options.sackBlockCount = 0;
  options.sackBlocks.fill(0);
}

/**
 * Parses the option list of `length` bytes at `offset` into `out` (cleared first) without
 * allocating. Returns false, leaving `out` partly filled, when the list is malformed. Parsing
 * stops at End of Option List; a later duplicate of an option replaces the earlier one.
 */
export function parseTcpOptionsInto(bytes: Uint8Array, offset: number, length: number, out: TcpOptions): boolean {
  clearTcpOptions(out);
  if (offset < 0 || length < 0) return false;
  let i = offset;
  const end = offset + length;
  if (end > bytes.length) return false;
  while (i < end) {
    const kind = bytes[i];
    if (kind === TcpOptionKind.EOL) return true;
    if (kind === TcpOptionKind.NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const optionLength = bytes[i + 1];
    if (optionLength < 2 || i + optionLength > end) return false;
    switch (kind) {
      case TcpOptionKind.MSS:
        if (optionLength !== 4) return false;
        out.mss = (bytes[i + 2] << 8) | bytes[i + 3];
        break;
      case TcpOptionKind.WINDOW_SCALE:
        if (optionLength !== 3) return false;
        out.windowScale = bytes[i + 2];
        break;
      case TcpOptionKind.SACK_PERMITTED:
        if (optionLength !== 2) return false;
        out.sackPermitted = true;
        break;
      case TcpOptionKind.TIMESTAMPS:
        if (optionLength !== 10) return false;
        out.timestamps = true;
        out.tsVal = readU32(bytes, i + 2);
        out.tsEcr = readU32(bytes, i + 6);
        break;
      case TcpOptionKind.SACK: {
        // RFC 2018 §3: length 2 + 8n, n from 1 to 4.
        const count = (optionLength - 2) >>> 3;
        if (((optionLength - 2) & 7) !== 0 || count < 1 || count > TCP_MAX_SACK_BLOCKS) return false;
        const blocks = out.sackBlocks;
        blocks.fill(0);
        for (let k = 0; k < count; k++) {
          blocks[2 * k] = readU32(bytes, i + 2 + 8 * k);
          blocks[2 * k + 1] = readU32(bytes, i + 6 + 8 * k);
        }
        out.sackBlockCount = count;
        break;
      }
      default:
        // Unknown: skipped by its length.
        break;
    }
    i += optionLength;
  }
  return true;
}

/** Parses an option list into a new `TcpOptions`; null when malformed. */
export function parseTcpOptions(bytes: Uint8Array, offset: number, length: number): TcpOptions | null {
  const options = newTcpOptions();
  return parseTcpOptionsInto(bytes, offset, length, options) ? options : null;
}

/**
 * The bytes `emitTcpOptions` writes, a multiple of 4, or -1 when they exceed 40. Layout, as
 * Linux sends it so each 32-bit field stays aligned (RFC 7323 Appendix A):
 *   MSS(4) · SACK-permitted+TS(12) or NOP NOP TS(12) or NOP NOP SACK-permitted(4)
 *   · NOP WS(4) · NOP NOP SACK(2+8n)
 */
export function tcpOptionsLength(options: TcpOptions): number {
  let length = 0;
  if (options.mss >= 0) length += 4;
  if (options.timestamps) length += 12;
  else if (options.sackPermitted) length += 4;
  if (options.windowScale >= 0) length += 4;
  if (options.sackBlockCount > 0) length += 4 + 8 * options.sackBlockCount;
  return length > TCP_MAX_OPTIONS_LENGTH ? -1 : length;
}

/** Writes the options at `offset` in the layout of `tcpOptionsLength`; returns its result. */
export function emitTcpOptions(options: TcpOptions, bytes: Uint8Array, offset: number): number {
  const length = tcpOptionsLength(options);
  if (length < 0) return -1;
  let i = offset;
  if (options.mss >= 0) {
    bytes[i] = TcpOptionKind.MSS;
    bytes[i + 1] = 4;
    bytes[i + 2] = options.mss >>> 8;
    bytes[i + 3] = options.mss;
    i += 4;
  }
  if (options.timestamps) {
    if (options.sackPermitted) {
      bytes[i] = TcpOptionKind.SACK_PERMITTED;
      bytes[i + 1] = 2;
    } else {
      bytes[i] = TcpOptionKind.NOP;
      bytes[i + 1] = TcpOptionKind.NOP;
    }
    bytes[i + 2] = TcpOptionKind.TIMESTAMPS;
    bytes[i + 3] = 10;
    writeU32(bytes, i + 4, options.tsVal);
    writeU32(bytes, i + 8, options.tsEcr);
    i += 12;
  } else if (options.sackPermitted) {
    bytes[i] = TcpOptionKind.NOP;
    bytes[i + 1] = TcpOptionKind.NOP;
    bytes[i + 2] = TcpOptionKind.SACK_PERMITTED;
    bytes[i + 3] = 2;
    i += 4;
  }
  if (options.windowScale >= 0) {
    bytes[i] = TcpOptionKind.NOP;
    bytes[i + 1] = TcpOptionKind.WINDOW_SCALE;
    bytes[i + 2] = 3;
    bytes[i + 3] = options.windowScale;
    i += 4;
  }
  const count = options.sackBlockCount;
  if (count > 0) {
    bytes[i] = TcpOptionKind.NOP;
    bytes[i + 1] = TcpOptionKind.NOP;
    bytes[i + 2] = TcpOptionKind.SACK;
    bytes[i + 3] = 2 + 8 * count;
    for (let k = 0; k < count; k++) {
      writeU32(bytes, i + 4 + 8 * k, options.sackBlocks[2 * k]);
      writeU32(bytes, i + 8 + 8 * k, options.sackBlocks[2 * k + 1]);
    }
    i += 4 + 8 * count;
  }
  return length;
}

/**
 * The offset of the first option of `kind` in the header at `offset` (options run from byte
 * 20 to Data Offset), or -1 when absent or the list before it is malformed. For a data path
 * that wants one option (say timestamps) without parsing them all.
 */
export function tcpFindOption(bytes: Uint8Array, offset: number, kind: number): number {
  let i = offset + TCP_HEADER_LENGTH;
  let end = offset + tcpHeaderLength(bytes, offset);
  if (end > bytes.length) end = bytes.length;
  while (i < end) {
    const k = bytes[i];
    if (k === TcpOptionKind.EOL) return -1;
    if (k === TcpOptionKind.NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return -1;
    const optionLength = bytes[i + 1];
    if (optionLength < 2 || i + optionLength > end) return -1;
    if (k === kind) return i;
    i += optionLength;
  }
  return -1;
}

// --- Validated representation ---------------------------------------------------------------------------------------

/**
 * A header with a well-formed option list. The checksum is kept as carried (it covers the
 * data; `fillTcp4Checksum` computes it); the reserved bits are dropped (RFC 9293: ignored on
 * receipt, zero on send); Data Offset follows from the options.
 */
export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  sequenceNumber: number;
  acknowledgmentNumber: number;
  flags: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  options: TcpOptions;
}

/** Parses the header at `offset` from `length` available bytes; null when short or malformed. */
export function parseTcpHeader(bytes: Uint8Array, offset: number, length: number): TcpHeader | null {
  if (tcpHeaderCheck(bytes, offset, length) !== TcpCheck.OK) return null;
  const headerLength = tcpHeaderLength(bytes, offset);
  const options = parseTcpOptions(bytes, offset + TCP_HEADER_LENGTH, headerLength - TCP_HEADER_LENGTH);
  if (options === null) return null;
  return {
    srcPort: tcpSrcPort(bytes, offset),
    dstPort: tcpDstPort(bytes, offset),
    sequenceNumber: tcpSequenceNumber(bytes, offset),
    acknowledgmentNumber: tcpAcknowledgmentNumber(bytes, offset),
    flags: tcpFlags(bytes, offset),
    window: tcpWindow(bytes, offset),
    checksum: tcpChecksum(bytes, offset),
    urgentPointer: tcpUrgentPointer(bytes, offset),
    options,
  };
}

/** Writes header and options; returns the header length, or -1 (nothing written) when the options exceed 40 bytes. */
export function emitTcpHeader(header: TcpHeader, bytes: Uint8Array, offset: number): number {
  const optionsLength = tcpOptionsLength(header.options);
  if (optionsLength < 0) return -1;
  const headerLength = TCP_HEADER_LENGTH + optionsLength;
  setTcpSrcPort(bytes, offset, header.srcPort);
  setTcpDstPort(bytes, offset, header.dstPort);
  setTcpSequenceNumber(bytes, offset, header.sequenceNumber);
  setTcpAcknowledgmentNumber(bytes, offset, header.acknowledgmentNumber);
  setTcpDataOffset(bytes, offset, headerLength >>> 2);
  setTcpFlags(bytes, offset, header.flags);
  setTcpWindow(bytes, offset, header.window);
  setTcpChecksum(bytes, offset, header.checksum);
  setTcpUrgentPointer(bytes, offset, header.urgentPointer);
  emitTcpOptions(header.options, bytes, offset + TCP_HEADER_LENGTH);
  return headerLength;
}

// --- Trace format -----------------------------------------------------------------------------------------------------

const FLAG_NAMES: readonly string[] = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

/** VPP's format_tcp_flags: "0x12 SYN ACK". */
export function formatTcpFlags(flags: number): string {
  let out = `0x${(flags & 0xff).toString(16).padStart(2, '0')}`;
  for (let bit = 0; bit < 8; bit++) {
    if (flags & (1 << bit)) out += ` ${FLAG_NAMES[bit]}`;
  }
  return out;
}

/**
 * VPP's format_tcp_header:
 *   TCP: 1234 -> 80
 *     seq. 0x00000001 ack 0x00000000
 *     flags 0x02 SYN, tcp header: 40 bytes
 *     window 65535, checksum 0x1c3f
 */
export function formatTcpHeader(bytes: Uint8Array, offset: number, length = bytes.length - offset): string {
  if (length > bytes.length - offset) length = bytes.length - offset;
  if (length < TCP_HEADER_LENGTH || offset < 0) return 'TCP header truncated';
  return `TCP: ${tcpSrcPort(bytes, offset)} -> ${tcpDstPort(bytes, offset)}`
    + `\n  seq. 0x${hex(tcpSequenceNumber(bytes, offset), 8)} ack 0x${hex(tcpAcknowledgmentNumber(bytes, offset), 8)}`
    + `\n  flags ${formatTcpFlags(tcpFlags(bytes, offset))}, tcp header: ${tcpHeaderLength(bytes, offset)} bytes`
    + `\n  window ${tcpWindow(bytes, offset)}, checksum 0x${hex(tcpChecksum(bytes, offset), 4)}`;
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}
