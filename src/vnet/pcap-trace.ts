// Packet capture of the data path to a pcap file (VPP's `pcap trace rx tx drop …`). One
// capture at a time, of any mix of: packets as they are received (device input nodes:
// pg-input, loopback-input), as they are sent (each `<if>-output` node), and as they are
// dropped (error-drop, through the engine's drop hooks). It can be limited to one
// interface (`intfc <if>`; for drops the receiving interface) and stops recording after
// `max` packets, each cut to `max-bytes-per-pkt` bytes.
//
// The data path asks `rxEnabled`/`txEnabled` (plain fields) once per frame and calls
// `capture` for each packet only while a capture runs. Records go to a `PcapWriter`,
// flushed whenever the engine is idle, so the file on disk holds every packet captured so
// far; `stop` writes the rest and closes it. As VPP, files go to /tmp (`directory`): a
// file name may not contain a directory, and the default name is made of the kinds
// captured: /tmp/rx.pcap, /tmp/rxtx.pcap, /tmp/rxtxdrop.pcap …

import { BufferFlag, NONE, type BufferPool } from '../vlib/buffer-pool.ts';
import { PcapWriter } from '../vlib/pcap.ts';
import type { Vnet } from './vnet.ts';

/** `intfc any`: capture on every interface. */
export const ANY_INTERFACE = NONE;

export class PcapTraceError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EINVAL') {
    super(message);
    this.code = code;
  }
}

export interface PcapTraceOptions {
  readonly rx?: boolean;
  readonly tx?: boolean;
  readonly drop?: boolean;
  /** Packets to record before the capture stops recording (VPP default 1000). */
  readonly max?: number;
  /** Bytes kept of each packet, 32..9000 (VPP default 512). */
  readonly maxBytesPerPacket?: number;
  /** Only this interface; ANY_INTERFACE (default) for all. */
  readonly swIfIndex?: number;
  /** File name inside `directory` (no '/'); default from the kinds captured. */
  readonly file?: string;
}

export interface PcapTraceResult {
  readonly captured: number;
  readonly path: string;
}

const DEFAULT_MAX = 1000;
const DEFAULT_MAX_BYTES = 512;

export class PcapTrace {
  /** Read per frame by device input nodes, `<if>-output` and the drop hook. */
  rxEnabled = false;
  txEnabled = false;
  dropEnabled = false;
  /** The interface filter, ANY_INTERFACE for all. */
  swIfIndex = ANY_INTERFACE;
  max = DEFAULT_MAX;
  maxBytesPerPacket = DEFAULT_MAX_BYTES;
  /** Packets recorded by the current (or last) capture. */
  captured = 0;
  /** Where capture files go (VPP: /tmp). */
  directory = '/tmp';
  /** Path of the current (or last) capture file; '' before the first. */
  path = '';
  private writer: PcapWriter | null = null;

  constructor(readonly vnet: Vnet) {
    const vm = vnet.vm;
    vm.dropHooks.push((buffers, n) => {
      if (this.dropEnabled) this.captureDrops(vm.pool, buffers, n);
    });
    vm.onIdle(() => this.flush());
  }

  /** True while a capture runs (even when it has recorded its `max`). */
  get active(): boolean {
    return this.rxEnabled || this.txEnabled || this.dropEnabled;
  }

  /** True when packets on `sw` are to be recorded (the interface filter). */
  matches(sw: number): boolean {
    return this.swIfIndex === ANY_INTERFACE || this.swIfIndex === sw;
  }

  /**
   * Starts a capture. Refused while one runs (EALREADY), or with no kind chosen, a bad
   * `max`, `maxBytesPerPacket` or file name (EINVAL); nothing changes on refusal.
   */
  start(options: PcapTraceOptions): string {
    const rx = options.rx === true;
    const tx = options.tx === true;
    const drop = options.drop === true;
    if (this.active) throw new PcapTraceError("capture already enabled: 'pcap trace off' first", 'EALREADY');
    if (!rx && !tx && !drop) throw new PcapTraceError('nothing to capture: give rx, tx and/or drop');
    const max = options.max ?? DEFAULT_MAX;
    if (!Number.isInteger(max) || max < 1) throw new PcapTraceError(`bad max ${max} (expected a number >= 1)`);
    const maxBytes = options.maxBytesPerPacket ?? DEFAULT_MAX_BYTES;
    if (!Number.isInteger(maxBytes) || maxBytes < 32 || maxBytes > 9000) {
      throw new PcapTraceError(`bad max-bytes-per-pkt ${maxBytes} (expected 32..9000)`);
    }
    const file = options.file ?? `${rx ? 'rx' : ''}${tx ? 'tx' : ''}${drop ? 'drop' : ''}.pcap`;
    if (file.length === 0 || file.includes('/') || file === '.' || file === '..') {
      throw new PcapTraceError(`bad file name '${file}': give a name without '/', the file goes to ${this.directory}`);
    }
    const path = `${this.directory.replace(/\/+$/, '')}/${file}`;
    let writer: PcapWriter;
    try {
      writer = PcapWriter.open(path, { snapLength: maxBytes, maxPackets: max });
    } catch (error) {
      throw new PcapTraceError(`cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`, 'EIO');
    }
    this.writer = writer;
    this.path = path;
    this.captured = 0;
    this.max = max;
    this.maxBytesPerPacket = maxBytes;
    this.swIfIndex = options.swIfIndex ?? ANY_INTERFACE;
    this.rxEnabled = rx;
    this.txEnabled = tx;
    this.dropEnabled = drop;
    this.vnet.vm.wake();
    return path;
  }

  /** Stops the capture and closes its file; refused (ENOENT) when none runs. */
  stop(): PcapTraceResult {
    if (!this.active) throw new PcapTraceError('capture already disabled', 'ENOENT');
    this.rxEnabled = false;
    this.txEnabled = false;
    this.dropEnabled = false;
    const writer = this.writer;
    this.writer = null;
    writer?.close();
    return { captured: this.captured, path: this.path };
  }

  /** Records one packet (the whole chain, cut to maxBytesPerPacket); false once `max` are in. */
  capture(pool: BufferPool, bi: number): boolean {
    const writer = this.writer;
    if (writer === null || this.captured >= this.max) return false;
    let ok: boolean;
    if ((pool.flags[bi] & BufferFlag.NEXT_PRESENT) === 0) {
      ok = writer.write(pool.bytes, pool.current[bi], pool.length[bi]);
    } else {
      // Chained packets are rare (larger than a buffer): copy them out whole.
      const data = pool.toBytes(bi);
      ok = writer.write(data, 0, data.length);
    }
    if (ok) this.captured++;
    return ok;
  }

  /** Records `n` packets of a frame that passes on interface `sw` (rx or tx), if it matches. */
  captureFrame(pool: BufferPool, buffers: Uint32Array, n: number, sw: number): void {
    if (!this.matches(sw)) return;
    for (let i = 0; i < n; i++) if (!this.capture(pool, buffers[i])) return;
  }

  private captureDrops(pool: BufferPool, buffers: Uint32Array, n: number): void {
    const rx = pool.rxInterface;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      if (this.matches(rx[bi]) && !this.capture(pool, bi)) return;
    }
  }

  /** Hands buffered records to the file (the engine calls this whenever it is idle). */
  flush(): void {
    this.writer?.flush();
  }

  /** `pcap trace status` lines. */
  status(interfaceName: (sw: number) => string): string[] {
    if (!this.active) return ['pcap capture disabled'];
    const kinds = [this.rxEnabled ? 'rx' : '', this.txEnabled ? 'tx' : '', this.dropEnabled ? 'drop' : ''].filter((k) => k !== '');
    const where = this.swIfIndex === ANY_INTERFACE ? 'any interface' : `interface ${interfaceName(this.swIfIndex)}`;
    return [
      `max is ${this.max}, for ${where} to file ${this.path}`,
      `pcap ${kinds.join(' and ')} capture is on: ${this.captured} of ${this.max} pkts...`,
    ];
  }
}
