import { statSync } from 'node:fs';
import type { Argv } from 'yargs';
import { loadForCli, out } from './context.js';
import { UsageError } from './errors.js';
import { json, table } from '../format/output.js';
import { compilePolicy } from '../policy/compile.js';
import { formatShort } from '../time/local-time.js';

/** `webfilter lists show [CATEGORY]`: sources, entry counts, file times and problems. */
export function listsCommand(y: Argv<{ config: string; json: boolean }>) {
  return y
    .command(
      'show [category]',
      'Each category’s list files, entries, last change and problems',
      (c) =>
        c
          .positional('category', { type: 'string', describe: 'Only this category (with every problem line)' })
          .example('$0 lists show', 'All categories')
          .example('$0 lists show instagram', 'One category in detail'),
      async (a) => {
        const loaded = await loadForCli(a.config);
        const compiled = await compilePolicy(loaded);
        let reports = compiled.reports;
        if (a.category) {
          reports = reports.filter((r) => r.category === a.category);
          if (reports.length === 0)
            throw new UsageError(
              `"${a.category}": no such category (categories: ${compiled.reports.map((r) => r.category).join(', ')})`,
            );
        }
        const infos = new Map(compiled.policy.infos.map((i) => [i.name, i]));
        const rows = reports.map((r) => ({
          category: r.category,
          locked: infos.get(r.category)?.locked ?? false,
          entries: r.entries,
          problems: r.problems.length,
          files: r.files.length ? r.files.join(', ') : 'built in',
          changed: r.files.length ? formatShort(Math.max(...r.files.map((f) => statSync(f).mtimeMs))) : '',
        }));
        if (a.json) return out(json(reports.map((r, i) => ({ ...rows[i], problems: r.problems }))));
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
        if (a.category)
          for (const p of reports[0].problems) out(`  ${p.file}:${p.line}: ${p.reason}: ${JSON.stringify(p.text)}\n`);
      },
    )
    .demandCommand(1, 'Name a lists command: show');
}
