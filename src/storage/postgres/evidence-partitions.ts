import type { ShipRow, ShipTable } from '../shipping.js';

/**
 * The shared store's evidence tables are partitioned by calendar month (UTC) of a time that never
 * changes for a shipped row (issue 17, central retention): retention then drops a whole month as
 * one file instead of deleting millions of rows, and a month's rows sit together on disk. Each
 * table's key is the row's first time: `ts` of a blocked attempt (a collapsed row's first attempt;
 * its last_ts moves), `first_ts` of a signal, the `hour`/`day` of a roll-up. The key is in every
 * unique key, as PostgreSQL requires, so shipping's ON CONFLICT still finds the row already there.
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Which local retention setting a table follows (as the local purge: retention.*_days). */
export type RetentionKind = 'blocked' | 'signals' | 'access';

export interface PartitionedTable {
  table: ShipTable;
  /** The partition key: a column fixed for the row's life. */
  key: string;
  /** Milliseconds per unit of the key (1 for ms, an hour, a day). */
  unit: number;
  /** The column retention cuts on (as the local purge does: a signal goes by its last time). */
  cut: string;
  retention: RetentionKind;
  /** Its primary key on the partitioned table (the key included). */
  primary: string;
  unique?: string;
  /** Its bigserial id sequence, kept (ids are the console's handles). */
  serial: boolean;
  /** Secondary indexes as in schema version 2: name and the rest of the CREATE INDEX. */
  indexes: [string, string][];
}

export const PARTITIONED: readonly PartitionedTable[] = [
  {
    table: 'blocked',
    key: 'ts',
    unit: 1,
    cut: 'ts',
    retention: 'blocked',
    primary: 'id, ts',
    unique: 'site, node, local_id, ts',
    serial: true,
    indexes: [
      ['blocked_site_ts', '(site, ts)'],
      ['blocked_site_last_ts', '(site, last_ts)'],
      ['blocked_site_client_ts', '(site, client, ts)'],
      ['blocked_site_device_ts', '(site, device, ts)'],
      ['blocked_site_grp_ts', '(site, grp, category, ts)'],
      ['blocked_site_user_ts', '(site, user_name, ts) WHERE user_name IS NOT NULL'],
    ],
  },
  {
    table: 'signals',
    key: 'first_ts',
    unit: 1,
    cut: 'last_ts',
    retention: 'signals',
    primary: 'id, first_ts',
    unique: 'site, node, local_id, first_ts',
    serial: true,
    indexes: [
      ['signals_site_last_ts', '(site, last_ts)'],
      ['signals_site_first_ts', '(site, first_ts)'],
      ['signals_site_client', '(site, client, kind, last_ts)'],
      ['signals_site_device', '(site, device, last_ts)'],
      ['signals_site_user', '(site, user_name, last_ts) WHERE user_name IS NOT NULL'],
      ['signals_site_unreviewed', '(site, last_ts) WHERE review_at IS NULL'],
    ],
  },
  {
    table: 'access_hourly',
    key: 'hour',
    unit: HOUR,
    cut: 'hour',
    retention: 'access',
    primary: 'site, node, hour, client, device, grp, user_name, domain',
    serial: false,
    indexes: [
      ['access_hourly_site_hour', '(site, hour)'],
      ['access_hourly_site_client', '(site, client, hour)'],
      ['access_hourly_site_device', '(site, device, hour)'],
    ],
  },
  {
    table: 'access',
    key: 'ts',
    unit: 1,
    cut: 'ts',
    retention: 'access',
    primary: 'id, ts',
    unique: 'site, node, local_id, ts',
    serial: true,
    indexes: [['access_site_ts', '(site, ts)']],
  },
  {
    table: 'blocked_hourly',
    key: 'hour',
    unit: HOUR,
    cut: 'hour',
    retention: 'blocked',
    primary: 'site, node, hour, grp, category',
    serial: false,
    indexes: [['blocked_hourly_site_hour', '(site, hour)']],
  },
  {
    table: 'blocked_device_daily',
    key: 'day',
    unit: DAY,
    cut: 'day',
    retention: 'blocked',
    primary: 'site, node, day, client, device, grp',
    serial: false,
    indexes: [['blocked_device_daily_site_day', '(site, day)']],
  },
];

export const PARTITIONED_BY_TABLE = new Map(PARTITIONED.map((p) => [p.table, p]));

/** The first millisecond of the UTC month holding `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** One time (ms) in each month a batch's rows fall in: the partitions it needs. */
export function monthsOf(p: PartitionedTable, rows: readonly ShipRow[]): number[] {
  const months = new Set<number>();
  for (const r of rows) months.add(monthStart(Number(r[p.key]) * p.unit));
  return [...months];
}

/**
 * Server-side: the month partition of a table holding a time, created when missing (under an
 * advisory lock, so filters shipping into a new month at once create it once). Named
 * TABLE_pYYYYMM; bounds in the key's own unit, [first of the month, first of the next).
 */
const PARTITION_FUNCTION = `
CREATE OR REPLACE FUNCTION webfilter_month_partition(tbl text, unit bigint, at_ms bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  m  timestamp := date_trunc('month', to_timestamp(at_ms / 1000.0) AT TIME ZONE 'UTC');
  nm text := tbl || '_p' || to_char(m, 'YYYYMM');
  lo bigint := (extract(epoch FROM m) * 1000)::bigint / unit;
  hi bigint := (extract(epoch FROM m + interval '1 month') * 1000)::bigint / unit;
BEGIN
  IF to_regclass(nm) IS NULL THEN
    PERFORM pg_advisory_xact_lock(2003792486); -- "wfpa"
    IF to_regclass(nm) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)', nm, tbl, lo, hi);
    END IF;
  END IF;
  RETURN nm;
END $$;
`;

const NOW_MS = `(extract(epoch FROM now()) * 1000)::bigint`;

/**
 * One table made partitioned without losing a row: the old table renamed and stripped of its keys
 * and indexes (their names are reused), a partitioned table like it, a partition per month its rows
 * fall in (and this month and the next), every row moved, the old table dropped, keys and indexes
 * built on the new one. The id sequence is kept, so ids (the console's handles) stay as they were.
 */
function convert(p: PartitionedTable): string {
  const t = p.table;
  const old = `${t}_v2`;
  const month = `(extract(epoch FROM date_trunc('month', to_timestamp(${p.key}::numeric * ${p.unit} / 1000) AT TIME ZONE 'UTC')) * 1000)::bigint`;
  return `
ALTER TABLE ${t} RENAME TO ${old};
DO $$ DECLARE c text; BEGIN
  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = '${old}'::regclass AND contype IN ('p', 'u') LOOP
    EXECUTE format('ALTER TABLE ${old} DROP CONSTRAINT %I', c);
  END LOOP;
  FOR c IN SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = '${old}'::regclass LOOP
    EXECUTE 'DROP INDEX ' || c;
  END LOOP;
END $$;
${p.serial ? `ALTER SEQUENCE ${t}_id_seq OWNED BY NONE;` : ''}
CREATE TABLE ${t} (LIKE ${old} INCLUDING DEFAULTS) PARTITION BY RANGE (${p.key});
SELECT webfilter_month_partition('${t}', ${p.unit}, m) FROM (SELECT DISTINCT ${month} AS m FROM ${old}) x;
SELECT webfilter_month_partition('${t}', ${p.unit}, ${NOW_MS});
SELECT webfilter_month_partition('${t}', ${p.unit}, (extract(epoch FROM now() + interval '1 month') * 1000)::bigint);
INSERT INTO ${t} SELECT * FROM ${old};
DROP TABLE ${old};
ALTER TABLE ${t} ADD PRIMARY KEY (${p.primary})${p.unique ? `, ADD UNIQUE (${p.unique})` : ''};
${p.indexes.map(([name, rest]) => `CREATE INDEX ${name} ON ${t} ${rest};`).join('\n')}
${p.serial ? `ALTER SEQUENCE ${t}_id_seq OWNED BY ${t}.id;` : ''}
`;
}

/**
 * Schema migration: the evidence tables partitioned by month, and `maintenance` (when a filter
 * last ran the central retention, and what it did).
 */
export const PARTITION_MIGRATION_SQL =
  PARTITION_FUNCTION +
  PARTITIONED.map(convert).join('') +
  `
CREATE TABLE maintenance (
  task     text PRIMARY KEY,
  last_run timestamptz NOT NULL,
  result   text NOT NULL DEFAULT ''
);
`;
