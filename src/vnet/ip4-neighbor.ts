// The IPv4 neighbor table (VPP's ip4-neighbor / ARP cache): (interface, address) → MAC,
// static or learned, with its age. Adding or learning a neighbor makes its adjacency a
// rewrite (so every route through it forwards) and installs the neighbor's /32 in the
// interface's table (VPP's adj-fib). CONTRACT: filled in by the FIB implementation.
//
// The adjacency is the FIB's shared neighbor adjacency for (interface, address): routes via
// that next hop already point at it (incomplete: ip4-arp asks for the MAC), so resolving
// the neighbor is one rewrite update. Its header is [neighbor MAC, interface MAC, 0x0800],
// and its next is ip4-rewrite's arc to `<interface>-output`. The /32 (source 'adjacency')
// goes in only while the address is on a connected subnet of the interface, as VPP's
// adj-fib requires an attached cover; learned entries off such a subnet are ignored and
// counted (`learnIgnored`).

import type { Vnet } from './vnet.ts';
import { ip4Mask } from '../wire/address.ts';

export interface Ip4Neighbor {
  readonly swIfIndex: number;
  readonly address: number;
  readonly mac: Uint8Array;
  readonly isStatic: boolean;
  /** Engine time (ns) it was added or last refreshed. */
  readonly updatedNs: number;
}

interface NeighborRecord {
  swIfIndex: number;
  address: number;
  mac: Uint8Array;
  isStatic: boolean;
  updatedNs: number;
  /** Its /32 is in the interface's table (source 'adjacency'), in table `fibIndex`. */
  adjFib: boolean;
  fibIndex: number;
}

export class NeighborError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EINVAL') {
    super(message);
    this.code = code;
  }
}

const ETHERTYPE_IP4 = 0x0800;

export class Ip4Neighbors {
  private readonly records = new Map<string, NeighborRecord>();
  /** Learned (ARP) entries refused because the address is on no connected subnet of the interface. */
  learnIgnored = 0;

  constructor(readonly vnet: Vnet) {}

  /** Adds or updates a neighbor (`set ip neighbor`); a static entry is not replaced by a learned one. */
  add(swIfIndex: number, address: number, mac: Uint8Array, isStatic: boolean): void {
    const ifs = this.vnet.interfaces;
    if (!Number.isInteger(swIfIndex) || swIfIndex <= 0 || swIfIndex >= ifs.count || ifs.exists[swIfIndex] !== 1) {
      throw new NeighborError(`no interface with sw_if_index ${swIfIndex}`, 'ENODEV');
    }
    if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
      throw new NeighborError(`bad IPv4 address ${address}`);
    }
    if (mac.length < 6) throw new NeighborError(`bad MAC address: ${mac.length} bytes, expected 6`);
    const key = keyOf(swIfIndex, address);
    let record = this.records.get(key);
    if (record !== undefined && record.isStatic && !isStatic) return;
    if (record === undefined) {
      record = { swIfIndex, address: address >>> 0, mac: mac.slice(0, 6), isStatic, updatedNs: 0, adjFib: false, fibIndex: -1 };
      this.records.set(key, record);
    } else {
      record.mac = mac.slice(0, 6);
      record.isStatic = isStatic;
    }
    record.updatedNs = this.vnet.vm.turnTimeNs;
    this.writeRewrite(record);
    this.installAdjFib(record);
  }

  /** Learned from ARP (arp-input): only for addresses on a connected subnet of the interface. */
  learn(swIfIndex: number, address: number, mac: Uint8Array): void {
    if (!this.onConnectedSubnet(swIfIndex, address)) {
      this.learnIgnored++;
      return;
    }
    const record = this.records.get(keyOf(swIfIndex, address));
    if (record !== undefined) {
      if (record.isStatic) return;
      if (sameMac(record.mac, mac)) {
        // A refresh: same MAC, the rewrite stands; only the age restarts.
        record.updatedNs = this.vnet.vm.turnTimeNs;
        return;
      }
    }
    this.add(swIfIndex, address, mac, false);
  }

  delete(swIfIndex: number, address: number): boolean {
    const key = keyOf(swIfIndex, address);
    const record = this.records.get(key);
    if (record === undefined) return false;
    this.records.delete(key);
    const adjs = this.vnet.adjacencies;
    const adj = adjs.findNeighbor(swIfIndex, address >>> 0);
    if (adj >= 0) adjs.setIncomplete(adj);
    this.removeAdjFib(record);
    return true;
  }

  find(swIfIndex: number, address: number): Ip4Neighbor | undefined {
    const record = this.records.get(keyOf(swIfIndex, address));
    return record === undefined ? undefined : snapshot(record);
  }

  all(): Ip4Neighbor[] {
    return [...this.records.values()]
      .sort((a, b) => a.swIfIndex - b.swIfIndex || a.address - b.address)
      .map(snapshot);
  }

  /** The interface's MAC changed: rebuild its rewrites. */
  interfaceMacChanged(swIfIndex: number): void {
    for (const record of this.records.values()) if (record.swIfIndex === swIfIndex) this.writeRewrite(record);
    this.vnet.fib.interfaceMacChanged(swIfIndex);
  }

  /** An address left the interface: drop neighbors no longer on a connected subnet. */
  interfaceAddressDeleted(swIfIndex: number): void {
    for (const record of [...this.records.values()]) {
      if (record.swIfIndex === swIfIndex && !this.onConnectedSubnet(swIfIndex, record.address)) {
        this.delete(swIfIndex, record.address);
      }
    }
  }

  /** An address came on the interface: neighbors now on a connected subnet get their /32. */
  interfaceAddressAdded(swIfIndex: number): void {
    for (const record of this.records.values()) if (record.swIfIndex === swIfIndex) this.installAdjFib(record);
  }

  /** Whether `address` is on a connected subnet (/31 or shorter) of the interface. */
  onConnectedSubnet(swIfIndex: number, address: number): boolean {
    for (const a of this.vnet.interfaces.ip4Addresses[swIfIndex] ?? []) {
      if (a.length < 32 && ((a.address ^ address) & ip4Mask(a.length)) === 0) return true;
    }
    return false;
  }

  /** ip4-rewrite's next towards `<interface>-output`; 0 (its drop) when ip4-rewrite is not in the graph. */
  private rewriteNext(swIfIndex: number): number {
    const vm = this.vnet.vm;
    if (vm.node('ip4-rewrite') === undefined) return 0;
    return vm.addNext('ip4-rewrite', `${this.vnet.interfaces.names[swIfIndex]}-output`);
  }

  private writeRewrite(record: NeighborRecord): void {
    const header = new Uint8Array(14);
    header.set(record.mac, 0);
    header.set(this.vnet.interfaces.mac.subarray(record.swIfIndex * 6, record.swIfIndex * 6 + 6), 6);
    header[12] = ETHERTYPE_IP4 >> 8;
    header[13] = ETHERTYPE_IP4 & 0xff;
    const adjs = this.vnet.adjacencies;
    adjs.setRewrite(adjs.neighbor(record.swIfIndex, record.address), header, this.rewriteNext(record.swIfIndex));
  }

  private installAdjFib(record: NeighborRecord): void {
    const fibIndex = this.vnet.interfaces.fibIndex[record.swIfIndex];
    if (record.adjFib && record.fibIndex === fibIndex) return;
    if (record.adjFib) this.removeAdjFib(record);
    if (!this.onConnectedSubnet(record.swIfIndex, record.address)) return;
    this.vnet.fib.addRoute(fibIndex, record.address, 32, [{ nextHop: record.address, swIfIndex: record.swIfIndex }], 'adjacency');
    record.adjFib = true;
    record.fibIndex = fibIndex;
  }

  private removeAdjFib(record: NeighborRecord): void {
    if (!record.adjFib) return;
    record.adjFib = false;
    const fib = this.vnet.fib;
    if (!fib.hasTable(record.fibIndex)) return;
    const entry = fib.exactEntry(record.fibIndex, record.address, 32);
    if (entry !== undefined && entry.sources.some((s) => s.source === 'adjacency')) {
      fib.deleteRoute(record.fibIndex, record.address, 32, 'adjacency');
    }
  }
}

function keyOf(swIfIndex: number, address: number): string {
  return `${swIfIndex}/${address >>> 0}`;
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

function snapshot(record: NeighborRecord): Ip4Neighbor {
  return {
    swIfIndex: record.swIfIndex,
    address: record.address,
    mac: record.mac.slice(),
    isStatic: record.isStatic,
    updatedNs: record.updatedNs,
  };
}
