// The device classes that connect an engine to the world beyond the packet generator
// (vnet.devices): Linux TAP, host interfaces (AF_PACKET), UDP socket interfaces and
// in-engine veth pairs, with the receive queues their input nodes drain and the one
// FdWatcher that wakes the engine for the kernel fds. Nothing here touches the kernel
// until the first tap or host-interface is made.

import type { Engine } from '../../vlib/engine.ts';
import { HostInterfaces } from './host-interface.ts';
import { KernelQueues } from './kernel-queues.ts';
import { FdWatcher } from './linux.ts';
import { RxRings } from './rx-rings.ts';
import { SocketDevices } from './socket.ts';
import { TapDevices } from './tap.ts';
import { VethPairs } from './veth-pair.ts';

export class Devices {
  private fdWatcher: FdWatcher | null = null;
  readonly taps: TapDevices;
  readonly hosts: HostInterfaces;
  readonly sockets: SocketDevices;
  readonly veths: VethPairs;

  constructor(private readonly vm: Engine) {
    const watcher = (): FdWatcher => this.watcher();
    this.taps = new TapDevices(vm, new KernelQueues(vm, 'tap-input', watcher));
    this.hosts = new HostInterfaces(vm, new KernelQueues(vm, 'af-packet-input', watcher));
    this.sockets = new SocketDevices(vm, new RxRings(vm, 'socket-input'));
    this.veths = new VethPairs(vm, new RxRings(vm, 'veth-input'));
  }

  /** The engine's poll(2) thread for kernel fds (made on first use). */
  watcher(): FdWatcher {
    if (this.fdWatcher === null) this.fdWatcher = new FdWatcher(() => this.vm.isRunning);
    return this.fdWatcher;
  }

  /**
   * Deletes every tap, host-interface and socket interface and stops the fd watcher, so
   * nothing of the engine keeps the process alive or leaves a kernel interface behind.
   */
  closeAll(): void {
    const interfaces = this.vm.vnet.interfaces;
    for (const sw of [...this.taps.byIndex.keys()]) if (interfaces.exists[sw] === 1) this.taps.delete(sw);
    for (const sw of [...this.hosts.byIndex.keys()]) if (interfaces.exists[sw] === 1) this.hosts.delete(interfaces.names[sw].slice(5));
    for (const sw of [...this.sockets.byIndex.keys()]) if (interfaces.exists[sw] === 1) this.sockets.delete(sw);
    this.fdWatcher?.close();
    this.fdWatcher = null;
  }
}
