import { dayNumber, localToEpoch, weekday } from './zoned-time.js';

/** A schedule as configured, compiled: weekday set, windows in minutes, term and holiday day ranges. */
export interface Schedule {
  name: string;
  /** Bit d set = active on weekday d (0 = Sunday). */
  days: number;
  /** [start, end) minutes from the start day's midnight; end > 1440 crosses midnight. */
  windows: { from: number; to: number; text: string }[];
  /** When given, the schedule runs only on days inside one of these (inclusive day numbers). */
  terms: [number, number][] | null;
  holidays: [number, number][];
}

export interface ScheduleConfig {
  days: string[];
  windows: string[];
  terms?: { from: string; to: string }[];
  holidays: { from: string; to: string }[];
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Parses "HH:MM" (00:00-24:00) to minutes, or -1. */
export function parseClock(text: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (!m) return -1;
  const min = Number(m[1]) * 60 + Number(m[2]);
  return Number(m[2]) < 60 && min <= 1440 ? min : -1;
}

/** Compiles a configured schedule (already validated by the schema). */
export function compileSchedule(name: string, c: ScheduleConfig): Schedule {
  const windows = c.windows.map((w) => {
    const [a, b] = w.split('-');
    const from = parseClock(a);
    let to = parseClock(b);
    if (to <= from) to += 1440; // across midnight: ends the next day
    return { from, to, text: w };
  });
  const range = (r: { from: string; to: string }): [number, number] => [dayNumber(r.from), dayNumber(r.to)];
  return {
    name,
    days: c.days.reduce((bits, d) => bits | (1 << DAYS.indexOf(d)), 0),
    windows,
    terms: c.terms ? c.terms.map(range) : null,
    holidays: c.holidays.map(range),
  };
}

/** Whether the schedule runs on a local date at all (weekday, term, holiday). */
export function runsOn(s: Schedule, day: number): boolean {
  if ((s.days & (1 << weekday(day))) === 0) return false;
  if (s.terms && !s.terms.some(([a, b]) => day >= a && day <= b)) return false;
  return !s.holidays.some(([a, b]) => day >= a && day <= b);
}

/** The schedule's active intervals, as instants, for windows starting on local dates day-1 … day+1. */
export function intervalsAround(s: Schedule, day: number, tz: string): { start: number; end: number; text: string }[] {
  const out: { start: number; end: number; text: string }[] = [];
  for (const d of [day - 1, day, day + 1]) {
    if (!runsOn(s, d)) continue;
    for (const w of s.windows) {
      out.push({
        start: localToEpoch(d + Math.floor(w.from / 1440), w.from % 1440, tz),
        end: localToEpoch(d + Math.floor(w.to / 1440), w.to % 1440, tz),
        text: w.text,
      });
    }
  }
  return out;
}
