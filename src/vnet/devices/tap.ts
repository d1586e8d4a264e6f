// Linux TAP interfaces (VPP's `create tap`, names `tap<n>`): a /dev/net/tun fd in TAP mode
// without packet information, so each read(2) is one Ethernet frame and each write(2)
// sends one to the kernel. The kernel side is a Linux interface (`host-if-name`, default
// `tap<n>`) that vecnet brings up and can move into a network namespace, address and
// re-MAC, as VPP's tap options do (here through iproute2). Closing the fd removes the
// kernel interface. Frames are read by `tap-input` (see kernel-queues.ts).

import { randomBytes } from 'node:crypto';
import type { Engine } from '../../vlib/engine.ts';
import { formatIp4, formatMac, type Ip4Prefix } from '../../wire/address.ts';
import { InterfaceError, type DeviceClass } from '../interface.ts';
import { kernelTx, type KernelQueues } from './kernel-queues.ts';
import { Linux, LinuxError, ipCommand, isRoot, linux } from './linux.ts';

export interface TapOptions {
  id?: number;
  hwAddr?: Uint8Array;
  hostIfName?: string;
  hostNs?: string;
  hostIp4Addr?: Ip4Prefix;
  hostMacAddr?: Uint8Array;
}

interface Tap {
  readonly id: number;
  readonly sw: number;
  readonly hostIfName: string;
  readonly hostNs: string | undefined;
  readonly hostIp4Addr: Ip4Prefix | undefined;
  readonly hostMacAddr: Uint8Array | undefined;
}

/** A random locally administered MAC as VPP makes them: 02:fe:xx:xx:xx:xx. */
export function randomMac(): Uint8Array {
  const mac = new Uint8Array(6);
  mac[0] = 0x02;
  mac[1] = 0xfe;
  mac.set(randomBytes(4), 2);
  return mac;
}

const IFNAMSIZ = 16;

/** "10.200.1.2/24", host bits kept. */
export function addressText(prefix: Ip4Prefix): string {
  return `${formatIp4(prefix.address)}/${prefix.length}`;
}

export class TapDevices {
  readonly byIndex = new Map<number, Tap>();
  readonly deviceClass: DeviceClass;

  constructor(private readonly vm: Engine, readonly queues: KernelQueues) {
    this.deviceClass = {
      name: 'tap',
      tx: kernelTx(queues),
      formatHardware: (sw) => this.formatHardware(sw),
      deleted: (sw) => this.closeFd(sw),
    };
  }

  /** Creates tap<id> and its kernel side; returns the sw_if_index. */
  create(options: TapOptions = {}): number {
    if (!isRoot()) throw new LinuxError('create tap: needs root (CAP_NET_ADMIN) to open /dev/net/tun', 'EPERM');
    const interfaces = this.vm.vnet.interfaces;
    let id = options.id;
    if (id === undefined) {
      id = 0;
      // A name once used keeps its graph nodes, so ids are not reused.
      while (interfaces.find(`tap${id}`) >= 0 || this.vm.node(`tap${id}-tx`) !== undefined) id++;
    } else if (interfaces.find(`tap${id}`) >= 0) {
      throw new InterfaceError(`tap${id} already exists`, 'EEXIST');
    } else if (this.vm.node(`tap${id}-tx`) !== undefined) {
      throw new InterfaceError(`tap${id} existed before and its name cannot be reused yet: choose another id`, 'EEXIST');
    }
    const hostIfName = options.hostIfName ?? `tap${id}`;
    if (hostIfName.length >= IFNAMSIZ || !/^[A-Za-z0-9_.-]+$/.test(hostIfName)) {
      throw new InterfaceError(`bad host-if-name '${hostIfName}' (at most 15 letters, digits, '_', '.', '-')`);
    }
    const lib = linux();
    const fd = lib.open('/dev/net/tun', Linux.O_RDWR | Linux.O_NONBLOCK | Linux.O_CLOEXEC);
    if (fd < 0) throw new LinuxError(`open /dev/net/tun: ${lib.strerror(lib.errno())}`);
    // struct ifreq: char ifr_name[IFNAMSIZ]; short ifr_flags (then the rest of the union).
    const ifreq = new Uint8Array(40);
    ifreq.set(Buffer.from(hostIfName, 'ascii'), 0);
    new DataView(ifreq.buffer).setUint16(IFNAMSIZ, Linux.IFF_TAP | Linux.IFF_NO_PI, true);
    if (lib.ioctlIfreq(fd, Linux.TUNSETIFF, ifreq) < 0) {
      const message = lib.strerror(lib.errno());
      lib.close(fd);
      throw new LinuxError(`TUNSETIFF ${hostIfName}: ${message}`);
    }
    try {
      if (options.hostMacAddr !== undefined) ipCommand(['link', 'set', 'dev', hostIfName, 'address', formatMac(options.hostMacAddr)]);
      const ns = options.hostNs;
      if (ns !== undefined) ipCommand(['link', 'set', 'dev', hostIfName, 'netns', ns]);
      const inNs = ns === undefined ? [] : ['-n', ns];
      ipCommand([...inNs, 'link', 'set', 'dev', hostIfName, 'up']);
      if (options.hostIp4Addr !== undefined) {
        ipCommand([...inNs, 'addr', 'add', addressText(options.hostIp4Addr), 'dev', hostIfName]);
      }
    } catch (error) {
      lib.close(fd);
      throw error;
    }
    const sw = interfaces.create(`tap${id}`, this.deviceClass, options.hwAddr ?? randomMac(), 1500);
    this.byIndex.set(sw, {
      id,
      sw,
      hostIfName,
      hostNs: options.hostNs,
      hostIp4Addr: options.hostIp4Addr,
      hostMacAddr: options.hostMacAddr,
    });
    this.queues.open(sw, fd);
    return sw;
  }

  /** `delete tap <if>`: closes the fd (the kernel interface goes with it) and retires the interface. */
  delete(sw: number): void {
    if (!this.byIndex.has(sw)) throw new InterfaceError(`${this.vm.vnet.interfaces.names[sw]} is not a tap interface`);
    retireInterface(this.vm, sw);
  }

  private closeFd(sw: number): void {
    this.queues.close(sw);
    this.byIndex.delete(sw);
  }

  formatHardware(sw: number): string[] {
    const tap = this.byIndex.get(sw);
    if (tap === undefined) return [];
    const host = [`host-if-name ${tap.hostIfName}`];
    if (tap.hostNs !== undefined) host.push(`host-ns ${tap.hostNs}`);
    if (tap.hostIp4Addr !== undefined) host.push(`host-ip4-addr ${addressText(tap.hostIp4Addr)}`);
    if (tap.hostMacAddr !== undefined) host.push(`host-mac-addr ${formatMac(tap.hostMacAddr)}`);
    return [`TAP interface: instance ${tap.id}`, `  ${host.join(' ')}`, ...this.queues.formatQueue(sw).map((l) => `  ${l}`)];
  }
}

/** Takes an interface out of service: addresses removed, down, retired (its device's `deleted` hook runs). */
export function retireInterface(vm: Engine, sw: number): void {
  const vnet = vm.vnet;
  for (const a of [...vnet.interfaces.ip4Addresses[sw]]) vnet.deleteIp4Address(sw, a.address, a.length);
  if (vnet.interfaces.adminUp[sw] === 1) vnet.setAdminState(sw, false);
  vnet.interfaces.retire(sw);
}
