// Interfaces (VPP's vnet_hw_interface / vnet_sw_interface, one per device here): each has a
// sw_if_index, a name, a device class, a MAC, admin state, L3 MTU, its IPv4 table and
// addresses, and counters. Everything the data path reads per packet lives in typed
// arrays indexed by sw_if_index, so a node hoists the array once per frame.
//
// Creating an interface adds two graph nodes named after it, as VPP does: `<name>-output`
// (counts, pcap tx, the interface-output feature arc) and `<name>-tx` (the device's
// transmit function). sw_if_index 0 is `local0`, always down, as in VPP.

import type { Engine } from '../vlib/engine.ts';
import type { ProcessFunction } from '../vlib/node.ts';
import { formatMac } from '../wire/address.ts';

/** The most interfaces one engine holds (typed arrays are sized once). */
export const MAX_INTERFACES = 4096;

/** Counters per interface, with the names `show interface` prints (VPP's). */
export const InterfaceCounter = {
  RX_PACKETS: 0,
  RX_BYTES: 1,
  TX_PACKETS: 2,
  TX_BYTES: 3,
  DROPS: 4,
  IP4: 5,
  TX_ERROR: 6,
  PUNT: 7,
} as const;
export const INTERFACE_COUNTER_NAMES = ['rx packets', 'rx bytes', 'tx packets', 'tx bytes', 'drops', 'ip4', 'tx-error', 'punt'] as const;
const COUNTERS = INTERFACE_COUNTER_NAMES.length;

/** What a kind of device supplies: its transmit function and what `show hardware` adds. */
export interface DeviceClass {
  /** VPP's device class name: pg, loopback, tap, … */
  readonly name: string;
  /**
   * The `<if>-tx` node's process function: sends (or frees) every buffer of the frame.
   * `ctx.interfaceIndex` is the interface. Returns 0 (a sink).
   */
  readonly tx: ProcessFunction;
  /** Extra lines for `show hardware-interfaces` (indented by the caller). */
  readonly formatHardware?: (swIfIndex: number) => string[];
  /** Called when the admin state changes (a device may start or stop polling). */
  readonly adminStateChanged?: (swIfIndex: number, up: boolean) => void;
  /** Called when the interface is deleted, before its index is retired. */
  readonly deleted?: (swIfIndex: number) => void;
  /**
   * The device computes (or does not need) TCP/UDP checksums a buffer marks as offloaded:
   * `<if>-output` leaves them unfinished (VPP's VNET_HW_IF_CAP_TX_*_CKSUM).
   */
  readonly txChecksumOffload?: boolean;
}

export interface Ip4InterfaceAddress {
  readonly address: number;
  readonly length: number;
}

export class InterfaceError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EINVAL') {
    super(message);
    this.code = code;
  }
}

export class Interfaces {
  readonly names: string[] = [];
  readonly devices: (DeviceClass | undefined)[] = [];
  /** 6 bytes per interface: its MAC address at swIfIndex * 6. */
  readonly mac = new Uint8Array(MAX_INTERFACES * 6);
  /** 1 when admin up. */
  readonly adminUp = new Uint8Array(MAX_INTERFACES);
  /**
   * The IPv4 MTU in effect, in bytes (packets larger than this are not sent: ip4-rewrite
   * counts them): the L3 MTU, or the ip4 MTU when one is set below it (VPP).
   */
  readonly mtu = new Uint32Array(MAX_INTERFACES);
  /** The L3 (packet) MTU as set (`set interface mtu [packet] <n>`). */
  readonly l3Mtu = new Uint32Array(MAX_INTERFACES);
  /** The IPv4 MTU as set (`set interface mtu ip4 <n>`); 0: the L3 MTU applies. */
  readonly ip4Mtu = new Uint32Array(MAX_INTERFACES);
  /** IPv4 FIB index (not the table id) of each interface. */
  readonly fibIndex = new Uint32Array(MAX_INTERFACES);
  /** 1 when the interface exists (deleted ones keep their index, unused). */
  readonly exists = new Uint8Array(MAX_INTERFACES);
  /** Counters: counters[swIfIndex * COUNTERS + InterfaceCounter.X]. */
  readonly counters = new Float64Array(MAX_INTERFACES * COUNTERS);
  readonly ip4Addresses: Ip4InterfaceAddress[][] = [];
  /** Node index of `<name>-output` per interface (-1 for local0). */
  readonly outputNode: number[] = [];
  private readonly byName = new Map<string, number>();

  constructor(private readonly vm: Engine) {
    this.names.push('local0');
    this.devices.push(undefined);
    this.ip4Addresses.push([]);
    this.outputNode.push(-1);
    this.exists[0] = 1;
    this.byName.set('local0', 0);
  }

  /** Number of sw_if_index values in use (including deleted ones). */
  get count(): number {
    return this.names.length;
  }

  static readonly countersPerInterface = COUNTERS;

  /** Adds an interface of a device class and its `<name>-output` and `<name>-tx` nodes. */
  create(name: string, device: DeviceClass, mac: Uint8Array, mtu = 9000): number {
    if (this.byName.has(name)) throw new InterfaceError(`interface '${name}' already exists`, 'EEXIST');
    const sw = this.names.length;
    if (sw >= MAX_INTERFACES) throw new InterfaceError(`too many interfaces (at most ${MAX_INTERFACES})`, 'ENOSPC');
    // A deleted interface's nodes stay (frames in flight drain to them); an interface made
    // again under its name and device class takes them over.
    const oldTx = this.vm.node(`${name}-tx`);
    const oldOutput = this.vm.node(`${name}-output`);
    if ((oldTx !== undefined || oldOutput !== undefined) && (oldTx?.definition.process !== device.tx || oldOutput === undefined)) {
      throw new InterfaceError(`graph nodes for '${name}' already exist for another device`, 'EEXIST');
    }
    this.names.push(name);
    this.devices.push(device);
    this.ip4Addresses.push([]);
    this.byName.set(name, sw);
    this.mac.set(mac.subarray(0, 6), sw * 6);
    this.mtu[sw] = mtu;
    this.l3Mtu[sw] = mtu;
    this.ip4Mtu[sw] = 0;
    this.fibIndex[sw] = 0;
    this.exists[sw] = 1;
    this.adminUp[sw] = 0;
    const tx = oldTx ?? this.vm.registerNode({
      name: `${name}-tx`,
      type: 'internal',
      traceBeforeProcess: true,
      trace: (ctx, bi) => this.vm.vnet.formatPacket(ctx.pool, bi, ctx.pool.current[bi]),
      process: device.tx,
    });
    tx.interfaceIndex = sw;
    const output = oldOutput ?? this.vm.registerNode({ ...this.vm.vnet.interfaceOutputTemplate, name: `${name}-output` });
    output.interfaceIndex = sw;
    this.vm.addNext(output.name, tx.name);
    this.outputNode.push(output.index);
    return sw;
  }

  /** sw_if_index by name, or -1. */
  find(name: string): number {
    return this.byName.get(name) ?? -1;
  }

  /** sw_if_index by name; throws naming the token when there is no such interface. */
  expect(name: string): number {
    const sw = this.byName.get(name);
    if (sw === undefined || this.exists[sw] === 0) throw new InterfaceError(`unknown interface '${name}'`, 'ENODEV');
    return sw;
  }

  macText(sw: number): string {
    return formatMac(this.mac, sw * 6);
  }

  counter(sw: number, counter: number): number {
    return this.counters[sw * COUNTERS + counter];
  }

  /** Marks an interface gone: its nodes stay (frames in flight drain to them) but it takes no traffic. */
  retire(sw: number): void {
    this.devices[sw]?.deleted?.(sw);
    this.exists[sw] = 0;
    this.adminUp[sw] = 0;
    this.byName.delete(this.names[sw]);
  }

  /** Names of existing interfaces, sorted as `show interface` lists them. */
  sortedIndices(): number[] {
    const out: number[] = [];
    for (let sw = 0; sw < this.names.length; sw++) if (this.exists[sw] === 1) out.push(sw);
    return out.sort((a, b) => this.names[a].localeCompare(this.names[b]));
  }
}
