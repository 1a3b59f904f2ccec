import type Database from 'better-sqlite3';

/** Filters shared by `logs`, `export` and `report` (and, later, the review console). */
export interface ReviewFilter {
  since: number;
  until: number;
  client?: string;
  device?: string;
  group?: string;
  category?: string;
  kind?: string;
  limit?: number;
}

export interface BlockedEntry {
  time: string;
  client: string;
  device: string;
  group: string;
  qname: string;
  qtype: string;
  category: string;
  entry: string;
  response: string;
  transport: string;
  /** The CNAME/DNAME/HTTPS chain the block was found through, or "". */
  via: string;
}

export interface SignalEntry {
  first_seen: string;
  last_seen: string;
  client: string;
  device: string;
  group: string;
  kind: string;
  severity: string;
  qname: string;
  domain: string;
  detail: string;
  count: number;
}

export interface AccessEntry {
  hour: string;
  client: string;
  device: string;
  group: string;
  domain: string;
  count: number;
  first_seen: string;
  last_seen: string;
}

const iso = (col: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${col} / 1000.0, 'unixepoch')`;

function where(
  f: ReviewFilter,
  cols: { ts: string; client: string; device: string; group: string; category?: string; kind?: string },
  tsEnd = cols.ts,
) {
  const parts = [`${tsEnd} >= @since`, `${cols.ts} < @until`];
  if (f.client) parts.push(`${cols.client} = @client`);
  if (f.device) parts.push(`${cols.device} = @device`);
  if (f.group) parts.push(`${cols.group} = @group`);
  if (f.category && cols.category) parts.push(`${cols.category} = @category`);
  if (f.kind && cols.kind) parts.push(`${cols.kind} = @kind`);
  return {
    sql: parts.join(' AND '),
    params: {
      since: f.since,
      until: f.until,
      client: f.client,
      device: f.device,
      group: f.group,
      category: f.category,
      kind: f.kind,
    },
  };
}

function clean(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
}

/** Blocked attempts, newest first. */
export function blockedEntries(db: Database.Database, f: ReviewFilter): BlockedEntry[] {
  const w = where(f, { ts: 'ts', client: 'client', device: 'device', group: 'grp', category: 'category' });
  return db
    .prepare(
      `SELECT ${iso('ts')} AS time, client, device, grp AS "group", qname, qtype, category, entry, response, transport, via
       FROM blocked WHERE ${w.sql} ORDER BY ts DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
    )
    .all(clean(w.params)) as BlockedEntry[];
}

/** Circumvention signals overlapping the period, newest first. */
export function signalEntries(db: Database.Database, f: ReviewFilter): SignalEntry[] {
  const w = where(
    f,
    { ts: 'first_ts', client: 'client', device: 'device', group: 'grp', kind: 'kind', category: 'domain' },
    'last_ts',
  );
  return db
    .prepare(
      `SELECT ${iso('first_ts')} AS first_seen, ${iso('last_ts')} AS last_seen, client, device, grp AS "group", kind, severity,
              qname, domain, detail, count
       FROM signals WHERE ${w.sql} ORDER BY last_ts DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
    )
    .all(clean(w.params)) as SignalEntry[];
}

/** Hourly access aggregates, newest first. */
export function accessEntries(db: Database.Database, f: ReviewFilter): AccessEntry[] {
  const w = where(f, { ts: 'a.first_ts', client: 'c.address', device: 'c.device', group: 'c.grp' }, 'a.last_ts');
  return db
    .prepare(
      `SELECT strftime('%Y-%m-%dT%H:00Z', a.hour * 3600, 'unixepoch') AS hour, c.address AS client, c.device, c.grp AS "group",
              d.name AS domain, a.count, ${iso('a.first_ts')} AS first_seen, ${iso('a.last_ts')} AS last_seen
       FROM access_hourly a JOIN clients c ON c.id = a.client_id JOIN domains d ON d.id = a.domain_id
       WHERE ${w.sql} ORDER BY a.hour DESC, a.count DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
    )
    .all(clean(w.params)) as AccessEntry[];
}

/** One row per query (log.access: full), newest first. */
export function fullAccessEntries(db: Database.Database, f: ReviewFilter): Record<string, unknown>[] {
  const w = where(f, { ts: 'ts', client: 'client', device: 'device', group: 'grp' });
  return db
    .prepare(
      `SELECT ${iso('ts')} AS time, client, device, grp AS "group", qname, qtype, result FROM access WHERE ${w.sql}
       ORDER BY ts DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
    )
    .all(clean(w.params)) as Record<string, unknown>[];
}
