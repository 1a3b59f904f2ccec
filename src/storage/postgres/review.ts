import type { HeartbeatRecord } from '../evidence.js';
import type { ReadScope } from '../read-scope.js';
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
  ReviewFilter,
  ReviewRepository,
  SignalEntry,
  SignalGroup,
  SignalGroupsTally,
  SignalTally,
} from '../review.js';
import { isoHour, isoTime } from '../time-text.js';
import { PgBlockedRollups } from './blocked-rollups.js';
import type { PostgresConnection } from './connection.js';
import { filterWhere, likeEscape, limitOf, Params, query, siteWhere, type Columns } from './review-sql.js';
import { signalEntry } from '../signal-row.js';
import { PG_SIGNAL_COLUMNS, type PgSignalRow } from './signal-row.js';
import { pgSignalGroupsTally, pgTalliedGroups } from './signal-groups.js';
import { plainGroup } from '../signal-tally-of-groups.js';

const BLOCKED: Columns = {
  ts: 'ts',
  site: 'site',
  client: 'client',
  device: 'device',
  group: 'grp',
  category: 'category',
  user: 'user_name',
  name: 'qname',
};
const SIGNALS: Columns = {
  ts: 'first_ts',
  end: 'last_ts',
  site: 'site',
  client: 'client',
  device: 'device',
  group: 'grp',
  kind: 'kind',
  category: 'domain',
  user: 'user_name',
};

/**
 * The hours an access aggregate overlapping [since, until) can be of (one hour's aggregate: its
 * first and last times are in its hour): implied by the times, and what lets PostgreSQL skip the
 * month partitions (keyed by the hour) outside the period.
 */
function hourBounds(f: ReviewFilter, ps: Params): string {
  const lo = Number.isFinite(f.since) ? ` AND hour >= ${ps.p(Math.floor(f.since / 3_600_000))}` : '';
  const hi = Number.isFinite(f.until) ? ` AND hour < ${ps.p(Math.ceil(f.until / 3_600_000))}` : '';
  return lo + hi;
}

/**
 * The evidence of the whole trust as one reader may see it: the SQLite review queries translated
 * to the tables every filter ships into (postgres/schema.ts, version 2), each with the reader's
 * sites in its WHERE clause (bound at construction: Storage.reads), each entry with its site.
 * Totals add the rows of a site's nodes together.
 */
export class PostgresReview implements ReviewRepository {
  private readonly rollups: PgBlockedRollups;

  constructor(
    private readonly conn: PostgresConnection,
    private readonly rs: ReadScope,
  ) {
    this.rollups = new PgBlockedRollups(conn);
  }

  async blocked(f: ReviewFilter): Promise<BlockedEntry[]> {
    const ps = new Params();
    // ORDER BY names the table's columns: the bare names are the float8 outputs, and ordering by
    // them sorts every row of the period instead of reading the newest through an index (here and below).
    const rows = await this.q<Omit<BlockedEntry, 'time' | 'last_time'> & { ts: number; last_ts: number }>(
      'read blocked attempts',
      `SELECT site, ts::float8 AS ts, last_ts::float8 AS last_ts, count::float8 AS count, client, device, grp AS "group", qname,
         qtype, category, entry, response, transport, via, user_name AS "user"
       FROM blocked WHERE ${filterWhere(this.rs, f, BLOCKED, ps)} ORDER BY blocked.ts DESC, blocked.id DESC LIMIT ${limitOf(f)}`,
      ps,
    );
    return rows.map(({ ts, last_ts, ...r }) => ({ time: isoTime(ts), last_time: isoTime(last_ts), ...r }));
  }

  async blockedCount(f: ReviewFilter): Promise<number> {
    const set = (Object.keys(f) as (keyof ReviewFilter)[]).filter(
      (k) => f[k] !== undefined && f[k] !== '' && k !== 'since' && k !== 'until' && k !== 'limit',
    );
    const sum = (rows: { count?: number; blocked?: number }[]) => rows.reduce((n, r) => n + (r.count ?? r.blocked ?? 0), 0);
    if (set.every((k) => k === 'group' || k === 'category'))
      return sum(await this.rollups.byGroupCategory(this.rs, f.since, f.until, { group: f.group, category: f.category }));
    if (set.length === 1 && (set[0] === 'device' || set[0] === 'client'))
      return sum(await this.rollups.byDevice(this.rs, f.since, f.until, { [set[0]]: f[set[0]] }));
    const ps = new Params();
    const [r] = await this.q<{ n: number | null }>(
      'count blocked attempts',
      `SELECT sum(count)::float8 AS n FROM blocked WHERE ${filterWhere(this.rs, f, BLOCKED, ps)}`,
      ps,
    );
    return r.n ?? 0;
  }

  async signals(f: ReviewFilter): Promise<SignalEntry[]> {
    const ps = new Params();
    const rows = await this.q<PgSignalRow>(
      'read signals',
      `SELECT ${PG_SIGNAL_COLUMNS} FROM signals WHERE ${filterWhere(this.rs, f, SIGNALS, ps)}${f.unreviewed ? ' AND review_at IS NULL' : ''}
       ORDER BY signals.last_ts DESC, signals.id DESC LIMIT ${limitOf(f)}`,
      ps,
    );
    return rows.map(signalEntry);
  }

  async accessHourly(f: ReviewFilter): Promise<AccessEntry[]> {
    const ps = new Params();
    const cols: Columns = {
      ts: 'first_ts',
      end: 'last_ts',
      site: 'site',
      client: 'client',
      device: 'device',
      group: 'grp',
      user: 'user_name',
    };
    const rows = await this.q<
      Omit<AccessEntry, 'hour' | 'first_seen' | 'last_seen'> & { hour: number; first_ts: number; last_ts: number }
    >(
      'read the access log',
      `SELECT site, hour::float8 AS hour, client, device, grp AS "group", domain, count::float8 AS count, first_ts::float8 AS first_ts,
         last_ts::float8 AS last_ts, NULLIF(user_name, '') AS "user"
       FROM access_hourly WHERE ${filterWhere(this.rs, f, cols, ps)}${hourBounds(f, ps)} ORDER BY access_hourly.hour DESC, access_hourly.count DESC LIMIT ${limitOf(f)}`,
      ps,
    );
    return rows.map(({ hour, first_ts, last_ts, ...r }) => ({
      ...r,
      hour: isoHour(hour),
      first_seen: isoTime(first_ts),
      last_seen: isoTime(last_ts),
    }));
  }

  async accessFull(f: ReviewFilter): Promise<FullAccessEntry[]> {
    const ps = new Params();
    const cols: Columns = { ts: 'ts', site: 'site', client: 'client', device: 'device', group: 'grp', user: 'user_name' };
    const rows = await this.q<Omit<FullAccessEntry, 'time'> & { ts: number }>(
      'read the access log',
      `SELECT site, ts::float8 AS ts, client, device, grp AS "group", qname, qtype, result, user_name AS "user" FROM access
       WHERE ${filterWhere(this.rs, f, cols, ps)} ORDER BY access.ts DESC, access.id DESC LIMIT ${limitOf(f)}`,
      ps,
    );
    return rows.map(({ ts, ...r }) => ({ time: isoTime(ts), ...r }));
  }

  blockedByGroupCategory(from: number, to: number): Promise<GroupCategoryCount[]> {
    return this.rollups.byGroupCategory(this.rs, from, to);
  }

  async topBlockedDevices(from: number, to: number, n: number): Promise<DeviceCount[]> {
    return (await this.rollups.byDevice(this.rs, from, to)).slice(0, Math.max(1, Math.floor(n)));
  }

  async blockedDeviceCount(from: number, to: number): Promise<number> {
    return new Set((await this.rollups.byDevice(this.rs, from, to)).map((d) => `${d.site}\u0000${d.client}`)).size;
  }

  async blockedDevices(from: number, to: number, n: number): Promise<BlockedDevices> {
    const all = await this.rollups.byDevice(this.rs, from, to);
    return {
      top: all.slice(0, Math.max(1, Math.floor(n))),
      devices: new Set(all.map((d) => `${d.site}\u0000${d.client}`)).size,
    };
  }

  blockedPerHour(from: number, to: number): Promise<{ hour: number; count: number }[]> {
    return this.rollups.perHour(this.rs, from, to);
  }

  async signalsByKind(since: number): Promise<KindCount[]> {
    const ps = new Params();
    return this.q<KindCount>(
      'count signals by kind',
      `SELECT kind, count(*)::float8 AS signals, sum(count)::float8 AS n, count(DISTINCT (site, client))::float8 AS devices
       FROM signals WHERE ${siteWhere(this.rs, ps)} AND last_ts >= ${ps.p(since)} GROUP BY kind ORDER BY n DESC, kind`,
      ps,
    );
  }

  async signalTally(from: number, to: number): Promise<SignalTally> {
    const span = (ps: Params) => `${siteWhere(this.rs, ps)} AND last_ts >= ${ps.p(from)} AND first_ts < ${ps.p(to)}`;
    let ps = new Params();
    // The group is the one of the device's earliest signal (as SQLite's bare column beside min(), which
    // among equals takes the first in its signals_dedup index: kind, domain, id); devices in SQLite's order.
    const devices = await this.q<Omit<SignalTally['devices'][number], 'kinds'>>(
      'tally signals per device',
      `SELECT site, client, device,
         (array_agg(grp ORDER BY last_ts, kind COLLATE "C", domain COLLATE "C", id))[1] AS "group", min(last_ts)::float8 AS first,
         count(*)::float8 AS signals, sum(count)::float8 AS occurrences, count(*) FILTER (WHERE review_at IS NULL)::float8 AS unreviewed
       FROM signals WHERE ${span(ps)} GROUP BY site, client, device
       ORDER BY site COLLATE "C", client COLLATE "C", device COLLATE "C"`,
      ps,
    );
    ps = new Params();
    const kinds = new Map<string, string[]>();
    for (const k of await this.q<{ site: string; client: string; device: string; kind: string }>(
      'tally signal kinds per device',
      `SELECT site, client, device, kind, min(CASE WHEN review_at IS NULL THEN last_ts END) AS open_first, min(last_ts) AS any_first
       FROM signals WHERE ${span(ps)} GROUP BY site, client, device, kind
       ORDER BY site, client, device, min(CASE WHEN review_at IS NULL THEN last_ts END) IS NULL,
         coalesce(min(CASE WHEN review_at IS NULL THEN last_ts END), min(last_ts)), kind COLLATE "C"`,
      ps,
    )) {
      const key = `${k.site}\u0000${k.client}\u0000${k.device}`;
      kinds.set(key, [...(kinds.get(key) ?? []), k.kind]);
    }
    ps = new Params();
    const quarters = await this.q<SignalTally['quarters'][number]>(
      'tally signals per quarter hour',
      `SELECT (div(last_ts, 900000) * 900000)::float8 AS quarter, count(*)::float8 AS signals, sum(count)::float8 AS occurrences
       FROM signals WHERE ${span(ps)} GROUP BY 1`,
      ps,
    );
    return {
      devices: devices.map((d) => ({ ...d, kinds: kinds.get(`${d.site}\u0000${d.client}\u0000${d.device}`) ?? [] })),
      quarters,
    };
  }

  async signalGroups(from: number, to: number, dayStarts: number[]): Promise<SignalGroup[]> {
    return (await pgTalliedGroups(this.conn, this.rs, from, to, dayStarts)).map(plainGroup);
  }

  signalGroupsTally(from: number, to: number, dayStarts: number[], lastDayEnd: number): Promise<SignalGroupsTally> {
    return pgSignalGroupsTally(this.conn, this.rs, from, to, dayStarts, lastDayEnd);
  }

  async activity(start: number, size: number, n: number): Promise<{ blocked: number[]; signals: number[] }> {
    const blocked = await this.rollups.buckets(this.rs, start, size, n);
    const signals = new Array<number>(n).fill(0);
    const ps = new Params();
    const s = ps.p(start);
    for (const r of await this.q<{ b: number; n: number }>(
      'read the signal activity',
      `SELECT div(first_ts - ${s}, ${ps.p(size)})::float8 AS b, sum(count)::float8 AS n FROM signals
       WHERE ${siteWhere(this.rs, ps)} AND last_ts >= ${s} AND first_ts >= ${s} AND first_ts < ${ps.p(start + size * n)} GROUP BY 1`,
      ps,
    ))
      if (r.b < n) signals[r.b] = r.n;
    return { blocked, signals };
  }

  async devices(search: string, max: number): Promise<DeviceSummary[]> {
    const ps = new Params();
    const where = () => siteWhere(this.rs, ps);
    const rows = await this.q<Omit<DeviceSummary, 'last_seen'> & { last: number | null }>(
      'list devices',
      `SELECT site, device, client, max(grp) AS "group", max(last)::float8 AS last, sum(blocked)::float8 AS blocked,
         sum(signals)::float8 AS signals
       FROM (
         SELECT site, device, client, grp, max(last_ts) AS last, sum(count) AS blocked, 0 AS signals FROM blocked_device_daily
         WHERE ${where()} GROUP BY site, device, client, grp
         UNION ALL
         SELECT site, device, client, grp, max(last_ts), 0, count(*) FROM signals WHERE ${where()} GROUP BY site, device, client, grp
         UNION ALL
         SELECT site, device, client, grp, max(last_ts), 0, 0 FROM access_hourly WHERE ${where()} GROUP BY site, device, client, grp
       ) t
       WHERE ${ps.p(search)} = '' OR device ILIKE ${ps.p(`%${likeEscape(search)}%`)} ESCAPE '\\'
         OR client LIKE ${ps.p(`${likeEscape(search)}%`)} ESCAPE '\\'
       GROUP BY site, device, client ORDER BY max(last) IS NULL, max(last) DESC, device, site LIMIT ${Math.max(1, Math.floor(max))}`,
      ps,
    );
    return rows.map(({ last, ...r }) => ({ ...r, last_seen: last === null ? '' : isoTime(last) }));
  }

  async deviceKnown(s: DeviceSubject): Promise<boolean> {
    const ps = new Params();
    const [col, v] = 'device' in s ? ['device', s.device] : ['client', s.client];
    const cond = () => `${siteWhere(this.rs, ps)} AND ${col} = ${ps.p(v)}`;
    const rows = await this.q(
      'look a device up',
      `SELECT 1 FROM blocked WHERE ${cond()} UNION ALL SELECT 1 FROM signals WHERE ${cond()}
       UNION ALL SELECT 1 FROM access_hourly WHERE ${cond()} LIMIT 1`,
      ps,
    );
    return rows.length > 0;
  }

  /** The shared store keeps no daemon heartbeat (`webfilter status` reads the box's own store). */
  async heartbeat(): Promise<HeartbeatRecord | null> {
    return null;
  }

  private q<T>(what: string, text: string, ps: Params): Promise<T[]> {
    return query<T>(this.conn, what, text, ps);
  }
}
