// veth pairs (`create veth-pair <name-a> <name-b>`): an in-engine cable. A frame sent on
// one interface is queued, buffer and all, on the other's receive ring and comes in
// through `veth-input` on the next dispatch turn, as if a wire joined two NICs. Two VRFs of
// one engine joined by a veth pair behave like two hosts on a wire. No copy is made: the
// buffer changes hands.

import type { Engine } from '../../vlib/engine.ts';
import type { NodeContext } from '../../vlib/node-runtime.ts';
import { InterfaceCounter, InterfaceError, Interfaces, MAX_INTERFACES, type DeviceClass } from '../interface.ts';
import type { RxRings } from './rx-rings.ts';
import { randomMac, retireInterface } from './tap.ts';

const COUNTERS = Interfaces.countersPerInterface;

export class VethPairs {
  /** sw_if_index of the other end, -1 when not a veth. */
  readonly peer = new Int32Array(MAX_INTERFACES).fill(-1);
  readonly deviceClass: DeviceClass;

  constructor(private readonly vm: Engine, readonly rings: RxRings) {
    this.deviceClass = {
      name: 'veth',
      tx: (ctx, buffers, n) => this.tx(ctx, buffers, n),
      formatHardware: (sw) => [`veth pair: peer ${this.peer[sw] >= 0 ? this.vm.vnet.interfaces.names[this.peer[sw]] : '(deleted)'}`],
      deleted: (sw) => this.unplug(sw),
    };
  }

  /** Creates both ends; returns their sw_if_indices. */
  create(nameA: string, nameB: string): [number, number] {
    const interfaces = this.vm.vnet.interfaces;
    if (nameA === nameB) throw new InterfaceError(`the two ends need different names (got '${nameA}' twice)`);
    for (const name of [nameA, nameB]) {
      if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name)) throw new InterfaceError(`bad interface name '${name}'`);
      if (interfaces.find(name) >= 0 || this.vm.node(`${name}-tx`) !== undefined) {
        throw new InterfaceError(`interface name '${name}' is taken`, 'EEXIST');
      }
    }
    const a = interfaces.create(nameA, this.deviceClass, randomMac(), 9000);
    const b = interfaces.create(nameB, this.deviceClass, randomMac(), 9000);
    this.peer[a] = b;
    this.peer[b] = a;
    this.rings.open(a);
    this.rings.open(b);
    return [a, b];
  }

  /** Deletes one end and with it the other (a cable has two ends). */
  delete(sw: number): void {
    const other = this.peer[sw];
    if (other < 0 && !this.rings.isOpen(sw)) throw new InterfaceError(`${this.vm.vnet.interfaces.names[sw]} is not a veth interface`);
    retireInterface(this.vm, sw);
    if (other >= 0 && this.vm.vnet.interfaces.exists[other] === 1) retireInterface(this.vm, other);
  }

  private unplug(sw: number): void {
    const other = this.peer[sw];
    this.peer[sw] = -1;
    if (other >= 0) this.peer[other] = -1;
    this.rings.close(sw);
  }

  /** `<end>-tx`: hands every buffer to the peer's rx ring (dropped, counted, when the peer is down, gone or full). */
  private tx(ctx: NodeContext, buffers: Uint32Array, n: number): number {
    const sw = ctx.interfaceIndex;
    const peer = this.peer[sw];
    const pool = ctx.pool;
    let dropped = 0;
    if (peer < 0) {
      pool.free(buffers, 0, n);
      dropped = n;
    } else {
      for (let i = 0; i < n; i++) {
        const bi = buffers[i];
        if (!this.rings.push(peer, bi)) {
          pool.freeChain(bi);
          dropped++;
        }
      }
      if (dropped < n) this.rings.kickInTurn();
    }
    if (dropped > 0) {
      const counters = this.vm.vnet.interfaces.counters;
      counters[sw * COUNTERS + InterfaceCounter.TX_ERROR] += dropped;
      counters[sw * COUNTERS + InterfaceCounter.DROPS] += dropped;
    }
    return 0;
  }
}
