import { localToEpoch, wallTime, weekday } from '../time/zoned-time.js';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * The next time the digest is due after `now`: `at` ("16:00") local time in `timezone`, on one of
 * `days` ("mon" … "sun"). Across a clock change it is still 16:00 on the wall.
 */
export function nextDigestAt(now: number, at: string, days: readonly string[], timezone: string): number {
  const [h, m] = at.split(':').map(Number);
  const minute = h * 60 + m;
  const today = wallTime(now, timezone).day;
  for (let d = today; d <= today + 8; d++) {
    if (!days.includes(DAY_NAMES[weekday(d)])) continue;
    const t = localToEpoch(d, minute, timezone);
    if (t > now) return t;
  }
  throw new Error(`no digest day in ${days.join(', ')}`);
}

/** The local day containing `t`: [its midnight, the next midnight), in `timezone`. */
export function localDay(t: number, timezone: string): { start: number; end: number } {
  const day = wallTime(t, timezone).day;
  return { start: localToEpoch(day, 0, timezone), end: localToEpoch(day + 1, 0, timezone) };
}
