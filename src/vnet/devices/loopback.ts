// Loopback interfaces (VPP's `create loopback interface`, device class "loopback"):
// `loop<N>` interfaces with a MAC (VPP's default de:ad:00:00:00:<N>) whose transmit hands
// each frame straight back in as received on the same interface. The `<if>-tx` function
// queues the buffers on a ring and interrupts `loopback-input` (nodes/loopback-input.ts),
// which takes them off the ring into ethernet-input, as a device's rx would. Nothing is
// copied: the buffer that was sent is the buffer that is received.

import { BufferFlag, NONE } from '../../vlib/buffer-pool.ts';
import type { NodeContext } from '../../vlib/node-runtime.ts';
import type { NodeRuntime } from '../../vlib/node-runtime.ts';
import { InterfaceCounter, Interfaces, InterfaceError, type DeviceClass } from '../interface.ts';
import type { Vnet } from '../vnet.ts';

export const LOOPBACK_INPUT_NODE = 'loopback-input';

export class Loopbacks {
  /** Buffers sent on a loopback and not yet received: a ring of buffer indices. */
  readonly ring: Uint32Array;
  head = 0;
  count = 0;
  /** Instance N → sw_if_index of `loop<N>`. */
  readonly byInstance = new Map<number, number>();
  readonly deviceClass: DeviceClass;
  private input: NodeRuntime | undefined;

  constructor(readonly vnet: Vnet) {
    this.ring = new Uint32Array(vnet.vm.pool.count);
    this.deviceClass = {
      name: 'loopback',
      tx: (ctx, buffers, n) => this.transmit(ctx, buffers, n),
      deleted: (sw) => {
        for (const [instance, s] of this.byInstance) if (s === sw) this.byInstance.delete(instance);
      },
    };
  }

  /**
   * `create loopback interface [mac <mac>] [instance <n>]`: makes `loop<N>` (the lowest free
   * instance unless told) and returns its sw_if_index. A used instance is refused (EEXIST).
   */
  create(mac?: Uint8Array, instance?: number): number {
    let n = instance ?? 0;
    if (instance === undefined) while (this.byInstance.has(n)) n++;
    else {
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InterfaceError(`bad loopback instance ${instance}`);
      if (this.byInstance.has(n)) throw new InterfaceError(`loopback instance ${n} is in use`, 'EEXIST');
    }
    // VPP: de:ad:00:00:00:00 plus the instance in the last byte.
    const address = mac ?? Uint8Array.of(0xde, 0xad, 0, 0, 0, n & 0xff);
    const sw = this.vnet.interfaces.create(`loop${n}`, this.deviceClass, address, 9000);
    this.byInstance.set(n, sw);
    return sw;
  }

  isLoopback(sw: number): boolean {
    return this.vnet.interfaces.devices[sw] === this.deviceClass;
  }

  /** `delete loopback interface intfc <if>`: removes its addresses, then the interface. */
  delete(sw: number): void {
    const ifs: Interfaces = this.vnet.interfaces;
    if (!this.isLoopback(sw) || ifs.exists[sw] !== 1) throw new InterfaceError(`${ifs.names[sw] ?? sw} is not a loopback interface`, 'ENOTSUP');
    for (const a of [...ifs.ip4Addresses[sw]]) this.vnet.deleteIp4Address(sw, a.address, a.length);
    this.vnet.setAdminState(sw, false);
    ifs.retire(sw);
  }

  /** Takes up to `max` received buffers off the ring into `buffers`; returns how many. */
  take(buffers: Uint32Array, max: number): number {
    const ring = this.ring;
    const size = ring.length;
    let head = this.head;
    const n = this.count < max ? this.count : max;
    for (let i = 0; i < n; i++) {
      buffers[i] = ring[head];
      if (++head === size) head = 0;
    }
    this.head = head;
    this.count -= n;
    return n;
  }

  /** The loopback device's transmit: every frame comes back as received on the same interface. */
  private transmit(ctx: NodeContext, buffers: Uint32Array, n: number): number {
    const pool = ctx.pool;
    const sw = ctx.interfaceIndex;
    const ring = this.ring;
    const size = ring.length;
    const rx = pool.rxInterface;
    const tx = pool.txInterface;
    const flags = pool.flags;
    let tail = this.head + this.count;
    if (tail >= size) tail -= size;
    let queued = 0;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      if (this.count + queued === size) {
        // Cannot happen while the ring holds as many slots as the pool has buffers; kept
        // so a bad caller frees rather than overwrites.
        pool.freeChain(bi);
        this.vnet.interfaces.counters[sw * Interfaces.countersPerInterface + InterfaceCounter.TX_ERROR]++;
        continue;
      }
      rx[bi] = sw;
      tx[bi] = NONE;
      flags[bi] &= ~BufferFlag.LOCALLY_ORIGINATED;
      ring[tail] = bi;
      if (++tail === size) tail = 0;
      queued++;
    }
    this.count += queued;
    if (queued > 0) {
      const input = this.input ?? (this.input = this.vnet.vm.node(LOOPBACK_INPUT_NODE));
      if (input !== undefined) this.vnet.vm.interrupt(input);
    }
    return 0;
  }
}
