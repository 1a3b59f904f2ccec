import type { Argv, CommandModule } from 'yargs';
import { loadForCli, openStore, out } from './context.js';
import type { LoadedConfig } from '../config/load.js';
import type { ReviewFilter } from '../storage/review.js';
import type { Storage } from '../storage/storage.js';
import { UsageError } from './errors.js';
import { csv, json, table, type Cell } from '../format/output.js';
import { filterFromFlags, filterOptions, type FilterFlags } from './review-filter.js';
import { SIGNAL_KIND_NAMES } from '../signals/kinds.js';
import { AUDIT_ACTIONS } from '../storage/accounts.js';
import { auditTrail } from '../review/audit-trail.js';
import { sitesScope, TRUST_SCOPE } from '../storage/scope.js';
import { reviewCell } from '../review/report-render.js';
import { formatSeconds, localTimesIn } from '../time/local-time.js';
import { commandReads, scopeOptions, type ScopeFlags } from './review-scope.js';

/** Columns that hold an ISO-8601 UTC time: JSON and CSV keep it; a table shows the school's local time. */
const TIME_KEYS = ['time', 'last_time', 'first_seen', 'last_seen', 'hour'];

/**
 * The table's copy of the rows with each time as local time naming its zone ("… 15:30:07 BST"),
 * the times inside a detail too.
 */
export function localTimes(rows: Record<string, Cell>[]): Record<string, Cell>[] {
  return rows.map((r) => {
    const o = { ...r };
    for (const k of TIME_KEYS) {
      const v = o[k];
      const ms = typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : NaN;
      if (!Number.isNaN(ms)) o[k] = formatSeconds(ms);
    }
    // A detail may name times too (the audit's "… until 2026-11-24T15:30:00.000Z …"): local as well.
    if (typeof o.detail === 'string') o.detail = localTimesIn(o.detail);
    return o;
  });
}

interface LogsArgs extends FilterFlags, ScopeFlags {
  actor?: string;
  action?: string;
  config: string;
  json: boolean;
  csv: boolean;
  what: string;
  limit: number;
  unreviewed: boolean;
}

const COLUMNS: Record<string, Record<string, string>> = {
  blocked: {
    TIME: 'time',
    CLIENT: 'client',
    DEVICE: 'device',
    GROUP: 'group',
    USER: 'user',
    NAME: 'qname',
    TYPE: 'qtype',
    CATEGORY: 'category',
    ENTRY: 'entry',
    ANSWER: 'response',
    VIA: 'via',
    TIMES: 'count',
    'LAST TIME': 'last_time',
  },
  signals: {
    ID: 'id',
    'LAST SEEN': 'last_seen',
    CLIENT: 'client',
    DEVICE: 'device',
    GROUP: 'group',
    USER: 'user',
    KIND: 'kind',
    SEVERITY: 'severity',
    COUNT: 'count',
    DOMAIN: 'domain',
    'FIRST NAME': 'qname',
    REVIEW: 'review',
    DETAIL: 'detail',
  },
  access: { HOUR: 'hour', CLIENT: 'client', DEVICE: 'device', GROUP: 'group', USER: 'user', DOMAIN: 'domain', COUNT: 'count' },
  audit: { TIME: 'time', WHO: 'actor', FROM: 'ip', ACTION: 'action', WHAT: 'target', DETAIL: 'detail' },
  'access-full': {
    TIME: 'time',
    CLIENT: 'client',
    DEVICE: 'device',
    GROUP: 'group',
    USER: 'user',
    NAME: 'qname',
    TYPE: 'qtype',
    RESULT: 'result',
  },
};

export const logsCommand: CommandModule<{ config: string; json: boolean }, LogsArgs> = {
  command: 'logs <what>',
  describe: 'Review the evidence (blocked attempts, circumvention signals, access log) or the access audit',
  builder: (y) =>
    scopeOptions(filterOptions(y))
      .positional('what', {
        choices: ['blocked', 'signals', 'access', 'audit'] as const,
        demandOption: true,
        describe: 'Which log (audit: who signed in, viewed, exported or changed what)',
      })
      .option('actor', { type: 'string', describe: 'Only this user (audit)' })
      .option('action', { type: 'string', describe: `Only this action (audit): ${AUDIT_ACTIONS.join(', ')}` })
      .option('category', { type: 'string', describe: 'Only this category (blocked)' })
      .option('kind', {
        type: 'string',
        describe: `Only this signal kind (signals): ${SIGNAL_KIND_NAMES.join(', ')}`,
      })
      .option('unreviewed', {
        type: 'boolean',
        default: false,
        describe: 'Only signals not reviewed yet (signals)',
      })
      .option('limit', { type: 'number', default: 100, describe: 'At most this many rows, newest first' })
      .option('csv', { type: 'boolean', default: false, describe: 'CSV output' })
      .example('$0 logs signals --since 7d', 'Every circumvention signal this week')
      .example('$0 logs signals --unreviewed --since 30d', 'Signals nobody has reviewed yet')
      .example('$0 logs audit --since 30d --action view-device', 'Who looked at which device this month')
      .example('$0 logs blocked --device Y9-LT-07 --since 2026-11-20', 'What one device tried since a date')
      .example(
        '$0 logs access --client 10.20.12.34 --csv > access.csv',
        'A device’s browsing, for a spreadsheet',
      ) as Argv<LogsArgs>,
  handler: async (a) => {
    const loaded = await loadForCli(a.config, { fallback: true });
    const f = filterFromFlags(a, Object.keys(loaded.config.groups), Date.now());
    if (a.unreviewed && a.what !== 'signals') throw new UsageError('--unreviewed is for `logs signals`');
    const store = await openStore(loaded, { readOnly: true });
    try {
      await show(a, loaded, store, f);
    } finally {
      await store.close();
    }
  },
};

/** Reads and prints the log asked for, within what the reader may see (review-scope.ts). */
async function show(a: LogsArgs, loaded: LoadedConfig, store: Storage, f: ReviewFilter): Promise<void> {
  const reads = await commandReads(loaded, store, a, `logs ${a.what}`);
  let rows: Record<string, Cell>[];
  let cols = COLUMNS[a.what];
  if (a.what === 'audit') {
    if (a.action && !(AUDIT_ACTIONS as readonly string[]).includes(a.action))
      throw new UsageError(`--action "${a.action}": no such action (actions: ${AUDIT_ACTIONS.join(', ')})`);
    const { accounts, exceptions, requests } = store;
    // With shared, the CLI reads the audit rows about this filter's site only (issue 17).
    const site = loaded.config.shared ? loaded.config.site : undefined;
    const scope = site !== undefined ? sitesScope([site]) : TRUST_SCOPE;
    rows = await auditTrail(
      { accounts, exceptions, requests, signalReviews: reads.signalReviews },
      { since: f.since, until: f.until, actor: a.actor, action: a.action, limit: f.limit, scope },
      site,
    );
  } else if (a.what === 'blocked') rows = (await reads.review.blocked(f)) as unknown as Record<string, Cell>[];
  else if (a.what === 'signals') {
    const signals = await reads.review.signals({ ...f, unreviewed: a.unreviewed || undefined });
    // JSON keeps the review as an object ({outcome, note, by, at} or null); tables and CSV get one cell.
    if (a.json) return out(json(signals));
    rows = signals.map((s) => ({ ...s, review: s.review ? reviewCell(s) : 'not reviewed' }));
  } else if (loaded.config.log.access === 'full') {
    rows = (await reads.review.accessFull(f)) as unknown as Record<string, Cell>[];
    cols = COLUMNS['access-full'];
  } else rows = (await reads.review.accessHourly(f)) as unknown as Record<string, Cell>[];
  if (a.json) return out(json(rows));
  if (a.csv) return out(csv(rows));
  // The shared store's rows are of several sites: the table says whose.
  if (reads.trustWide && a.what !== 'audit') cols = { SITE: 'site', ...cols };
  out(table(localTimes(rows), cols));
}
