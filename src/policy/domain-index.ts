/**
 * A suffix map from domain to the categories that list it, compiled at load.
 * A lookup walks the query name's suffixes (www.facebook.com, facebook.com, com): O(labels) map
 * probes, no regex, no scan of the list. Each domain owns one slot of 2×W 32-bit words in a flat
 * array: W words of "block in category i" bits, then W words of "allow in category i" bits.
 */
export class DomainIndex {
  /** Words per mask: one bit per category. */
  readonly words: number;
  private readonly slots = new Map<string, number>();
  private masks: Uint32Array;
  private used = 0;

  constructor(readonly categoryCount: number) {
    this.words = Math.max(1, Math.ceil(categoryCount / 32));
    this.masks = new Uint32Array(1024 * 2 * this.words);
  }

  /** Number of distinct domains held. */
  get size(): number {
    return this.slots.size;
  }

  /** Records that `domain` (and its subdomains) is blocked, or allowed, in `category`. */
  add(domain: string, category: number, allow: boolean): void {
    let slot = this.slots.get(domain);
    if (slot === undefined) {
      slot = this.used++;
      if (slot * 2 * this.words >= this.masks.length) {
        const grown = new Uint32Array(this.masks.length * 2);
        grown.set(this.masks);
        this.masks = grown;
      }
      this.slots.set(domain, slot);
    }
    const word = (slot * 2 + (allow ? 1 : 0)) * this.words + (category >>> 5);
    this.masks[word] |= 1 << (category & 31);
  }

  /**
   * ORs the block bits of every suffix of `qname` into out[0..W) and the allow bits into out[W..2W).
   * `out` must have 2×W words; it is cleared first.
   */
  match(qname: string, out: Uint32Array): void {
    out.fill(0);
    const w = this.words;
    let pos = 0;
    for (;;) {
      const slot = this.slots.get(pos === 0 ? qname : qname.slice(pos));
      if (slot !== undefined) {
        const base = slot * 2 * w;
        for (let i = 0; i < 2 * w; i++) out[i] |= this.masks[base + i];
      }
      const dot = qname.indexOf('.', pos);
      if (dot < 0) return;
      pos = dot + 1;
    }
  }

  /** The most specific suffix of `qname` listed as blocked in `category`, or null. Slow path. */
  blockingEntry(qname: string, category: number): string | null {
    let pos = 0;
    for (;;) {
      const suffix = qname.slice(pos);
      const slot = this.slots.get(suffix);
      if (slot !== undefined && this.masks[slot * 2 * this.words + (category >>> 5)] & (1 << (category & 31))) {
        return suffix;
      }
      const dot = qname.indexOf('.', pos);
      if (dot < 0) return null;
      pos = dot + 1;
    }
  }
}
