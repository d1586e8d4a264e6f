// Socket interfaces (`create socket-interface local <ip>:<port> remote <ip>:<port>
// [vxlan-vni <n>]` → `socket<n>`): Ethernet frames carried one per UDP datagram over a
// host socket (node:dgram), so an engine without privileges can meet another engine or a
// Linux `vxlan` device. With `vxlan-vni`, every datagram carries the 8-byte VXLAN header
// (RFC 7348 §5: flags 0x08, VNI); datagrams with a bad header or another VNI are dropped
// and counted. Only datagrams from the remote address are taken (any source port: a Linux
// vxlan device picks its source port per flow).
//
// This device is for reach, not speed: node:dgram hands every datagram over as a fresh
// Buffer and a send needs its own copy (the pool buffer is freed at once), so it allocates
// per packet where the kernel-fd devices do not.

import { createSocket, type Socket } from 'node:dgram';
import { BufferFlag, NONE, type BufferPool } from '../../vlib/buffer-pool.ts';
import type { Engine } from '../../vlib/engine.ts';
import type { NodeContext } from '../../vlib/node-runtime.ts';
import { formatIp4 } from '../../wire/address.ts';
import { VXLAN_HEADER_LENGTH, VxlanFlags, emitVxlanHeader, vxlanVni } from '../../wire/vxlan.ts';
import { InterfaceCounter, InterfaceError, Interfaces, type DeviceClass } from '../interface.ts';
import type { RxRings } from './rx-rings.ts';
import { randomMac, retireInterface } from './tap.ts';

const COUNTERS = Interfaces.countersPerInterface;

export interface Endpoint {
  readonly address: number;
  readonly port: number;
}

export interface SocketOptions {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Carry a VXLAN header with this VNI. */
  readonly vni?: number;
  readonly hwAddr?: Uint8Array;
}

/** Why a datagram was not taken, counted per interface (`show hardware`). */
export const SocketDrop = {
  BAD_SOURCE: 0,
  SHORT: 1,
  BAD_FLAGS: 2,
  WRONG_VNI: 3,
  TOO_BIG: 4,
  NO_BUFFER: 5,
  RING_FULL: 6,
} as const;
const DROP_NAMES = ['not from remote', 'too short', 'bad vxlan flags', 'wrong vni', 'larger than a buffer', 'no buffer', 'rx ring full'];

interface SocketInterface {
  readonly id: number;
  readonly sw: number;
  readonly socket: Socket;
  readonly options: SocketOptions;
  readonly remoteText: string;
  readonly drops: Float64Array;
  txErrors: number;
  closed: boolean;
}

/** Copies a packet (its whole chain) into `out` at `at`. */
function copyPacket(pool: BufferPool, bi: number, out: Uint8Array, at: number): void {
  for (;;) {
    const start = pool.current[bi];
    out.set(pool.bytes.subarray(start, start + pool.length[bi]), at);
    at += pool.length[bi];
    if ((pool.flags[bi] & BufferFlag.NEXT_PRESENT) === 0) return;
    bi = pool.nextBuffer[bi];
  }
}

export class SocketDevices {
  readonly byIndex = new Map<number, SocketInterface>();
  readonly deviceClass: DeviceClass;

  constructor(private readonly vm: Engine, readonly rings: RxRings) {
    this.deviceClass = {
      name: 'socket',
      tx: (ctx, buffers, n) => this.tx(ctx, buffers, n),
      formatHardware: (sw) => this.formatHardware(sw),
      deleted: (sw) => this.closeSocket(sw),
    };
  }

  /** Binds the local endpoint and creates socket<n>; rejects with the bind error (EADDRINUSE…). */
  async create(options: SocketOptions): Promise<number> {
    if (options.vni !== undefined && (!Number.isInteger(options.vni) || options.vni < 0 || options.vni > 0xffffff)) {
      throw new InterfaceError(`bad vxlan-vni ${options.vni} (expected 0..16777215)`);
    }
    const socket = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.local.port, formatIp4(options.local.address), () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      socket.close();
      throw new InterfaceError(`bind ${formatIp4(options.local.address)}:${options.local.port}: ${error.message}`, error.code ?? 'EIO');
    });
    const interfaces = this.vm.vnet.interfaces;
    let id = 0;
    while (interfaces.find(`socket${id}`) >= 0 || this.vm.node(`socket${id}-tx`) !== undefined) id++;
    const sw = interfaces.create(`socket${id}`, this.deviceClass, options.hwAddr ?? randomMac(), 1500);
    const entry: SocketInterface = {
      id,
      sw,
      socket,
      options,
      remoteText: formatIp4(options.remote.address),
      drops: new Float64Array(DROP_NAMES.length),
      txErrors: 0,
      closed: false,
    };
    this.byIndex.set(sw, entry);
    this.rings.open(sw);
    socket.on('message', (message, rinfo) => this.receive(entry, message, rinfo.address));
    socket.on('error', () => {
      entry.txErrors++;
    });
    return sw;
  }

  delete(sw: number): void {
    if (!this.byIndex.has(sw)) throw new InterfaceError(`${this.vm.vnet.interfaces.names[sw]} is not a socket interface`);
    retireInterface(this.vm, sw);
  }

  /** The port the local socket is bound to (useful with `local <ip>:0`). */
  localPort(sw: number): number {
    return this.byIndex.get(sw)?.socket.address().port ?? -1;
  }

  private closeSocket(sw: number): void {
    const entry = this.byIndex.get(sw);
    if (entry === undefined) return;
    entry.closed = true;
    entry.socket.close();
    this.rings.close(sw);
    this.byIndex.delete(sw);
  }

  /** One datagram in: checked, copied into a pool buffer and queued for socket-input. */
  private receive(entry: SocketInterface, message: Buffer, from: string): void {
    if (entry.closed) return;
    const drops = entry.drops;
    if (from !== entry.remoteText) {
      drops[SocketDrop.BAD_SOURCE]++;
      return;
    }
    let skip = 0;
    if (entry.options.vni !== undefined) {
      if (message.length < VXLAN_HEADER_LENGTH + 14) {
        drops[SocketDrop.SHORT]++;
        return;
      }
      if ((message[0] & VxlanFlags.I) === 0) {
        drops[SocketDrop.BAD_FLAGS]++;
        return;
      }
      if (vxlanVni(message, 0) !== entry.options.vni) {
        drops[SocketDrop.WRONG_VNI]++;
        return;
      }
      skip = VXLAN_HEADER_LENGTH;
    } else if (message.length < 14) {
      drops[SocketDrop.SHORT]++;
      return;
    }
    const pool = this.vm.pool;
    const length = message.length - skip;
    if (length > pool.dataSize) {
      drops[SocketDrop.TOO_BIG]++;
      return;
    }
    const bi = pool.allocOne();
    if (bi === NONE) {
      drops[SocketDrop.NO_BUFFER]++;
      return;
    }
    pool.bytes.set(skip === 0 ? message : message.subarray(skip), pool.current[bi]);
    pool.length[bi] = length;
    if (!this.rings.push(entry.sw, bi)) {
      pool.freeChain(bi);
      drops[SocketDrop.RING_FULL]++;
      return;
    }
    this.rings.kick();
  }

  /** `socket<n>-tx`: one datagram per frame (with the VXLAN header when configured). */
  private tx(ctx: NodeContext, buffers: Uint32Array, n: number): number {
    const sw = ctx.interfaceIndex;
    const entry = this.byIndex.get(sw);
    const pool = ctx.pool;
    if (entry === undefined || entry.closed) {
      const counters = this.vm.vnet.interfaces.counters;
      counters[sw * COUNTERS + InterfaceCounter.TX_ERROR] += n;
      counters[sw * COUNTERS + InterfaceCounter.DROPS] += n;
      pool.free(buffers, 0, n);
      return 0;
    }
    const vni = entry.options.vni;
    const header = vni === undefined ? 0 : VXLAN_HEADER_LENGTH;
    const port = entry.options.remote.port;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const length = pool.packetLength(bi);
      const datagram = Buffer.allocUnsafe(header + length);
      if (vni !== undefined) emitVxlanHeader({ vni }, datagram, 0);
      copyPacket(pool, bi, datagram, header);
      entry.socket.send(datagram, port, entry.remoteText);
    }
    pool.free(buffers, 0, n);
    return 0;
  }

  formatHardware(sw: number): string[] {
    const entry = this.byIndex.get(sw);
    if (entry === undefined) return [];
    const o = entry.options;
    const lines = [
      `UDP socket interface: instance ${entry.id}`,
      `  local ${formatIp4(o.local.address)}:${entry.socket.address().port} remote ${entry.remoteText}:${o.remote.port}` +
        (o.vni === undefined ? '' : ` vxlan-vni ${o.vni}`),
    ];
    const drops = DROP_NAMES.map((name, k) => (entry.drops[k] > 0 ? `${name} ${entry.drops[k]}` : '')).filter((s) => s !== '');
    if (drops.length > 0) lines.push(`  rx drops: ${drops.join(', ')}`);
    if (entry.txErrors > 0) lines.push(`  tx errors ${entry.txErrors}`);
    return lines;
  }

  /** Rx drops of one reason (tests). */
  dropCount(sw: number, reason: number): number {
    return this.byIndex.get(sw)?.drops[reason] ?? 0;
  }
}
