// The vnet layer's state for one engine (VPP's vnet_main): interfaces, adjacencies,
// load-balances, the IPv4 FIB with its tables, the neighbor (ARP) table, and the
// actions the CLI and the API share to change them. Nodes reach it as
// `ctx.engine.vnet`. This module knows no node: the composition root (src/index.ts)
// registers the nodes and sets the per-interface output node's definition.

import { Engine } from '../vlib/engine.ts';
import type { BufferPool } from '../vlib/buffer-pool.ts';
import type { NodeDefinition } from '../vlib/node.ts';
import { Adjacencies } from './fib/adjacency.ts';
import { LoadBalances } from './fib/load-balance.ts';
import { Ip4Fib } from './fib/ip4-fib.ts';
import { Ip4Neighbors } from './ip4-neighbor.ts';
import { Interfaces, InterfaceCounter, InterfaceError } from './interface.ts';
import { formatPacket } from './format-packet.ts';
import { PacketGenerator } from './devices/pg.ts';
import { Loopbacks } from './devices/loopback.ts';
import { PcapTrace } from './pcap-trace.ts';
import { UdpLocalPorts } from './udp-local.ts';
import { registerInterfaceCommands } from './cli/interface-commands.ts';
import { registerPgCommands } from './cli/pg-commands.ts';
import { registerPcapCommands } from './cli/pcap-commands.ts';
import { registerFibCommands } from './cli/fib-commands.ts';
import { Devices } from './devices/devices.ts';
import { VxlanTunnels } from './vxlan-tunnels.ts';
import { registerDeviceCommands } from './cli/device-commands.ts';
import { registerVxlanCommands } from './cli/vxlan-commands.ts';
import { formatIp4 } from '../wire/address.ts';

declare module '../vlib/engine.ts' {
  interface Engine {
    /** The vnet layer, once `attachVnet` ran. */
    vnet: Vnet;
  }
}

export class Vnet {
  readonly interfaces: Interfaces;
  readonly adjacencies = new Adjacencies();
  readonly loadBalances = new LoadBalances();
  readonly fib: Ip4Fib;
  readonly neighbors: Ip4Neighbors;
  /** Packet generator streams and pg interfaces. */
  readonly pg: PacketGenerator;
  /** Loopback interfaces (`loop<N>`). */
  readonly loopbacks: Loopbacks;
  /**
   * ethernet-input's next index per EtherType beyond IP4 and ARP (which it knows itself);
   * 0 (its drop next) for a type nobody handles. Set through `registerEthernetType`.
   */
  readonly ethernetTypeNext = new Uint16Array(65536);
  /** `pcap trace rx tx drop …` capture state. */
  readonly pcapTrace: PcapTrace;
  /** UDP destination ports handled locally (ip4-udp-lookup): port → node. */
  readonly udpLocal: UdpLocalPorts;
  /** tap, host-interface, socket and veth-pair devices (issue 5). */
  readonly devices: Devices;
  /** VXLAN tunnels (vxlan4-input / vxlan4-encap state). */
  readonly vxlan: VxlanTunnels;
  /** Definition of every `<if>-output` node (set by the composition root before interfaces are made). */
  interfaceOutputTemplate: NodeDefinition = {
    name: 'interface-output-template',
    process: () => {
      throw new InterfaceError('no interface output node registered');
    },
  };

  constructor(readonly vm: Engine) {
    vm.vnet = this;
    this.interfaces = new Interfaces(vm);
    this.fib = new Ip4Fib(this);
    this.neighbors = new Ip4Neighbors(this);
    this.pg = new PacketGenerator(this);
    this.loopbacks = new Loopbacks(this);
    this.pcapTrace = new PcapTrace(this);
    this.udpLocal = new UdpLocalPorts(this);
    this.devices = new Devices(vm);
    this.vxlan = new VxlanTunnels(vm);
    registerInterfaceCommands(vm.commands);
    registerPgCommands(vm.commands);
    registerPcapCommands(vm.commands);
    registerFibCommands(vm.commands);
    registerDeviceCommands(vm.commands);
    registerVxlanCommands(vm.commands);
    // VPP counts every dropped packet against the interface it came in on (`drops`).
    const countersPerInterface = Interfaces.countersPerInterface;
    vm.dropHooks.push((buffers, n) => {
      const ifs = this.interfaces;
      const rx = vm.pool.rxInterface;
      const count = ifs.count;
      for (let i = 0; i < n; i++) {
        const sw = rx[buffers[i]];
        if (sw < count) ifs.counters[sw * countersPerInterface + InterfaceCounter.DROPS]++;
      }
    });
  }

  /** Hands frames of an EtherType to a node (plugins: LLDP, MPLS, …). IP4 and ARP are built into ethernet-input. */
  registerEthernetType(type: number, nodeName: string): void {
    if (!Number.isInteger(type) || type < 0x600 || type > 0xffff) throw new InterfaceError(`bad EtherType ${type} (expected 0x0600..0xffff)`);
    this.ethernetTypeNext[type] = this.vm.addNext('ethernet-input', nodeName);
  }

  /** Trace text for an Ethernet frame at `offset` (ethernet, then IPv4 and L4 if present). */
  formatPacket(pool: BufferPool, bi: number, offset: number): string {
    return formatPacket(pool.bytes, offset, pool.current[bi] + pool.length[bi] - offset);
  }

  // ------------------------------------------------------------ interface actions (CLI and API)

  setAdminState(sw: number, up: boolean): void {
    const ifs = this.interfaces;
    if (sw === 0) throw new InterfaceError('local0 cannot be brought up');
    if ((ifs.adminUp[sw] === 1) === up) return;
    ifs.adminUp[sw] = up ? 1 : 0;
    ifs.devices[sw]?.adminStateChanged?.(sw, up);
    this.vm.wake();
  }

  setMac(sw: number, mac: Uint8Array): void {
    this.interfaces.mac.set(mac.subarray(0, 6), sw * 6);
    this.neighbors.interfaceMacChanged(sw);
  }

  /** `set interface mtu [packet|ip4] <n>`: the L3 MTU (default) or the IPv4 one; ip4-rewrite uses the smaller. */
  setMtu(sw: number, mtu: number, kind: 'packet' | 'ip4' = 'packet'): void {
    if (!Number.isInteger(mtu) || mtu < 64 || mtu > 65535) throw new InterfaceError(`bad mtu ${mtu} (expected 64..65535)`);
    const ifs = this.interfaces;
    if (kind === 'ip4') ifs.ip4Mtu[sw] = mtu;
    else ifs.l3Mtu[sw] = mtu;
    const ip4 = ifs.ip4Mtu[sw];
    ifs.mtu[sw] = ip4 !== 0 && ip4 < ifs.l3Mtu[sw] ? ip4 : ifs.l3Mtu[sw];
  }

  /** Binds an interface to an IPv4 table; as VPP, only while it has no IPv4 address. */
  setIp4Table(sw: number, tableId: number): void {
    const fibIndex = this.fib.fibIndexOf(tableId);
    if (fibIndex < 0) throw new InterfaceError(`table ${tableId} does not exist (create it with 'ip table add ${tableId}')`, 'ENOENT');
    if (this.interfaces.ip4Addresses[sw].length > 0) {
      throw new InterfaceError(`interface ${this.interfaces.names[sw]} has IPv4 addresses: remove them before changing its table`, 'EBUSY');
    }
    this.interfaces.fibIndex[sw] = fibIndex;
  }

  addIp4Address(sw: number, address: number, length: number): void {
    const list = this.interfaces.ip4Addresses[sw];
    if (list.some((a) => a.address === address && a.length === length)) return;
    // As VPP: a subnet may not overlap one configured on another interface of the same table.
    const ifs = this.interfaces;
    for (let other = 1; other < ifs.count; other++) {
      if (other === sw || ifs.exists[other] === 0 || ifs.fibIndex[other] !== ifs.fibIndex[sw]) continue;
      for (const a of ifs.ip4Addresses[other]) {
        const m = Math.min(a.length, length);
        const mask = m === 0 ? 0 : (0xffffffff << (32 - m)) >>> 0;
        if (((a.address ^ address) & mask) === 0) {
          throw new InterfaceError(`address ${formatIp4(address)}/${length} overlaps ${formatIp4(a.address)}/${a.length} on ${ifs.names[other]}`, 'EEXIST');
        }
      }
    }
    list.push({ address, length });
    this.fib.interfaceAddressAdded(sw, address, length);
  }

  deleteIp4Address(sw: number, address: number, length: number): void {
    const list = this.interfaces.ip4Addresses[sw];
    const i = list.findIndex((a) => a.address === address && a.length === length);
    if (i < 0) throw new InterfaceError(`${formatIp4(address)}/${length} is not an address of ${this.interfaces.names[sw]}`, 'ENOENT');
    list.splice(i, 1);
    this.fib.interfaceAddressDeleted(sw, address, length);
    this.neighbors.interfaceAddressDeleted(sw);
  }

  /** The interface's first IPv4 address on the subnet of `target` (the ARP sender address), or -1. */
  sourceAddressFor(sw: number, target: number): number {
    for (const a of this.interfaces.ip4Addresses[sw]) {
      const mask = a.length === 0 ? 0 : (0xffffffff << (32 - a.length)) >>> 0;
      if (((a.address ^ target) & mask) === 0) return a.address;
    }
    const first = this.interfaces.ip4Addresses[sw][0];
    return first === undefined ? -1 : first.address;
  }
}

/** Creates the vnet layer on an engine. */
export function attachVnet(vm: Engine): Vnet {
  return new Vnet(vm);
}
