// The nsim plugin's state per engine (VPP's nsim_main_t): the simulator's configuration,
// the seeded random source, and per interface with the output feature on, the ring of
// packets held back until their release time. The actions the CLI and the API share live
// here: `configure` (`set nsim`), `enableDisable` (`nsim output-feature enable-disable`),
// and what `show nsim` prints. The node `nsim-output-feature` decides per packet and calls
// `hold`; the input node `nsim-wheel` calls `release` to send held packets on, woken by an
// engine timer at the earliest release time (or at once, by interrupt, when one is due).
//
// The link model per interface: a packet offered at `now` starts on the wire when the link
// is free, takes size·8/bandwidth to serialise (no bandwidth: no time), and arrives `delay`
// later. Release times in a ring never go down (a later packet never leaves before an
// earlier one), so the ring is FIFO and releasing is popping its head. A ring's size comes
// from delay × bandwidth / packet-size as VPP sizes its wheel, plus a frame; a packet that
// finds it full is dropped and counted ("Packets dropped due to lack of space").

import { BufferFlag, FRAME_SIZE, NONE, OPAQUE_WORDS, type BufferPool, type Engine, type NodeRuntime } from '../../src/index.ts';
import { formatRate, formatTime, MAX_DELAY_NS, MAX_RATE_BPS } from './nsim-parse.ts';
import { Random, U31_RANGE } from './random.ts';

/** VPP's names: the output feature node, the input node that releases held packets, and the arc. */
export const NSIM_NODE = 'nsim-output-feature';
export const NSIM_WHEEL_NODE = 'nsim-wheel';
export const NSIM_ARC = 'interface-output';

/** VPP's default average packet size for sizing the ring. */
export const DEFAULT_PACKET_SIZE = 1500;
/** Ring slots per interface when no bandwidth is given (delay × bandwidth cannot size it). */
export const DEFAULT_RING_SLOTS = 4096;
/** How close to a release the wheel is polled every turn instead of waiting on a timer: one timer tick. */
const SPIN_NS = 1e6;

export class NsimError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EINVAL') {
    super(message);
    this.name = 'NsimError';
    this.code = code;
  }
}

/** What `set nsim` sets. Every `set nsim` replaces the whole configuration, as in VPP. */
export interface NsimConfig {
  /** One-way delay in nanoseconds (0: none). */
  readonly delayNs: number;
  /** Link rate in bits per second (0: no pacing). */
  readonly bandwidthBps: number;
  /** Average packet size in bytes (64 … 9000), for sizing the ring. */
  readonly packetSize: number;
  readonly dropFraction: number;
  readonly reorderFraction: number;
  readonly duplicateFraction: number;
  /** Seed of the random source (0 … 2^32−1). */
  readonly seed: number;
}

/** `configure`'s argument: a delay, everything else optional (defaults: none, 1500, a random seed). */
export type NsimSettings = Pick<NsimConfig, 'delayNs'> & Partial<NsimConfig>;

/** Packets held back on one interface: a FIFO of (buffer, release time, next index). */
export class HeldRing {
  buffers: Uint32Array;
  /** Release time in engine nanoseconds (vm.turnTimeNs's clock). */
  release: Float64Array;
  /** Next index (of nsim-output-feature and its sibling nsim-wheel) on along the feature arc. */
  nexts: Uint16Array;
  size: number;
  head = 0;
  count = 0;
  /** Release time of the newest entry: none after it may leave earlier. Starts as a double. */
  lastRelease = 0.5;
  /** When the simulated link is done with what it has been given (pacing). */
  linkFreeNs = 0.5;
  /** Most packets held at once. */
  highWater = 0;
  /** The output feature is on (a disabled interface's ring still drains). */
  enabled = false;
  /** In the engine's list of rings the wheel looks at. */
  listed = false;

  constructor(readonly swIfIndex: number, size: number) {
    this.size = size;
    this.buffers = new Uint32Array(size);
    this.release = new Float64Array(size);
    this.nexts = new Uint16Array(size);
    this.lastRelease = 0;
    this.linkFreeNs = 0;
  }

  /** Gives the ring `size` slots, keeping what it holds (never fewer slots than it holds). */
  resize(size: number): void {
    const slots = Math.max(size, this.count);
    if (slots === this.size) return;
    const buffers = new Uint32Array(slots);
    const release = new Float64Array(slots);
    const nexts = new Uint16Array(slots);
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) % this.size;
      buffers[i] = this.buffers[at];
      release[i] = this.release[at];
      nexts[i] = this.nexts[at];
    }
    this.buffers = buffers;
    this.release = release;
    this.nexts = nexts;
    this.size = slots;
    this.head = 0;
  }
}

/** Slots per interface for a configuration (VPP: delay × bandwidth / 8 / packet-size + 1), bounded by the pool. */
export function ringSlots(config: NsimConfig, poolBuffers: number): number {
  const wanted =
    config.bandwidthBps > 0
      ? Math.ceil((config.delayNs * 1e-9 * config.bandwidthBps) / 8 / config.packetSize) + FRAME_SIZE
      : DEFAULT_RING_SLOTS;
  // A quarter of the pool per interface at most: the simulator must not starve the engine.
  return Math.min(wanted, Math.max(FRAME_SIZE, Math.floor(poolBuffers / 4)));
}

function checkConfig(settings: NsimSettings): NsimConfig {
  const config: NsimConfig = {
    delayNs: settings.delayNs,
    bandwidthBps: settings.bandwidthBps ?? 0,
    packetSize: settings.packetSize ?? DEFAULT_PACKET_SIZE,
    dropFraction: settings.dropFraction ?? 0,
    reorderFraction: settings.reorderFraction ?? 0,
    duplicateFraction: settings.duplicateFraction ?? 0,
    seed: settings.seed ?? Math.floor(Math.random() * 2 ** 32),
  };
  if (!(config.delayNs >= 0 && config.delayNs <= MAX_DELAY_NS)) throw new NsimError(`invalid delay ${config.delayNs} ns (expected 0 … 60 s)`);
  if (!(config.bandwidthBps >= 0 && config.bandwidthBps <= MAX_RATE_BPS)) throw new NsimError(`invalid bandwidth ${config.bandwidthBps} bit/s (expected 0 for none, or up to 10 tbit)`);
  if (!(Number.isInteger(config.packetSize) && config.packetSize >= 64 && config.packetSize <= 9000)) {
    throw new NsimError(`invalid packet size ${config.packetSize} (expected 64 … 9000)`);
  }
  for (const [name, value] of [
    ['drop', config.dropFraction],
    ['reorder', config.reorderFraction],
    ['duplicate', config.duplicateFraction],
  ] as const) {
    if (!(value >= 0 && value <= 1)) throw new NsimError(`invalid ${name} fraction ${value} (expected 0 … 1)`);
  }
  if (config.reorderFraction > 0 && config.delayNs === 0 && config.bandwidthBps === 0) {
    // VPP refuses a reorder fraction without a delay: nothing is held, so nothing can be overtaken.
    throw new NsimError(`invalid reorder fraction ${config.reorderFraction} for delay 0 without a bandwidth: nothing is held to be overtaken`);
  }
  if (!(Number.isInteger(config.seed) && config.seed >= 0 && config.seed <= 0xffffffff)) throw new NsimError(`invalid seed ${config.seed} (expected 0 … 4294967295)`);
  return config;
}

export class NsimMain {
  config: NsimConfig | null = null;
  readonly random = new Random(0);
  /** Per sw_if_index: its ring, or null (dense, so the node's lookup is one bounds check and a load). */
  rings: (HeldRing | null)[] = [];
  /** Slots of every ring under the current configuration. */
  slots = 0;

  // Hot copies of the configuration for the node. Thresholds and times start as doubles: a
  // later Smi → double change of field representation would deoptimise the node.
  delayNs = 0.5;
  /** Nanoseconds a byte takes on the link: 8e9 / bandwidth; 0 without pacing. */
  nsPerByte = 0.5;
  /** The fractions as thresholds for `random.nextU31()`: fraction × 2^31 (0: never drawn). */
  dropThreshold = 0.5;
  reorderThreshold = 0.5;
  duplicateThreshold = 0.5;
  /** Neither delay nor bandwidth: packets pass at once unless something is held before them. */
  passThrough = true;

  // The data path's times live in fields, not arguments: a double passed to (or returned
  // from) a call V8 does not inline is boxed in a new HeapNumber — 32 bytes a frame, measured,
  // when the wake-up took them as arguments.
  /** The turn's time, set by the node before it calls `hold`. */
  nowNs = 0.5;
  /** Earliest release queued by `hold` since the last `wakeUp` (Infinity: none). */
  earliestNs = Infinity;

  /** sw_if_index of the rings that hold packets (the wheel's work list), first `activeCount` valid. */
  private active = new Int32Array(16);
  private activeCount = 0;
  /** Where the wheel starts its next round (so one busy interface cannot starve another). */
  private cursor = 0;
  private wheelNode: NodeRuntime | null = null;
  /** The wheel has been interrupted and will run next turn. */
  private pollPending = false;
  /** When the wheel's timer fires (Infinity: no timer). */
  private wakeAtNs = Infinity;
  private timer = -1;
  private readonly onTimer = (): void => {
    this.timer = -1;
    this.wakeAtNs = Infinity;
    this.interruptWheel();
  };

  constructor(readonly vm: Engine) {
    this.nowNs = 0;
    this.delayNs = 0;
    this.nsPerByte = 0;
    this.dropThreshold = 0;
    this.reorderThreshold = 0;
    this.duplicateThreshold = 0;
  }

  // ------------------------------------------------------------------ actions

  /** `set nsim …`: checks everything, then replaces the configuration, reseeds, resizes the rings. */
  configure(settings: NsimSettings): NsimConfig {
    const config = checkConfig(settings);
    this.config = config;
    this.random.seed(config.seed);
    this.slots = ringSlots(config, this.vm.pool.count);
    for (const ring of this.rings) ring?.resize(this.slots);
    this.delayNs = config.delayNs;
    this.nsPerByte = config.bandwidthBps > 0 ? 8e9 / config.bandwidthBps : 0;
    this.dropThreshold = config.dropFraction * U31_RANGE;
    this.reorderThreshold = config.reorderFraction * U31_RANGE;
    this.duplicateThreshold = config.duplicateFraction * U31_RANGE;
    this.passThrough = config.delayNs === 0 && config.bandwidthBps === 0;
    return config;
  }

  /** `nsim output-feature enable-disable <if> [disable]` (idempotent, as in VPP). */
  enableDisable(swIfIndex: number, enable: boolean): void {
    if (this.config === null) throw new NsimError("Not configured, please 'set nsim' first", 'ENOTCONN');
    const ifs = this.vm.vnet.interfaces;
    if (!(swIfIndex >= 0 && swIfIndex < ifs.count && ifs.exists[swIfIndex] === 1)) throw new NsimError(`no interface with sw_if_index ${swIfIndex}`, 'ENODEV');
    while (this.rings.length <= swIfIndex) this.rings.push(null);
    let ring = this.rings[swIfIndex];
    if (enable && ring === null) this.rings[swIfIndex] = ring = new HeldRing(swIfIndex, this.slots);
    this.vm.features.enable(NSIM_ARC, NSIM_NODE, swIfIndex, enable);
    // A disabled interface keeps its ring: what it holds still leaves at its time.
    if (ring !== null) ring.enabled = enable;
  }

  /** Packets held now, all interfaces. */
  held(): number {
    let n = 0;
    for (const ring of this.rings) if (ring !== null) n += ring.count;
    return n;
  }

  /** Interfaces with a ring (enabled now or before), in sw_if_index order. */
  ringList(): HeldRing[] {
    return this.rings.filter((ring): ring is HeldRing => ring !== null);
  }

  // ------------------------------------------------------------------ data path

  /**
   * Queues `bi` (of `bytes` bytes, going on through next `next`) on `ring` at the link's
   * pace and delay, offered at `nowNs`; false when the ring is full (nothing changed).
   * Keeps `earliestNs` for the `wakeUp` that follows.
   */
  hold(ring: HeldRing, bi: number, next: number, bytes: number): boolean {
    const count = ring.count;
    if (count === ring.size) return false;
    const now = this.nowNs;
    let release = now;
    const nsPerByte = this.nsPerByte;
    if (nsPerByte > 0) {
      // Serialisation: the packet starts when the link is free and takes size·8/bandwidth.
      const start = ring.linkFreeNs > now ? ring.linkFreeNs : now;
      release = start + bytes * nsPerByte;
      ring.linkFreeNs = release;
    }
    release += this.delayNs;
    // FIFO: after a reconfiguration to a shorter delay, newer packets wait for older ones.
    if (release < ring.lastRelease) release = ring.lastRelease;
    ring.lastRelease = release;
    let tail = ring.head + count;
    if (tail >= ring.size) tail -= ring.size;
    ring.buffers[tail] = bi;
    ring.release[tail] = release;
    ring.nexts[tail] = next;
    ring.count = count + 1;
    if (count + 1 > ring.highWater) ring.highWater = count + 1;
    if (!ring.listed) this.list(ring);
    if (release < this.earliestNs) this.earliestNs = release;
    return true;
  }

  /**
   * A copy of the packet at `bi` — its whole buffer chain, the data at the same place in
   * each buffer, and its metadata (offsets moved with the data, the feature arc's words
   * included, so the copy continues where the original does) — or NONE when the pool is
   * short (nothing is leaked). The copy is never traced.
   */
  copyPacket(pool: BufferPool, bi: number): number {
    const first = pool.allocOne();
    if (first === NONE) return NONE;
    const bytes = pool.bytes;
    const current = pool.current;
    const length = pool.length;
    const flags = pool.flags;
    const nextBuffer = pool.nextBuffer;
    const stride = pool.stride;
    let from = bi;
    let to = first;
    for (;;) {
      const at = to * stride + (current[from] - from * stride);
      bytes.copyWithin(at, current[from], current[from] + length[from]);
      current[to] = at;
      length[to] = length[from];
      flags[to] = flags[from] & ~(BufferFlag.TRACED | BufferFlag.NEXT_PRESENT | BufferFlag.FREE);
      if ((flags[from] & BufferFlag.NEXT_PRESENT) === 0) break;
      const next = pool.allocOne();
      if (next === NONE) {
        pool.freeChain(first);
        return NONE;
      }
      nextBuffer[to] = next;
      flags[to] |= BufferFlag.NEXT_PRESENT;
      from = nextBuffer[from];
      to = next;
    }
    const shift = (first - bi) * stride;
    pool.chainRest[first] = pool.chainRest[bi];
    pool.rxInterface[first] = pool.rxInterface[bi];
    pool.txInterface[first] = pool.txInterface[bi];
    pool.error[first] = pool.error[bi];
    pool.l2Offset[first] = pool.l2Offset[bi] + shift;
    pool.l3Offset[first] = pool.l3Offset[bi] + shift;
    pool.opaque.copyWithin(first * OPAQUE_WORDS, bi * OPAQUE_WORDS, (bi + 1) * OPAQUE_WORDS);
    return first;
  }

  /**
   * The wheel: moves held packets whose release time has come by this turn (at most `max`,
   * in release order per interface) into `buffers`/`nexts`, and sets the wake-up for the rest.
   */
  release(buffers: Uint32Array, nexts: Uint16Array, max: number): number {
    this.pollPending = false;
    const now = this.vm.turnTimeNs;
    this.nowNs = now;
    const rings = this.rings;
    const active = this.active;
    const count = this.activeCount;
    let m = 0;
    let earliest = Infinity;
    const start = this.cursor < count ? this.cursor : 0;
    for (let j = 0; j < count; j++) {
      let slot = start + j;
      if (slot >= count) slot -= count;
      const ring = rings[active[slot]]!;
      const ringBuffers = ring.buffers;
      const release = ring.release;
      const ringNexts = ring.nexts;
      const size = ring.size;
      let head = ring.head;
      let held = ring.count;
      while (held > 0 && m < max && release[head] <= now) {
        buffers[m] = ringBuffers[head];
        nexts[m] = ringNexts[head];
        m++;
        held--;
        if (++head === size) head = 0;
      }
      ring.head = head;
      ring.count = held;
      if (held > 0 && release[head] < earliest) earliest = release[head];
    }
    // Drop the rings that are empty now from the work list.
    let kept = 0;
    for (let j = 0; j < count; j++) {
      const ring = rings[active[j]]!;
      if (ring.count > 0) active[kept++] = active[j];
      else ring.listed = false;
    }
    this.activeCount = kept;
    this.cursor = kept > 0 ? (start + 1) % kept : 0;
    if (earliest < this.earliestNs) this.earliestNs = earliest;
    if (this.earliestNs !== Infinity) this.wakeUp();
    return m;
  }

  /**
   * Has the wheel run when the earliest held packet (`earliestNs`, offered at `nowNs`) is
   * due, and forgets `earliestNs`. Within a timer tick of it, the
   * wheel is polled every turn (as VPP's nsim-wheel always is); further off, an engine
   * timer wakes it a tick early. Timers alone would round every release up to the next
   * millisecond tick and the engine's sleep (a Node timer) adds its own: one packet through
   * pg0 → nsim (`delay 1 ms`) → pg1 took 2.65 ms (median of 40) that way, against 1.1 ms
   * with the polled last tick (same loaded machine, load average 4.5).
   */
  wakeUp(): void {
    const dueNs = this.earliestNs;
    const now = this.nowNs;
    this.earliestNs = Infinity;
    if (this.pollPending) return;
    if (dueNs - now <= SPIN_NS) {
      this.interruptWheel();
      return;
    }
    const wakeNs = dueNs - SPIN_NS;
    if (wakeNs >= this.wakeAtNs) return; // a timer fires no later than that already
    const vm = this.vm;
    if (this.timer >= 0) vm.stopTimer(this.timer);
    this.wakeAtNs = wakeNs;
    // Timers count from the wheel's last advance; from there, the delay that reaches wakeNs.
    const delayMs = wakeNs / 1e6 - vm.timers.nowMs;
    this.timer = vm.startTimer(delayMs > 0 ? delayMs : 0, this.onTimer);
  }

  private interruptWheel(): void {
    let wheel = this.wheelNode;
    if (wheel === null) {
      wheel = this.vm.node(NSIM_WHEEL_NODE) ?? null;
      if (wheel === null) return;
      this.wheelNode = wheel;
    }
    this.pollPending = true;
    this.vm.interrupt(wheel);
  }

  private list(ring: HeldRing): void {
    if (this.activeCount === this.active.length) {
      const grown = new Int32Array(this.active.length * 2);
      grown.set(this.active);
      this.active = grown;
    }
    this.active[this.activeCount++] = ring.swIfIndex;
    ring.listed = true;
  }

  // ------------------------------------------------------------------ show

  /** VPP's format_nsim_config, plus the seed, duplicates and the ring size. */
  formatConfig(): string[] {
    const c = this.config;
    if (c === null) return [];
    const fraction = (f: number): string => (f === 0 ? '0' : f.toFixed(5));
    return [
      'configuration',
      ` delay (ms): ${(c.delayNs / 1e6).toFixed(2)}`,
      ` drop fraction: ${fraction(c.dropFraction)}`,
      ` reorder fraction: ${fraction(c.reorderFraction)}`,
      ` duplicate fraction: ${fraction(c.duplicateFraction)}`,
      ` packet size: ${c.packetSize}`,
      c.bandwidthBps > 0 ? ` throughput (Gbps): ${(c.bandwidthBps / 1e9).toFixed(2)}` : ' throughput: unlimited',
      ` seed: ${c.seed}`,
      ` ring: ${this.slots} packets per interface`,
    ];
  }

  /** The configuration in the CLI's own words (`delay 1 ms bandwidth 10 gbit …`). */
  formatSettings(): string {
    const c = this.config;
    if (c === null) return '';
    const parts = [`delay ${formatTime(c.delayNs)}`];
    if (c.bandwidthBps > 0) parts.push(`bandwidth ${formatRate(c.bandwidthBps)}`);
    parts.push(`packet-size ${c.packetSize}`);
    if (c.dropFraction > 0) parts.push(`drop-fraction ${c.dropFraction}`);
    if (c.reorderFraction > 0) parts.push(`reorder-fraction ${c.reorderFraction}`);
    if (c.duplicateFraction > 0) parts.push(`duplicate-fraction ${c.duplicateFraction}`);
    parts.push(`seed ${c.seed}`);
    return parts.join(' ');
  }
}

const mains = new WeakMap<Engine, NsimMain>();

/** The engine's nsim state (made on first use). */
export function nsimMain(vm: Engine): NsimMain {
  let main = mains.get(vm);
  if (main === undefined) mains.set(vm, (main = new NsimMain(vm)));
  return main;
}
