// The timer wheel: the engine's timers (TCP retransmit, delayed ACK, keepalive, ARP
// retries …), after VPP's tw_timer. It owns the timers' storage and their expiry order;
// callers own what a timer means, through a number they pass in (`userHandle`).
//
// Time is cut into ticks of `tickMs`. A timer expires at tick E = ceil(deadline / tickMs),
// and `advance(now)` fires every timer with E ≤ floor(now / tickMs): never early, and late
// by less than one tick. Four levels of 256 slots cover 2^32 ticks: with n the next tick to
// process, a timer sits on the lowest level L whose 256^(L+1)-tick block holds both E and n,
// in slot (E / 256^L) mod 256. Level 0 slots therefore hold exact ticks; when n enters a new
// 256^L block the level-L slot for that block is cascaded down a level or more (at most four
// moves per timer). Timers beyond n's 2^32-tick block wait in an overflow list that is
// re-examined each time n crosses into the next such block.
//
// `advance` never walks tick by tick: a 256-bit occupancy map per level finds the next
// non-empty slot, so a jump of 2^31 ticks costs as much as the timers it meets.
//
// Storage is a struct-of-arrays pool of typed arrays with a free list, and per-slot doubly
// linked lists by index: start, stop and update are O(1) and allocate nothing once the
// pool has grown. A handle is `generation << 21 | index`, a positive 31-bit integer (so
// never 0, which callers may use for "no timer"); the generation moves on when a timer
// stops or fires, so a stale handle is recognised and ignored.

export type TimerErrorCode =
  /** A delay, time or option that is not a finite number in range. */
  | 'EINVAL'
  /** More than 2^21 timers running at once. */
  | 'ENOSPC'
  /** `advance` called from inside its own callback. */
  | 'EBUSY';

export class TimerError extends Error {
  override readonly name = 'TimerError';
  readonly code: TimerErrorCode;
  constructor(code: TimerErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface TimerWheelOptions {
  /** Length of one tick in ms; default 1. */
  tickMs?: number;
  /** The current time in ms (the clock later passed to `advance`); default 0. */
  now?: number;
  /** Timers the pool holds before it first grows; default 1024. */
  capacity?: number;
}

const SLOT_BITS = 8;
const SLOTS = 1 << SLOT_BITS;
const LEVELS = 4;
/** List ids: level L slot s is list L·256 + s; the overflow list comes after them. */
const OVERFLOW = LEVELS * SLOTS;
const LIST_COUNT = OVERFLOW + 1;
const BITMAP_WORDS = SLOTS / 32;
const TWO_POW_32 = 4294967296;
const INDEX_BITS = 21;
const INDEX_MASK = (1 << INDEX_BITS) - 1;
const MAX_TIMERS = 1 << INDEX_BITS;
const GENERATION_MAX = (1 << (31 - INDEX_BITS)) - 1;
/** Keeps every expiry tick (now + delay, in ticks) an exact integer below 2^53. */
const MAX_DELAY_MS = 2 ** 48;
const NONE = -1;

export class TimerWheel {
  readonly tickMs: number;
  /** The clock of the latest `advance` (or the constructor): delays count from here. */
  private currentMs: number;
  /** n: the next tick to process. Every timer's expiry tick is ≥ n. */
  private nextTick: number;
  /** New timers expire no earlier than this tick: n, or past the running advance's target. */
  private floorTick: number;
  private advancing = false;
  private count = 0;
  /** Exact earliest expiry tick, or NaN when it must be recomputed. */
  private cachedExpiryTick = Infinity;

  // The pool, indexed by timer index.
  private capacity: number;
  private used = 0;
  private freeHead = NONE;
  private nextLink: Int32Array;
  private previousLink: Int32Array;
  /** The list the timer is on, NONE when free. */
  private listOf: Int32Array;
  private expiryTick: Float64Array;
  private userHandles: Float64Array;
  private generation: Uint16Array;

  // The lists.
  private readonly heads = new Int32Array(LIST_COUNT).fill(NONE);
  private readonly tails = new Int32Array(LIST_COUNT).fill(NONE);
  /** One bit per slot per level: set when the slot's list is not empty. */
  private readonly occupied = new Uint32Array(LEVELS * BITMAP_WORDS);

  constructor(options: TimerWheelOptions = {}) {
    const tickMs = options.tickMs ?? 1;
    const now = options.now ?? 0;
    const capacity = options.capacity ?? 1024;
    if (!(tickMs > 0 && Number.isFinite(tickMs))) throw new TimerError('EINVAL', `invalid timer wheel tickMs ${tickMs}: expected a positive number`);
    if (!(now >= 0 && Number.isFinite(now))) throw new TimerError('EINVAL', `invalid timer wheel now ${now}: expected a finite time ≥ 0 in ms`);
    if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= MAX_TIMERS)) {
      throw new TimerError('EINVAL', `invalid timer wheel capacity ${capacity}: expected 1..${MAX_TIMERS}`);
    }
    this.tickMs = tickMs;
    this.currentMs = now;
    this.nextTick = Math.floor(now / tickMs) + 1;
    this.floorTick = this.nextTick;
    this.capacity = capacity;
    this.nextLink = new Int32Array(capacity);
    this.previousLink = new Int32Array(capacity);
    this.listOf = new Int32Array(capacity);
    this.expiryTick = new Float64Array(capacity);
    this.userHandles = new Float64Array(capacity);
    this.generation = new Uint16Array(capacity);
  }

  /** Running timers. */
  get size(): number {
    return this.count;
  }

  /** The time of the latest `advance` (or the constructor's `now`). */
  get nowMs(): number {
    return this.currentMs;
  }

  /**
   * Starts a timer that fires `delayMs` after the latest `advance`'s time, reporting
   * `userHandle` to the callback. Started from inside a callback, even with delay 0, it
   * fires on a later `advance`, never the running one. Returns the timer handle.
   */
  start(delayMs: number, userHandle: number): number {
    const tick = this.expiryFor(delayMs);
    const i = this.allocate();
    this.expiryTick[i] = tick;
    this.userHandles[i] = userHandle;
    this.place(i, tick);
    // The first timer of an empty wheel makes the cache exact again.
    if (++this.count === 1 || tick < this.cachedExpiryTick) this.cachedExpiryTick = tick;
    return (this.generation[i] << INDEX_BITS) | i;
  }

  /** Stops a running timer. A stale handle (fired, stopped, or never issued) is ignored: returns false. */
  stop(handle: number): boolean {
    const i = this.indexOf(handle);
    if (i === NONE) return false;
    if (this.expiryTick[i] === this.cachedExpiryTick) this.cachedExpiryTick = NaN;
    this.unlink(i);
    this.release(i);
    this.count--;
    return true;
  }

  /** Moves a running timer to expire `delayMs` from now, keeping its handle. False for a stale handle. */
  update(handle: number, delayMs: number): boolean {
    const i = this.indexOf(handle);
    if (i === NONE) return false;
    const tick = this.expiryFor(delayMs);
    if (this.expiryTick[i] === this.cachedExpiryTick) this.cachedExpiryTick = NaN;
    this.unlink(i);
    this.expiryTick[i] = tick;
    this.place(i, tick);
    if (tick < this.cachedExpiryTick) this.cachedExpiryTick = tick;
    return true;
  }

  /** True while `handle` names a running timer. */
  isActive(handle: number): boolean {
    return this.indexOf(handle) !== NONE;
  }

  /**
   * Brings the wheel to time `nowMs` and calls `expired` once per timer due by then, in
   * order of expiry tick. Returns the number fired. A time earlier than the last one is
   * ignored. If a callback throws, the exception propagates; timers not yet fired stay due.
   */
  advance(nowMs: number, expired: (userHandle: number) => void): number {
    if (!Number.isFinite(nowMs)) throw new TimerError('EINVAL', `invalid time ${nowMs}: expected a finite number of ms`);
    if (this.advancing) throw new TimerError('EBUSY', 'TimerWheel.advance called from inside an expiry callback');
    if (nowMs > this.currentMs) this.currentMs = nowMs;
    const target = Math.floor(nowMs / this.tickMs);
    if (!(target >= this.nextTick)) return 0;
    this.floorTick = target + 1;
    if (this.count === 0) {
      this.nextTick = target + 1;
      return 0;
    }
    this.cachedExpiryTick = NaN;
    this.advancing = true;
    let fired = 0;
    try {
      for (;;) {
        const event = this.nextEventTick();
        if (event > target) break;
        fired += this.processTick(event, expired);
      }
      // No slot holds anything due in [n, target]: skipping there keeps every invariant.
      this.moveTo(target + 1);
    } finally {
      this.advancing = false;
    }
    return fired;
  }

  /**
   * The earliest time at which `advance` would fire a timer (exact: the expiry tick of the
   * first timer × tickMs), or Infinity when no timer runs. The engine may sleep until then.
   */
  nextExpiryMs(): number {
    if (this.count === 0) return Infinity;
    let tick = this.cachedExpiryTick;
    if (tick !== tick) {
      tick = this.findEarliestExpiry();
      this.cachedExpiryTick = tick;
    }
    return tick * this.tickMs;
  }

  // ---- internals ----

  private expiryFor(delayMs: number): number {
    if (!(delayMs >= 0 && delayMs <= MAX_DELAY_MS)) {
      throw new TimerError('EINVAL', `invalid timer delay ${delayMs}: expected 0..2^48 ms`);
    }
    const tick = Math.ceil((this.currentMs + delayMs) / this.tickMs);
    return tick < this.floorTick ? this.floorTick : tick;
  }

  private indexOf(handle: number): number {
    if (handle !== (handle | 0)) return NONE;
    const i = handle & INDEX_MASK;
    if (i >= this.used || this.listOf[i] === NONE || this.generation[i] !== handle >>> INDEX_BITS) return NONE;
    return i;
  }

  private allocate(): number {
    let i = this.freeHead;
    if (i !== NONE) {
      this.freeHead = this.nextLink[i];
      return i;
    }
    if (this.used === this.capacity) this.grow();
    i = this.used++;
    this.generation[i] = 1;
    return i;
  }

  private release(i: number): void {
    this.listOf[i] = NONE;
    const generation = this.generation[i];
    // Generations run 1..GENERATION_MAX so that no handle is 0.
    this.generation[i] = generation === GENERATION_MAX ? 1 : generation + 1;
    this.nextLink[i] = this.freeHead;
    this.freeHead = i;
  }

  private grow(): void {
    if (this.capacity === MAX_TIMERS) {
      throw new TimerError('ENOSPC', `timer wheel is full: ${MAX_TIMERS} timers running`);
    }
    const capacity = Math.min(this.capacity * 2, MAX_TIMERS);
    const nextLink = new Int32Array(capacity);
    nextLink.set(this.nextLink);
    this.nextLink = nextLink;
    const previousLink = new Int32Array(capacity);
    previousLink.set(this.previousLink);
    this.previousLink = previousLink;
    const listOf = new Int32Array(capacity);
    listOf.set(this.listOf);
    this.listOf = listOf;
    const expiryTick = new Float64Array(capacity);
    expiryTick.set(this.expiryTick);
    this.expiryTick = expiryTick;
    const userHandles = new Float64Array(capacity);
    userHandles.set(this.userHandles);
    this.userHandles = userHandles;
    const generation = new Uint16Array(capacity);
    generation.set(this.generation);
    this.generation = generation;
    this.capacity = capacity;
  }

  /** Puts timer i (expiry `tick` ≥ n) on its list, relative to n. */
  private place(i: number, tick: number): void {
    const n = this.nextTick;
    let list: number;
    if (Math.floor(tick / TWO_POW_32) !== Math.floor(n / TWO_POW_32)) {
      list = OVERFLOW;
    } else {
      // The low 32 bits (ToUint32 is exact modulo 2^32 for integers below 2^53). The
      // highest differing bit of tick and n names the level: bits 0–7 → 0, 8–15 → 1, …
      const tickLow = tick >>> 0;
      const differ = (tickLow ^ (n >>> 0)) >>> 0;
      const level = differ === 0 ? 0 : (31 - Math.clz32(differ)) >>> 3;
      list = (level << SLOT_BITS) | ((tickLow >>> (level * SLOT_BITS)) & (SLOTS - 1));
    }
    this.append(i, list);
  }

  private append(i: number, list: number): void {
    const tail = this.tails[list];
    this.previousLink[i] = tail;
    this.nextLink[i] = NONE;
    this.listOf[i] = list;
    if (tail === NONE) {
      this.heads[list] = i;
      if (list !== OVERFLOW) this.occupied[list >>> 5] |= 1 << (list & 31);
    } else {
      this.nextLink[tail] = i;
    }
    this.tails[list] = i;
  }

  private unlink(i: number): void {
    const list = this.listOf[i];
    const previous = this.previousLink[i];
    const next = this.nextLink[i];
    if (previous === NONE) this.heads[list] = next;
    else this.nextLink[previous] = next;
    if (next === NONE) this.tails[list] = previous;
    else this.previousLink[next] = previous;
    if (this.heads[list] === NONE && list !== OVERFLOW) this.occupied[list >>> 5] &= ~(1 << (list & 31));
  }

  /** First non-empty slot of `level` at or after `slot`, or -1. */
  private firstOccupied(level: number, slot: number): number {
    const occupied = this.occupied;
    const base = level * BITMAP_WORDS;
    let word = slot >>> 5;
    // Keep bits slot&31 and up of the first word.
    let bits = occupied[base + word] & (-1 << (slot & 31));
    while (bits === 0) {
      if (++word === BITMAP_WORDS) return -1;
      bits = occupied[base + word];
    }
    // Lowest set bit: x & -x isolates it, 31 - clz32 gives its position.
    return (word << 5) + 31 - Math.clz32(bits & -bits);
  }

  /**
   * The first tick ≥ n at which something happens: a level-0 slot's timers expire, or a
   * higher level's slot (or the overflow list) reaches the start of its block and cascades.
   * Infinity when no timer runs. Lower levels always come first: a level-L slot lies inside
   * n's 256^(L+1) block but past n's 256^L block, which holds all of level L-1. (A level-L
   * slot's own index at n is always empty: `moveTo` cascaded it.)
   */
  private nextEventTick(): number {
    const n = this.nextTick;
    const nLow = n >>> 0;
    const blockBase = n - nLow;
    for (let level = 0; level < LEVELS; level++) {
      const shift = level * SLOT_BITS;
      const slot = this.firstOccupied(level, (nLow >>> shift) & (SLOTS - 1));
      if (slot >= 0) {
        // Start of that slot's 256^level block inside n's 256^(level+1) block.
        const upper = Math.floor(nLow / 2 ** (shift + SLOT_BITS));
        return blockBase + (upper * SLOTS + slot) * 2 ** shift;
      }
    }
    if (this.heads[OVERFLOW] !== NONE) return blockBase + TWO_POW_32;
    return Infinity;
  }

  /**
   * Makes t the next tick to process and cascades every list whose block starts at t, top
   * level first, so that no list is ever left behind n: a slot at level L ≥ 1 always starts
   * after n, which is what lets `nextEventTick` and `findEarliestExpiry` stop at the
   * lowest non-empty level.
   */
  private moveTo(t: number): void {
    this.nextTick = t;
    const low = t >>> 0;
    if ((low & 0xff) !== 0) return;
    if (low === 0) this.cascade(OVERFLOW);
    if ((low & 0xffffff) === 0) this.cascade((3 << SLOT_BITS) | (low >>> 24));
    if ((low & 0xffff) === 0) this.cascade((2 << SLOT_BITS) | ((low >>> 16) & 0xff));
    this.cascade((1 << SLOT_BITS) | ((low >>> 8) & 0xff));
  }

  /** Processes tick e (the next event, ≥ n): cascades what starts at e, fires level 0's slot. */
  private processTick(e: number, expired: (userHandle: number) => void): number {
    // n itself was cascaded when it was set; a later event tick has not been yet.
    if (e !== this.nextTick) this.moveTo(e);
    const list = (e >>> 0) & 0xff;
    let fired = 0;
    // One at a time from the head, re-reading the lists after each callback: a callback may
    // stop a timer due in this same slot, or start timers (which may grow the pool).
    let i = this.heads[list];
    while (i !== NONE) {
      this.unlink(i);
      const userHandle = this.userHandles[i];
      this.release(i);
      this.count--;
      fired++;
      expired(userHandle);
      i = this.heads[list];
    }
    this.moveTo(e + 1);
    return fired;
  }

  /** Re-places every timer of `list` relative to n (none of them lands back on it). */
  private cascade(list: number): void {
    let i = this.heads[list];
    if (i === NONE) return;
    this.heads[list] = NONE;
    this.tails[list] = NONE;
    if (list !== OVERFLOW) this.occupied[list >>> 5] &= ~(1 << (list & 31));
    const nextLink = this.nextLink;
    const expiryTick = this.expiryTick;
    while (i !== NONE) {
      const next = nextLink[i];
      this.place(i, expiryTick[i]);
      i = next;
    }
  }

  /**
   * The exact earliest expiry tick: at level 0 the first event is an expiry; at a higher
   * level (or the overflow list) the earliest timer of that one list is the earliest of all.
   */
  private findEarliestExpiry(): number {
    const n = this.nextTick;
    const nLow = n >>> 0;
    for (let level = 0; level < LEVELS; level++) {
      const shift = level * SLOT_BITS;
      const slot = this.firstOccupied(level, (nLow >>> shift) & (SLOTS - 1));
      if (slot >= 0) {
        if (level === 0) return n - (nLow & 0xff) + slot;
        return this.earliestOn((level << SLOT_BITS) | slot);
      }
    }
    return this.earliestOn(OVERFLOW);
  }

  private earliestOn(list: number): number {
    let earliest = Infinity;
    for (let i = this.heads[list]; i !== NONE; i = this.nextLink[i]) {
      if (this.expiryTick[i] < earliest) earliest = this.expiryTick[i];
    }
    return earliest;
  }
}
