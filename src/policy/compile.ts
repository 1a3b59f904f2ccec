import type { LoadedConfig } from '../config/load.js';
import { isListUrl, readListSource } from '../lists/source.js';
import type { SubscriptionState } from '../lists/state-store.js';
import { DomainIndex } from './domain-index.js';
import { forEachListEntry, type ListProblem } from '../lists/list-parser.js';
import { Policy, type CompiledGroup } from './policy.js';
import { ANSWER_RULES, categoryInfos } from './categories.js';
import { compileSchedule } from '../time/schedule.js';
import { Timetable, type GroupTimeRules } from './timetable.js';

/**
 * What one list file held at the last good load, kept so a reload can fall back to it if the file
 * becomes unreadable. The text itself (one flat string, ~15 bytes a domain), not a string per domain.
 */
export interface ListSnapshot {
  text: string;
}

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
        (loaded.categoryFiles.get(c) ?? []).map((f) => readListSource(f, loaded.listStateDir).then((r) => ({ file: f, ...r }))),
      ),
    ),
  );
  // Size the index for every line of every list (an upper bound on its domains and their bytes).
  const expect = { domains: 64, bytes: 1024 };
  for (const files of texts) {
    for (const { file, text } of files) {
      const t = text || (previous?.get(file)?.text ?? '');
      expect.bytes += t.length;
      for (let i = t.indexOf('\n'); i >= 0; i = t.indexOf('\n', i + 1)) expect.domains++;
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
    for (const { file, text, error, state } of texts[ci]) {
      let snap: ListSnapshot;
      let problems = report.problems;
      if (isListUrl(file)) report.subscriptions.set(file, state ?? null);
      if (error !== null) {
        const old = previous?.get(file);
        report.unreadable.push({ file, error, keptPrevious: old !== undefined });
        if (!old && !isListUrl(file)) throw new ListLoadError(`categories.${category}: cannot read list "${file}" (${error})`);
        snap = old ?? { text: '' };
        problems = []; // reported when that copy was loaded
      } else {
        snap = { text };
      }
      snapshots.set(file, snap);
      const before = report.entries;
      forEachListEntry(
        snap.text,
        file,
        (domain, isAllow, _line, frontEnd) => {
          index.add(domain, ci, isAllow);
          report.entries++;
          if (frontEnd && !isAllow) (infos[ci].frontEnds ??= new Set()).add(domain);
        },
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
  return { policy: new Policy(infos, index, groups), timetable, reports, snapshots };
}
