// ICMP for IPv4 (RFC 792): type, code, checksum and the 4-byte rest-of-header, whose meaning
// depends on the type (identifier and sequence number for echo, next-hop MTU for
// "fragmentation needed" per RFC 1191). Accessors for ip4-icmp-input, a check, the validated
// `Icmp4Message` (header plus data, checksum computed), the in-place echo reply that
// ip4-icmp-echo-request performs, and the builders for the error messages a router sends,
// "time exceeded" and "destination unreachable", with the rules of RFC 1812 §4.3.2.7 on when
// not to send one.

import { formatIp4 } from './address.ts';
import { checksumUpdate16, internetChecksum } from './checksum.ts';
import { emitIp4Header, IP4_HEADER_LENGTH, ip4Dst, ip4FragmentOffset, ip4HeaderLength, ip4Protocol, ip4Src, ip4TotalLength, IpProtocol } from './ip4.ts';

/** Type, code, checksum and the 4-byte rest of header. */
export const ICMP4_HEADER_LENGTH = 8;

/** RFC 792: an error quotes the internet header plus the first 64 bits of the datagram's data. */
export const ICMP4_ERROR_QUOTE_DATA = 8;

/**
 * RFC 1812 §4.3.2.3: an ICMP error should quote as much of the datagram as fits in 576 bytes
 * with the new IP and ICMP headers. Pass this as `maxQuote` to quote that much.
 */
export const ICMP4_RFC1812_MAX_QUOTE = 576 - IP4_HEADER_LENGTH - ICMP4_HEADER_LENGTH;

/** The TTL of the error messages built here (RFC 1700's default 64, as Linux sends). */
export const ICMP4_ERROR_TTL = 64;

export const Icmp4Type = {
  ECHO_REPLY: 0,
  DESTINATION_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP: 13,
  TIMESTAMP_REPLY: 14,
} as const;

/** Codes of type 3, destination unreachable (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1). */
export const Icmp4UnreachableCode = {
  NET_UNREACHABLE: 0,
  HOST_UNREACHABLE: 1,
  PROTOCOL_UNREACHABLE: 2,
  PORT_UNREACHABLE: 3,
  FRAGMENTATION_NEEDED: 4,
  SOURCE_ROUTE_FAILED: 5,
  DESTINATION_NETWORK_UNKNOWN: 6,
  DESTINATION_HOST_UNKNOWN: 7,
  COMMUNICATION_ADMINISTRATIVELY_PROHIBITED: 13,
} as const;

/** Codes of type 11, time exceeded (RFC 792). */
export const Icmp4TimeExceededCode = {
  TTL_EXCEEDED_IN_TRANSIT: 0,
  FRAGMENT_REASSEMBLY_TIME_EXCEEDED: 1,
} as const;

// --- Accessors --------------------------------------------------------------------------------------

export function icmp4Type(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | 0;
}

export function setIcmp4Type(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value;
}

export function icmp4Code(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 1] | 0;
}

export function setIcmp4Code(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 1] = value;
}

export function icmp4Checksum(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 2] << 8) | bytes[offset + 3]) & 0xffff;
}

export function setIcmp4Checksum(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

/** The 4 bytes after the checksum, as a u32. */
export function icmp4RestOfHeader(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 4] << 24) | (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7]) >>> 0;
}

export function setIcmp4RestOfHeader(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + 4] = value >>> 24;
  bytes[offset + 5] = value >>> 16;
  bytes[offset + 6] = value >>> 8;
  bytes[offset + 7] = value;
}

/** Echo and echo reply: the Identifier. */
export function icmp4EchoIdentifier(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 4] << 8) | bytes[offset + 5]) & 0xffff;
}

/** Echo and echo reply: the Sequence Number. */
export function icmp4EchoSequence(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 6] << 8) | bytes[offset + 7]) & 0xffff;
}

/** RFC 1191 §4: "fragmentation needed" carries the next-hop MTU in the low 16 bits. */
export function icmp4NextHopMtu(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 6] << 8) | bytes[offset + 7]) & 0xffff;
}

/** The rest-of-header word of an echo message. */
export function icmp4EchoRestOfHeader(identifier: number, sequence: number): number {
  return (((identifier & 0xffff) << 16) | (sequence & 0xffff)) >>> 0;
}

/** The checksum a message of `length` bytes should carry (field taken as zero). */
export function icmp4ComputeChecksum(bytes: Uint8Array, offset: number, length: number): number {
  // Subtract the stored field back out: one's complement subtraction adds its complement.
  return internetChecksum(bytes, offset, length, ~icmp4Checksum(bytes, offset) & 0xffff);
}

// --- Check -----------------------------------------------------------------------------------------------

export const Icmp4Check = {
  OK: 0,
  /** Fewer than 8 bytes. */
  TOO_SHORT: 1,
  /** The checksum over the whole message does not verify. */
  BAD_CHECKSUM: 2,
} as const;
export type Icmp4Check = (typeof Icmp4Check)[keyof typeof Icmp4Check];

/** `available` is the ICMP message length (the IP payload). */
export function icmp4Check(bytes: Uint8Array, offset: number, available: number): Icmp4Check {
  if (available > bytes.length - offset) return Icmp4Check.TOO_SHORT;
  if (available < ICMP4_HEADER_LENGTH || offset < 0) return Icmp4Check.TOO_SHORT;
  if (internetChecksum(bytes, offset, available) !== 0) return Icmp4Check.BAD_CHECKSUM;
  return Icmp4Check.OK;
}

// --- Validated representation ------------------------------------------------------------------------

/** A message whose checksum verified; `emitIcmp4Message` computes it again. */
export interface Icmp4Message {
  type: number;
  code: number;
  restOfHeader: number;
  data: Uint8Array;
}

/** Parses `length` bytes of message at `offset`; null when short or the checksum fails. */
export function parseIcmp4Message(bytes: Uint8Array, offset: number, length: number): Icmp4Message | null {
  if (icmp4Check(bytes, offset, length) !== Icmp4Check.OK) return null;
  return {
    type: icmp4Type(bytes, offset),
    code: icmp4Code(bytes, offset),
    restOfHeader: icmp4RestOfHeader(bytes, offset),
    data: bytes.slice(offset + ICMP4_HEADER_LENGTH, offset + length),
  };
}

/** Writes header and data with the checksum; returns the bytes written. */
export function emitIcmp4Message(message: Icmp4Message, bytes: Uint8Array, offset: number): number {
  bytes[offset] = message.type;
  bytes[offset + 1] = message.code;
  bytes[offset + 2] = 0;
  bytes[offset + 3] = 0;
  setIcmp4RestOfHeader(bytes, offset, message.restOfHeader);
  bytes.set(message.data, offset + ICMP4_HEADER_LENGTH);
  const length = ICMP4_HEADER_LENGTH + message.data.length;
  setIcmp4Checksum(bytes, offset, internetChecksum(bytes, offset, length));
  return length;
}

// --- Echo reply ------------------------------------------------------------------------------------------

/**
 * Turns the echo request at `offset` into an echo reply in place: the type becomes 0 and the
 * checksum is patched (RFC 1624) instead of summed again; identifier, sequence and data stay,
 * as RFC 792 requires. The IP header (addresses, TTL) is the caller's. Returns false, changing
 * nothing, when the message is not an echo request.
 */
export function icmp4EchoRequestToReply(bytes: Uint8Array, offset: number): boolean {
  if (bytes[offset] !== Icmp4Type.ECHO_REQUEST) return false;
  // The word changing is type<<8 | code.
  const code = bytes[offset + 1] | 0;
  const updated = checksumUpdate16(icmp4Checksum(bytes, offset), (Icmp4Type.ECHO_REQUEST << 8) | code, (Icmp4Type.ECHO_REPLY << 8) | code);
  bytes[offset] = Icmp4Type.ECHO_REPLY;
  setIcmp4Checksum(bytes, offset, updated);
  return true;
}

// --- Error messages ----------------------------------------------------------------------------------------

/** ICMP types that are errors, not queries: never answered with another error (RFC 1812 §4.3.2.7). */
function isIcmp4ErrorType(type: number): boolean {
  return type === Icmp4Type.DESTINATION_UNREACHABLE || type === Icmp4Type.SOURCE_QUENCH
    || type === Icmp4Type.REDIRECT || type === Icmp4Type.TIME_EXCEEDED || type === Icmp4Type.PARAMETER_PROBLEM;
}

/**
 * RFC 1812 §4.3.2.7 (and RFC 1122 §3.2.2): whether the datagram at `offset` may be answered with
 * an ICMP error, judged from the packet alone. Not for: an ICMP error, a non-initial fragment,
 * a destination that is limited broadcast or multicast, or a source that does not name one
 * host (0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 and above). Directed broadcasts need the FIB and
 * are the caller's to rule out.
 */
export function icmp4ErrorAllowed(bytes: Uint8Array, offset: number, available: number): boolean {
  if (available < IP4_HEADER_LENGTH || available > bytes.length - offset || offset < 0) return false;
  if (ip4FragmentOffset(bytes, offset) !== 0) return false;
  const dst = ip4Dst(bytes, offset);
  if (dst >>> 28 >= 0xe) return false;
  const srcFirstOctet = ip4Src(bytes, offset) >>> 24;
  if (srcFirstOctet === 0 || srcFirstOctet === 127 || srcFirstOctet >= 224) return false;
  if (ip4Protocol(bytes, offset) === IpProtocol.ICMP) {
    const headerLength = ip4HeaderLength(bytes, offset);
    // An ICMP message without its type byte cannot be told apart from an error: stay silent.
    if (headerLength >= available) return false;
    if (isIcmp4ErrorType(bytes[offset + headerLength])) return false;
  }
  return true;
}

/**
 * Writes an ICMP error message at `outOffset`: type, code, rest of header, then the original
 * datagram's IP header plus the first 8 bytes of its data (RFC 792), or up to `maxQuote` bytes
 * (e.g. `ICMP4_RFC1812_MAX_QUOTE`). The quote never runs past the original's Total Length or
 * its `originalAvailable` bytes. `out` may be the same memory as `original`, overlapping.
 * Returns the message length, or 0 when the original holds no full IP header.
 */
export function emitIcmp4Error(
  out: Uint8Array, outOffset: number, type: number, code: number, restOfHeader: number,
  original: Uint8Array, originalOffset: number, originalAvailable: number, maxQuote = -1,
): number {
  if (originalAvailable > original.length - originalOffset) originalAvailable = original.length - originalOffset;
  if (originalAvailable < IP4_HEADER_LENGTH || originalOffset < 0 || outOffset < 0) return 0;
  const headerLength = ip4HeaderLength(original, originalOffset);
  if (headerLength < IP4_HEADER_LENGTH) return 0;
  let quote = maxQuote < 0 ? headerLength + ICMP4_ERROR_QUOTE_DATA : maxQuote;
  const totalLength = ip4TotalLength(original, originalOffset);
  if (quote > totalLength) quote = totalLength;
  if (quote > originalAvailable) quote = originalAvailable;
  if (quote < IP4_HEADER_LENGTH) return 0;
  const dataOffset = outOffset + ICMP4_HEADER_LENGTH;
  if (dataOffset + quote > out.length) return 0;
  // Copy first: the quote may overlap the header being written (an error built in place).
  moveBytes(out, dataOffset, original, originalOffset, quote);
  out[outOffset] = type;
  out[outOffset + 1] = code;
  out[outOffset + 2] = 0;
  out[outOffset + 3] = 0;
  setIcmp4RestOfHeader(out, outOffset, restOfHeader);
  const length = ICMP4_HEADER_LENGTH + quote;
  setIcmp4Checksum(out, outOffset, internetChecksum(out, outOffset, length));
  return length;
}

/**
 * Writes a whole IPv4 datagram carrying an ICMP error about `original`: from `src` (the
 * address of the interface that received it) to the original's source, TTL 64. Returns its
 * total length, or 0 when the original is too short to quote.
 */
export function emitIcmp4ErrorPacket(
  out: Uint8Array, outOffset: number, src: number, type: number, code: number, restOfHeader: number,
  original: Uint8Array, originalOffset: number, originalAvailable: number, maxQuote = -1,
): number {
  if (originalAvailable > original.length - originalOffset) originalAvailable = original.length - originalOffset;
  if (originalAvailable < IP4_HEADER_LENGTH || originalOffset < 0) return 0;
  const dst = ip4Src(original, originalOffset);
  const messageLength = emitIcmp4Error(out, outOffset + IP4_HEADER_LENGTH, type, code, restOfHeader,
    original, originalOffset, originalAvailable, maxQuote);
  if (messageLength === 0) return 0;
  const totalLength = IP4_HEADER_LENGTH + messageLength;
  emitIp4Header({
    dscp: 0, ecn: 0, totalLength, identification: 0, flags: 0, fragmentOffset: 0,
    ttl: ICMP4_ERROR_TTL, protocol: IpProtocol.ICMP, src, dst, options: NO_OPTIONS,
  }, out, outOffset);
  return totalLength;
}

const NO_OPTIONS = new Uint8Array(0);

/** RFC 792 type 11: TTL exceeded in transit (code 0) or reassembly time exceeded (code 1). */
export function emitIcmp4TimeExceeded(
  out: Uint8Array, outOffset: number, src: number,
  original: Uint8Array, originalOffset: number, originalAvailable: number,
  code: number = Icmp4TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT, maxQuote = -1,
): number {
  return emitIcmp4ErrorPacket(out, outOffset, src, Icmp4Type.TIME_EXCEEDED, code, 0,
    original, originalOffset, originalAvailable, maxQuote);
}

/** RFC 792 type 3; with code 4 (fragmentation needed) `nextHopMtu` goes in per RFC 1191. */
export function emitIcmp4DestinationUnreachable(
  out: Uint8Array, outOffset: number, src: number, code: number,
  original: Uint8Array, originalOffset: number, originalAvailable: number,
  nextHopMtu = 0, maxQuote = -1,
): number {
  return emitIcmp4ErrorPacket(out, outOffset, src, Icmp4Type.DESTINATION_UNREACHABLE, code, nextHopMtu & 0xffff,
    original, originalOffset, originalAvailable, maxQuote);
}

/** memmove: copies `count` bytes, correct when both ranges are views of one buffer and overlap. */
function moveBytes(to: Uint8Array, toOffset: number, from: Uint8Array, fromOffset: number, count: number): void {
  const backwards = to.buffer === from.buffer && to.byteOffset + toOffset > from.byteOffset + fromOffset;
  if (backwards) {
    for (let i = count - 1; i >= 0; i--) to[toOffset + i] = from[fromOffset + i];
  } else {
    for (let i = 0; i < count; i++) to[toOffset + i] = from[fromOffset + i];
  }
}

// --- Trace format -----------------------------------------------------------------------------------------

// VPP's names (foreach_icmp4_type, foreach_icmp4_code).
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'echo_reply', 3: 'destination_unreachable', 4: 'source_quench', 5: 'redirect',
  6: 'alternate_host_address', 8: 'echo_request', 9: 'router_advertisement', 10: 'router_solicitation',
  11: 'time_exceeded', 12: 'parameter_problem', 13: 'timestamp_request', 14: 'timestamp_reply',
  15: 'information_request', 16: 'information_reply', 17: 'address_mask_request', 18: 'address_mask_reply',
  30: 'traceroute',
};

const CODE_NAMES: Readonly<Record<number, string>> = {
  0x0300: 'destination_unreachable_net', 0x0301: 'destination_unreachable_host',
  0x0302: 'protocol_unreachable', 0x0303: 'port_unreachable',
  0x0304: 'fragmentation_needed_and_dont_fragment_set', 0x0305: 'source_route_failed',
  0x0306: 'destination_network_unknown', 0x0307: 'destination_host_unknown',
  0x0308: 'source_host_isolated', 0x0309: 'network_administratively_prohibited',
  0x030a: 'host_administratively_prohibited', 0x030b: 'network_unreachable_for_type_of_service',
  0x030c: 'host_unreachable_for_type_of_service', 0x030d: 'communication_administratively_prohibited',
  0x030e: 'host_precedence_violation', 0x030f: 'precedence_cutoff_in_effect',
  0x0500: 'network_redirect', 0x0501: 'host_redirect',
  0x0502: 'type_of_service_and_network_redirect', 0x0503: 'type_of_service_and_host_redirect',
  0x0b00: 'ttl_exceeded_in_transit', 0x0b01: 'fragment_reassembly_time_exceeded',
  0x0c00: 'pointer_indicates_error', 0x0c01: 'missing_required_option', 0x0c02: 'bad_length',
};

/** VPP's format_ip4_icmp_type_and_code: "destination_unreachable port_unreachable". */
export function formatIcmp4TypeAndCode(type: number, code: number): string {
  const typeName = TYPE_NAMES[type];
  if (typeName === undefined) return `unknown 0x${type.toString(16)}`;
  const codeName = CODE_NAMES[(type << 8) | code];
  return codeName === undefined ? typeName : `${typeName} ${codeName}`;
}

/**
 * VPP's ICMP line, "ICMP echo_request checksum 0x1c3f", with " id 1 seq 7" for echo
 * messages, " mtu 1400" for fragmentation needed and " gateway 10.0.0.1" for a redirect.
 */
export function formatIcmp4Header(bytes: Uint8Array, offset: number, length = bytes.length - offset): string {
  if (length > bytes.length - offset) length = bytes.length - offset;
  if (length < 4 || offset < 0) return 'ICMP header truncated';
  const type = icmp4Type(bytes, offset);
  const code = icmp4Code(bytes, offset);
  let out = `ICMP ${formatIcmp4TypeAndCode(type, code)} checksum 0x${icmp4Checksum(bytes, offset).toString(16).padStart(4, '0')}`;
  if (length >= ICMP4_HEADER_LENGTH) {
    if (type === Icmp4Type.ECHO_REQUEST || type === Icmp4Type.ECHO_REPLY) {
      out += ` id ${icmp4EchoIdentifier(bytes, offset)} seq ${icmp4EchoSequence(bytes, offset)}`;
    } else if (type === Icmp4Type.DESTINATION_UNREACHABLE && code === Icmp4UnreachableCode.FRAGMENTATION_NEEDED) {
      out += ` mtu ${icmp4NextHopMtu(bytes, offset)}`;
    } else if (type === Icmp4Type.REDIRECT) {
      out += ` gateway ${formatIp4(icmp4RestOfHeader(bytes, offset))}`;
    }
  }
  return out;
}
