// ip4-glean (VPP's ip4-glean, vnet/ip-neighbor/ip4_neighbor.c): packets to a host on a
// connected subnet whose MAC is not known — the subnet's route points at a glean adjacency
// (opaque word 0). It sends an ARP request for the packet's own destination out of the
// adjacency's interface (a new buffer to interface-output, throttled per (interface,
// target)) and drops the data packet, counted, as VPP does; the reply makes a neighbor and
// its /32, so the next packets are forwarded. The shared body is src/vnet/arp-request.ts.

import { defineNode } from '../src/vlib/node.ts';
import { ARP_REQUEST_ERRORS, ARP_REQUEST_NEXTS, arpRequestProcess } from '../src/vnet/arp-request.ts';
import { formatForwardTrace, packetFlowHash } from './ip4-lookup.ts';

export default defineNode({
  name: 'ip4-glean',
  type: 'internal',
  nexts: ARP_REQUEST_NEXTS,
  errors: ARP_REQUEST_ERRORS,
  trace: (ctx, bi) => formatForwardTrace(ctx, bi, packetFlowHash(ctx, bi)),
  process: arpRequestProcess(true),
});
