// Trace text for a whole Ethernet frame, as VPP's device and output nodes print it: the
// ethernet line ("IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00"), then the IPv4 header and
// its UDP/TCP/ICMP header, or the ARP packet. `<if>-tx`, `<if>-output` and pg-input traces
// use it. The layer formatters live in src/wire; this module only picks the entry point
// and keeps a bad span (negative, past the end) from reaching them.

import { formatEthernetFrame } from '../wire/format.ts';

/** VPP trace lines for the Ethernet frame of `length` bytes at `offset` in `bytes`. Never throws. */
export function formatPacket(bytes: Uint8Array, offset: number, length: number): string {
  if (!(offset >= 0) || offset > bytes.length) return 'ethernet header truncated';
  let available = length | 0;
  if (available < 0) available = 0;
  if (available > bytes.length - offset) available = bytes.length - offset;
  return formatEthernetFrame(bytes, offset, available);
}
