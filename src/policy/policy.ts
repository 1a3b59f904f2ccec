import { DomainIndex } from './domain-index.js';
import type { CategoryInfo } from './categories.js';

/** A group of clients and the categories it blocks, compiled to a bit mask. */
export interface CompiledGroup {
  readonly name: string;
  /** W words: bit i set = category i blocked for this group. */
  readonly blockMask: Uint32Array;
}

/** The policy's verdict for one name: allowed, or blocked by a category through a list entry. */
export type Decision =
  { readonly action: 'allow' } | { readonly action: 'block'; readonly category: CategoryInfo; readonly entry: string };

/** The decision for every allowed name (one shared object). */
export const ALLOW: Decision = Object.freeze({ action: 'allow' });

/**
 * Category lists compiled into one DomainIndex, plus the groups' masks. `decide` is the per-query
 * policy lookup: O(labels) map probes and a few word operations; it allocates only when it blocks.
 */
export class Policy {
  private readonly scratch: Uint32Array;
  /** Category names in index order. */
  readonly categories: readonly string[];

  constructor(
    readonly infos: readonly CategoryInfo[],
    readonly index: DomainIndex,
    readonly groups: ReadonlyMap<string, CompiledGroup>,
  ) {
    this.scratch = new Uint32Array(2 * index.words);
    this.categories = infos.map((c) => c.name);
  }

  /** Makes a group's mask from category names (all must be known). */
  static groupMask(categories: readonly string[], blocked: readonly string[]): Uint32Array {
    const mask = new Uint32Array(Math.max(1, Math.ceil(categories.length / 32)));
    for (const c of blocked) {
      const i = categories.indexOf(c);
      if (i < 0) throw new Error(`unknown category "${c}"`);
      mask[i >>> 5] |= 1 << (i & 31);
    }
    return mask;
  }

  /**
   * Decides a query name for a group: blocked when some suffix is listed as blocked in a category the
   * group blocks, and no suffix is an allow entry of that same category. Lowest category index wins.
   */
  decide(group: CompiledGroup, qname: string): Decision {
    return this.decideMask(group.blockMask, qname);
  }

  /** `decide` for an explicit set of blocked categories (W words). */
  decideMask(mask: Uint32Array, qname: string): Decision {
    const w = this.index.words;
    const acc = this.scratch;
    this.index.match(qname, acc);
    for (let i = 0; i < w; i++) {
      const hit = acc[i] & ~acc[w + i] & mask[i];
      if (hit !== 0) {
        const category = i * 32 + (31 - Math.clz32(hit & -hit));
        return {
          action: 'block',
          category: this.infos[category],
          entry: this.index.blockingEntry(qname, category) ?? qname,
        };
      }
    }
    return ALLOW;
  }

  /** A copy of `mask` without the named categories, except locked ones (which nothing removes). */
  withoutCategories(mask: Uint32Array, names: ReadonlySet<string>): Uint32Array {
    const out = Uint32Array.from(mask);
    this.infos.forEach((c, i) => {
      if (names.has(c.name) && !c.locked) out[i >>> 5] &= ~(1 << (i & 31));
    });
    return out;
  }

  /** A copy of `mask` keeping only locked categories. */
  lockedMask(mask: Uint32Array): Uint32Array {
    const out = new Uint32Array(mask.length);
    this.infos.forEach((c, i) => {
      if (c.locked) out[i >>> 5] |= mask[i >>> 5] & (1 << (i & 31));
    });
    return out;
  }
}
