import { intervalsAround, runsOn, type Schedule } from './schedule.js';
import { localToEpoch, wallTime } from './zoned-time.js';

/**
 * Lessons are the windows of one schedule (`requests.lessons`): "until the end of this lesson" and
 * "this lesson next Tuesday" are computed here, as instants, in the schedule's timezone (so a lesson
 * after the clocks change still ends at its wall-clock time).
 */

/** One lesson: a window of the schedule on one local date, as instants [start, end). */
export interface Lesson {
  start: number;
  end: number;
  /** The window as configured, e.g. "10:00-11:00": names the period across days. */
  window: string;
  /** Local date (days since 1970-01-01) the window starts on. */
  day: number;
}

/** The schedule's lessons that start on a local date (none when it does not run that day), in time order. */
export function lessonsOn(s: Schedule, day: number, tz: string): Lesson[] {
  if (!runsOn(s, day)) return [];
  return s.windows
    .map((w) => ({
      start: localToEpoch(day + Math.floor(w.from / 1440), w.from % 1440, tz),
      end: localToEpoch(day + Math.floor(w.to / 1440), w.to % 1440, tz),
      window: w.text,
      day,
    }))
    .sort((a, b) => a.start - b.start);
}

/**
 * The lesson running at `t` (start ≤ t < end), or null between lessons. At a lesson's last instant
 * it is still that lesson; at its end the next one (back-to-back periods) has begun. When windows
 * overlap, the one that began last is "this lesson".
 */
export function lessonAt(s: Schedule, t: number, tz: string): Lesson | null {
  const day = wallTime(t, tz).day;
  let best: Lesson | null = null;
  for (const i of intervalsAround(s, day, tz)) {
    if (i.start <= t && t < i.end && (!best || i.start > best.start)) {
      // A window past midnight may have started the day before: its date is its start's.
      best = { start: i.start, end: i.end, window: i.text, day: wallTime(i.start, tz).day };
    }
  }
  return best;
}

/** The lesson with window `window` on local date `day` ("this lesson on Tuesday"), or null when there is none that day. */
export function lessonOn(s: Schedule, day: number, window: string, tz: string): Lesson | null {
  return lessonsOn(s, day, tz).find((l) => l.window === window) ?? null;
}

/** The lesson on local date `day` that is running at local minute `minute` of that day, or null. */
export function lessonContaining(s: Schedule, day: number, minute: number, tz: string): Lesson | null {
  const t = localToEpoch(day, minute, tz);
  const l = lessonAt(s, t, tz);
  return l && l.day === day ? l : null;
}

/** The next `count` local dates from `fromDay` (inclusive) on which the schedule has lessons. */
export function lessonDays(s: Schedule, fromDay: number, count: number, horizonDays = 366): number[] {
  const out: number[] = [];
  for (let d = fromDay; out.length < count && d < fromDay + horizonDays; d++) if (runsOn(s, d)) out.push(d);
  return out;
}
