import type { HeartbeatRecord } from '../evidence.js';
import type {
  AccessEntry,
  BlockedDevices,
  BlockedEntry,
  DeviceCount,
  DeviceSubject,
  DeviceSummary,
  FullAccessEntry,
  GroupCategoryCount,
  KindCount,
  SignalGroup,
  SignalGroupsTally,
  SignalTally,
  ReviewFilter,
  ReviewRepository,
  SignalEntry,
} from '../review.js';
import { isoHour, isoTime } from '../time-text.js';
import { BlockedRollups } from './blocked-rollups.js';
import type { DatabaseFile } from './database-file.js';
import { signalEntry, type SignalRow } from '../signal-row.js';
import {
  deviceKey,
  mixedGroupDevices,
  plainGroup,
  tallyDays,
  tallyDevices,
  type TalliedGroup,
} from '../signal-tally-of-groups.js';

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
  /** The DNS name, for the name search. */
  name?: string;
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
  if (c.name !== undefined && f.name) {
    parts.push(`instr(${c.name}, @name) > 0`);
    params.name = f.name.toLowerCase();
  }
  return { sql: parts.join(' AND '), params };
}

/** The columns of a signal as read (signals() and the review repository share them). */
export const SIGNAL_COLUMNS = `id, first_ts, last_ts, client, device, grp AS "group", kind, severity, qname, domain, detail, count, user,
  review_outcome, review_note, review_by, review_at`;

const limit = (f: ReviewFilter) => Math.max(1, f.limit ?? 1_000_000);

/** Text for LIKE taken literally (SQLite's LIKE is case-insensitive for ASCII, as searches want). */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The index of the last day start (`@d0` … `@d{hi}`, ascending) at or before `col`: a binary search in SQL. */
function dayIndex(col: string, lo: number, hi: number): string {
  if (lo >= hi) return String(lo);
  const mid = (lo + hi + 1) >> 1;
  return `CASE WHEN ${col} < @d${mid} THEN ${dayIndex(col, lo, mid - 1)} ELSE ${dayIndex(col, mid, hi)} END`;
}

/** Reads of the evidence, from the SQLite file. */
const BLOCKED_COLUMNS: Columns = {
  ts: 'ts',
  client: 'client',
  device: 'device',
  group: 'grp',
  category: 'category',
  user: 'user',
  name: 'qname',
};

export class SqliteReview implements ReviewRepository {
  private readonly rollups: BlockedRollups;

  constructor(private readonly file: DatabaseFile) {
    this.rollups = new BlockedRollups(file);
  }

  async blocked(f: ReviewFilter): Promise<BlockedEntry[]> {
    const w = where(f, BLOCKED_COLUMNS);
    const rows = this.all<Omit<BlockedEntry, 'time' | 'last_time'> & { ts: number; last_ts: number }>(
      `SELECT ts, last_ts, count, client, device, grp AS "group", qname, qtype, category, entry, response, transport, via, user
       FROM blocked WHERE ${w.sql} ORDER BY ts DESC LIMIT ${limit(f)}`,
      w.params,
    );
    return rows.map(({ ts, last_ts, ...r }) => ({ time: isoTime(ts), last_time: isoTime(last_ts), ...r }));
  }

  async blockedCount(f: ReviewFilter): Promise<number> {
    const set = (Object.keys(f) as (keyof ReviewFilter)[]).filter(
      (k) => f[k] !== undefined && f[k] !== '' && k !== 'since' && k !== 'until' && k !== 'limit',
    );
    const sum = (rows: { count?: number; blocked?: number }[]) => rows.reduce((n, r) => n + (r.count ?? r.blocked ?? 0), 0);
    if (set.every((k) => k === 'group' || k === 'category'))
      return sum(this.rollups.byGroupCategory(f.since, f.until, { group: f.group, category: f.category }));
    if (set.length === 1 && (set[0] === 'device' || set[0] === 'client'))
      return sum(this.rollups.byDevice(f.since, f.until, { [set[0]]: f[set[0]] }));
    const w = where(f, BLOCKED_COLUMNS);
    return this.all<{ n: number | null }>(`SELECT sum(count) AS n FROM blocked WHERE ${w.sql}`, w.params)[0].n ?? 0;
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
    const rows = this.all<SignalRow>(
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
    return this.rollups.byGroupCategory(from, to);
  }

  async topBlockedDevices(from: number, to: number, n: number): Promise<DeviceCount[]> {
    return this.rollups.byDevice(from, to).slice(0, Math.max(1, Math.floor(n)));
  }

  async blockedDeviceCount(from: number, to: number): Promise<number> {
    return new Set(this.rollups.byDevice(from, to).map((d) => d.client)).size;
  }

  async blockedDevices(from: number, to: number, n: number): Promise<BlockedDevices> {
    const all = this.rollups.byDevice(from, to);
    return { top: all.slice(0, Math.max(1, Math.floor(n))), devices: new Set(all.map((d) => d.client)).size };
  }

  async blockedPerHour(from: number, to: number): Promise<{ hour: number; count: number }[]> {
    return this.rollups.perHour(from, to);
  }

  async signalsByKind(since: number): Promise<KindCount[]> {
    return this.all(
      `SELECT kind, count(*) AS signals, sum(count) AS n, count(DISTINCT client) AS devices FROM signals WHERE last_ts >= @since
       GROUP BY kind ORDER BY n DESC`,
      { since },
    );
  }

  async signalTally(from: number, to: number): Promise<SignalTally> {
    const span = 'last_ts >= @from AND first_ts < @to';
    // The group is the one of the device's earliest signal (bare column beside min()).
    const devices = this.all<Omit<SignalTally['devices'][number], 'kinds'>>(
      `SELECT client, device, grp AS "group", min(last_ts) AS first, count(*) AS signals, sum(count) AS occurrences,
         sum(review_at IS NULL) AS unreviewed FROM signals WHERE ${span} GROUP BY client, device`,
      { from, to },
    );
    const kinds = new Map<string, string[]>();
    for (const k of this.all<{ client: string; device: string; kind: string }>(
      `SELECT client, device, kind, min(CASE WHEN review_at IS NULL THEN last_ts END) AS open_first,
         min(last_ts) AS any_first FROM signals WHERE ${span} GROUP BY client, device, kind
       ORDER BY client, device, open_first IS NULL, coalesce(open_first, any_first), kind`,
      { from, to },
    )) {
      const key = `${k.client}\u0000${k.device}`;
      const list = kinds.get(key) ?? [];
      list.push(k.kind);
      kinds.set(key, list);
    }
    const quarters = this.all<SignalTally['quarters'][number]>(
      `SELECT CAST(last_ts / 900000 AS INTEGER) * 900000 AS quarter, count(*) AS signals, sum(count) AS occurrences
       FROM signals WHERE ${span} GROUP BY 1`,
      { from, to },
    );
    return { devices: devices.map((d) => ({ ...d, kinds: kinds.get(`${d.client}\u0000${d.device}`) ?? [] })), quarters };
  }

  async signalGroups(from: number, to: number, dayStarts: number[]): Promise<SignalGroup[]> {
    return this.talliedGroups(from, to, dayStarts).map(plainGroup);
  }

  async signalGroupsTally(from: number, to: number, dayStarts: number[], lastDayEnd: number): Promise<SignalGroupsTally> {
    const tallied = this.talliedGroups(from, to, dayStarts);
    const span = { from, to };
    // Signals still going on after the last day ended (last seen on a later day): few, by the index.
    const tail = this.all<{ quarter: number; signals: number; occurrences: number }>(
      `SELECT CAST(last_ts / 900000 AS INTEGER) * 900000 AS quarter, count(*) AS signals, sum(count) AS occurrences
       FROM signals WHERE last_ts >= @end AND last_ts >= @from AND first_ts < @to GROUP BY 1`,
      { ...span, end: lastDayEnd },
    );
    return {
      groups: tallied.map(plainGroup),
      devices: tallyDevices(tallied, this.earliestGroups(from, to, mixedGroupDevices(tallied))),
      days: tallyDays(tallied, tail),
    };
  }

  /**
   * The group of each listed device's earliest signal (least last time; among equals the first in the
   * order of the signals_dedup index, kind and domain, as the tally's bare column picks it).
   */
  private earliestGroups(from: number, to: number, keys: Set<string>): Map<string, string> {
    const out = new Map<string, string>();
    if (keys.size === 0) return out;
    const clients = [...new Set([...keys].map((k) => k.split('\u0000')[1]))];
    for (const r of this.all<{ client: string; device: string; grp: string }>(
      `SELECT client, device, grp FROM (
         SELECT client, device, grp, row_number() OVER (PARTITION BY client, device ORDER BY last_ts, kind, domain, id) AS r
         FROM signals WHERE client IN (SELECT value FROM json_each(@clients)) AND last_ts >= @from AND first_ts < @to
       ) WHERE r = 1`,
      { clients: JSON.stringify(clients), from, to },
    )) {
      const key = deviceKey(r);
      if (keys.has(key)) out.set(key, r.grp);
    }
    return out;
  }

  /** The signal groups with the aggregates the tally is worked out from (signal-tally-of-groups.ts). */
  private talliedGroups(from: number, to: number, dayStarts: number[]): TalliedGroup[] {
    if (dayStarts.length === 0) return [];
    // Each signal joins the day it was last seen in: the last start at or before its last time, found
    // by a binary search written as nested CASEs (a join on the days cost signals × days: 0.55 s of
    // CPU for a 265-day report of 42,000 signals, 55 ms without the days).
    const days = Object.fromEntries(dayStarts.map((t, i) => [`d${i}`, t]));
    const rows = this.all<
      Omit<TalliedGroup, 'day' | 'domains' | 'names' | 'outcomes' | 'only'> & {
        dayIndex: number;
        domains: string;
        names: string;
        outcomes: string;
        only: number | null;
      }
    >(
      `SELECT s.client, s.device, s.kind, group_concat(DISTINCT s.severity) AS severity,
         ${dayIndex('s.last_ts', 0, dayStarts.length - 1)} AS dayIndex,
         count(*) AS signals, sum(s.count) AS occurrences, sum(s.review_at IS NULL) AS unreviewed,
         json_group_array(CASE WHEN s.review_at IS NOT NULL THEN coalesce(s.review_outcome, '') END) AS outcomes,
         min(s.first_ts) AS first, max(s.last_ts) AS last,
         json_group_array(DISTINCT s.domain) AS domains, json_group_array(DISTINCT s.qname) AS names,
         CASE WHEN count(*) = 1 THEN max(s.id) END AS only,
         min(s.last_ts) AS lastFirst, min(CASE WHEN s.review_at IS NULL THEN s.last_ts END) AS openFirst,
         min(s.grp) AS grpMin, max(s.grp) AS grpMax
       FROM signals s
       WHERE s.last_ts >= @from AND s.first_ts < @to
       GROUP BY s.client, s.device, s.kind, dayIndex`,
      { from, to, ...days },
    );
    const groups = rows.map(({ dayIndex: i, ...g }) => ({ ...g, day: dayStarts[i] }));
    const ids = groups.flatMap((g) => (g.only === null ? [] : [g.only]));
    const only = new Map(
      this.all<SignalRow>(`SELECT ${SIGNAL_COLUMNS} FROM signals WHERE id IN (SELECT value FROM json_each(@ids))`, {
        ids: JSON.stringify(ids),
      }).map((r) => [r.id, signalEntry(r)]),
    );
    return groups.map((g) => {
      const outcomes: Record<string, number> = {};
      for (const o of JSON.parse(g.outcomes) as (string | null)[]) if (o !== null) outcomes[o] = (outcomes[o] ?? 0) + 1;
      return {
        ...g,
        outcomes,
        domains: (JSON.parse(g.domains) as string[]).sort(),
        names: (JSON.parse(g.names) as string[]).sort(),
        only: g.only === null ? null : (only.get(g.only) ?? null),
      };
    });
  }

  async activity(start: number, size: number, n: number): Promise<{ blocked: number[]; signals: number[] }> {
    const blocked = this.rollups.buckets(start, size, n);
    const signals = new Array<number>(n).fill(0);
    // SQL does the bucketing: no row is loaded. JS numbers bind as REAL, hence the CAST. (A signal
    // first seen after start was last seen after it too: last_ts, indexed, bounds the scan.)
    const p = { start, size, end: start + size * n };
    for (const r of this.all<{ b: number; n: number }>(
      `SELECT CAST((first_ts - @start) / @size AS INTEGER) AS b, sum(count) AS n FROM signals
       WHERE last_ts >= @start AND first_ts >= @start AND first_ts < @end GROUP BY b`,
      p,
    ))
      if (r.b < n) signals[r.b] = r.n;
    return { blocked, signals };
  }

  /**
   * The Devices page: from the per-device summary the writer keeps (device_totals, see
   * sqlite/device-totals.ts), so it costs the same whatever the retention. As on PostgreSQL, a device
   * seen in several groups shows the greatest name.
   */
  async devices(search: string, max: number): Promise<DeviceSummary[]> {
    const rows = this.all<Omit<DeviceSummary, 'last_seen'> & { last: number }>(
      `SELECT device, client, max(grp) AS "group", max(last) AS last, sum(blocked) AS blocked, sum(signals) AS signals
       FROM (
         SELECT device, client, grp, blocked, signals,
                max(coalesce(blocked_last, 0), coalesce(signals_last, 0), coalesce(access_last, 0)) AS last
         FROM device_totals
         WHERE @search = '' OR device LIKE @contains ESCAPE '\\' OR client LIKE @prefix ESCAPE '\\'
       )
       GROUP BY device, client ORDER BY last DESC, device LIMIT ${Math.max(1, max)}`,
      { search, contains: `%${likeEscape(search)}%`, prefix: `${likeEscape(search)}%` },
    );
    return rows.map(({ last, ...r }) => ({ ...r, last_seen: isoTime(last) }));
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
