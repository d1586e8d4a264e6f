// The packet generator (VPP's src/vnet/pg): `pg<N>` interfaces and the streams that
// inject packets on them, the way VPP's own tests drive the data path. A stream is a
// cycle of packet templates — read from a pcap file or built from VPP's stream syntax
// (pg-edit.ts) — with a packet limit, a frame size (`maxframe`), an optional rate, the
// node it feeds (ethernet-input unless told) and an enabled flag. The `pg-input` node
// (nodes/pg-input.ts) copies templates into buffers; it is polled while a stream is
// enabled and disabled otherwise, and a stream that reaches its limit disables itself.
//
// Transmit: a pg interface's `<if>-tx` (the pg device class's `tx`, defined here because
// src/ never imports nodes) records each packet to the interface's capture file, if
// `packet-generator capture` set one, and frees it. Capture files are flushed whenever
// the engine is idle, so the file on disk holds every packet sent so far; a capture with
// a `count` closes its file when the count is reached.

import { BufferFlag } from '../../vlib/buffer-pool.ts';
import type { NodeContext } from '../../vlib/node-runtime.ts';
import { PcapError, PcapWriter, readPcapFile } from '../../vlib/pcap.ts';
import type { DeviceClass } from '../interface.ts';
import type { Vnet } from '../vnet.ts';

export const PG_INPUT_NODE = 'pg-input';
/** The node a stream feeds unless told otherwise. */
export const PG_DEFAULT_NODE = 'ethernet-input';

export class PgError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EINVAL') {
    super(message);
    this.code = code;
  }
}

export interface PgStreamOptions {
  /** Stream name; a stream of the same name is replaced (as VPP does). */
  readonly name: string;
  /** The templates, sent in order, cycling. */
  readonly packets: readonly Uint8Array[];
  /** `source pg<N>`: the pg interface the packets arrive on (default 0; made if missing). */
  readonly source?: number;
  /** `interface <if>`: an rx interface to stamp instead of the pg interface. */
  readonly rxInterface?: number;
  /** Packets to send before the stream stops; 0 for no limit. */
  readonly limit?: number;
  /** Packets per frame, 1..256 (default 256). */
  readonly maxFrame?: number;
  /** Packets per second; 0 for as fast as the graph goes. */
  readonly rate?: number;
  /** The node the packets enter (default ethernet-input). */
  readonly node?: string;
  /** For `show packet-generator`: sizes as configured (default: the templates' range). */
  readonly minSize?: number;
  readonly maxSize?: number;
  /** True when templates start with an Ethernet header (for traces); default node === ethernet-input. */
  readonly ethernet?: boolean;
}

/** Templates up to this size are copied as 16 unrolled u32 stores (see nodes/pg-input.ts). */
export const SMALL_TEMPLATE_BYTES = 64;
export const SMALL_TEMPLATE_WORDS = SMALL_TEMPLATE_BYTES / 4;

interface PgStreamInit {
  readonly name: string;
  readonly packets: readonly Uint8Array[];
  readonly rxInterface: number;
  readonly swIfIndex: number;
  readonly limit: number;
  readonly maxFrame: number;
  readonly rate: number;
  readonly node: string;
  readonly next: number;
  readonly ethernet: boolean;
  readonly minSize: number;
  readonly maxSize: number;
}

/** One stream; pg-input reads its fields directly. */
export class PgStream {
  readonly index: number;
  readonly name: string;
  readonly templates: Uint8Array[];
  /** sw_if_index stamped as rx on every packet. */
  readonly rxInterface: number;
  /** The pg interface (sw_if_index) the stream belongs to. */
  readonly swIfIndex: number;
  readonly limit: number;
  readonly maxFrame: number;
  readonly rate: number;
  readonly node: string;
  /** pg-input's next index to `node`. */
  readonly next: number;
  /** The stream feeds ethernet-input, the end of the device-input arc: features apply. */
  readonly throughDeviceInput: boolean;
  readonly ethernet: boolean;
  readonly minSize: number;
  readonly maxSize: number;
  /** Each template's length. */
  readonly lengths: Uint32Array;
  /**
   * When every template fits in SMALL_TEMPLATE_BYTES: each one as SMALL_TEMPLATE_WORDS u32
   * words (zero-padded), back to back, for pg-input's word copy; null otherwise.
   */
  readonly smallWords: Uint32Array | null;
  enabled = false;
  /** Packets sent since the stream was last enabled. */
  generated = 0;
  /** Next template to send. */
  cursor = 0;
  /** Rate limiting: packets owed, and when that was last computed (engine ns). */
  credit = 0;
  lastNs = 0;

  constructor(index: number, options: PgStreamInit) {
    this.index = index;
    this.name = options.name;
    this.templates = options.packets.slice();
    this.rxInterface = options.rxInterface;
    this.swIfIndex = options.swIfIndex;
    this.limit = options.limit;
    this.maxFrame = options.maxFrame;
    this.rate = options.rate;
    this.node = options.node;
    this.next = options.next;
    this.throughDeviceInput = options.node === PG_DEFAULT_NODE;
    this.ethernet = options.ethernet;
    this.minSize = options.minSize;
    this.maxSize = options.maxSize;
    const count = this.templates.length;
    this.lengths = new Uint32Array(count);
    let small = true;
    for (let t = 0; t < count; t++) {
      this.lengths[t] = this.templates[t].length;
      if (this.templates[t].length > SMALL_TEMPLATE_BYTES) small = false;
    }
    if (small) {
      const bytes = new Uint8Array(count * SMALL_TEMPLATE_BYTES);
      for (let t = 0; t < count; t++) bytes.set(this.templates[t], t * SMALL_TEMPLATE_BYTES);
      this.smallWords = new Uint32Array(bytes.buffer);
    } else {
      this.smallWords = null;
    }
  }
}

interface PgCapture {
  readonly writer: PcapWriter;
  readonly path: string;
  readonly count: number;
}

export class PacketGenerator {
  /** Streams in the order they were made (replaced ones keep no slot). */
  readonly streams: PgStream[] = [];
  /** pg interface number N → sw_if_index. */
  readonly interfaceById = new Map<number, number>();
  /** Per buffer index: the stream that made the buffer, written by pg-input only while tracing. */
  readonly streamOfBuffer: Uint32Array;
  /** pg-input's rotating start, so every enabled stream gets its turn. */
  nextStream = 0;
  /** pg-input's caches: the device-input arc's index (-1 until found) and a u32 view of the pool. */
  deviceInputArc = -1;
  poolWords: Uint32Array | null = null;
  /** The pg device class: `<if>-tx` records to the capture file and frees. */
  readonly deviceClass: DeviceClass;
  private readonly captures: (PgCapture | null)[] = [];
  private streamCounter = 0;
  /** The engine timer that wakes pg-input for rate-limited streams, -1 when none is armed. */
  private wakeTimer = -1;

  constructor(readonly vnet: Vnet) {
    this.streamOfBuffer = new Uint32Array(vnet.vm.pool.count);
    this.deviceClass = {
      name: 'pg',
      tx: (ctx, buffers, n) => this.transmit(ctx, buffers, n),
      deleted: (sw) => this.stopCapture(sw, true),
    };
    vnet.vm.onIdle(() => this.flush());
  }

  /** Streams currently enabled. */
  get enabledCount(): number {
    let n = 0;
    for (const s of this.streams) if (s.enabled) n++;
    return n;
  }

  // ------------------------------------------------------------ interfaces

  /** `create packet-generator interface pg<N> [hw-addr <mac>]`: the interface, made if missing. */
  createInterface(id: number, mac?: Uint8Array): number {
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new PgError(`bad pg interface number ${id}`);
    const existing = this.interfaceById.get(id);
    if (existing !== undefined) {
      if (mac !== undefined) this.vnet.setMac(existing, mac);
      return existing;
    }
    // VPP's default: 02:fe followed by the interface number.
    const address = mac ?? Uint8Array.of(0x02, 0xfe, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);
    const sw = this.vnet.interfaces.create(`pg${id}`, this.deviceClass, address, 9000);
    this.interfaceById.set(id, sw);
    return sw;
  }

  /** sw_if_index of `pg<N>`, or -1. */
  interfaceOf(id: number): number {
    return this.interfaceById.get(id) ?? -1;
  }

  isPgInterface(sw: number): boolean {
    return this.vnet.interfaces.devices[sw] === this.deviceClass;
  }

  // ------------------------------------------------------------ streams

  /** Reads a pcap file's packets as stream templates; one PgError line on any problem. */
  static readPcapPackets(path: string): Uint8Array[] {
    let packets: Uint8Array[];
    try {
      packets = readPcapFile(path).packets.map((p) => p.data.slice());
    } catch (error) {
      if (error instanceof PcapError) throw new PgError(`pcap file ${path}: ${error.message}`, 'EINVAL');
      const code = (error as { code?: unknown }).code;
      const reason = code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error);
      throw new PgError(`cannot read pcap file ${path}: ${reason}`, typeof code === 'string' ? code : 'EIO');
    }
    if (packets.length === 0) throw new PgError(`pcap file ${path} holds no packets`);
    return packets;
  }

  /** Adds a stream (disabled, as VPP); a stream of the same name is replaced. */
  addStream(options: PgStreamOptions): PgStream {
    const vm = this.vnet.vm;
    const name = options.name;
    if (!/^\S+$/.test(name)) throw new PgError(`bad stream name '${name}'`);
    if (options.packets.length === 0) throw new PgError(`stream '${name}' has no packets`);
    for (const p of options.packets) {
      if (p.length === 0 || p.length > 65535) throw new PgError(`stream '${name}': packet of ${p.length} bytes (expected 1..65535)`);
    }
    const limit = options.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0) throw new PgError(`bad limit ${limit}`);
    const maxFrame = options.maxFrame ?? vm.frameSize;
    if (!Number.isInteger(maxFrame) || maxFrame < 1 || maxFrame > vm.frameSize) throw new PgError(`bad maxframe ${maxFrame} (expected 1..${vm.frameSize})`);
    const rate = options.rate ?? 0;
    if (!(rate >= 0) || !Number.isFinite(rate)) throw new PgError(`bad rate ${rate} (expected a number >= 0)`);
    const node = options.node ?? PG_DEFAULT_NODE;
    if (vm.node(node) === undefined) throw new PgError(`unknown node '${node}'`, 'ENOENT');
    if (vm.node(PG_INPUT_NODE) === undefined) throw new PgError(`no ${PG_INPUT_NODE} node in the graph`, 'ENOENT');
    const source = options.source ?? 0;
    if (options.rxInterface !== undefined && this.vnet.interfaces.exists[options.rxInterface] !== 1) {
      throw new PgError(`unknown interface index ${options.rxInterface}`, 'ENODEV');
    }
    let min = Infinity;
    let max = 0;
    for (const p of options.packets) {
      min = Math.min(min, p.length);
      max = Math.max(max, p.length);
    }
    // Checked: now change things.
    const swIfIndex = this.createInterface(source);
    this.deleteStream(name, false);
    const next = vm.addNext(PG_INPUT_NODE, node);
    const stream = new PgStream(this.streamCounter++, {
      name,
      packets: options.packets,
      rxInterface: options.rxInterface ?? swIfIndex,
      swIfIndex,
      limit,
      maxFrame,
      rate,
      node,
      next,
      ethernet: options.ethernet ?? node === PG_DEFAULT_NODE,
      minSize: options.minSize ?? min,
      maxSize: options.maxSize ?? max,
    });
    this.streams.push(stream);
    return stream;
  }

  stream(name: string): PgStream | undefined {
    return this.streams.find((s) => s.name === name);
  }

  /** Deletes a stream; with `mustExist`, a missing one is an ENOENT error. */
  deleteStream(name: string, mustExist = true): void {
    const i = this.streams.findIndex((s) => s.name === name);
    if (i < 0) {
      if (mustExist) throw new PgError(`no stream named '${name}'`, 'ENOENT');
      return;
    }
    this.streams.splice(i, 1);
    this.updateInputState();
  }

  /**
   * Enables (or disables) one stream by name, or all when `name` is undefined. Enabling
   * starts the stream over: its count goes back to 0 (VPP).
   */
  setEnabled(name: string | undefined, enabled: boolean): void {
    const targets = name === undefined ? this.streams : this.streams.filter((s) => s.name === name);
    if (name !== undefined && targets.length === 0) throw new PgError(`no stream named '${name}'`, 'ENOENT');
    const now = this.vnet.vm.nowNs();
    for (const s of targets) {
      if (enabled && !s.enabled) {
        s.generated = 0;
        s.cursor = 0;
        s.credit = 0;
        s.lastNs = now;
      }
      s.enabled = enabled;
    }
    this.updateInputState();
  }

  /** pg-input polls while a stream is enabled and sleeps ('disabled') otherwise. */
  updateInputState(): void {
    const rt = this.vnet.vm.node(PG_INPUT_NODE);
    if (rt === undefined) return;
    const want = this.enabledCount > 0 ? 'polling' : 'disabled';
    if (rt.state !== want) rt.state = want;
    if (want === 'polling') this.vnet.vm.wake();
  }

  /**
   * After each poll: when every enabled stream is rate-limited, pg-input sleeps in interrupt
   * mode until the earliest stream has credit for a batch (a frame, or a millisecond's worth
   * of packets, at least 1 ms away) instead of spinning on the CPU; otherwise it keeps polling.
   */
  scheduleRateLimited(rt: NodeContext): void {
    const vm = this.vnet.vm;
    if (rt.state === 'disabled') return;
    const now = vm.nowNs();
    let waitMs = Infinity;
    for (const s of this.streams) {
      if (!s.enabled) continue;
      if (s.rate <= 0) {
        rt.state = 'polling';
        return;
      }
      const batch = Math.min(s.maxFrame, Math.max(1, Math.ceil(s.rate / 1000)));
      const credit = s.credit + ((now - s.lastNs) * s.rate) / 1e9;
      waitMs = Math.min(waitMs, credit >= batch ? 0 : ((batch - credit) * 1000) / s.rate);
    }
    if (!Number.isFinite(waitMs)) return;
    rt.state = 'interrupt';
    if (this.wakeTimer >= 0) return;
    this.wakeTimer = vm.startTimer(Math.max(1, waitMs), () => {
      this.wakeTimer = -1;
      vm.interrupt(rt);
    });
  }

  /** Called by pg-input when a stream reached its limit. */
  finished(stream: PgStream): void {
    stream.enabled = false;
    this.updateInputState();
  }

  // ------------------------------------------------------------ capture (tx)

  /**
   * `packet-generator capture <if> pcap <file> [count <n>]`: records what the pg interface
   * sends to `path` (created or truncated). Replaces an earlier capture on the interface.
   */
  startCapture(sw: number, path: string, count = Number.MAX_SAFE_INTEGER): void {
    if (!this.isPgInterface(sw)) throw new PgError(`${this.vnet.interfaces.names[sw] ?? sw} is not a packet-generator interface`, 'ENOTSUP');
    if (!Number.isInteger(count) || count < 1) throw new PgError(`bad count ${count} (expected a number >= 1)`);
    let writer: PcapWriter;
    try {
      writer = PcapWriter.open(path, { maxPackets: count });
    } catch (error) {
      throw new PgError(`cannot open pcap file ${path} for writing: ${error instanceof Error ? error.message : String(error)}`, 'EIO');
    }
    this.stopCapture(sw, false);
    this.captures[sw] = { writer, path, count };
  }

  /** `packet-generator capture <if> disable`: closes the interface's capture file. */
  stopCapture(sw: number, quiet = false): void {
    const capture = this.captures[sw];
    if (capture === undefined || capture === null) {
      if (!quiet && !this.isPgInterface(sw)) throw new PgError(`${this.vnet.interfaces.names[sw] ?? sw} is not a packet-generator interface`, 'ENOTSUP');
      return;
    }
    this.captures[sw] = null;
    if (!capture.writer.closed) capture.writer.close();
  }

  /** The capture on an interface: its file and packets recorded so far. */
  captureOf(sw: number): { path: string; count: number; captured: number; closed: boolean } | undefined {
    const c = this.captures[sw];
    return c === undefined || c === null ? undefined : { path: c.path, count: c.count, captured: c.writer.count, closed: c.writer.closed };
  }

  /** Flushes every capture file (the engine calls this whenever it is idle). */
  flush(): void {
    for (const c of this.captures) if (c !== undefined && c !== null && !c.writer.closed) c.writer.flush();
  }

  /** The pg device's transmit function (the `<if>-tx` node): capture, then free. */
  private transmit(ctx: NodeContext, buffers: Uint32Array, n: number): number {
    const pool = ctx.pool;
    const capture = this.captures[ctx.interfaceIndex];
    if (capture !== undefined && capture !== null && !capture.writer.closed) {
      const writer = capture.writer;
      const bytes = pool.bytes;
      const current = pool.current;
      const length = pool.length;
      const flags = pool.flags;
      for (let i = 0; i < n; i++) {
        const bi = buffers[i];
        if ((flags[bi] & BufferFlag.NEXT_PRESENT) === 0) writer.write(bytes, current[bi], length[bi]);
        else {
          // A chain (larger than one buffer) is copied out whole; rare.
          const data = pool.toBytes(bi);
          writer.write(data, 0, data.length);
        }
        if (writer.count >= capture.count) {
          writer.close();
          break;
        }
      }
    }
    pool.free(buffers, 0, n);
    return 0;
  }
}

