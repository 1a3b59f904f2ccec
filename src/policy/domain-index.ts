/**
 * A suffix map from domain to the categories that list it, compiled at load.
 *
 * A lookup walks the query name's suffixes (com, facebook.com, www.facebook.com) in one pass from
 * the right, hashing as it goes: O(length) work, one table probe per label, no string made, no
 * regex, no scan of the list.
 *
 * Everything lives in typed arrays, outside the JavaScript heap: an open-addressing table of entry
 * numbers, and per entry its hash, its name's bytes in one shared pool, and 2×W 32-bit mask words
 * (W words of "block in category i" bits, then W words of "allow in category i" bits). A large
 * list then adds nothing for the garbage collector to trace (the sizes measured against a Map of
 * strings are in bench/PROFILE.md, "Domain index").
 */
export class DomainIndex {
  /** Words per mask: one bit per category. */
  readonly words: number;
  private count = 0;
  /** Slot → entry number + 1 (0 = empty). Length is a power of two, at most half full. */
  private table: Int32Array;
  private hashes: Int32Array;
  private starts: Uint32Array;
  private lengths: Uint8Array;
  private masks: Uint32Array;
  private pool: Uint8Array;
  private poolUsed = 0;

  /**
   * `expect` sizes the arrays up front (domains and bytes of names, e.g. the lists' line count and
   * length), so loading a big list does not grow and copy them; they still grow if it is short.
   */
  constructor(
    readonly categoryCount: number,
    expect: { domains: number; bytes: number } = { domains: 0, bytes: 0 },
  ) {
    this.words = Math.max(1, Math.ceil(categoryCount / 32));
    const entries = Math.max(512, expect.domains);
    this.table = new Int32Array(2 ** Math.ceil(Math.log2(2 * entries + 1)));
    this.hashes = new Int32Array(entries);
    this.starts = new Uint32Array(entries);
    this.lengths = new Uint8Array(entries);
    this.masks = new Uint32Array(entries * 2 * this.words);
    this.pool = new Uint8Array(Math.max(16_384, expect.bytes));
  }

  /** Number of distinct domains held. */
  get size(): number {
    return this.count;
  }

  /**
   * Records that `domain` (lower-case ASCII, no trailing dot, ≤ 253 characters, as the list parser
   * makes them) and its subdomains are blocked, or allowed, in `category`.
   */
  add(domain: string, category: number, allow: boolean): void {
    let h = FNV_OFFSET;
    for (let i = domain.length - 1; i >= 0; i--) h = Math.imul(h ^ domain.charCodeAt(i), FNV_PRIME);
    let entry = this.find(domain, 0, h);
    if (entry < 0) entry = this.insert(domain, h);
    const word = (entry * 2 + (allow ? 1 : 0)) * this.words + (category >>> 5);
    this.masks[word] |= 1 << (category & 31);
  }

  /**
   * `add` for a domain given as bytes[start, end) (lower-case ASCII, as the list parser's byte path
   * hands them over): no string is made.
   */
  addBytes(bytes: Uint8Array, start: number, end: number, category: number, allow: boolean): void {
    let h = FNV_OFFSET;
    for (let i = end - 1; i >= start; i--) h = Math.imul(h ^ bytes[i], FNV_PRIME);
    let entry = this.findBytes(bytes, start, end, h);
    if (entry < 0) entry = this.insertBytes(bytes, start, end, h);
    const word = (entry * 2 + (allow ? 1 : 0)) * this.words + (category >>> 5);
    this.masks[word] |= 1 << (category & 31);
  }

  /**
   * ORs the block bits of every suffix of `qname` into out[0..W) and the allow bits into out[W..2W).
   * `out` must have 2×W words; it is cleared first. `qname` is lower-case without a trailing dot.
   */
  match(qname: string, out: Uint32Array): void {
    out.fill(0);
    const w2 = 2 * this.words;
    let h = FNV_OFFSET;
    // From the right: after taking character i, h is the hash of qname.slice(i).
    for (let i = qname.length - 1; i >= 0; i--) {
      h = Math.imul(h ^ qname.charCodeAt(i), FNV_PRIME);
      if (i !== 0 && qname.charCodeAt(i - 1) !== DOT) continue;
      const entry = this.find(qname, i, h);
      if (entry < 0) continue;
      const base = entry * w2;
      for (let k = 0; k < w2; k++) out[k] |= this.masks[base + k];
    }
  }

  /** The most specific suffix of `qname` listed as blocked in `category`, or null. Slow path. */
  blockingEntry(qname: string, category: number): string | null {
    const word = category >>> 5;
    const bit = 1 << (category & 31);
    let found = -1;
    let h = FNV_OFFSET;
    for (let i = qname.length - 1; i >= 0; i--) {
      h = Math.imul(h ^ qname.charCodeAt(i), FNV_PRIME);
      if (i !== 0 && qname.charCodeAt(i - 1) !== DOT) continue;
      const entry = this.find(qname, i, h);
      if (entry >= 0 && this.masks[entry * 2 * this.words + word] & bit) found = i;
    }
    return found < 0 ? null : qname.slice(found);
  }

  /** The entry holding qname.slice(from) (whose hash is h), or -1. */
  private find(qname: string, from: number, h: number): number {
    const len = qname.length - from;
    const mask = this.table.length - 1;
    for (let slot = mix(h) & mask; ; slot = (slot + 1) & mask) {
      const e = this.table[slot] - 1;
      if (e < 0) return -1;
      if (this.hashes[e] !== h || this.lengths[e] !== len) continue;
      const start = this.starts[e];
      let k = 0;
      while (k < len && this.pool[start + k] === qname.charCodeAt(from + k)) k++;
      if (k === len) return e;
    }
  }

  /** The entry holding bytes[start, end) (whose hash is h), or -1. */
  private findBytes(bytes: Uint8Array, start: number, end: number, h: number): number {
    const len = end - start;
    const mask = this.table.length - 1;
    for (let slot = mix(h) & mask; ; slot = (slot + 1) & mask) {
      const e = this.table[slot] - 1;
      if (e < 0) return -1;
      if (this.hashes[e] !== h || this.lengths[e] !== len) continue;
      const at = this.starts[e];
      let k = 0;
      while (k < len && this.pool[at + k] === bytes[start + k]) k++;
      if (k === len) return e;
    }
  }

  private insert(domain: string, h: number): number {
    const e = this.newEntry(domain.length, h);
    const at = this.starts[e];
    for (let k = 0; k < domain.length; k++) this.pool[at + k] = domain.charCodeAt(k);
    return e;
  }

  private insertBytes(bytes: Uint8Array, start: number, end: number, h: number): number {
    const e = this.newEntry(end - start, h);
    const at = this.starts[e];
    for (let k = 0; k < end - start; k++) this.pool[at + k] = bytes[start + k];
    return e;
  }

  /** A new entry of `length` bytes (its pool bytes still to be written), placed in the table. */
  private newEntry(length: number, h: number): number {
    if (length > 255) throw new RangeError(`domain longer than 255 characters`);
    const e = this.count;
    if (e === this.hashes.length) this.growEntries();
    if ((e + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    if (this.poolUsed + length > this.pool.length) {
      this.pool = grow(this.pool, Math.max(this.pool.length * 2, this.poolUsed + length));
    }
    this.starts[e] = this.poolUsed;
    this.lengths[e] = length;
    this.hashes[e] = h;
    this.poolUsed += length;
    this.count++;
    this.place(e);
    return e;
  }

  private place(e: number): void {
    const mask = this.table.length - 1;
    let slot = mix(this.hashes[e]) & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = e + 1;
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    for (let e = 0; e < this.count; e++) this.place(e);
  }

  private growEntries(): void {
    const n = this.hashes.length * 2;
    this.hashes = grow(this.hashes, n);
    this.starts = grow(this.starts, n);
    this.lengths = grow(this.lengths, n);
    this.masks = grow(this.masks, n * 2 * this.words);
  }
}

const DOT = 0x2e;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** murmur3's finaliser: spreads FNV's weak low bits over the table index. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

type Flat = Uint8Array | Int32Array | Uint32Array;

/** A longer copy of `a` (the new tail is zero). */
function grow<T extends Flat>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a as never);
  return b;
}
