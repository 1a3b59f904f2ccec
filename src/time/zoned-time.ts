/**
 * Wall-clock time in an IANA timezone, via Intl (correct across BST/GMT changes). Used when
 * schedules are compiled and when their state is refreshed at a boundary, never per query.
 */

const FORMATS = new Map<string, Intl.DateTimeFormat>();

function format(tz: string): Intl.DateTimeFormat {
  let f = FORMATS.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    FORMATS.set(tz, f);
  }
  return f;
}

/** True when `tz` is a timezone this Node knows (e.g. "Europe/London"). */
export function validTimezone(tz: string): boolean {
  try {
    format(tz);
    return true;
  } catch {
    return false;
  }
}

export interface WallTime {
  /** Days since 1970-01-01 of the local date. */
  day: number;
  /** Minutes since local midnight. */
  minute: number;
}

/** The local date and minute of an instant. */
export function wallTime(epochMs: number, tz: string): WallTime {
  const p = Object.fromEntries(
    format(tz)
      .formatToParts(new Date(epochMs))
      .map((x) => [x.type, x.value]),
  );
  return {
    day: Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) / 86_400_000,
    minute: Number(p.hour) * 60 + Number(p.minute),
  };
}

/** Offset of local time from UTC at an instant, in ms (+3600000 in BST). */
function offsetAt(epochMs: number, tz: string): number {
  const w = wallTime(epochMs, tz);
  const asUtc = w.day * 86_400_000 + w.minute * 60_000;
  return asUtc - Math.floor(epochMs / 60_000) * 60_000;
}

/**
 * The instant a local wall time occurs. A time skipped by a spring-forward change (01:30 on the last
 * Sunday of March in London) is pushed forward by the gap (to 02:30 BST), as RFC 5545 and Temporal's
 * "compatible" rule do; a repeated one (autumn) is its first occurrence.
 */
export function localToEpoch(day: number, minute: number, tz: string): number {
  const naive = day * 86_400_000 + minute * 60_000;
  const first = naive - offsetAt(naive - offsetAt(naive, tz), tz);
  const earlier = naive - offsetAt(naive - 12 * 3_600_000, tz);
  // Prefer the earlier of two valid readings (autumn overlap); a reading is valid if it maps back.
  for (const t of [Math.min(first, earlier), Math.max(first, earlier)]) {
    const w = wallTime(t, tz);
    if (w.day === day && w.minute === minute) return t;
  }
  return first; // in a spring-forward gap: pushed forward by the gap
}

/** Day of the week of a local date: 0 = Sunday … 6 = Saturday. */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** Days since 1970-01-01 of a "YYYY-MM-DD" date. */
export function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 86_400_000;
}
