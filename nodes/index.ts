// Every built-in graph node, feature arc and feature, in one list the composition root
// registers. A node's file is named after the node (VPP's name).

import type { NodeDefinition } from '../src/vlib/node.ts';
import type { FeatureArcDefinition } from '../src/vlib/feature-arc.ts';
import pgInput from './pg-input.ts';
import ethernetInput from './ethernet-input.ts';
import arpInput from './arp-input.ts';
import ip4Input from './ip4-input.ts';
import ip4Lookup from './ip4-lookup.ts';
import ip4Rewrite from './ip4-rewrite.ts';
import ip4Local from './ip4-local.ts';
import ip4IcmpInput from './ip4-icmp-input.ts';
import ip4IcmpError from './ip4-icmp-error.ts';
import ip4UdpLookup from './ip4-udp-lookup.ts';
import ip4Arp from './ip4-arp.ts';
import ip4Glean from './ip4-glean.ts';
import ip4Drop from './ip4-drop.ts';
import interfaceOutput from './interface-output.ts';
import loopbackInput from './loopback-input.ts';
import tapInput from './tap-input.ts';
import afPacketInput from './af-packet-input.ts';
import socketInput from './socket-input.ts';
import vethInput from './veth-input.ts';
import vxlan4Input from './vxlan4-input.ts';
import vxlan4Encap from './vxlan4-encap.ts';
import ip4VxlanBypass from './ip4-vxlan-bypass.ts';
import tcp4Input from './tcp4-input.ts';
import tcp4Output from './tcp4-output.ts';
import tcp4Reset from './tcp4-reset.ts';
import sessionQueue from './session-queue.ts';
import udp4Input from './udp4-input.ts';
import udp4Output from './udp4-output.ts';

export { interfaceOutputTemplate } from './interface-output.ts';

export const VNET_NODES: readonly NodeDefinition[] = [
  pgInput,
  loopbackInput,
  ethernetInput,
  arpInput,
  ip4Input,
  ip4Lookup,
  ip4Rewrite,
  ip4Local,
  ip4IcmpInput,
  ip4IcmpError,
  ip4UdpLookup,
  ip4Arp,
  ip4Glean,
  ip4Drop,
  interfaceOutput,
  tapInput,
  afPacketInput,
  socketInput,
  vethInput,
  vxlan4Input,
  vxlan4Encap,
  ip4VxlanBypass,
  tcp4Input,
  tcp4Output,
  tcp4Reset,
  sessionQueue,
  udp4Input,
  udp4Output,
];

/**
 * VPP's feature arcs: where optional nodes can be switched on per interface. The
 * `interface-output` arc (`<if>-output` → `<if>-tx`) is per interface; the composition root
 * registers it with the interface names.
 */
export const VNET_ARCS: readonly FeatureArcDefinition[] = [
  { name: 'device-input', startNodes: ['pg-input', 'loopback-input', 'tap-input', 'af-packet-input', 'socket-input', 'veth-input'], endNode: 'ethernet-input' },
  { name: 'ip4-unicast', startNodes: ['ip4-input'], endNode: 'ip4-lookup' },
  { name: 'ip4-output', startNodes: ['ip4-rewrite'], endNode: 'interface-output' },
];
