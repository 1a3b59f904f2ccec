import type { LoadedConfig } from '../config/load.js';
import { formatDuration, parseDuration } from '../time/duration.js';
import { lessonAt, lessonContaining, lessonOn, type Lesson } from '../time/lessons.js';
import { formatShort, parseLocalTime } from '../time/local-time.js';
import { compileSchedule, parseClock, type Schedule } from '../time/schedule.js';
import { dayNumber, wallTime } from '../time/zoned-time.js';

/**
 * When a permission request is for, from what a teacher gives (the form's `lesson`, `from` and
 * `until`; the CLI's flags of the same names): the current lesson, a lesson on another date, or
 * times (an end, or a duration). Problems are keyed by the field they are about.
 */

/** The time fields of a request as typed. */
export interface RequestTiming {
  /** "current" (the lesson running now) or a date "YYYY-MM-DD" (the same lesson that day). */
  lesson?: string;
  /** A start time (15:30, 2026-12-01T10:00); with a lesson date, a time inside the wanted lesson. */
  from?: string;
  /** An end time, or a duration from the start ("50m"). Not with `lesson`. */
  until?: string;
}

/** The window asked for. */
export interface RequestWindow {
  /** Null: from when it is approved (the request is for now). */
  startsAt: number | null;
  expiresAt: number;
  /** The lesson, for people ("10:00-11:00 on Tue 1 Dec"), or null when times were given. */
  lesson: string | null;
}

export type TimingProblems = Partial<Record<keyof RequestTiming, string>>;

/** The request's times cannot be used; `problems` says why, per field. */
export class TimingError extends Error {
  constructor(readonly problems: TimingProblems) {
    super(Object.values(problems).join('; '));
    this.name = 'TimingError';
  }
}

/** How late a typed start may be and still mean "now" (a start typed as this minute). */
const JUST_NOW_MS = 60_000;

/** The compiled lesson schedule (`requests.lessons`), or null when none is configured. */
export function lessonSchedule(loaded: LoadedConfig): Schedule | null {
  const name = loaded.config.requests.lessons;
  const s = name ? loaded.config.schedules[name] : undefined;
  return name && s ? compileSchedule(name, s) : null;
}

/** "10:00-11:00 on Tue 1 Dec" in the schedule's timezone. */
export function describeLesson(l: Lesson, tz: string): string {
  const date = new Intl.DateTimeFormat('en-GB', { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short' }).format(
    new Date(l.start),
  );
  return `${l.window} on ${date}`;
}

/**
 * The window a request asks for, checked against the clock, the lesson timetable,
 * `requests.max_duration` and `requests.max_ahead`. Throws TimingError naming the fields.
 */
export function requestWindow(t: RequestTiming, loaded: LoadedConfig, now: number): RequestWindow {
  const { config } = loaded;
  const tz = config.timezone;
  const problems: TimingProblems = {};
  let startsAt: number | null = null;
  let expiresAt = NaN;
  let lessonText: string | null = null;
  const lesson = t.lesson?.trim() || undefined;
  const from = t.from?.trim() || undefined;
  const until = t.until?.trim() || undefined;

  if (lesson !== undefined) {
    const s = lessonSchedule(loaded);
    if (!s) {
      throw new TimingError({
        lesson: 'no lesson timetable is configured (requests.lessons): give the times instead',
      });
    }
    if (until !== undefined) problems.until = 'not with a lesson: the lesson’s end is the end';
    let l: Lesson | null = null;
    const current = lessonAt(s, now, tz);
    if (lesson === 'current') {
      if (from !== undefined) problems.from = 'not with “this lesson”: it starts when it is approved';
      if (!current)
        problems.lesson = `no lesson is running now (${formatShort(now)}, timetable ${s.name}): pick a date or give times`;
      l = current;
    } else if (!/^\d{4}-\d{2}-\d{2}$/.test(lesson) || !validDate(lesson)) {
      problems.lesson = `"${lesson}" is neither "current" nor a date (YYYY-MM-DD)`;
    } else {
      const day = dayNumber(lesson);
      if (from !== undefined) {
        const minute = parseClock(from.padStart(5, '0'));
        if (minute < 0 || minute >= 1440) problems.from = `"${from}" is not a time of day (e.g. 10:15) inside the lesson`;
        else {
          l = lessonContaining(s, day, minute, tz);
          if (!l) problems.from = `no lesson of timetable ${s.name} is running at ${from} on ${lesson}`;
        }
      } else if (!current) {
        problems.from = `which lesson on ${lesson}? No lesson is running now, so give a time inside it (e.g. 10:15)`;
      } else {
        l = lessonOn(s, day, current.window, tz);
        if (!l)
          problems.lesson = `timetable ${s.name} has no ${current.window} lesson on ${lesson} (weekend, holiday or outside term)`;
      }
    }
    if (l) {
      if (l.end <= now) problems.lesson = `that lesson (${describeLesson(l, tz)}) is over`;
      startsAt = l.start > now ? l.start : null;
      expiresAt = l.end;
      lessonText = describeLesson(l, tz);
    }
  } else {
    if (from !== undefined) {
      try {
        const f = parseLocalTime(from, now);
        if (f < now - JUST_NOW_MS) problems.from = `${from} is in the past (it is now ${formatShort(now)})`;
        else if (f > now) startsAt = f;
      } catch (e) {
        problems.from = (e as Error).message;
      }
    }
    if (until === undefined) {
      problems.until = 'say until when: a time (15:30), a duration (50m), or pick a lesson';
    } else {
      const base = startsAt ?? now;
      try {
        expiresAt = base + parseDuration(until);
      } catch {
        try {
          expiresAt = parseLocalTime(until, base);
          if (expiresAt <= base) {
            problems.until =
              startsAt === null ? `${until} is in the past (it is now ${formatShort(now)})` : `${until} is not after the start`;
          }
        } catch {
          problems.until = `"${until}" is neither a time (15:30, 2026-12-01T15:30) nor a duration (50m, 2h)`;
        }
      }
    }
  }

  if (!Number.isNaN(expiresAt) && Object.keys(problems).length === 0) {
    const start = startsAt ?? now;
    const max = parseDuration(config.requests.max_duration);
    if (expiresAt - start > max) {
      problems[lesson !== undefined ? 'lesson' : 'until'] =
        `${formatDuration(expiresAt - start)} is longer than a request may last (requests.max_duration: ${config.requests.max_duration})`;
    }
    const ahead = parseDuration(config.requests.max_ahead);
    if (start - now > ahead) {
      problems[lesson !== undefined ? 'lesson' : 'from'] =
        `it starts ${formatDuration(start - now)} from now, further ahead than requests.max_ahead (${config.requests.max_ahead})`;
    }
  }
  if (Object.keys(problems).length > 0) throw new TimingError(problems);
  return { startsAt, expiresAt, lesson: lessonText };
}

function validDate(text: string): boolean {
  const [y, m, d] = text.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** Today's local date in the config's timezone (days since 1970-01-01). */
export function localDay(now: number, tz: string): number {
  return wallTime(now, tz).day;
}
