// Host interfaces (VPP's af_packet plugin, `create host-interface name <ifname>` → interface
// `host-<ifname>`): an AF_PACKET raw socket bound to an existing Linux interface of this
// network namespace, receiving every frame the interface receives (PACKET_IGNORE_OUTGOING
// keeps out what the kernel itself sends there) and sending frames out of it. As VPP does,
// the vecnet interface takes the Linux interface's MAC unless `hw-addr` is given; the Linux
// interface is brought up and put in promiscuous mode so frames to either MAC arrive.
// Frames are read by `af-packet-input` (see kernel-queues.ts).

import type { Engine } from '../../vlib/engine.ts';
import { formatMac } from '../../wire/address.ts';
import { InterfaceError, type DeviceClass } from '../interface.ts';
import { kernelTx, type KernelQueues } from './kernel-queues.ts';
import { Linux, LinuxError, hostMac, ipCommand, isRoot, linux } from './linux.ts';
import { randomMac, retireInterface } from './tap.ts';

interface HostInterface {
  readonly sw: number;
  readonly hostIfName: string;
  readonly ifIndex: number;
}

export class HostInterfaces {
  readonly byIndex = new Map<number, HostInterface>();
  readonly deviceClass: DeviceClass;

  constructor(private readonly vm: Engine, readonly queues: KernelQueues) {
    this.deviceClass = {
      name: 'af-packet',
      tx: kernelTx(queues),
      formatHardware: (sw) => this.formatHardware(sw),
      deleted: (sw) => this.closeSocket(sw),
    };
  }

  create(hostIfName: string, hwAddr?: Uint8Array): number {
    if (!isRoot()) throw new LinuxError('create host-interface: needs root (CAP_NET_RAW) for an AF_PACKET socket', 'EPERM');
    const name = `host-${hostIfName}`;
    const interfaces = this.vm.vnet.interfaces;
    if (interfaces.find(name) >= 0) throw new InterfaceError(`${name} already exists`, 'EEXIST');
    if (this.vm.node(`${name}-tx`) !== undefined) {
      throw new InterfaceError(`${name} existed before and its name cannot be reused yet`, 'EEXIST');
    }
    const lib = linux();
    const ifIndex = lib.ifNameToIndex(hostIfName);
    if (ifIndex === 0) throw new InterfaceError(`host interface '${hostIfName}' does not exist`, 'ENODEV');
    const mac = hwAddr ?? hostMac(hostIfName) ?? randomMac();
    const protocol = ((Linux.ETH_P_ALL & 0xff) << 8) | (Linux.ETH_P_ALL >>> 8); // htons
    const fd = lib.socket(Linux.AF_PACKET, Linux.SOCK_RAW | Linux.SOCK_NONBLOCK | Linux.SOCK_CLOEXEC, protocol);
    if (fd < 0) throw new LinuxError(`socket(AF_PACKET): ${lib.strerror(lib.errno())}`);
    const fail = (what: string): never => {
      const message = lib.strerror(lib.errno());
      lib.close(fd);
      throw new LinuxError(`${what} ${hostIfName}: ${message}`);
    };
    const one = new Int32Array([1]);
    if (lib.setsockopt(fd, Linux.SOL_PACKET, Linux.PACKET_IGNORE_OUTGOING, one, 4) < 0) fail('PACKET_IGNORE_OUTGOING');
    const buffer = new Int32Array([4 << 20]);
    lib.setsockopt(fd, Linux.SOL_SOCKET, Linux.SO_RCVBUF, buffer, 4);
    // struct sockaddr_ll { u16 family; be16 protocol; int ifindex; u16 hatype; u8 pkttype; u8 halen; u8 addr[8]; }
    const address = new Uint8Array(20);
    const view = new DataView(address.buffer);
    view.setUint16(0, Linux.AF_PACKET, true);
    view.setUint16(2, Linux.ETH_P_ALL, false);
    view.setInt32(4, ifIndex, true);
    // Up before bind: binding to a down interface leaves ENETDOWN pending on the socket
    // (net/packet/af_packet.c, packet_do_bind), which the first read would report as a
    // read error.
    try {
      ipCommand(['link', 'set', 'dev', hostIfName, 'up', 'promisc', 'on']);
    } catch (error) {
      lib.close(fd);
      throw error;
    }
    if (lib.bind(fd, address, 20) < 0) fail('bind');
    const sw = interfaces.create(name, this.deviceClass, mac, 1500);
    this.byIndex.set(sw, { sw, hostIfName, ifIndex });
    this.queues.open(sw, fd);
    return sw;
  }

  /** `delete host-interface name <ifname>`. */
  delete(hostIfName: string): void {
    const sw = this.vm.vnet.interfaces.find(`host-${hostIfName}`);
    if (sw < 0 || !this.byIndex.has(sw)) throw new InterfaceError(`no host-interface on '${hostIfName}'`, 'ENOENT');
    retireInterface(this.vm, sw);
  }

  private closeSocket(sw: number): void {
    const host = this.byIndex.get(sw);
    this.queues.close(sw);
    this.byIndex.delete(sw);
    if (host !== undefined) {
      try {
        ipCommand(['link', 'set', 'dev', host.hostIfName, 'promisc', 'off']);
      } catch {
        // The Linux interface may be gone already.
      }
    }
  }

  formatHardware(sw: number): string[] {
    const host = this.byIndex.get(sw);
    if (host === undefined) return [];
    return [
      `Linux PACKET socket interface`,
      `  host-if-name ${host.hostIfName} ifindex ${host.ifIndex} hw-addr ${formatMac(this.vm.vnet.interfaces.mac, sw * 6)}`,
      ...this.queues.formatQueue(sw).map((l) => `  ${l}`),
    ];
  }
}
