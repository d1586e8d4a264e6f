// Which buffer opaque words the IPv4 nodes use to pass per-packet state down the graph
// (VPP keeps the same state in vnet_buffer(b)->ip): the adjacency ip4-lookup chose, the
// fib index of a locally originated packet, and the ICMP error ip4-icmp-error is to send.
// Words 3..5 are free for later layers; 6 and 7 belong to feature arcs (feature-arc.ts).
// Host-stack code that injects packets into ip4-lookup sets BufferFlag.LOCALLY_ORIGINATED
// and OPAQUE_FIB_INDEX, as VPP sets sw_if_index[VLIB_TX] to a fib index.

/** ip4-lookup → ip4-rewrite / -arp / -glean / -local / -drop: the adjacency index. */
export const OPAQUE_ADJACENCY = 0;
/** For BufferFlag.LOCALLY_ORIGINATED packets: the fib index ip4-lookup looks them up in. */
export const OPAQUE_FIB_INDEX = 1;
/** → ip4-icmp-error: data << 16 | type << 8 | code (data: the next-hop MTU of "fragmentation needed"). */
export const OPAQUE_ICMP_ERROR = 2;

/** The OPAQUE_ICMP_ERROR word (VPP: icmp4_error_set_vnet_buffer). */
export function icmpErrorWord(type: number, code: number, data = 0): number {
  return (((data & 0xffff) << 16) | ((type & 0xff) << 8) | (code & 0xff)) >>> 0;
}
