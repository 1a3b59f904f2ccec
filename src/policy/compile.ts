import type { LoadedConfig } from '../config/load.js';
import { isListUrl, readListSourceBytes } from '../lists/source.js';
import type { SubscriptionState } from '../lists/state-store.js';
import { DomainIndex } from './domain-index.js';
import { forEachListEntryBytes, type ListProblem } from '../lists/list-parser.js';
import { Policy, type CompiledGroup } from './policy.js';
import { ANSWER_RULES, categoryInfos } from './categories.js';
import { compileSchedule } from '../time/schedule.js';
import { Timetable, type GroupTimeRules } from './timetable.js';
import { ListSnapshot } from './list-snapshot.js';

export { ListSnapshot };

const NL = 0x0a;

/** Per-category load report: entry counts and problems. */
export interface CategoryReport {
  category: string;
  /** List sources: files, and https:// URLs (read from their stored copies). */
  files: string[];
  entries: number;
  /** Entries read from each of `files`, in the same order. */
  fileEntries: number[];
  /** Files that could not be read; at reload their previous contents are kept. */
  unreadable: { file: string; error: string; keptPrevious: boolean }[];
  problems: ListProblem[];
  /** The stored state of each subscribed URL of `files` (null: never fetched). */
  subscriptions: Map<string, SubscriptionState | null>;
}

export interface CompiledPolicy {
  policy: Policy;
  timetable: Timetable;
  reports: CategoryReport[];
  snapshots: Map<string, ListSnapshot>;
}

/**
 * Thrown when a list file cannot be read and there is no earlier copy of it to keep. (A subscribed
 * URL never fetched is not an error: the daemon starts, fetches it, and reports it until then.)
 */
export class ListLoadError extends Error {}

/**
 * Reads every category's lists and compiles them with the groups into a Policy.
 * `previous` holds the snapshots of the last good load: an unreadable file then keeps its old entries.
 */
export async function compilePolicy(loaded: LoadedConfig, previous?: Map<string, ListSnapshot>): Promise<CompiledPolicy> {
  const infos = categoryInfos(loaded.config);
  const categories = infos.map((c) => c.name);
  const snapshots = new Map<string, ListSnapshot>();
  const reports: CategoryReport[] = [];
  const texts = await Promise.all(
    categories.map((c) =>
      Promise.all(
        (loaded.categoryFiles.get(c) ?? []).map((f) =>
          readListSourceBytes(f, loaded.listStateDir).then((r) => ({ file: f, ...r })),
        ),
      ),
    ),
  );
  // Size the index for every line of every list (an upper bound on its domains and their bytes).
  const expect = { domains: 64, bytes: 1024 };
  for (const files of texts) {
    for (const f of files) {
      // An unreadable file's previous copy is read here once and parsed below.
      if (f.error !== null) f.bytes = previous?.get(f.file)?.bytes ?? f.bytes;
      const b = f.bytes;
      expect.bytes += b.length;
      for (let i = b.indexOf(NL); i >= 0; i = b.indexOf(NL, i + 1)) expect.domains++;
      expect.domains++;
    }
  }
  const index = new DomainIndex(categories.length, expect);
  categories.forEach((category, ci) => {
    const report: CategoryReport = {
      category,
      files: loaded.categoryFiles.get(category) ?? [],
      entries: 0,
      fileEntries: [],
      unreadable: [],
      problems: [],
      subscriptions: new Map(),
    };
    // Answer rules have built-in names rather than list files.
    const builtin = (ANSWER_RULES as Record<string, { domains: readonly string[] }>)[category];
    for (const d of builtin?.domains ?? []) index.add(d, ci, false);
    report.entries += builtin?.domains.length ?? 0;
    for (const { file, bytes, error, state } of texts[ci]) {
      let snap: ListSnapshot;
      let problems = report.problems;
      if (isListUrl(file)) report.subscriptions.set(file, state ?? null);
      if (error !== null) {
        const old = previous?.get(file);
        report.unreadable.push({ file, error, keptPrevious: old !== undefined });
        if (!old && !isListUrl(file)) throw new ListLoadError(`categories.${category}: cannot read list "${file}" (${error})`);
        snap = old ?? new ListSnapshot(Buffer.alloc(0));
        problems = []; // reported when that copy was loaded
      } else {
        snap = new ListSnapshot(bytes);
      }
      snapshots.set(file, snap);
      const before = report.entries;
      const add = (domain: string, isAllow: boolean, _line: number, frontEnd: boolean) => {
        index.add(domain, ci, isAllow);
        report.entries++;
        if (frontEnd && !isAllow) (infos[ci].frontEnds ??= new Set()).add(domain);
      };
      forEachListEntryBytes(
        bytes,
        file,
        (b, start, end) => {
          index.addBytes(b, start, end, ci, false);
          report.entries++;
        },
        add,
        (p) => problems.push(p),
      );
      report.fileEntries.push(report.entries - before);
    }
    reports.push(report);
  });
  const groups = new Map<string, CompiledGroup>();
  const everyone = infos.filter((c) => c.everyone).map((c) => c.name);
  for (const [name, g] of Object.entries(loaded.config.groups)) {
    groups.set(name, { name, blockMask: Policy.groupMask(categories, [...everyone, ...g.block]) });
  }
  const rules: GroupTimeRules[] = [];
  for (const [name, g] of Object.entries(loaded.config.groups)) {
    const entries = (r: Record<string, string[]>) =>
      Object.entries(r).map(([schedule, cats]) => ({ schedule, mask: Policy.groupMask(categories, cats) }));
    if (Object.keys(g.allow_during).length + Object.keys(g.block_during).length === 0) continue;
    rules.push({ group: groups.get(name)!, allowDuring: entries(g.allow_during), blockDuring: entries(g.block_during) });
  }
  const schedules = Object.entries(loaded.config.schedules).map(([name, s]) => compileSchedule(name, s));
  const timetable = new Timetable(schedules, loaded.config.timezone, rules);
  // The texts are only for a fallback at a later reload: deflated in the background from now on.
  for (const s of snapshots.values()) void s.pack();
  return { policy: new Policy(infos, index, groups), timetable, reports, snapshots };
}
