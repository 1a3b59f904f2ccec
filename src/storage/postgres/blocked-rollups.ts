import type { ReadScope } from '../read-scope.js';
import { rawRowsSql, type Spans, spans } from '../rollup-spans.js';
import type { PostgresConnection } from './connection.js';
import { Params, query, siteWhere } from './review-sql.js';

/**
 * Blocked-attempt totals in the shared store from the roll-ups every filter ships (blocked_hourly,
 * blocked_device_daily: one row per node, summed here), with the rows only for the ragged ends of a
 * period, as on a box (sqlite/blocked-rollups.ts). Every query carries the reader's sites.
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The raw rows' part of a roll-up read (rollup-spans.ts); `where`: the reader's sites and any narrowing. */
function rawRows(s: Spans, select: string, ps: Params, where: () => string): string {
  return rawRowsSql(
    s,
    select,
    (a, b) => `(ts >= ${ps.p(a)} AND ts < ${ps.p(b)})`,
    () => ` AND ${where()}`,
  );
}

export class PgBlockedRollups {
  constructor(private readonly conn: PostgresConnection) {}

  /** Attempts per group and category in [from, to), most first. */
  async byGroupCategory(rs: ReadScope, from: number, to: number, only: { group?: string; category?: string } = {}) {
    const s = spans(from, to, HOUR);
    const ps = new Params();
    const extra = () =>
      (only.group !== undefined ? ` AND grp = ${ps.p(only.group)}` : '') +
      (only.category !== undefined ? ` AND category = ${ps.p(only.category)}` : '');
    const text = `SELECT grp AS "group", category, sum(n)::float8 AS count FROM (
         SELECT grp, category, count AS n FROM blocked_hourly
         WHERE ${siteWhere(rs, ps)} AND hour >= ${ps.p(s.u0)} AND hour < ${ps.p(s.u1)}${extra()}${rawRows(s, 'grp, category', ps, () => siteWhere(rs, ps) + extra())}
       ) t GROUP BY grp, category HAVING sum(n) > 0 ORDER BY count DESC, grp, category`;
    return query<{ group: string; category: string; count: number }>(this.conn, 'read the blocked totals', text, ps);
  }

  /** Attempts per hour since the epoch in [from, to), hours with none left out. */
  async perHour(rs: ReadScope, from: number, to: number) {
    const s = spans(from, to, HOUR);
    const ps = new Params();
    const text = `SELECT hour::float8 AS hour, sum(n)::float8 AS count FROM (
         SELECT hour, count AS n FROM blocked_hourly WHERE ${siteWhere(rs, ps)} AND hour >= ${ps.p(s.u0)} AND hour < ${ps.p(s.u1)}${rawRows(s, `div(ts, ${HOUR})`, ps, () => siteWhere(rs, ps))}
       ) t GROUP BY hour HAVING sum(n) > 0 ORDER BY hour`;
    return query<{ hour: number; count: number }>(this.conn, 'read the blocked attempts per hour', text, ps);
  }

  /** Attempts in `n` buckets of `size` from `start` (hours that straddle a bucket edge from the rows). */
  async buckets(rs: ReadScope, start: number, size: number, n: number): Promise<number[]> {
    const out = new Array<number>(n).fill(0);
    const end = start + size * n;
    const whole: number[] = [];
    const raw: [number, number][] = [];
    for (let h = Math.floor(start / HOUR); h * HOUR < end; h++) {
      const hs = h * HOUR;
      const he = hs + HOUR;
      if (hs >= start && he <= end && Math.floor((hs - start) / size) === Math.floor((he - 1 - start) / size)) whole.push(h);
      else raw.push([Math.max(hs, start), Math.min(he, end)]);
    }
    if (whole.length > 0) {
      const ps = new Params();
      const text = `SELECT hour::float8 AS hour, sum(count)::float8 AS n FROM blocked_hourly
        WHERE ${siteWhere(rs, ps)} AND hour >= ${ps.p(whole[0])} AND hour <= ${ps.p(whole[whole.length - 1])} GROUP BY hour`;
      for (const r of await query<{ hour: number; n: number }>(this.conn, 'read the blocked activity', text, ps)) {
        const b = Math.floor((r.hour * HOUR - start) / size);
        if (b >= 0 && b < n && whole.includes(r.hour)) out[b] += r.n;
      }
    }
    for (const [a, z] of raw) {
      const ps = new Params();
      const text = `SELECT div(ts - ${ps.p(start)}, ${ps.p(size)})::float8 AS b, sum(count)::float8 AS n FROM blocked
        WHERE ${siteWhere(rs, ps)} AND ts >= ${ps.p(a)} AND ts < ${ps.p(z)} GROUP BY 1`;
      for (const r of await query<{ b: number; n: number }>(this.conn, 'read the blocked activity', text, ps))
        if (r.b >= 0 && r.b < n) out[r.b] += r.n;
    }
    return out;
  }

  /**
   * Attempts per device (site, address, name, group) in [from, to), from the daily roll-up and the
   * rows at the ragged ends; `only` narrows it to one device or address.
   */
  async byDevice(rs: ReadScope, from: number, to: number, only: { device?: string; client?: string } = {}) {
    const s = spans(from, to, DAY);
    const ps = new Params();
    const extra = () =>
      (['device', 'client'] as const)
        .filter((k) => only[k] !== undefined)
        .map((k) => ` AND ${k} = ${ps.p(only[k])}`)
        .join('');
    const text = `SELECT site, client, device, grp AS "group", sum(n)::float8 AS blocked FROM (
         SELECT site, client, device, grp, count AS n FROM blocked_device_daily
         WHERE ${siteWhere(rs, ps)} AND day >= ${ps.p(s.u0)} AND day < ${ps.p(s.u1)}${extra()}${rawRows(s, 'site, client, device, grp', ps, () => siteWhere(rs, ps) + extra())}
       ) t GROUP BY site, client, device, grp HAVING sum(n) > 0 ORDER BY blocked DESC, device, client, site`;
    return query<{ site: string; client: string; device: string; group: string; blocked: number }>(
      this.conn,
      'read the blocked totals per device',
      text,
      ps,
    );
  }
}
