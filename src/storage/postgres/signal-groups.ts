import type { ReadScope } from '../read-scope.js';
import type { SignalGroup } from '../review.js';
import type { PostgresConnection } from './connection.js';
import { Params, query, siteWhere } from './review-sql.js';
import { signalEntry } from '../signal-row.js';
import { PG_SIGNAL_COLUMNS, type PgSignalRow } from './signal-row.js';

type GroupRow = Omit<SignalGroup, 'outcomes' | 'only'> & { site: string; outcomes: string[]; only: number | null };

/**
 * The report's signal groups (ReviewRepository.signalGroups) from the shared store: signals per site,
 * device, kind and local day (the day each was last seen in), counted in the database, within the
 * reader's sites; the SQLite query translated (sqlite/review.ts).
 */
export async function pgSignalGroups(
  conn: PostgresConnection,
  rs: ReadScope,
  from: number,
  to: number,
  dayStarts: number[],
): Promise<SignalGroup[]> {
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
       CASE WHEN count(*) = 1 THEN max(s.id)::float8 END AS only
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
