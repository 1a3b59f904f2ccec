import { rawRowsSql, type Spans, spans } from '../rollup-spans.js';
import type { DatabaseFile } from './database-file.js';

/**
 * Reads of blocked-attempt totals from the roll-ups the writer keeps (blocked_hourly: per hour by
 * group and category; blocked_device_daily: per UTC day by device), with the rows themselves only
 * for the part of a period that is not a whole hour (or day), added or taken off a whole one
 * (src/storage/rollup-spans.ts). A blocked row never spans an hour boundary, so the hours are
 * exact; at the ragged ends a row counts in full by its first time.
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The raw rows' part of a roll-up read (rollup-spans.ts), binding positional parameters in order. */
function rawRows(s: Spans, select: string, params: unknown[], extra: (params: unknown[]) => string = () => ''): string {
  return rawRowsSql(
    s,
    select,
    (a, b) => (params.push(a, b), '(ts >= ? AND ts < ?)'),
    () => extra(params),
  );
}

export class BlockedRollups {
  constructor(private readonly file: DatabaseFile) {}

  /** Attempts per group and category in [from, to), most first. */
  byGroupCategory(from: number, to: number, only: { group?: string; category?: string } = {}) {
    const s = spans(from, to, HOUR);
    const extra = (params: unknown[]) => {
      let sql = '';
      if (only.group !== undefined) ((sql += ' AND grp = ?'), params.push(only.group));
      if (only.category !== undefined) ((sql += ' AND category = ?'), params.push(only.category));
      return sql;
    };
    // Built in order: hourly part's params, then the raw part's.
    const params: unknown[] = [s.u0, s.u1];
    const hx = extra(params);
    return this.file
      .prepare(
        `SELECT grp AS "group", category, sum(n) AS count FROM (
         SELECT grp, category, count AS n FROM blocked_hourly WHERE hour >= ? AND hour < ?${hx}${rawRows(s, 'grp, category', params, extra)}
       ) GROUP BY grp, category HAVING sum(n) > 0 ORDER BY count DESC, grp, category`,
      )
      .all(...params) as { group: string; category: string; count: number }[];
  }

  /** Attempts per hour since the epoch in [from, to), hours with none left out. */
  perHour(from: number, to: number): { hour: number; count: number }[] {
    const s = spans(from, to, HOUR);
    const params: unknown[] = [s.u0, s.u1];
    return this.file
      .prepare(
        `SELECT hour, sum(n) AS count FROM (
         SELECT hour, count AS n FROM blocked_hourly WHERE hour >= ? AND hour < ?${rawRows(s, `ts / ${HOUR}`, params)}
       ) GROUP BY hour HAVING sum(n) > 0 ORDER BY hour`,
      )
      .all(...params) as { hour: number; count: number }[];
  }

  /** Attempts in `n` buckets of `size` from `start` (hours that straddle a bucket edge from the rows). */
  buckets(start: number, size: number, n: number): number[] {
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
      for (const r of this.file
        .prepare('SELECT hour, sum(count) AS n FROM blocked_hourly WHERE hour >= ? AND hour <= ? GROUP BY hour')
        .all(whole[0], whole[whole.length - 1]) as { hour: number; n: number }[]) {
        const b = Math.floor((r.hour * HOUR - start) / size);
        if (b >= 0 && b < n && whole.includes(r.hour)) out[b] += r.n;
      }
    }
    const stmt = this.file.prepare(
      'SELECT CAST((ts - @start) / @size AS INTEGER) AS b, sum(count) AS n FROM blocked WHERE ts >= @a AND ts < @z GROUP BY b',
    );
    for (const [a, z] of raw)
      for (const r of stmt.all({ start, size, a, z }) as { b: number; n: number }[]) if (r.b >= 0 && r.b < n) out[r.b] += r.n;
    return out;
  }

  /**
   * Attempts per device (address, name, group) in [from, to), from the daily roll-up and the rows at
   * the ragged ends; `only` narrows it to one device or address.
   */
  byDevice(from: number, to: number, only: { device?: string; client?: string } = {}) {
    const s = spans(from, to, DAY);
    const extra = (params: unknown[]) => {
      let sql = '';
      for (const k of ['device', 'client'] as const) {
        if (only[k] === undefined) continue;
        sql += ` AND ${k} = ?`;
        params.push(only[k]);
      }
      return sql;
    };
    const params: unknown[] = [s.u0, s.u1];
    const dx = extra(params);
    return this.file
      .prepare(
        `SELECT client, device, grp AS "group", sum(n) AS blocked FROM (
         SELECT client, device, grp, count AS n FROM blocked_device_daily WHERE day >= ? AND day < ?${dx}${rawRows(s, 'client, device, grp', params, extra)}
       ) GROUP BY client, device, grp HAVING sum(n) > 0 ORDER BY blocked DESC, device, client`,
      )
      .all(...params) as { client: string; device: string; group: string; blocked: number }[];
  }
}
