/** FNV-1a, as the policy's DomainIndex hashes names: from the last character to the first. */
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const DOT = 0x2e;

interface Entry<T> {
  name: string;
  value: T;
}

/**
 * Names (zones) → values, looked up by the longest zone a query name is in. A lookup walks the name
 * once from the right, hashing as it goes, and probes a Map with a number at each label boundary:
 * no string is made per query. Meant for tens of zones, compiled at load.
 */
export class SuffixMap<T> {
  private readonly byHash = new Map<number, Entry<T>[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds (or replaces) a zone: lower-case, no trailing dot, not the root. */
  set(name: string, value: T): void {
    const h = hashSuffix(name, 0);
    let bucket = this.byHash.get(h);
    if (!bucket) this.byHash.set(h, (bucket = []));
    const old = bucket.find((e) => e.name === name);
    if (old) old.value = value;
    else {
      bucket.push({ name, value });
      this.count++;
    }
  }

  /** The value of the longest zone that `qname` (lower-case, no trailing dot) is in or is, else undefined. */
  longest(qname: string): T | undefined {
    if (this.count === 0) return undefined;
    let found: T | undefined;
    let h = FNV_OFFSET;
    for (let i = qname.length - 1; i >= 0; i--) {
      h = Math.imul(h ^ qname.charCodeAt(i), FNV_PRIME);
      if (i !== 0 && qname.charCodeAt(i - 1) !== DOT) continue;
      const bucket = this.byHash.get(h);
      if (bucket === undefined) continue;
      for (let k = 0; k < bucket.length; k++) {
        const e = bucket[k];
        if (e.name.length === qname.length - i && qname.endsWith(e.name)) found = e.value;
      }
    }
    return found;
  }
}

function hashSuffix(name: string, from: number): number {
  let h = FNV_OFFSET;
  for (let i = name.length - 1; i >= from; i--) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
  return h;
}
