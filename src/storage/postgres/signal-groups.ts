import type { ReadScope } from '../read-scope.js';
import type { SignalGroupsTally } from '../review.js';
import type { PostgresConnection } from './connection.js';
import { Params, query, siteWhere } from './review-sql.js';
import { signalEntry } from '../signal-row.js';
import { PG_SIGNAL_COLUMNS, type PgSignalRow } from './signal-row.js';
import {
  deviceKey,
  mixedGroupDevices,
  plainGroup,
  tallyDays,
  tallyDevices,
  type TalliedGroup,
} from '../signal-tally-of-groups.js';

type GroupRow = Omit<TalliedGroup, 'outcomes' | 'only'> & { site: string; outcomes: string[]; only: number | null };

/**
 * The report's signal groups (ReviewRepository.signalGroups) from the shared store: signals per site,
 * device, kind and local day (the day each was last seen in), counted in the database, within the
 * reader's sites; the SQLite query translated (sqlite/review.ts). With the aggregates the tally is
 * worked out from (signal-tally-of-groups.ts).
 */
export async function pgTalliedGroups(
  conn: PostgresConnection,
  rs: ReadScope,
  from: number,
  to: number,
  dayStarts: number[],
): Promise<TalliedGroup[]> {
  if (dayStarts.length === 0) return [];
  const ps = new Params();
  const groups = await query<GroupRow>(
    conn,
    'group the signals',
    `WITH d(start, next) AS (
       SELECT v, coalesce(lead(v) OVER (ORDER BY v), 9000000000000000) FROM unnest(${ps.p(dayStarts)}::bigint[]) AS v
     )
     SELECT s.site, s.client, s.device, s.kind, string_agg(DISTINCT s.severity, ',') AS severity, d.start::float8 AS day,
       count(*)::float8 AS signals, sum(s.count)::float8 AS occurrences,
       count(*) FILTER (WHERE s.review_at IS NULL)::float8 AS unreviewed,
       coalesce(array_agg(coalesce(s.review_outcome, '')) FILTER (WHERE s.review_at IS NOT NULL), '{}') AS outcomes,
       min(s.first_ts)::float8 AS first, max(s.last_ts)::float8 AS last,
       array_agg(DISTINCT s.domain) AS domains, array_agg(DISTINCT s.qname) AS names,
       CASE WHEN count(*) = 1 THEN max(s.id)::float8 END AS only,
       min(s.last_ts)::float8 AS "lastFirst", (min(s.last_ts) FILTER (WHERE s.review_at IS NULL))::float8 AS "openFirst",
       min(s.grp) AS "grpMin", max(s.grp) AS "grpMax"
     FROM signals s JOIN d ON s.last_ts >= d.start AND s.last_ts < d.next
     WHERE ${siteWhere(rs, ps, 's.site')} AND s.last_ts >= ${ps.p(from)} AND s.first_ts < ${ps.p(to)}
     GROUP BY s.site, s.client, s.device, s.kind, d.start`,
    ps,
  );
  const ids = groups.flatMap((g) => (g.only === null ? [] : [g.only]));
  const one = new Params();
  const only = new Map(
    ids.length === 0
      ? []
      : (
          await query<PgSignalRow>(
            conn,
            'read the signals of the report',
            `SELECT ${PG_SIGNAL_COLUMNS} FROM signals WHERE id = ANY(${one.p(ids)}::bigint[]) AND ${siteWhere(rs, one)}`,
            one,
          )
        ).map((r) => [r.id, signalEntry(r)]),
  );
  return groups.map((g) => {
    const outcomes: Record<string, number> = {};
    for (const o of g.outcomes) outcomes[o] = (outcomes[o] ?? 0) + 1;
    return {
      ...g,
      outcomes,
      domains: [...g.domains].sort(),
      names: [...g.names].sort(),
      only: g.only === null ? null : (only.get(g.only) ?? null),
    };
  });
}

/** The groups with signalTally's devices and days from the same read (ReviewRepository.signalGroupsTally). */
export async function pgSignalGroupsTally(
  conn: PostgresConnection,
  rs: ReadScope,
  from: number,
  to: number,
  dayStarts: number[],
  lastDayEnd: number,
): Promise<SignalGroupsTally> {
  const tallied = await pgTalliedGroups(conn, rs, from, to, dayStarts);
  // Signals still going on after the last day ended (last seen on a later day): few, by the index.
  const ps = new Params();
  const tail = await query<{ quarter: number; signals: number; occurrences: number }>(
    conn,
    'tally the signals after the last day',
    `SELECT (div(last_ts, 900000) * 900000)::float8 AS quarter, count(*)::float8 AS signals, sum(count)::float8 AS occurrences
     FROM signals WHERE ${siteWhere(rs, ps)} AND last_ts >= ${ps.p(lastDayEnd)} AND last_ts >= ${ps.p(from)}
       AND first_ts < ${ps.p(to)} GROUP BY 1`,
    ps,
  );
  return {
    groups: tallied.map(plainGroup),
    devices: tallyDevices(tallied, await earliestGroups(conn, rs, from, to, mixedGroupDevices(tallied))),
    days: tallyDays(tallied, tail),
  };
}

/**
 * The group of each listed device's earliest signal (least last time; among equals by kind, domain
 * and id, as SQLite's tally picks it).
 */
async function earliestGroups(
  conn: PostgresConnection,
  rs: ReadScope,
  from: number,
  to: number,
  keys: Set<string>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (keys.size === 0) return out;
  const clients = [...new Set([...keys].map((k) => k.split('\u0000')[1]))];
  const ps = new Params();
  for (const r of await query<{ site: string; client: string; device: string; grp: string }>(
    conn,
    'find the group of each device',
    `SELECT DISTINCT ON (site, client, device) site, client, device, grp FROM signals
     WHERE ${siteWhere(rs, ps)} AND client = ANY(${ps.p(clients)}::text[]) AND last_ts >= ${ps.p(from)} AND first_ts < ${ps.p(to)}
     ORDER BY site, client, device, last_ts, kind COLLATE "C", domain COLLATE "C", id`,
    ps,
  )) {
    const key = deviceKey(r);
    if (keys.has(key)) out.set(key, r.grp);
  }
  return out;
}
