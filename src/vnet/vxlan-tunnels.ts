// VXLAN tunnels (VPP's vnet/vxlan, RFC 7348) over IPv4: `create vxlan tunnel src <ip> dst
// <ip> vni <n> [encap-vrf-id <id>] [instance <n>] [del]` makes `vxlan_tunnel<n>`, an
// Ethernet interface like any other: give it an address and a table and its inner traffic
// is routed in that VRF, one tenant per VNI per VRF.
//
// Receive: ip4-udp-lookup hands UDP port 4789 to vxlan4-input, which finds the tunnel by
// (outer destination = tunnel src, outer source = tunnel dst, VNI, fib index of the outer
// packet's rx interface = the encap VRF), as VPP's vxlan4 decap key does, in an
// open-addressing table of typed arrays (no strings, no objects per packet).
// Send: `vxlan_tunnel<n>-output` → `-tx` → vxlan4-encap, which prepends a copy of the
// tunnel's 36-byte header template (outer IPv4, UDP, VXLAN), fills the lengths, the IPv4
// checksum (from the template's precomputed sum) and the UDP source port, and sends the
// packet to ip4-lookup in the encap VRF as a locally originated packet.

import { randomBytes } from 'node:crypto';
import type { Engine } from '../vlib/engine.ts';
import { formatIp4 } from '../wire/address.ts';
import { checksumSum } from '../wire/checksum.ts';
import { VXLAN_UDP_PORT, emitVxlanHeader } from '../wire/vxlan.ts';
import { MAX_INTERFACES, type DeviceClass } from './interface.ts';

/** Outer IPv4 (20) + UDP (8) + VXLAN (8): the bytes vxlan4-encap prepends. */
export const VXLAN4_ENCAP_LENGTH = 36;
/** VPP sends VXLAN with outer TTL 254. */
export const VXLAN_OUTER_TTL = 254;
export const MAX_TUNNELS = 4096;
const TABLE_SIZE = MAX_TUNNELS * 2;

export interface VxlanTunnelOptions {
  readonly src: number;
  readonly dst: number;
  readonly vni: number;
  /** Table id of the underlay (default 0). */
  readonly encapVrfId?: number;
  /** The n of vxlan_tunnel<n> (default: the lowest free one). */
  readonly instance?: number;
}

export class VxlanError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EINVAL') {
    super(message);
    this.code = code;
  }
}

/** Mixes the four key words (MurmurHash3 finalizer steps); the table is a power of two. */
function keyHash(local: number, remote: number, vni: number, fib: number): number {
  let h = Math.imul(local ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(remote, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x27d4eb2f);
  h ^= Math.imul(vni + (fib << 24), 0x165667b1);
  h ^= h >>> 16;
  return h >>> 0;
}

export class VxlanTunnels {
  /** Per tunnel index. */
  readonly src = new Uint32Array(MAX_TUNNELS);
  readonly dst = new Uint32Array(MAX_TUNNELS);
  readonly vni = new Uint32Array(MAX_TUNNELS);
  readonly encapFibIndex = new Uint32Array(MAX_TUNNELS);
  readonly swIfIndex = new Uint32Array(MAX_TUNNELS);
  readonly instance = new Int32Array(MAX_TUNNELS).fill(-1);
  /** 36 template bytes per tunnel at t * 36. */
  readonly header = new Uint8Array(MAX_TUNNELS * VXLAN4_ENCAP_LENGTH);
  /** The same template as nine big-endian 32-bit words per tunnel at t * 9 (what vxlan4-encap writes). */
  readonly headerWords = new Uint32Array(MAX_TUNNELS * (VXLAN4_ENCAP_LENGTH >>> 2));
  /** One's-complement sum (folded, not inverted) of the template IPv4 header with total length 0. */
  readonly headerSum = new Uint32Array(MAX_TUNNELS);
  /** Tunnel index of each sw_if_index, -1 for other interfaces. */
  readonly tunnelOfSw = new Int32Array(MAX_INTERFACES).fill(-1);
  /** Decap table: 4 key words per slot (local, remote, vni, fib) and the tunnel index (-1 empty). */
  private readonly keys = new Uint32Array(TABLE_SIZE * 4);
  private readonly values = new Int32Array(TABLE_SIZE).fill(-1);
  /**
   * Local tunnel endpoints (VPP's vtep4 table): (address, fib index) → how many tunnels have
   * it as their src, for ip4-vxlan-bypass. Open addressing, 2 key words per slot, count 0 = empty;
   * rebuilt with the decap table when a tunnel goes.
   */
  private readonly endpointKeys = new Uint32Array(TABLE_SIZE * 2);
  private readonly endpointCounts = new Int32Array(TABLE_SIZE);
  private tunnelCount = 0;
  readonly deviceClass: DeviceClass;
  private portRegistered = false;

  constructor(private readonly vm: Engine) {
    this.deviceClass = {
      name: 'vxlan',
      // `vxlan_tunnel<n>-tx` hands the whole frame to vxlan4-encap (next 0, added at create).
      tx: (ctx, _buffers, n) => {
        ctx.toSingleNext(0);
        return n;
      },
      formatHardware: (sw) => {
        const t = this.tunnelOfSw[sw];
        return t < 0 ? [] : ['VXLAN', `  ${this.format(t)}`];
      },
    };
  }

  /** Tunnels in existence. */
  get count(): number {
    return this.tunnelCount;
  }

  /** Data path: the tunnel for a received packet, or -1. */
  lookup(local: number, remote: number, vni: number, fib: number): number {
    const keys = this.keys;
    const values = this.values;
    let slot = keyHash(local, remote, vni, fib) & (TABLE_SIZE - 1);
    for (;;) {
      const t = values[slot];
      if (t < 0) return -1;
      const k = slot << 2;
      if (keys[k] === local && keys[k + 1] === remote && keys[k + 2] === vni && keys[k + 3] === fib) return t;
      slot = (slot + 1) & (TABLE_SIZE - 1);
    }
  }

  /**
   * Data path: true when `address` (host order, unsigned) is the src of some tunnel whose
   * encap fib is `fib` — a local VTEP (VPP: vtep4_check).
   */
  isLocalEndpoint(address: number, fib: number): boolean {
    const keys = this.endpointKeys;
    const counts = this.endpointCounts;
    let slot = keyHash(address, fib, 0, 0) & (TABLE_SIZE - 1);
    for (;;) {
      if (counts[slot] === 0) return false;
      const k = slot << 1;
      if (keys[k] === address && keys[k + 1] === fib) return true;
      slot = (slot + 1) & (TABLE_SIZE - 1);
    }
  }

  private find(src: number, dst: number, vni: number, fib: number): number {
    return this.lookup(src >>> 0, dst >>> 0, vni >>> 0, fib >>> 0);
  }

  /** Creates a tunnel and its interface (admin up, as VPP); returns the sw_if_index. */
  create(options: VxlanTunnelOptions): number {
    const { src, dst, vni } = options;
    if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffff) throw new VxlanError(`vni ${vni} out of range (0..16777215)`);
    if (src === dst) throw new VxlanError('src and dst addresses are identical');
    const tableId = options.encapVrfId ?? 0;
    const fib = this.vm.vnet.fib.fibIndexOf(tableId);
    if (fib < 0) throw new VxlanError(`nonexistent encap-vrf-id ${tableId}`, 'ENOENT');
    if (this.find(src, dst, vni, fib) >= 0) throw new VxlanError('tunnel already exists', 'EEXIST');
    let t = 0;
    while (t < MAX_TUNNELS && this.instance[t] >= 0) t++;
    if (t === MAX_TUNNELS) throw new VxlanError(`too many vxlan tunnels (at most ${MAX_TUNNELS})`, 'ENOSPC');
    const interfaces = this.vm.vnet.interfaces;
    let instance = options.instance;
    if (instance === undefined) {
      instance = 0;
      while (interfaces.find(`vxlan_tunnel${instance}`) >= 0 || this.vm.node(`vxlan_tunnel${instance}-tx`) !== undefined) instance++;
    } else if (interfaces.find(`vxlan_tunnel${instance}`) >= 0) {
      throw new VxlanError(`instance ${instance} already in use`, 'EEXIST');
    } else if (this.vm.node(`vxlan_tunnel${instance}-tx`) !== undefined) {
      throw new VxlanError(`instance ${instance} was used before and its name cannot be reused yet`, 'EEXIST');
    }
    const name = `vxlan_tunnel${instance}`;
    const mac = new Uint8Array(6);
    mac[0] = 0x02;
    mac[1] = 0xfe;
    mac.set(randomBytes(4), 2);
    const sw = interfaces.create(name, this.deviceClass, mac, 9000);
    this.vm.addNext(`${name}-tx`, 'vxlan4-encap');
    this.src[t] = src;
    this.dst[t] = dst;
    this.vni[t] = vni;
    this.encapFibIndex[t] = fib;
    this.swIfIndex[t] = sw;
    this.instance[t] = instance;
    this.tunnelOfSw[sw] = t;
    this.writeTemplate(t);
    this.insert(t);
    this.tunnelCount++;
    if (!this.portRegistered) {
      this.vm.vnet.udpLocal.register(VXLAN_UDP_PORT, 'vxlan4-input');
      this.portRegistered = true;
    }
    this.vm.vnet.setAdminState(sw, true);
    return sw;
  }

  /** `create vxlan tunnel … del`: the tunnel with this key, or ENOENT. Returns its former sw_if_index. */
  delete(options: VxlanTunnelOptions): number {
    const fib = this.vm.vnet.fib.fibIndexOf(options.encapVrfId ?? 0);
    const t = fib < 0 ? -1 : this.find(options.src, options.dst, options.vni, fib);
    if (t < 0) throw new VxlanError('tunnel does not exist', 'ENOENT');
    const sw = this.swIfIndex[t];
    const vnet = this.vm.vnet;
    for (const a of [...vnet.interfaces.ip4Addresses[sw]]) vnet.deleteIp4Address(sw, a.address, a.length);
    if (vnet.interfaces.adminUp[sw] === 1) vnet.setAdminState(sw, false);
    vnet.interfaces.retire(sw);
    this.tunnelOfSw[sw] = -1;
    this.instance[t] = -1;
    this.tunnelCount--;
    this.rebuild();
    return sw;
  }

  /** Tunnel indices in use, by instance. */
  indices(): number[] {
    const out: number[] = [];
    for (let t = 0; t < MAX_TUNNELS; t++) if (this.instance[t] >= 0) out.push(t);
    return out.sort((a, b) => this.instance[a] - this.instance[b]);
  }

  /** VPP's format_vxlan_tunnel. */
  format(t: number): string {
    return (
      `[${t}] instance ${this.instance[t]} src ${formatIp4(this.src[t])} dst ${formatIp4(this.dst[t])} ` +
      `src_port ${VXLAN_UDP_PORT} dst_port ${VXLAN_UDP_PORT} vni ${this.vni[t]} fib-idx ${this.encapFibIndex[t]} ` +
      `sw-if-idx ${this.swIfIndex[t]} `
    );
  }

  private insert(t: number): void {
    let slot = keyHash(this.src[t], this.dst[t], this.vni[t], this.encapFibIndex[t]) & (TABLE_SIZE - 1);
    while (this.values[slot] >= 0) slot = (slot + 1) & (TABLE_SIZE - 1);
    const k = slot << 2;
    this.keys[k] = this.src[t];
    this.keys[k + 1] = this.dst[t];
    this.keys[k + 2] = this.vni[t];
    this.keys[k + 3] = this.encapFibIndex[t];
    this.values[slot] = t;
    this.insertEndpoint(this.src[t], this.encapFibIndex[t]);
  }

  private insertEndpoint(address: number, fib: number): void {
    const keys = this.endpointKeys;
    const counts = this.endpointCounts;
    let slot = keyHash(address, fib, 0, 0) & (TABLE_SIZE - 1);
    while (counts[slot] !== 0 && !(keys[slot << 1] === address && keys[(slot << 1) + 1] === fib)) slot = (slot + 1) & (TABLE_SIZE - 1);
    keys[slot << 1] = address;
    keys[(slot << 1) + 1] = fib;
    counts[slot]++;
  }

  private rebuild(): void {
    this.values.fill(-1);
    this.endpointCounts.fill(0);
    for (let t = 0; t < MAX_TUNNELS; t++) if (this.instance[t] >= 0) this.insert(t);
  }

  private writeTemplate(t: number): void {
    const h = this.header;
    const o = t * VXLAN4_ENCAP_LENGTH;
    h.fill(0, o, o + VXLAN4_ENCAP_LENGTH);
    h[o] = 0x45;
    h[o + 8] = VXLAN_OUTER_TTL;
    h[o + 9] = 17;
    const src = this.src[t];
    const dst = this.dst[t];
    h[o + 12] = src >>> 24;
    h[o + 13] = src >>> 16;
    h[o + 14] = src >>> 8;
    h[o + 15] = src;
    h[o + 16] = dst >>> 24;
    h[o + 17] = dst >>> 16;
    h[o + 18] = dst >>> 8;
    h[o + 19] = dst;
    h[o + 22] = VXLAN_UDP_PORT >>> 8;
    h[o + 23] = VXLAN_UDP_PORT & 0xff;
    emitVxlanHeader({ vni: this.vni[t] }, h, o + 28);
    const words = VXLAN4_ENCAP_LENGTH >>> 2;
    for (let w = 0; w < words; w++) {
      const b = o + w * 4;
      this.headerWords[t * words + w] = ((h[b] << 24) | (h[b + 1] << 16) | (h[b + 2] << 8) | h[b + 3]) >>> 0;
    }
    let sum = checksumSum(h, o, 20, 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    this.headerSum[t] = sum;
  }
}
