import type { HeartbeatRecord } from '../evidence.js';
import type {
  AccessEntry,
  BlockedEntry,
  DeviceCount,
  DeviceSubject,
  DeviceSummary,
  FullAccessEntry,
  GroupCategoryCount,
  KindCount,
  ReviewFilter,
  ReviewRepository,
  SignalEntry,
} from '../review.js';
import { isoHour, isoTime } from '../time-text.js';
import type { DatabaseFile } from './database-file.js';

interface Columns {
  /** The row's time (its start, for rows that span time). */
  ts: string;
  /** The row's end, for rows that span time: a row overlapping the period is in it. */
  end?: string;
  client: string;
  device: string;
  group: string;
  category?: string;
  kind?: string;
  user?: string;
}

/** The WHERE clause of a review filter over a table's columns, with its named parameters. */
function where(f: ReviewFilter, c: Columns): { sql: string; params: Record<string, unknown> } {
  const parts = [`${c.end ?? c.ts} >= @since`, `${c.ts} < @until`];
  const params: Record<string, unknown> = { since: f.since, until: f.until };
  const add = (col: string | undefined, key: keyof ReviewFilter) => {
    if (col === undefined || f[key] === undefined) return;
    parts.push(`${col} = @${key}`);
    params[key] = f[key];
  };
  add(c.client, 'client');
  add(c.device, 'device');
  if (f.deviceSearch !== undefined) {
    parts.push(`${c.device} LIKE @deviceSearch ESCAPE '\\'`);
    params.deviceSearch = `%${likeEscape(f.deviceSearch)}%`;
  }
  add(c.group, 'group');
  add(c.category, 'category');
  add(c.kind, 'kind');
  add(c.user, 'user');
  return { sql: parts.join(' AND '), params };
}

/** The columns of a signal as read (signals() and the review repository share them). */
export const SIGNAL_COLUMNS = `id, first_ts, last_ts, client, device, grp AS "group", kind, severity, qname, domain, detail, count, user,
  review_outcome, review_note, review_by, review_at`;

export interface SignalRowRead {
  id: number;
  first_ts: number;
  last_ts: number;
  client: string;
  device: string;
  group: string;
  kind: string;
  severity: string;
  qname: string;
  domain: string;
  detail: string;
  count: number;
  user: string | null;
  review_outcome: string | null;
  review_note: string | null;
  review_by: string | null;
  review_at: number | null;
}

export function signalEntry(r: SignalRowRead): SignalEntry {
  const { first_ts, last_ts, review_outcome, review_note, review_by, review_at, ...rest } = r;
  return {
    ...rest,
    first_seen: isoTime(first_ts),
    last_seen: isoTime(last_ts),
    review:
      review_at === null
        ? null
        : { outcome: review_outcome ?? '', note: review_note ?? '', by: review_by ?? '', at: isoTime(review_at) },
  };
}

const limit = (f: ReviewFilter) => Math.max(1, f.limit ?? 1_000_000);

/** Text for LIKE taken literally (SQLite's LIKE is case-insensitive for ASCII, as searches want). */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Reads of the evidence, from the SQLite file. */
export class SqliteReview implements ReviewRepository {
  constructor(private readonly file: DatabaseFile) {}

  async blocked(f: ReviewFilter): Promise<BlockedEntry[]> {
    const w = where(f, { ts: 'ts', client: 'client', device: 'device', group: 'grp', category: 'category', user: 'user' });
    const rows = this.all<Omit<BlockedEntry, 'time'> & { ts: number }>(
      `SELECT ts, client, device, grp AS "group", qname, qtype, category, entry, response, transport, via, user
       FROM blocked WHERE ${w.sql} ORDER BY ts DESC LIMIT ${limit(f)}`,
      w.params,
    );
    return rows.map(({ ts, ...r }) => ({ time: isoTime(ts), ...r }));
  }

  async signals(f: ReviewFilter): Promise<SignalEntry[]> {
    const cols = {
      ts: 'first_ts',
      end: 'last_ts',
      client: 'client',
      device: 'device',
      group: 'grp',
      kind: 'kind',
      category: 'domain',
      user: 'user',
    };
    const w = where(f, cols);
    const rows = this.all<SignalRowRead>(
      `SELECT ${SIGNAL_COLUMNS} FROM signals WHERE ${w.sql}${f.unreviewed ? ' AND review_at IS NULL' : ''}
       ORDER BY last_ts DESC LIMIT ${limit(f)}`,
      w.params,
    );
    return rows.map(signalEntry);
  }

  async accessHourly(f: ReviewFilter): Promise<AccessEntry[]> {
    const w = where(f, {
      ts: 'a.first_ts',
      end: 'a.last_ts',
      client: 'c.address',
      device: 'c.device',
      group: 'c.grp',
      user: 'c.user',
    });
    const rows = this.all<{
      hour: number;
      client: string;
      device: string;
      group: string;
      domain: string;
      count: number;
      first_ts: number;
      last_ts: number;
      user: string | null;
    }>(
      `SELECT a.hour, c.address AS client, c.device, c.grp AS "group", d.name AS domain, a.count, a.first_ts, a.last_ts,
              NULLIF(c.user, '') AS user
       FROM access_hourly a JOIN clients c ON c.id = a.client_id JOIN domains d ON d.id = a.domain_id
       WHERE ${w.sql} ORDER BY a.hour DESC, a.count DESC LIMIT ${limit(f)}`,
      w.params,
    );
    return rows.map((r) => ({
      hour: isoHour(r.hour),
      client: r.client,
      device: r.device,
      group: r.group,
      domain: r.domain,
      count: r.count,
      first_seen: isoTime(r.first_ts),
      last_seen: isoTime(r.last_ts),
      user: r.user,
    }));
  }

  async accessFull(f: ReviewFilter): Promise<FullAccessEntry[]> {
    const w = where(f, { ts: 'ts', client: 'client', device: 'device', group: 'grp', user: 'user' });
    const rows = this.all<Omit<FullAccessEntry, 'time'> & { ts: number }>(
      `SELECT ts, client, device, grp AS "group", qname, qtype, result, user FROM access WHERE ${w.sql}
       ORDER BY ts DESC LIMIT ${limit(f)}`,
      w.params,
    );
    return rows.map(({ ts, ...r }) => ({ time: isoTime(ts), ...r }));
  }

  async blockedByGroupCategory(from: number, to: number): Promise<GroupCategoryCount[]> {
    return this.all(
      `SELECT grp AS "group", category, count(*) AS count FROM blocked WHERE ts >= @from AND ts < @to
       GROUP BY grp, category ORDER BY count DESC`,
      { from, to },
    );
  }

  async topBlockedDevices(from: number, to: number, n: number): Promise<DeviceCount[]> {
    return this.all(
      `SELECT client, device, grp AS "group", count(*) AS blocked FROM blocked WHERE ts >= @from AND ts < @to
       GROUP BY client, device, grp ORDER BY blocked DESC LIMIT ${Math.max(1, Math.floor(n))}`,
      { from, to },
    );
  }

  async blockedDeviceCount(from: number, to: number): Promise<number> {
    return this.all<{ n: number }>('SELECT count(DISTINCT client) AS n FROM blocked WHERE ts >= @from AND ts < @to', {
      from,
      to,
    })[0].n;
  }

  async blockedPerHour(from: number, to: number): Promise<{ hour: number; count: number }[]> {
    return this.all(
      'SELECT ts / 3600000 AS hour, count(*) AS count FROM blocked WHERE ts >= @from AND ts < @to GROUP BY hour ORDER BY hour',
      { from, to },
    );
  }

  async signalsByKind(since: number): Promise<KindCount[]> {
    return this.all(
      `SELECT kind, count(*) AS signals, sum(count) AS n, count(DISTINCT client) AS devices FROM signals WHERE last_ts >= @since
       GROUP BY kind ORDER BY n DESC`,
      { since },
    );
  }

  async activity(start: number, size: number, n: number): Promise<{ blocked: number[]; signals: number[] }> {
    const blocked = new Array<number>(n).fill(0);
    const signals = new Array<number>(n).fill(0);
    // SQL does the bucketing: no row is loaded. JS numbers bind as REAL, hence the CAST.
    const p = { start, size };
    for (const r of this.all<{ b: number; n: number }>(
      'SELECT CAST((ts - @start) / @size AS INTEGER) AS b, count(*) AS n FROM blocked WHERE ts >= @start GROUP BY b',
      p,
    ))
      if (r.b < n) blocked[r.b] = r.n;
    for (const r of this.all<{ b: number; n: number }>(
      'SELECT CAST((first_ts - @start) / @size AS INTEGER) AS b, sum(count) AS n FROM signals WHERE first_ts >= @start GROUP BY b',
      p,
    ))
      if (r.b < n) signals[r.b] = r.n;
    return { blocked, signals };
  }

  async devices(search: string, max: number): Promise<DeviceSummary[]> {
    const rows = this.all<Omit<DeviceSummary, 'last_seen'> & { last: number | null }>(
      `SELECT device, client, max(grp) AS "group", max(last) AS last, sum(blocked) AS blocked, sum(signals) AS signals
       FROM (
         SELECT device, client, grp, max(ts) AS last, count(*) AS blocked, 0 AS signals FROM blocked GROUP BY device, client
         UNION ALL
         SELECT device, client, grp, max(last_ts), 0, count(*) FROM signals GROUP BY device, client
         UNION ALL
         SELECT c.device, c.address, c.grp, max(a.last_ts), 0, 0 FROM clients c LEFT JOIN access_hourly a ON a.client_id = c.id
         GROUP BY c.device, c.address
       )
       WHERE @search = '' OR device LIKE @contains ESCAPE '\\' OR client LIKE @prefix ESCAPE '\\'
       GROUP BY device, client ORDER BY last IS NULL, last DESC, device LIMIT ${Math.max(1, max)}`,
      { search, contains: `%${likeEscape(search)}%`, prefix: `${likeEscape(search)}%` },
    );
    return rows.map(({ last, ...r }) => ({ ...r, last_seen: last === null ? '' : isoTime(last) }));
  }

  async deviceKnown(s: DeviceSubject): Promise<boolean> {
    const [col, address] = 'device' in s ? ['device', 'device'] : ['client', 'address'];
    const v = 'device' in s ? s.device : s.client;
    return (
      this.file
        .prepare(
          `SELECT 1 FROM blocked WHERE ${col} = @v UNION ALL SELECT 1 FROM signals WHERE ${col} = @v
           UNION ALL SELECT 1 FROM clients WHERE ${address} = @v LIMIT 1`,
        )
        .get({ v }) !== undefined
    );
  }

  async heartbeat(): Promise<HeartbeatRecord | null> {
    const r = this.file
      .prepare('SELECT pid, version, started_at, last_seen, last_write, dropped, write_errors, components FROM daemon')
      .get() as
      | {
          pid: number;
          version: string;
          started_at: number;
          last_seen: number;
          last_write: number;
          dropped: number;
          write_errors: number;
          components: string;
        }
      | undefined;
    if (!r) return null;
    return {
      pid: r.pid,
      version: r.version,
      startedAt: r.started_at,
      lastSeen: r.last_seen,
      lastWrite: r.last_write,
      dropped: r.dropped,
      writeErrors: r.write_errors,
      components: JSON.parse(r.components) as HeartbeatRecord['components'],
    };
  }

  private all<T>(sql: string, params: Record<string, unknown>): T[] {
    return this.file.prepare(sql).all(params) as T[];
  }
}
