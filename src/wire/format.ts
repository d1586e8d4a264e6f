// Whole-packet trace text: each header's line(s) followed by the next layer's, as VPP's
// formatters recurse (format_ethernet_header → format_ip4_header → format_udp_header), so a
// device's trace shows the frame down to its transport header. Lives apart from the header
// modules so none of them imports another to recurse. Headers start at the left; their
// continuation lines are indented two spaces; the caller indents the whole block.

import { ARP_FIXED_LENGTH, formatArp } from './arp.ts';
import { ETHERNET_HEADER_LENGTH, EtherType, ethernetType, formatEthernet } from './ethernet.ts';
import { formatIcmp4Header } from './icmp4.ts';
import { formatIp4Header, IP4_HEADER_LENGTH, ip4FragmentOffset, ip4HeaderLength, ip4Protocol, ip4TotalLength, IpProtocol } from './ip4.ts';
import { formatTcpHeader } from './tcp.ts';
import { formatUdpHeader, UDP_HEADER_LENGTH, udpDstPort } from './udp.ts';
import { formatVxlanHeader, VXLAN_HEADER_LENGTH, VXLAN_UDP_PORT } from './vxlan.ts';

/** An Ethernet frame and what it carries (ip4 or ARP). `length` is the bytes at `offset`. */
export function formatEthernetFrame(bytes: Uint8Array, offset: number, length = bytes.length - offset): string {
  if (length > bytes.length - offset) length = bytes.length - offset;
  const out = formatEthernet(bytes, offset, length);
  if (length <= ETHERNET_HEADER_LENGTH || offset < 0) return out;
  const type = ethernetType(bytes, offset);
  const next = offset + ETHERNET_HEADER_LENGTH;
  const nextLength = length - ETHERNET_HEADER_LENGTH;
  if (type === EtherType.IP4) return `${out}\n${formatIp4Packet(bytes, next, nextLength)}`;
  if (type === EtherType.ARP && nextLength >= ARP_FIXED_LENGTH) return `${out}\n${formatArp(bytes, next, nextLength)}`;
  return out;
}

/**
 * An ip4 header and, unless the packet is a non-initial fragment, its ICMP, UDP or TCP header;
 * UDP to port 4789 goes on into VXLAN and the inner frame.
 */
export function formatIp4Packet(bytes: Uint8Array, offset: number, length = bytes.length - offset): string {
  if (length > bytes.length - offset) length = bytes.length - offset;
  const out = formatIp4Header(bytes, offset, length);
  if (length < IP4_HEADER_LENGTH || offset < 0) return out;
  const headerLength = ip4HeaderLength(bytes, offset);
  if (headerLength < IP4_HEADER_LENGTH || headerLength >= length || ip4FragmentOffset(bytes, offset) !== 0) return out;
  let end = offset + length;
  const totalLength = ip4TotalLength(bytes, offset);
  if (totalLength >= headerLength && offset + totalLength < end) end = offset + totalLength;
  const next = offset + headerLength;
  const nextLength = end - next;
  if (nextLength <= 0) return out;
  switch (ip4Protocol(bytes, offset)) {
    case IpProtocol.ICMP: return `${out}\n${formatIcmp4Header(bytes, next, nextLength)}`;
    case IpProtocol.TCP: return `${out}\n${formatTcpHeader(bytes, next, nextLength)}`;
    case IpProtocol.UDP: return `${out}\n${formatUdpDatagram(bytes, next, nextLength)}`;
    default: return out;
  }
}

function formatUdpDatagram(bytes: Uint8Array, offset: number, length: number): string {
  const out = formatUdpHeader(bytes, offset, length);
  if (length < UDP_HEADER_LENGTH + VXLAN_HEADER_LENGTH || udpDstPort(bytes, offset) !== VXLAN_UDP_PORT) return out;
  const vxlan = offset + UDP_HEADER_LENGTH;
  const inner = vxlan + VXLAN_HEADER_LENGTH;
  const innerLength = length - UDP_HEADER_LENGTH - VXLAN_HEADER_LENGTH;
  const vxlanText = formatVxlanHeader(bytes, vxlan, VXLAN_HEADER_LENGTH);
  if (innerLength <= 0) return `${out}\n${vxlanText}`;
  return `${out}\n${vxlanText}\n${formatEthernetFrame(bytes, inner, innerLength)}`;
}
