import { maskBytes } from '../net/cidr.js';
import { parseIPv6 } from '../net/ip.js';
import { formatIPv6, type AddressKey } from './address-key.js';

/** Who is at an address, and since when and until when we believe it. */
export interface Identity {
  /** The address key: "10.20.3.4", "2001:db8::5" or "2001:db8:1:2::/64". */
  readonly address: string;
  readonly user: string;
  /** The group the RADIUS attribute or the feed named (applied only when it is a configured group). */
  readonly group: string | null;
  readonly mac: string | null;
  /** Acct-Session-Id (RADIUS), or null. */
  readonly session: string | null;
  readonly source: 'radius' | 'feed';
  /** The NAS that reported it (RADIUS), or the feed's caller. */
  readonly reporter: string;
  /** Epoch ms: first seen for this user at this address, and when it lapses without a refresh. */
  readonly since: number;
  readonly expires: number;
}

/**
 * Address → identity, read by the client stage on every query. A lookup is one Map probe by the
 * address text the socket gave (plus, for IPv6 clients when prefixes are mapped, one probe per
 * prefix length in use, usually just /64), and costs nothing when the index is empty. It is changed
 * only on the DNS thread, by IdentityService applying a whole batch between two queries, so a query
 * never sees half a batch and nothing is locked. Expired entries are invisible at once and removed
 * by `sweep`.
 */
export class IdentityIndex {
  private readonly exact = new Map<string, Identity>();
  /** IPv6 prefix length → network text → identity. */
  private readonly prefixes = new Map<number, Map<string, Identity>>();
  private prefixLengths: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The live identity for a client address as the socket reports it, or undefined. */
  lookup(address: string, now: number): Identity | undefined {
    if (this.count === 0) return undefined;
    let id = this.exact.get(address);
    if (id === undefined && this.prefixLengths.length > 0) id = this.lookupPrefix(address);
    return id !== undefined && id.expires > now ? id : undefined;
  }

  /** The identity stored under a key, expired or not. */
  get(key: AddressKey): Identity | undefined {
    return key.prefix === (key.family === 4 ? 32 : 128) ? this.exact.get(key.key) : this.prefixes.get(key.prefix)?.get(key.key);
  }

  /** Stores `id` under `key` (replacing what was there). */
  set(key: AddressKey, id: Identity): void {
    if (key.prefix === (key.family === 4 ? 32 : 128)) {
      if (!this.exact.has(key.key)) this.count++;
      this.exact.set(key.key, id);
      return;
    }
    let m = this.prefixes.get(key.prefix);
    if (!m) {
      this.prefixes.set(key.prefix, (m = new Map()));
      this.prefixLengths = [...this.prefixes.keys()].sort((a, b) => b - a);
    }
    if (!m.has(key.key)) this.count++;
    m.set(key.key, id);
  }

  /** Removes the identity under `key`; returns it, or undefined when there was none. */
  delete(key: AddressKey): Identity | undefined {
    const m = key.prefix === (key.family === 4 ? 32 : 128) ? this.exact : this.prefixes.get(key.prefix);
    const id = m?.get(key.key);
    if (id === undefined) return undefined;
    m!.delete(key.key);
    this.count--;
    if (m !== this.exact && m!.size === 0) {
      this.prefixes.delete(key.prefix);
      this.prefixLengths = [...this.prefixes.keys()].sort((a, b) => b - a);
    }
    return id;
  }

  /** Every identity (expired ones too, until swept). */
  *entries(): IterableIterator<Identity> {
    yield* this.exact.values();
    for (const m of this.prefixes.values()) yield* m.values();
  }

  /** Removes the identities `drop` picks; returns them. */
  removeWhere(drop: (id: Identity) => boolean): Identity[] {
    const gone: Identity[] = [];
    for (const [k, id] of this.exact) if (drop(id)) (this.exact.delete(k), gone.push(id));
    for (const [len, m] of this.prefixes) {
      for (const [k, id] of m) if (drop(id)) (m.delete(k), gone.push(id));
      if (m.size === 0) this.prefixes.delete(len);
    }
    this.prefixLengths = [...this.prefixes.keys()].sort((a, b) => b - a);
    this.count -= gone.length;
    return gone;
  }

  private lookupPrefix(address: string): Identity | undefined {
    if (!address.includes(':')) return undefined;
    const bytes = parseIPv6(address);
    if (!bytes) return undefined;
    for (const len of this.prefixLengths) {
      const id = this.prefixes.get(len)!.get(`${formatIPv6(maskBytes(bytes, len))}/${len}`);
      if (id !== undefined) return id;
    }
    return undefined;
  }
}
