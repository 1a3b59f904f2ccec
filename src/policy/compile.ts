import { readFile } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import { DomainIndex } from './domain-index.js';
import { forEachListEntry, type ListProblem } from './list-parser.js';
import { Policy, type CompiledGroup } from './policy.js';
import { ANSWER_RULES, categoryInfos } from './categories.js';
import { compileSchedule } from '../schedule/schedule.js';
import { Timetable, type GroupTimeRules } from '../schedule/timetable.js';

/** What one list file contributed, kept so a reload can fall back to it if the file becomes unreadable. */
export interface ListSnapshot {
  domains: string[];
  allow: Uint8Array;
}

/** Per-category load report: entry counts and problems. */
export interface CategoryReport {
  category: string;
  files: string[];
  entries: number;
  /** Files that could not be read; at reload their previous contents are kept. */
  unreadable: { file: string; error: string; keptPrevious: boolean }[];
  problems: ListProblem[];
}

export interface CompiledPolicy {
  policy: Policy;
  timetable: Timetable;
  reports: CategoryReport[];
  snapshots: Map<string, ListSnapshot>;
}

/** Thrown when a list cannot be read and there is no earlier copy of it to keep. */
export class ListLoadError extends Error {}

/**
 * Reads every category's lists and compiles them with the groups into a Policy.
 * `previous` holds the snapshots of the last good load: an unreadable file then keeps its old entries.
 */
export async function compilePolicy(loaded: LoadedConfig, previous?: Map<string, ListSnapshot>): Promise<CompiledPolicy> {
  const infos = categoryInfos(loaded.config);
  const categories = infos.map((c) => c.name);
  const index = new DomainIndex(categories.length);
  const snapshots = new Map<string, ListSnapshot>();
  const reports: CategoryReport[] = [];
  const texts = await Promise.all(
    categories.map((c) =>
      Promise.all(
        (loaded.categoryFiles.get(c) ?? []).map((f) =>
          readFile(f, 'utf8').then(
            (text) => ({ file: f, text, error: null as string | null }),
            (e: NodeJS.ErrnoException) => ({ file: f, text: '', error: e.code ?? e.message }),
          ),
        ),
      ),
    ),
  );
  categories.forEach((category, ci) => {
    const report: CategoryReport = {
      category,
      files: loaded.categoryFiles.get(category) ?? [],
      entries: 0,
      unreadable: [],
      problems: [],
    };
    // Answer rules have built-in names rather than list files.
    const builtin = (ANSWER_RULES as Record<string, { domains: readonly string[] }>)[category];
    for (const d of builtin?.domains ?? []) index.add(d, ci, false);
    report.entries += builtin?.domains.length ?? 0;
    for (const { file, text, error } of texts[ci]) {
      let snap: ListSnapshot;
      if (error !== null) {
        const old = previous?.get(file);
        report.unreadable.push({ file, error, keptPrevious: old !== undefined });
        if (!old) throw new ListLoadError(`categories.${category}: cannot read list "${file}" (${error})`);
        snap = old;
      } else {
        const domains: string[] = [];
        const allow: number[] = [];
        forEachListEntry(
          text,
          file,
          (domain, isAllow) => {
            domains.push(domain);
            allow.push(isAllow ? 1 : 0);
          },
          (p) => report.problems.push(p),
        );
        snap = { domains, allow: Uint8Array.from(allow) };
      }
      snapshots.set(file, snap);
      for (let i = 0; i < snap.domains.length; i++) index.add(snap.domains[i], ci, snap.allow[i] === 1);
      report.entries += snap.domains.length;
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
