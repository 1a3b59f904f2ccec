import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { loadForCli, openStore, out } from './context.js';
import { CommandError } from './errors.js';
import { json } from '../format/output.js';
import { filterFromFlags } from './review-filter.js';
import { buildReport } from '../review/report.js';
import { reportCsv, reportHtml, reportText } from '../review/report-render.js';
import { commandReads, scopeOptions, type ScopeFlags } from './review-scope.js';

interface ReportArgs extends ScopeFlags {
  config: string;
  json: boolean;
  since: string;
  until?: string;
  format: 'text' | 'csv' | 'html';
  output?: string;
}

/** `webfilter report`: the summary an online safety officer reads in two minutes. */
export const reportCommand: CommandModule<{ config: string; json: boolean }, ReportArgs> = {
  command: 'report',
  describe: 'Summary for the online safety officer: blocks, devices, circumvention, exceptions, unusual days',
  builder: (y) =>
    scopeOptions(y)
      .option('since', { type: 'string', default: '7d', describe: 'From: a duration back (7d) or a date (2026-11-16)' })
      .option('until', { type: 'string', describe: 'To (default: now)' })
      .option('format', { choices: ['text', 'csv', 'html'] as const, default: 'text' as const, describe: 'Output format' })
      .option('output', { alias: 'o', type: 'string', describe: 'Write to this file instead of the terminal' })
      .example('$0 report', 'This week, in the terminal')
      .example(
        '$0 report --since 2026-11-16 --format html --output week47.html',
        'A printable page for the DSL',
      ) as Argv<ReportArgs>,
  handler: async (a) => {
    const loaded = await loadForCli(a.config, { fallback: true });
    const now = Date.now();
    const period = filterFromFlags({ since: a.since, until: a.until }, [], now);
    const from = period.since;
    const to = a.until ? period.until : now;
    const store = await openStore(loaded, { readOnly: true });
    let data;
    try {
      const reads = await commandReads(loaded, store, a, 'report');
      // This filter's exceptions and requests are its site's: in the report only when the read covers that site.
      const boxToo = !reads.trustWide || a.local || !a.site || a.site === loaded.config.site;
      const none = { between: async () => [], list: async () => [] };
      data = await buildReport(reads.review, boxToo ? store.exceptions : none, boxToo ? store.requests : none, from, to, now);
    } finally {
      await store.close();
    }
    const text = a.json
      ? json(data)
      : a.format === 'html'
        ? reportHtml(data)
        : a.format === 'csv'
          ? reportCsv(data)
          : reportText(data);
    if (!a.output) return out(text);
    try {
      writeFileSync(a.output, text, { mode: 0o640 });
    } catch (e) {
      throw new CommandError(`--output ${a.output}: ${(e as Error).message}`);
    }
    out(`Report written to ${a.output}\n`);
  },
};
