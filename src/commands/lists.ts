import { statSync } from 'node:fs';
import type { Argv } from 'yargs';
import { loadForCli, out } from './context.js';
import { CommandError } from './errors.js';
import { json, table } from '../format/output.js';
import { compilePolicy, type CategoryReport } from '../policy/compile.js';
import { displayUrl, isListUrl, subscriptionSources } from '../lists/source.js';
import { describeOutcome, updateSettings, updateSubscription } from '../lists/update.js';
import { formatDuration } from '../time/duration.js';
import { emptyListWarnings } from '../policy/empty-lists.js';
import { formatShort } from '../time/local-time.js';

/** `webfilter lists show [CATEGORY]` and `webfilter lists update [CATEGORY] [--force]`. */
export function listsCommand(y: Argv<{ config: string; json: boolean }>) {
  return y
    .command(
      'show [category]',
      'Each category’s list files and subscriptions: entries, last change, fetches, problems',
      (c) =>
        c
          .positional('category', { type: 'string', describe: 'Only this category (with every problem line)' })
          .example('$0 lists show', 'All categories')
          .example('$0 lists show instagram', 'One category in detail'),
      async (a) => {
        const loaded = await loadForCli(a.config, { fallback: true });
        const compiled = await compilePolicy(loaded);
        let reports = compiled.reports;
        if (a.category) {
          reports = reports.filter((r) => r.category === a.category);
          if (reports.length === 0)
            throw new CommandError(
              `"${a.category}": no such category (categories: ${compiled.reports.map((r) => r.category).join(', ')})`,
            );
        }
        const infos = new Map(compiled.policy.infos.map((i) => [i.name, i]));
        for (const w of emptyListWarnings(reports, compiled.policy.infos)) process.stderr.write(`warning: ${w}\n`);
        const rows = reports.map((r) => ({
          category: r.category,
          locked: infos.get(r.category)?.locked ?? false,
          entries: r.entries,
          problems: r.problems.length,
          files: r.files.length ? r.files.map((f) => (isListUrl(f) ? displayUrl(f) : f)).join(', ') : 'built in',
          changed: lastChange(r),
        }));
        const now = Date.now();
        const subs = reports.flatMap((r) =>
          [...r.subscriptions].map(([url, s]) => ({
            category: r.category,
            url: displayUrl(url),
            last_fetch: s?.checked_at ? new Date(s.checked_at).toISOString() : null,
            last_result: s?.last_result ?? null,
            fetched_at: s?.body && s.fetched_at ? new Date(s.fetched_at).toISOString() : null,
            age_seconds: s?.body && s.fetched_at ? Math.round((now - s.fetched_at) / 1000) : null,
            entries: s?.body ? s.entries : 0,
            etag: s?.etag ?? null,
            last_error: s?.last_error ?? null,
          })),
        );
        if (a.json) {
          return out(
            json(
              reports.map((r, i) => ({
                ...rows[i],
                problems: r.problems,
                subscriptions: subs.filter((s) => s.category === r.category),
              })),
            ),
          );
        }
        out(
          table(rows, {
            CATEGORY: 'category',
            ENTRIES: 'entries',
            PROBLEMS: 'problems',
            LOCKED: 'locked',
            CHANGED: 'changed',
            FILES: 'files',
          }),
        );
        if (subs.length > 0) {
          out('\nSubscriptions (last good copies, kept in ' + loaded.listStateDir + '):\n');
          out(
            table(
              subs.map((s) => ({
                ...s,
                last_fetch: s.last_fetch ? `${formatShort(Date.parse(s.last_fetch))} ${s.last_result}` : 'never',
                age: s.age_seconds === null ? 'no copy' : formatDuration(s.age_seconds * 1000),
                etag: s.etag ?? '',
                last_error: s.last_error ?? '',
              })),
              {
                CATEGORY: 'category',
                URL: 'url',
                'LAST FETCH': 'last_fetch',
                AGE: 'age',
                ENTRIES: 'entries',
                ETAG: 'etag',
                'LAST ERROR': 'last_error',
              },
            ),
          );
        }
        if (a.category)
          for (const p of reports[0].problems) out(`  ${p.file}:${p.line}: ${p.reason}: ${JSON.stringify(p.text)}\n`);
      },
    )
    .command(
      'update [category]',
      'Fetch subscribed lists now and print what changed (+added −removed)',
      (c) =>
        c
          .positional('category', { type: 'string', describe: 'Only this category’s URLs' })
          .option('force', {
            type: 'boolean',
            default: false,
            describe: 'Fetch in full (no If-None-Match) and take a copy even if it shrank more than subscriptions.max_shrink',
          })
          .example('$0 lists update', 'Every subscribed list')
          .example('$0 lists update gambling --force', 'Accept a big shrink you have checked'),
      async (a) => {
        const loaded = await loadForCli(a.config);
        let sources = subscriptionSources(loaded);
        if (a.category) {
          if (!Object.hasOwn(loaded.config.categories, a.category))
            throw new CommandError(
              `"${a.category}": no such category (categories: ${Object.keys(loaded.config.categories).join(', ')})`,
            );
          sources = sources.filter((s) => s.categories.includes(a.category!));
        }
        if (sources.length === 0)
          throw new CommandError(
            `no subscribed lists (https:// URLs) in ${a.category ? `category "${a.category}"` : 'the config'}`,
          );
        const settings = await updateSettings(loaded);
        const outcomes = [];
        for (const s of sources)
          outcomes.push({ ...(await updateSubscription(s.url, settings, { force: a.force })), categories: s.categories });
        if (a.json) {
          out(
            json(
              outcomes.map((o) => ({
                categories: o.categories,
                url: displayUrl(o.url),
                result: o.result,
                entries: o.entries,
                added: o.added,
                removed: o.removed,
                error: o.error,
                problems: o.problems,
              })),
            ),
          );
        } else {
          for (const o of outcomes) {
            out(`${o.categories.join(', ')}: ${describeOutcome(o)}\n`);
            for (const p of o.problems.slice(0, 10)) out(`  ${p.file}:${p.line}: ${p.reason}: ${JSON.stringify(p.text)}\n`);
            if (o.problems.length > 10) out(`  … and ${o.problems.length - 10} more skipped lines\n`);
          }
          if (outcomes.some((o) => o.result === 'updated'))
            out(`New copies stored in ${loaded.listStateDir}; a running daemon applies them within a second.\n`);
        }
        const bad = outcomes.filter((o) => !['updated', 'unchanged', 'not_modified'].includes(o.result));
        if (bad.length > 0) process.exitCode = 1;
      },
    )
    .demandCommand(1, 'Name a lists command: show, update');
}

/** When a category's lists last changed: files' modification times, subscriptions' stored copies. */
function lastChange(r: CategoryReport): string {
  const times: number[] = [];
  for (const f of r.files) {
    if (isListUrl(f)) {
      const at = r.subscriptions.get(f)?.changed_at;
      if (at) times.push(at);
    } else {
      try {
        times.push(statSync(f).mtimeMs);
      } catch {
        // unreadable: reported as a problem elsewhere
      }
    }
  }
  return times.length ? formatShort(Math.max(...times)) : '';
}
