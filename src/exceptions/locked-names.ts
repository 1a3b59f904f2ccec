import type { LoadedConfig } from '../config/load.js';
import { ANSWER_RULES, categoryInfos } from '../policy/categories.js';
import { forEachListEntry } from '../lists/list-parser.js';
import { displayUrl, isListUrl, readListSource } from '../lists/source.js';

/** Where a locked category lists a name. */
export interface LockedMatch {
  category: string;
  /** A circumvention rule (encrypted-dns, vpn-proxy, …) rather than a config category marked locked. */
  circumvention: boolean;
  entry: string;
  /** "file:line", or "built in" for the answer rules' names. */
  source: string;
}

/**
 * The names no exception can open: every entry of the locked categories (circumvention rules and
 * categories marked `locked: true`), read from their lists only — not the whole policy, so the
 * console can check an exception without loading every list. Unreadable lists are skipped here
 * (`config check` and the daemon report them).
 */
export class LockedNames {
  private constructor(
    private readonly blocks: Map<string, LockedMatch[]>,
    private readonly allows: Map<string, Set<string>>,
  ) {}

  /** No names: for checks of exceptions that open categories only (permission requests), which never consult it. */
  static readonly NONE = new LockedNames(new Map(), new Map());

  static async load(loaded: LoadedConfig): Promise<LockedNames> {
    const blocks = new Map<string, LockedMatch[]>();
    const allows = new Map<string, Set<string>>();
    for (const info of categoryInfos(loaded.config).filter((c) => c.locked)) {
      const add = (domain: string, m: LockedMatch) => {
        const list = blocks.get(domain) ?? [];
        list.push(m);
        blocks.set(domain, list);
      };
      const circumvention = info.signal !== null;
      const builtin = (ANSWER_RULES as Record<string, { domains: readonly string[] }>)[info.name];
      for (const d of builtin?.domains ?? []) add(d, { category: info.name, circumvention, entry: d, source: 'built in' });
      for (const file of loaded.categoryFiles.get(info.name) ?? []) {
        // A subscribed URL is read from its last good copy (an IWF feed is the usual locked subscription).
        const { text } = await readListSource(file, loaded.listStateDir);
        forEachListEntry(
          text,
          file,
          (domain, allow, line) => {
            if (allow) allows.set(domain, (allows.get(domain) ?? new Set()).add(info.name));
            else
              add(domain, {
                category: info.name,
                circumvention,
                entry: domain,
                source: `${isListUrl(file) ? displayUrl(file) : file}:${line}`,
              });
          },
          () => {},
        );
      }
    }
    return new LockedNames(blocks, allows);
  }

  /**
   * The locked entry that blocks `domain` (the name or a parent of it), or null. Within a category the
   * most specific entry wins, so an allow entry (`@@||ok.example^`) under a blocked parent opens it.
   */
  match(domain: string): LockedMatch | null {
    const decided = new Set<string>();
    for (let name = domain; ;) {
      for (const category of this.allows.get(name) ?? []) decided.add(category);
      for (const m of this.blocks.get(name) ?? []) if (!decided.has(m.category)) return m;
      const dot = name.indexOf('.');
      if (dot < 0) return null;
      name = name.slice(dot + 1);
    }
  }
}
