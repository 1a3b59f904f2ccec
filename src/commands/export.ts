import type { Argv, CommandModule } from 'yargs';
import { loadForCli, openStore, out } from './context.js';
import { CommandError, UsageError } from './errors.js';
import { json } from '../format/output.js';
import { filterFromFlags } from './review-filter.js';
import { exportCsv, exportData } from '../review/export.js';
import { commandReads, scopeOptions, type CommandReads, type ScopeFlags } from './review-scope.js';
import type { ReviewFilter } from '../storage/review.js';

interface ExportArgs extends ScopeFlags {
  config: string;
  json: boolean;
  client?: string;
  device?: string;
  user?: string;
  since: string;
  csv: boolean;
}

/** `webfilter export`: everything stored about one device, for a subject access request. */
export const exportCommand: CommandModule<{ config: string; json: boolean }, ExportArgs> = {
  command: 'export',
  describe: 'Everything stored about one device or person (subject access request), as JSON or CSV',
  builder: (y) =>
    scopeOptions(y)
      .option('client', { type: 'string', describe: 'The device’s address' })
      .option('device', { type: 'string', describe: 'Or its name' })
      .option('user', { type: 'string', describe: 'Or a person: every row recorded with this user' })
      .option('since', { type: 'string', default: '3650d', describe: 'From (default: everything kept)' })
      .option('csv', { type: 'boolean', default: false, describe: 'CSV (one table, a row per record) instead of JSON' })
      .example('$0 export --device Y9-LT-07 > Y9-LT-07.json', 'For a subject access request')
      .example('$0 export --user j.smith --csv > j.smith.csv', 'Everything recorded with one person') as Argv<ExportArgs>,
  handler: async (a) => {
    if ([a.client, a.device, a.user].filter((x) => x !== undefined).length !== 1)
      throw new UsageError('give exactly one of --client IP, --device NAME or --user NAME');
    const loaded = await loadForCli(a.config, { fallback: true });
    const now = Date.now();
    const f = filterFromFlags({ since: a.since, client: a.client, device: a.device, user: a.user }, [], now, 'exact');
    const store = await openStore(loaded, { readOnly: true });
    try {
      out(await exported(a, await commandReads(loaded, store, a, 'export'), f, now));
    } finally {
      await store.close();
    }
  },
};

/** The export (JSON or CSV) within what the reader may see. */
async function exported(a: ExportArgs, reads: CommandReads, f: ReviewFilter, now: number): Promise<string> {
  // A name or address nothing is stored about (often a typo) is an error, not an empty file that
  // looks like a complete answer to a subject access request.
  const subject = a.device !== undefined ? { device: a.device } : a.client !== undefined ? { client: a.client } : null;
  if (subject && !(await reads.review.deviceKnown(subject))) {
    throw new CommandError(
      a.device !== undefined
        ? `no records for device "${a.device}" (device names are matched exactly: see webfilter logs blocked --device, or the console's Devices page)`
        : `no records for client ${a.client}`,
    );
  }
  const data = await exportData(reads.review, f, now);
  // Likewise a person: a misspelt user name must not give an empty answer that looks complete.
  if (a.user !== undefined && [data.blocked, data.signals, data.access_hourly, data.access].every((x) => x.length === 0))
    throw new CommandError(
      `no records for user "${a.user}"${a.since === '3650d' ? '' : ` since ${a.since}`} (user names are matched exactly: see webfilter logs blocked --user, or webfilter identity list)`,
    );
  return a.csv ? exportCsv(data) : json(data);
}
