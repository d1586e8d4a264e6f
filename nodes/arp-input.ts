// arp-input: IPv4-over-Ethernet ARP (RFC 826) for the interface it arrived on, after
// ethernet-input (VPP's arp-input + arp-reply). A request for one of the interface's
// addresses is answered in place: the buffer becomes the reply (Ethernet header rewound
// to l2, sender/target swapped, our MAC and address as sender, the frame's length kept)
// with txInterface = rxInterface, to interface-output; its sender is learned. A reply to
// one of our addresses is learned (vnet.neighbors.learn) and consumed. A gratuitous ARP
// refreshes a neighbor we already know. Everything else is dropped under VPP's counter
// names: not ours, sender off-subnet or ours, sender MAC ≠ the frame's source, malformed.
// Reads current (the ARP header), length, rxInterface, l2Offset's frame; writes current,
// length, txInterface on replies, error on drops. Counters once per frame.

import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { AdjacencyKind } from '../src/vnet/fib/adjacency.ts';
import type { Vnet } from '../src/vnet/vnet.ts';
import { ArpCheck, arpHeaderCheck, arpOp, ArpOp, arpSpa, arpTpa, formatArp, setArpOp, setArpSpa, setArpTpa } from '../src/wire/arp.ts';
import { ETHERNET_HEADER_LENGTH, EtherType } from '../src/wire/ethernet.ts';

const NEXTS = { drop: 'error-drop', output: 'interface-output' } as const;
const NEXT = indices(NEXTS);
// VPP's counter names (src/vnet/arp/arp.h) where it has one.
const ERRORS = {
  repliesSent: 'ARP replies sent',
  l2TypeNotEthernet: 'L2 type not ethernet',
  l3TypeNotIp4: 'L3 type not IP4',
  srcNotLocal: 'IP4 source address not local to subnet',
  dstNotLocal: 'IP4 destination address not local to subnet',
  senderUnset: 'IP4 destination address is unset',
  srcIsLocal: 'IP4 source address matches local interface',
  learned: 'ARP request IP4 source address learned',
  repliesReceived: 'ARP replies received',
  opcodeNotRequest: 'ARP opcode not request',
  l2AddressMismatch: 'ARP hw addr does not match L2 frame src addr',
  gratuitous: 'ARP probe or announcement dropped',
  notIpEnabled: 'Interface is not IP enabled',
  notForUs: 'ARP request for another host',
  truncated: 'ARP packet truncated',
  badAddressSize: 'ARP address sizes not 6/4',
} as const;
const ERROR = indices(ERRORS);
const ERROR_COUNT = Object.keys(ERRORS).length;

/** Per-frame error tallies, reused (no allocation per frame). */
const tallies = new Float64Array(ERROR_COUNT);
/** The sender MAC handed to the neighbor table, which keeps its own copy (Ip4Neighbors.add slices it). */
const senderMac = new Uint8Array(6);

function copySender(bytes: Uint8Array, arp: number): Uint8Array {
  for (let j = 0; j < 6; j++) senderMac[j] = bytes[arp + 8 + j];
  return senderMac;
}

function onSubnet(address: number, prefix: number, length: number): boolean {
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return ((address ^ prefix) & mask) === 0;
}

/**
 * True when `address` is one of ours in table `fibIndex`: its FIB entry is a local (receive)
 * adjacency, as VPP asks the FIB for FIB_ENTRY_FLAG_LOCAL.
 */
function isLocalAddress(vnet: Vnet, fibIndex: number, address: number): boolean {
  const mtrie = vnet.fib.mtries[fibIndex];
  if (mtrie === undefined) return false;
  const lbs = vnet.loadBalances;
  const adj = lbs.buckets[lbs.start[mtrie.lookup(address)]];
  return vnet.adjacencies.kind[adj] === AdjacencyKind.LOCAL;
}

/** Decides one ARP packet: the error counter to drop it under, or -1 to reply (written in place). */
function handle(ctx: NodeContext, bi: number): number {
  const pool = ctx.pool;
  const bytes = pool.bytes;
  const arp = pool.current[bi];
  const sw = pool.rxInterface[bi];
  const vnet = ctx.engine.vnet;
  const ifs = vnet.interfaces;
  switch (arpHeaderCheck(bytes, arp, pool.length[bi])) {
    case ArpCheck.OK: break;
    case ArpCheck.NOT_ETHERNET: return ERROR.l2TypeNotEthernet;
    case ArpCheck.NOT_IP4: return ERROR.l3TypeNotIp4;
    case ArpCheck.BAD_ADDRESS_LENGTH: return ERROR.badAddressSize;
    case ArpCheck.BAD_OP: return ERROR.opcodeNotRequest;
    default: return ERROR.truncated;
  }
  // The Ethernet header sits just before the ARP packet (ethernet-input advanced past it);
  // the headroom guarantees 14 bytes there even for a packet injected without one.
  const eth = arp - ETHERNET_HEADER_LENGTH;
  const op = arpOp(bytes, arp);
  const spa = arpSpa(bytes, arp);
  const tpa = arpTpa(bytes, arp);
  // VPP drops ARP probes (sender 0.0.0.0) under this counter.
  if (spa === 0) return ERROR.senderUnset;
  if (sw >= ifs.count || ifs.exists[sw] !== 1) return ERROR.notIpEnabled;
  const addresses = ifs.ip4Addresses[sw];
  if (addresses.length === 0) return ERROR.notIpEnabled;
  if (isLocalAddress(vnet, ifs.fibIndex[sw], spa)) return ERROR.srcIsLocal;
  let srcOnSubnet = false;
  let ours = false;
  let tpaOnSubnet = false;
  for (let k = 0; k < addresses.length; k++) {
    const a = addresses[k];
    if (onSubnet(spa, a.address, a.length)) srcOnSubnet = true;
    if (a.address === tpa) ours = true;
    if (onSubnet(tpa, a.address, a.length)) tpaOnSubnet = true;
  }
  if (!ours) {
    // A gratuitous ARP (sender = target) refreshes a neighbor we know, and only that (VPP).
    if (spa === tpa && srcOnSubnet && vnet.neighbors.find(sw, spa) !== undefined) {
      if (!sameMac(bytes, arp + 8, eth + 6)) return ERROR.l2AddressMismatch;
      vnet.neighbors.learn(sw, spa, copySender(bytes, arp));
      return ERROR.learned;
    }
    if (spa === tpa) return ERROR.gratuitous;
    if (!tpaOnSubnet || op === ArpOp.REPLY) return ERROR.dstNotLocal;
    return ERROR.notForUs;
  }
  if (!srcOnSubnet) return ERROR.srcNotLocal;
  // RFC 826 does not ask it, VPP does: the sender MAC must be the frame's source.
  if (!sameMac(bytes, arp + 8, eth + 6)) return ERROR.l2AddressMismatch;
  vnet.neighbors.learn(sw, spa, copySender(bytes, arp));
  if (op === ArpOp.REPLY) return ERROR.repliesReceived;
  // The reply, in place. Ethernet: back to the requester (the frame's source), from us.
  const mac = ifs.mac;
  const m = sw * 6;
  for (let j = 0; j < 6; j++) {
    bytes[eth + j] = bytes[eth + 6 + j];
    bytes[eth + 6 + j] = mac[m + j];
  }
  bytes[eth + 12] = EtherType.ARP >>> 8;
  bytes[eth + 13] = EtherType.ARP & 0xff;
  // ARP: target ← the request's sender; sender ← us, with the address asked for.
  setArpOp(bytes, arp, ArpOp.REPLY);
  for (let j = 0; j < 6; j++) {
    bytes[arp + 18 + j] = bytes[arp + 8 + j];
    bytes[arp + 8 + j] = mac[m + j];
  }
  setArpTpa(bytes, arp, spa);
  setArpSpa(bytes, arp, tpa);
  pool.current[bi] = eth;
  pool.length[bi] += ETHERNET_HEADER_LENGTH;
  pool.txInterface[bi] = sw;
  return -1;
}

function sameMac(bytes: Uint8Array, a: number, b: number): boolean {
  return bytes[a] === bytes[b] && bytes[a + 1] === bytes[b + 1] && bytes[a + 2] === bytes[b + 2]
    && bytes[a + 3] === bytes[b + 3] && bytes[a + 4] === bytes[b + 4] && bytes[a + 5] === bytes[b + 5];
}

function process(ctx: NodeContext, buffers: Uint32Array, n: number, nexts: Uint16Array): number {
  const error = ctx.pool.error;
  tallies.fill(0);
  for (let i = 0; i < n; i++) {
    const bi = buffers[i];
    const k = handle(ctx, bi);
    if (k < 0) {
      nexts[i] = NEXT.output;
      tallies[ERROR.repliesSent]++;
      tallies[ERROR.learned]++;
    } else {
      nexts[i] = NEXT.drop;
      error[bi] = ctx.errorBase + k;
      tallies[k]++;
    }
  }
  const errors = ctx.errors;
  for (let k = 0; k < ERROR_COUNT; k++) if (tallies[k] !== 0) errors[k] += tallies[k];
  return n;
}

export default defineNode({
  name: 'arp-input',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  // Traced before processing (as VPP traces arp-input's frame on entry): the request as it came.
  traceBeforeProcess: true,
  trace: (ctx, bi) => formatArp(ctx.pool.bytes, ctx.pool.current[bi], ctx.pool.length[bi]),
  process,
});
