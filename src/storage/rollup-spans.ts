/**
 * A period [from, to) as the roll-ups can read it: whole units (hours or UTC days) [u0, u1), plus
 * the raw rows of the ragged ends. A ragged end longer than half its unit is read the other way:
 * the whole unit from the roll-up, minus the raw rows of the part outside the period. Why: a report
 * in a school's zone starts and ends at local midnight, 23:00 UTC in summer, so its last day's
 * ragged end was 23 hours of raw rows (a school day's: ≈ 60,000 rows for 2,000 devices, 8× the
 * cost of the whole week from the roll-up); the part outside is the hour before midnight, at night.
 * Exact either way: a blocked row never spans an hour and the roll-ups count a row in the unit of
 * its first time, as the ranges here do (`ts`).
 */
export interface Spans {
  /** Whole units [u0, u1) read from the roll-up (u0 = u1: none). */
  u0: number;
  u1: number;
  /** Raw rows whose time is in one of these ranges are added. */
  plus: [number, number][];
  /** Raw rows whose time is in one of these ranges are subtracted (they are inside [u0, u1) but not the period). */
  minus: [number, number][];
}

export function spans(from: number, to: number, unit: number): Spans {
  const none: Spans = { u0: 0, u1: 0, plus: [], minus: [] };
  if (from >= to) return none;
  const first = Math.floor(from / unit);
  if (first === Math.floor((to - 1) / unit) && (from > first * unit || to < (first + 1) * unit)) {
    // Within one unit: the rows of the period, or the unit less the rows around it, whichever is shorter.
    const start = first * unit;
    const end = start + unit;
    if (to - from <= unit / 2) return { ...none, plus: [[from, to]] };
    const minus: [number, number][] = [];
    if (start < from) minus.push([start, from]);
    if (to < end) minus.push([to, end]);
    return { u0: first, u1: first + 1, plus: [], minus };
  }
  let u0 = Math.ceil(from / unit);
  let u1 = Math.floor(to / unit);
  const plus: [number, number][] = [];
  const minus: [number, number][] = [];
  if (from < u0 * unit) {
    if (u0 * unit - from > unit / 2) {
      u0 -= 1;
      minus.push([u0 * unit, from]);
    } else plus.push([from, u0 * unit]);
  }
  if (u1 * unit < to) {
    if (to - u1 * unit > unit / 2) {
      u1 += 1;
      minus.push([to, u1 * unit]);
    } else plus.push([u1 * unit, to]);
  }
  return { u0, u1, plus, minus };
}

/**
 * The raw rows' part of a roll-up read, as SQL to follow the roll-up's SELECT: rows in the `plus`
 * ranges counted, rows in the `minus` ranges taken off. `select` names the columns beside the count,
 * `range` writes one time range as a condition (binding its bounds), `more` any further condition
 * (" AND …"), written after the ranges so positional parameters stay in order.
 */
export function rawRowsSql(s: Spans, select: string, range: (a: number, b: number) => string, more: () => string): string {
  let sql = '';
  for (const [sign, ranges] of [
    ['', s.plus],
    ['-', s.minus],
  ] as const) {
    if (ranges.length === 0) continue;
    const cond = ranges.map(([a, b]) => range(a, b)).join(' OR ');
    sql += `
         UNION ALL SELECT ${select}, ${sign}count FROM blocked WHERE (${cond})${more()}`;
  }
  return sql;
}
