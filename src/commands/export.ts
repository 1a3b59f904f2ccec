import type { Argv, CommandModule } from 'yargs';
import { loadForCli, openStore, out } from '../cli/context.js';
import { UsageError } from '../cli/errors.js';
import { csv, json } from '../cli/output.js';
import { parseSince } from '../cli/time-range.js';
import { accessEntries, blockedEntries, fullAccessEntries, signalEntries } from '../review/queries.js';

interface ExportArgs {
  config: string;
  json: boolean;
  client?: string;
  device?: string;
  since: string;
  csv: boolean;
}

/** `webfilter export`: everything stored about one device, for a subject access request. */
export const exportCommand: CommandModule<{ config: string; json: boolean }, ExportArgs> = {
  command: 'export',
  describe: 'Everything stored about one device (subject access request), as JSON or CSV',
  builder: (y) =>
    y
      .option('client', { type: 'string', describe: 'The device’s address' })
      .option('device', { type: 'string', describe: 'Or its name' })
      .option('since', { type: 'string', default: '3650d', describe: 'From (default: everything kept)' })
      .option('csv', { type: 'boolean', default: false, describe: 'CSV (one table, a row per record) instead of JSON' })
      .example('$0 export --device Y9-LT-07 > Y9-LT-07.json', 'For a subject access request') as Argv<ExportArgs>,
  handler: async (a) => {
    if ((a.client === undefined) === (a.device === undefined))
      throw new UsageError('give exactly one of --client IP or --device NAME');
    const loaded = await loadForCli(a.config);
    const now = Date.now();
    const f = { since: parseSince(a.since, '--since', now), until: now + 1, client: a.client, device: a.device };
    const store = openStore(loaded, { readOnly: true });
    const data = {
      subject: a.client ? { client: a.client } : { device: a.device },
      generated_at: new Date(now).toISOString(),
      blocked: blockedEntries(store.db, f),
      signals: signalEntries(store.db, f),
      access_hourly: accessEntries(store.db, f),
      access: fullAccessEntries(store.db, f),
    };
    store.close();
    if (!a.csv) return out(json(data));
    const rows = [
      ...data.blocked.map((r) => ({
        record: 'blocked',
        time: r.time,
        client: r.client,
        device: r.device,
        group: r.group,
        name: r.qname,
        type: r.qtype,
        category: r.category,
        detail: `${r.entry} → ${r.response}`,
        count: 1,
      })),
      ...data.signals.map((r) => ({
        record: 'signal',
        time: r.first_seen,
        client: r.client,
        device: r.device,
        group: r.group,
        name: r.qname,
        type: r.kind,
        category: r.severity,
        detail: `${r.detail} (last ${r.last_seen})`,
        count: r.count,
      })),
      ...data.access_hourly.map((r) => ({
        record: 'access-hour',
        time: r.hour,
        client: r.client,
        device: r.device,
        group: r.group,
        name: r.domain,
        type: '',
        category: '',
        detail: '',
        count: r.count,
      })),
      ...data.access.map((r) => ({
        record: 'access',
        time: r.time as string,
        client: r.client as string,
        device: r.device as string,
        group: r.group as string,
        name: r.qname as string,
        type: r.qtype as string,
        category: '',
        detail: r.result as string,
        count: 1,
      })),
    ];
    out(csv(rows, ['record', 'time', 'client', 'device', 'group', 'name', 'type', 'category', 'detail', 'count']));
  },
};
