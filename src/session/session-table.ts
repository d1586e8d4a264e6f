// Session lookup (VPP's session_lookup over its bihash tables): established sessions by
// 5-tuple within a fib (VRF), and listeners by (fib, protocol, local address, local port)
// where local address 0 is the wildcard that catches every address of the fib. tcp4-input
// asks `lookupSession` first and `lookupListener` second for every segment, so both are
// allocation-free probes of an open-addressed hash table over typed arrays: keys as four u32
// words, linear probing, capacity a power of two kept at most half full (it doubles on the
// control path, when a session is added), deletion by backward shift so no tombstones slow
// later probes. A value is whatever index the owner chooses (a session index), ≥ 0.

export type SessionTableErrorCode = 'EADDRINUSE' | 'EEXIST' | 'EINVAL';

export class SessionTableError extends Error {
  override readonly name = 'SessionTableError';
  readonly code: SessionTableErrorCode;
  constructor(code: SessionTableErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const EMPTY = -1;
const MAX_FIB = (1 << 24) - 1;

/** An open-addressed map from four u32 words to a value ≥ 0. */
export class TupleHash {
  private capacity: number;
  private mask: number;
  private keys: Uint32Array;
  private values: Int32Array;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.keys = new Uint32Array(4 * capacity);
    this.values = new Int32Array(capacity).fill(EMPTY);
  }

  get size(): number {
    return this.count;
  }

  /** The value for the key, or −1. */
  get(k0: number, k1: number, k2: number, k3: number): number {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    // Stored words read back unsigned; compare against the same.
    const a = k0 >>> 0;
    const b = k1 >>> 0;
    const c = k2 >>> 0;
    const d = k3 >>> 0;
    let i = hash(a, b, c, d) & mask;
    for (;;) {
      const value = values[i];
      if (value === EMPTY) return EMPTY;
      const at = 4 * i;
      if (keys[at] === a && keys[at + 1] === b && keys[at + 2] === c && keys[at + 3] === d) return value;
      i = (i + 1) & mask;
    }
  }

  /** Adds or replaces; returns the previous value or −1. */
  set(k0: number, k1: number, k2: number, k3: number, value: number): number {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0x7fffffff)) {
      throw new SessionTableError('EINVAL', `invalid session table value ${value}: expected 0..2^31-1`);
    }
    if (2 * (this.count + 1) > this.capacity) this.grow();
    const keys = this.keys;
    const values = this.values;
    let i = hash(k0, k1, k2, k3) & this.mask;
    for (;;) {
      const at = 4 * i;
      if (values[i] === EMPTY) {
        keys[at] = k0;
        keys[at + 1] = k1;
        keys[at + 2] = k2;
        keys[at + 3] = k3;
        values[i] = value;
        this.count++;
        return EMPTY;
      }
      if (keys[at] === k0 >>> 0 && keys[at + 1] === k1 >>> 0 && keys[at + 2] === k2 >>> 0 && keys[at + 3] === k3 >>> 0) {
        const previous = values[i];
        values[i] = value;
        return previous;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Removes the key; returns its value or −1. */
  delete(k0: number, k1: number, k2: number, k3: number): number {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let i = hash(k0, k1, k2, k3) & mask;
    for (;;) {
      const value = values[i];
      if (value === EMPTY) return EMPTY;
      const at = 4 * i;
      if (keys[at] === k0 >>> 0 && keys[at + 1] === k1 >>> 0 && keys[at + 2] === k2 >>> 0 && keys[at + 3] === k3 >>> 0) break;
      i = (i + 1) & mask;
    }
    const removed = values[i];
    // Backward shift: pull later entries of the probe run into the hole when their home
    // slot does not lie cyclically in (hole, their slot].
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (values[j] === EMPTY) break;
      const home = hash(keys[4 * j], keys[4 * j + 1], keys[4 * j + 2], keys[4 * j + 3]) & mask;
      const distanceToHome = (j - home) & mask;
      const distanceToHole = (j - hole) & mask;
      if (distanceToHome >= distanceToHole) {
        keys.copyWithin(4 * hole, 4 * j, 4 * j + 4);
        values[hole] = values[j];
        hole = j;
      }
    }
    values[hole] = EMPTY;
    this.count--;
    return removed;
  }

  /** Every (key words, value), for show commands and tests. */
  entries(): { key: [number, number, number, number]; value: number }[] {
    const out: { key: [number, number, number, number]; value: number }[] = [];
    for (let i = 0; i < this.capacity; i++) {
      if (this.values[i] === EMPTY) continue;
      out.push({ key: [this.keys[4 * i], this.keys[4 * i + 1], this.keys[4 * i + 2], this.keys[4 * i + 3]], value: this.values[i] });
    }
    return out;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const oldCapacity = this.capacity;
    this.capacity *= 2;
    this.mask = this.capacity - 1;
    this.keys = new Uint32Array(4 * this.capacity);
    this.values = new Int32Array(this.capacity).fill(EMPTY);
    this.count = 0;
    for (let i = 0; i < oldCapacity; i++) {
      if (oldValues[i] !== EMPTY) this.set(oldKeys[4 * i], oldKeys[4 * i + 1], oldKeys[4 * i + 2], oldKeys[4 * i + 3], oldValues[i]);
    }
  }
}

/** murmur3's 32-bit finalizer over the four words, folded one after another. */
function hash(k0: number, k1: number, k2: number, k3: number): number {
  let h = Math.imul(k0 ^ 0x9e3779b9, 0xcc9e2d51);
  h = Math.imul((h << 13) | (h >>> 19), 5) ^ k1;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ k2;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ k3;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Word 0 of a key: fib index and IP protocol. */
function fibProtocol(fib: number, protocol: number): number {
  return ((fib << 8) | (protocol & 0xff)) >>> 0;
}

function checkFib(fib: number): void {
  if (!(Number.isInteger(fib) && fib >= 0 && fib <= MAX_FIB)) {
    throw new SessionTableError('EINVAL', `invalid fib index ${fib}: expected 0..${MAX_FIB}`);
  }
}

/** The session layer's two lookups for one thread. */
export class SessionLookup {
  readonly sessions: TupleHash;
  readonly listeners: TupleHash;

  constructor(capacity = 1024) {
    this.sessions = new TupleHash(capacity);
    this.listeners = new TupleHash(64);
  }

  /** Registers an established (or connecting) session; EEXIST if the 5-tuple is taken. */
  addSession(fib: number, protocol: number, localAddress: number, localPort: number, remoteAddress: number, remotePort: number, value: number): void {
    checkFib(fib);
    const k3 = ((localPort << 16) | (remotePort & 0xffff)) >>> 0;
    if (this.sessions.get(fibProtocol(fib, protocol), localAddress, remoteAddress, k3) >= 0) {
      throw new SessionTableError('EEXIST', `session ${formatTuple(protocol, localAddress, localPort, remoteAddress, remotePort)} already exists in fib ${fib}`);
    }
    this.sessions.set(fibProtocol(fib, protocol), localAddress, remoteAddress, k3, value);
  }

  /** The session for a packet arriving at localAddress:localPort from remoteAddress:remotePort, or −1. */
  lookupSession(fib: number, protocol: number, localAddress: number, localPort: number, remoteAddress: number, remotePort: number): number {
    return this.sessions.get(((fib << 8) | protocol) >>> 0, localAddress, remoteAddress, ((localPort << 16) | remotePort) >>> 0);
  }

  removeSession(fib: number, protocol: number, localAddress: number, localPort: number, remoteAddress: number, remotePort: number): boolean {
    return this.sessions.delete(fibProtocol(fib, protocol), localAddress, remoteAddress, ((localPort << 16) | (remotePort & 0xffff)) >>> 0) >= 0;
  }

  /** A listener on localAddress (0: every address of the fib) and port; EADDRINUSE if taken. */
  addListener(fib: number, protocol: number, localAddress: number, localPort: number, value: number): void {
    checkFib(fib);
    if (this.listeners.get(fibProtocol(fib, protocol), localAddress, 0, localPort & 0xffff) >= 0) {
      throw new SessionTableError('EADDRINUSE', `${formatEndpoint(protocol, localAddress, localPort)} is already listening in fib ${fib}`);
    }
    this.listeners.set(fibProtocol(fib, protocol), localAddress, 0, localPort & 0xffff, value);
  }

  /** The listener for a packet to localAddress:localPort: the exact address first, then the wildcard; −1 for none. */
  lookupListener(fib: number, protocol: number, localAddress: number, localPort: number): number {
    const k0 = ((fib << 8) | protocol) >>> 0;
    const exact = this.listeners.get(k0, localAddress, 0, localPort);
    return exact >= 0 ? exact : this.listeners.get(k0, 0, 0, localPort);
  }

  removeListener(fib: number, protocol: number, localAddress: number, localPort: number): boolean {
    return this.listeners.delete(fibProtocol(fib, protocol), localAddress, 0, localPort & 0xffff) >= 0;
  }
}

function formatAddress(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

function protocolName(protocol: number): string {
  return protocol === 6 ? 'tcp' : protocol === 17 ? 'udp' : `proto ${protocol}`;
}

function formatEndpoint(protocol: number, address: number, port: number): string {
  return `${protocolName(protocol)} ${formatAddress(address)}:${port}`;
}

function formatTuple(protocol: number, localAddress: number, localPort: number, remoteAddress: number, remotePort: number): string {
  return `${formatEndpoint(protocol, localAddress, localPort)}->${formatAddress(remoteAddress)}:${remotePort}`;
}
