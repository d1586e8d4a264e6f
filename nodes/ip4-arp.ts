// ip4-arp (VPP's ip4-arp, vnet/ip-neighbor/ip4_neighbor.c): packets whose adjacency (opaque
// word 0, from ip4-lookup) is an incomplete neighbor — a next hop whose MAC is not known
// yet. It sends an ARP request for the adjacency's next hop out of the adjacency's
// interface (a new buffer to interface-output, throttled per (interface, target)) and drops
// the data packet, counted, as VPP does; once arp-input learns the reply the adjacency
// becomes a rewrite and the flow's next packets are forwarded. The shared body, the request
// builder and the throttle are in src/vnet/arp-request.ts (ip4-glean uses them too).

import { defineNode } from '../src/vlib/node.ts';
import { ARP_REQUEST_ERRORS, ARP_REQUEST_NEXTS, arpRequestProcess } from '../src/vnet/arp-request.ts';
import { formatForwardTrace, packetFlowHash } from './ip4-lookup.ts';

export default defineNode({
  name: 'ip4-arp',
  type: 'internal',
  nexts: ARP_REQUEST_NEXTS,
  errors: ARP_REQUEST_ERRORS,
  trace: (ctx, bi) => formatForwardTrace(ctx, bi, packetFlowHash(ctx, bi)),
  process: arpRequestProcess(false),
});
