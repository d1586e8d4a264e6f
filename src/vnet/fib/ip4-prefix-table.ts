// The authoritative IPv4 prefix table of one FIB (VRF), as VPP's ip4_fib keeps beside its
// mtrie: one exact-match map per prefix length (0..32, keyed by the masked address) says
// which prefixes exist and what they map to; the mtrie (ip4-mtrie.ts) is the lookup copy
// the data path reads, kept in step on every change. On delete the table finds the
// covering prefix — the longest shorter prefix that contains the deleted one, or the
// table's default — and hands it to the mtrie, which is how VPP's ip4_fib_table_entry_remove
// drives ip4_mtrie_16_route_del. Control path only; per packet, use `lookup` or `mtrie`.

import { ip4Mask } from '../../wire/address.ts';
import { FibError, Ip4Mtrie, IP4_MTRIE_MAX_VALUE } from './ip4-mtrie.ts';

export interface Ip4Route {
  readonly address: number;
  readonly length: number;
  readonly value: number;
}

function checkAddress(address: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
    throw new FibError('EINVAL', `bad IPv4 address ${address}: expected an integer 0..4294967295`);
  }
}

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 32) {
    throw new FibError('EINVAL', `bad prefix length ${length}: expected an integer 0..32`);
  }
}

export class Ip4PrefixTable {
  /** The lookup copy; nodes may hoist it and call `mtrie.lookup` per packet. */
  readonly mtrie: Ip4Mtrie;
  /** The value `lookup` returns when no prefix matches. */
  readonly defaultValue: number;
  /** byLength[l]: masked address → value, for the prefixes of length l. */
  private readonly byLength: Map<number, number>[] = [];
  private count = 0;

  constructor(defaultValue: number) {
    if (!Number.isInteger(defaultValue) || defaultValue < 0 || defaultValue > IP4_MTRIE_MAX_VALUE) {
      throw new FibError('EINVAL', `bad default value ${defaultValue}: expected an integer 0..${IP4_MTRIE_MAX_VALUE}`);
    }
    this.defaultValue = defaultValue;
    this.mtrie = new Ip4Mtrie(defaultValue);
    for (let length = 0; length <= 32; length++) this.byLength.push(new Map());
  }

  /** Number of prefixes in the table. */
  get size(): number {
    return this.count;
  }

  /** Adds or replaces `address/length` → `value` (0..2^31-1); host bits are cleared. */
  set(address: number, length: number, value: number): void {
    checkAddress(address);
    checkLength(length);
    if (!Number.isInteger(value) || value < 0 || value > IP4_MTRIE_MAX_VALUE) {
      throw new FibError('EINVAL', `bad value ${value}: expected an integer 0..${IP4_MTRIE_MAX_VALUE}`);
    }
    const key = (address & ip4Mask(length)) >>> 0;
    const map = this.byLength[length];
    if (!map.has(key)) this.count++;
    map.set(key, value);
    this.mtrie.add(key, length, value);
  }

  /** Removes `address/length` (host bits cleared); false when it was not there. */
  delete(address: number, length: number): boolean {
    checkAddress(address);
    checkLength(length);
    const key = (address & ip4Mask(length)) >>> 0;
    if (!this.byLength[length].delete(key)) return false;
    this.count--;
    let coveringValue = this.defaultValue;
    let coveringLength = 0;
    for (let shorter = length - 1; shorter >= 0; shorter--) {
      const value = this.byLength[shorter].get((key & ip4Mask(shorter)) >>> 0);
      if (value !== undefined) {
        coveringValue = value;
        coveringLength = shorter;
        break;
      }
    }
    this.mtrie.remove(key, length, coveringValue, coveringLength);
    return true;
  }

  /** The value of exactly `address/length` (host bits cleared), if present. */
  get(address: number, length: number): number | undefined {
    checkAddress(address);
    checkLength(length);
    return this.byLength[length].get((address & ip4Mask(length)) >>> 0);
  }

  /** The longest prefix containing `address`, from the maps (control path). */
  longestMatch(address: number): Ip4Route | undefined {
    checkAddress(address);
    for (let length = 32; length >= 0; length--) {
      const key = (address & ip4Mask(length)) >>> 0;
      const value = this.byLength[length].get(key);
      if (value !== undefined) return { address: key, length, value };
    }
    return undefined;
  }

  /** The value of the longest prefix matching `address`, or the default: the mtrie's answer. */
  lookup(address: number): number {
    return this.mtrie.lookup(address);
  }

  /** Every prefix, sorted by address then length. */
  *entries(): IterableIterator<Ip4Route> {
    const routes: Ip4Route[] = [];
    for (let length = 0; length <= 32; length++) {
      for (const [address, value] of this.byLength[length]) routes.push({ address, length, value });
    }
    routes.sort((a, b) => a.address - b.address || a.length - b.length);
    yield* routes;
  }
}
