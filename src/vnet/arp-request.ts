// ARP requests for unresolved IPv4 neighbors: the shared body of ip4-arp and ip4-glean
// (VPP's ip4_arp_inline in vnet/ip-neighbor/ip4_neighbor.c, one function for both nodes).
// ip4-arp serves an incomplete adjacency and asks for its next hop; ip4-glean serves a
// connected subnet's glean adjacency and asks for the packet's own destination. Either way
// the data packet is dropped, counted (VPP does not hold it), and at most one request per
// (interface, target) goes out per throttle window. The request is a new buffer (RFC 826,
// Ethernet broadcast, 42 bytes, not padded, as VPP's template): sender = the interface's MAC
// and its address on the target's subnet (vnet.sourceAddressFor), target MAC zero; it leaves
// through interface-output with txInterface set.
//
// Throttle (VPP's throttle_t): a 512-bit bitmap per engine, cleared and given a fresh random
// seed when its window (1 s) is over; (interface, target) hashes with the seed to one bit, and
// a set bit means "asked already this window". Two targets that share a bit within a window
// throttle each other until it ends — the price of a bitmap instead of a table, as in VPP.

import { NONE, OPAQUE_WORDS, type BufferPool } from '../vlib/buffer-pool.ts';
import type { Engine } from '../vlib/engine.ts';
import { FRAME_SIZE } from '../vlib/frame.ts';
import { indices, type ProcessFunction } from '../vlib/node.ts';
import { ARP_IP4_OVER_ETHERNET_LENGTH, ArpHardwareType, ArpOp } from '../wire/arp.ts';
import { ETHERNET_HEADER_LENGTH, EtherType } from '../wire/ethernet.ts';
import { AdjacencyKind } from './fib/adjacency.ts';
import { OPAQUE_ADJACENCY } from './ip4-opaque.ts';
import type { Vnet } from './vnet.ts';

export const ARP_REQUEST_NEXTS = { drop: 'error-drop', output: 'interface-output' } as const;
const NEXT = indices(ARP_REQUEST_NEXTS);

/** VPP's ip4_neighbor error texts. */
export const ARP_REQUEST_ERRORS = {
  throttled: 'ARP requests throttled',
  resolved: 'ARP requests resolved',
  noBuffers: 'ARP requests out of buffer',
  sent: 'ARP requests sent',
  nonArpAdjacency: 'ARPs to non-ARP adjacencies',
  noSourceAddress: 'no source address for ARP request',
} as const;
const ERROR = indices(ARP_REQUEST_ERRORS);

/** Bytes of an ARP request frame: Ethernet header + IPv4-over-Ethernet ARP. */
export const ARP_REQUEST_FRAME_LENGTH = ETHERNET_HEADER_LENGTH + ARP_IP4_OVER_ETHERNET_LENGTH;

const THROTTLE_BITS = 512;

export class ArpThrottle {
  private readonly bits = new Int32Array(THROTTLE_BITS / 32);
  private seed = 0;
  private windowStartNs = -Infinity;

  constructor(readonly windowNs = 1e9) {}

  /** Starts a new window (clear bitmap, new seed) when the current one is over (VPP: throttle_seed). */
  reseed(nowNs: number): void {
    if (nowNs - this.windowStartNs < this.windowNs) return;
    this.bits.fill(0);
    this.seed = (Math.random() * 0x100000000) >>> 0;
    this.windowStartNs = nowNs;
  }

  /** True when a request for (interface, target) went out this window; marks it otherwise (VPP: throttle_check). */
  check(swIfIndex: number, target: number): boolean {
    // MurmurHash3's fmix32 over the seeded key: every input bit moves the bit chosen.
    let h = (target ^ this.seed ^ Math.imul(swIfIndex, 0x9e3779b1)) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const bit = h & (THROTTLE_BITS - 1);
    const mask = 1 << (bit & 31);
    const word = bit >>> 5;
    const seen = (this.bits[word] & mask) !== 0;
    this.bits[word] |= mask;
    return seen;
  }

  /** Forgets every request (tests; `clear` commands). */
  reset(): void {
    this.windowStartNs = -Infinity;
  }
}

const throttles = new WeakMap<Engine, ArpThrottle>();

/** The engine's ARP throttle, shared by ip4-arp and ip4-glean as in VPP. */
export function arpThrottleOf(vm: Engine): ArpThrottle {
  let t = throttles.get(vm);
  if (t === undefined) throttles.set(vm, (t = new ArpThrottle()));
  return t;
}

/**
 * Writes an ARP request for `target` from (`swIfIndex`'s MAC, `source`) into a new buffer,
 * ready for interface-output; returns it, or NONE when the pool is empty (counted there).
 */
export function buildArpRequest(vnet: Vnet, pool: BufferPool, swIfIndex: number, source: number, target: number): number {
  const bi = pool.allocOne();
  if (bi === NONE) return NONE;
  const bytes = pool.bytes;
  const at = pool.current[bi];
  const mac = vnet.interfaces.mac;
  const macAt = swIfIndex * 6;
  // Ethernet: broadcast destination, our MAC, ARP.
  for (let i = 0; i < 6; i++) {
    bytes[at + i] = 0xff;
    bytes[at + 6 + i] = mac[macAt + i];
  }
  bytes[at + 12] = EtherType.ARP >>> 8;
  bytes[at + 13] = EtherType.ARP & 0xff;
  // RFC 826: hrd, pro, hln, pln, op, sha, spa, tha, tpa.
  const arp = at + ETHERNET_HEADER_LENGTH;
  bytes[arp] = 0;
  bytes[arp + 1] = ArpHardwareType.ETHERNET;
  bytes[arp + 2] = EtherType.IP4 >>> 8;
  bytes[arp + 3] = EtherType.IP4 & 0xff;
  bytes[arp + 4] = 6;
  bytes[arp + 5] = 4;
  bytes[arp + 6] = 0;
  bytes[arp + 7] = ArpOp.REQUEST;
  for (let i = 0; i < 6; i++) {
    bytes[arp + 8 + i] = mac[macAt + i];
    bytes[arp + 18 + i] = 0;
  }
  writeU32(bytes, arp + 14, source);
  writeU32(bytes, arp + 24, target);
  pool.length[bi] = ARP_REQUEST_FRAME_LENGTH;
  pool.txInterface[bi] = swIfIndex;
  pool.rxInterface[bi] = 0;
  pool.l2Offset[bi] = at;
  pool.l3Offset[bi] = arp;
  return bi;
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** Scratch for requests that do not fit behind the frame's packets (one per engine). */
const overflow = new WeakMap<Engine, Uint32Array>();

/**
 * The process function of ip4-arp (`glean` false) or ip4-glean (`glean` true). Each data
 * packet goes to drop under its reason; the requests made are appended to the frame with
 * next `output` (or, if the frame is full, queued to interface-output as a frame of their own).
 */
export function arpRequestProcess(glean: boolean): ProcessFunction {
  const expectedKind = glean ? AdjacencyKind.GLEAN : AdjacencyKind.INCOMPLETE;
  return (ctx, buffers, n, nexts) => {
    if (n === 0) return 0;
    const vm = ctx.engine;
    const vnet = vm.vnet;
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const adjs = vnet.adjacencies;
    const throttle = arpThrottleOf(vm);
    throttle.reseed(vm.nowNs());
    let extra = overflow.get(vm);
    if (extra === undefined) overflow.set(vm, (extra = new Uint32Array(FRAME_SIZE)));
    let made = 0;
    let sent = 0;
    const errorBase = ctx.errorBase;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const adj = pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY];
      const kind = adj < adjs.count ? adjs.kind[adj] : -1;
      const sw = adjs.swIfIndex[adj];
      let k: number;
      if (kind === AdjacencyKind.REWRITE) {
        // Resolved since ip4-lookup chose it: VPP drops this one and forwards the next.
        k = ERROR.resolved;
      } else if (kind !== expectedKind || sw >= vnet.interfaces.count) {
        k = ERROR.nonArpAdjacency;
      } else {
        let target: number;
        if (glean) {
          const cur = pool.current[bi];
          target = pool.length[bi] >= 20 && cur + 20 <= bytes.length
            ? ((bytes[cur + 16] << 24) | (bytes[cur + 17] << 16) | (bytes[cur + 18] << 8) | bytes[cur + 19]) >>> 0
            : 0;
        } else {
          target = adjs.nextHop[adj];
        }
        if (throttle.check(sw, target)) {
          k = ERROR.throttled;
        } else {
          const source = vnet.sourceAddressFor(sw, target);
          if (source < 0) {
            k = ERROR.noSourceAddress;
          } else {
            const request = buildArpRequest(vnet, pool, sw, source, target);
            if (request === NONE) {
              k = ERROR.noBuffers;
            } else {
              k = ERROR.sent;
              extra[made++] = request;
              sent++;
            }
          }
        }
      }
      if (k !== ERROR.sent) ctx.errors[k]++;
      pool.error[bi] = errorBase + k;
      nexts[i] = NEXT.drop;
    }
    ctx.errors[ERROR.sent] += sent;
    if (made === 0) {
      ctx.toSingleNext(NEXT.drop);
      return n;
    }
    if (n + made <= FRAME_SIZE) {
      for (let j = 0; j < made; j++) {
        buffers[n + j] = extra[j];
        nexts[n + j] = NEXT.output;
      }
      return n + made;
    }
    vm.enqueue(ARP_REQUEST_NEXTS.output, extra, made);
    return n;
  };
}
