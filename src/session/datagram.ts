// Datagrams in a session FIFO (VPP's session_dgram_hdr_t): a UDP session's FIFOs hold whole
// datagrams, each a 16-byte header followed by its payload, so message boundaries and the
// peer's address survive the byte ring. The header, big-endian:
//
//   0  payload length (u32)    4  remote address (u32)
//   8  remote port (u16)      10  local port (u16)      12  local address (u32)
//
// In the rx FIFO the remote end is the sender; in the tx FIFO it is the destination (a
// connected session's own peer when the app gives none). A datagram goes into a FIFO whole or
// not at all: `writeDatagram` checks room for header and payload first.

import type { Fifo } from '../svm/fifo.ts';

export const DATAGRAM_HEADER_LENGTH = 16;

/** The header of one datagram, read back from a FIFO (reused: no allocation per datagram). */
export class DatagramHeader {
  length = 0;
  remoteAddress = 0;
  remotePort = 0;
  localAddress = 0;
  localPort = 0;
}

const scratch = new Uint8Array(DATAGRAM_HEADER_LENGTH);

/** Appends header and payload when both fit; returns false (writing nothing) otherwise. */
export function writeDatagram(
  fifo: Fifo, payload: Uint8Array, offset: number, length: number,
  remoteAddress: number, remotePort: number, localAddress: number, localPort: number,
): boolean {
  if (fifo.maxEnqueue() < DATAGRAM_HEADER_LENGTH + length) return false;
  writeHeader(scratch, length, remoteAddress, remotePort, localAddress, localPort);
  fifo.enqueue(scratch, 0, DATAGRAM_HEADER_LENGTH);
  if (length > 0) fifo.enqueue(payload, offset, length);
  return true;
}

/** Encodes a header into `bytes` at 0. */
export function writeHeader(bytes: Uint8Array, length: number, remoteAddress: number, remotePort: number, localAddress: number, localPort: number): void {
  putU32(bytes, 0, length);
  putU32(bytes, 4, remoteAddress);
  bytes[8] = remotePort >>> 8;
  bytes[9] = remotePort;
  bytes[10] = localPort >>> 8;
  bytes[11] = localPort;
  putU32(bytes, 12, localAddress);
}

/**
 * Reads the next datagram's header without taking it; false when the FIFO holds no whole
 * header. A header always comes with its payload (writers add both at once).
 */
export function peekDatagram(fifo: Fifo, into: DatagramHeader): boolean {
  if (fifo.maxDequeue() < DATAGRAM_HEADER_LENGTH) return false;
  fifo.peek(0, scratch, 0, DATAGRAM_HEADER_LENGTH);
  into.length = getU32(scratch, 0);
  into.remoteAddress = getU32(scratch, 4);
  into.remotePort = (scratch[8] << 8) | scratch[9];
  into.localPort = (scratch[10] << 8) | scratch[11];
  into.localAddress = getU32(scratch, 12);
  return true;
}

/**
 * Takes the next datagram: its payload into `dst` (up to `max` bytes; the rest of a longer
 * datagram is discarded, as recvfrom truncates), its header into `into`. Returns the bytes
 * copied, or −1 when no datagram is waiting.
 */
export function readDatagram(fifo: Fifo, dst: Uint8Array, offset: number, max: number, into: DatagramHeader): number {
  if (!peekDatagram(fifo, into)) return -1;
  fifo.drop(DATAGRAM_HEADER_LENGTH);
  const n = into.length < max ? into.length : max;
  if (n > 0) fifo.dequeue(dst, offset, n);
  if (into.length > n) fifo.drop(into.length - n);
  return n;
}

function putU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

function getU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}
