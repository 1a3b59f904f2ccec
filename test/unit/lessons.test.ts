/**
 * Lessons for permission requests: "until the end of this lesson" and "this lesson next Tuesday",
 * from the schedule named by requests.lessons, across timetables and the BST/GMT changes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { lessonAt, lessonDays, lessonOn, lessonsOn } from '../../src/time/lessons.js';
import { compileSchedule } from '../../src/time/schedule.js';
import { dayNumber, localToEpoch } from '../../src/time/zoned-time.js';
import { requestWindow, TimingError, type RequestTiming } from '../../src/requests/request-times.js';
import { tempDir } from '../helpers/daemon-process.js';

// Typed times ("10:15") are the school's local time, as the CLI and daemon set it.
process.env.TZ = 'Europe/London';
const TZ = 'Europe/London';

const PERIODS = {
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  windows: ['08:50-09:50', '09:50-10:50', '11:10-12:10', '12:10-13:10', '14:00-15:00', '10:00-11:00'],
  holidays: [{ from: '2026-12-21', to: '2027-01-01' }],
};
/** A second timetable: the sixth form's longer, fewer lessons; no Friday afternoon. */
const SIXTH = { days: ['mon', 'tue', 'wed', 'thu'], windows: ['09:00-10:30', '11:00-12:30', '13:30-15:00'], holidays: [] };
const NIGHT = { days: ['sat', 'sun'], windows: ['23:30-00:30', '00:45-02:45'], holidays: [] };

/** Instant of a London wall time. */
const london = (date: string, hhmm: string, sec = 0) => {
  const [h, m] = hhmm.split(':').map(Number);
  return localToEpoch(dayNumber(date), h * 60 + m, TZ) + sec * 1000;
};
const iso = (t: number | null | undefined) => (t === null || t === undefined ? t : new Date(t).toISOString());

test('the lesson running at an instant, in two timetables, at every boundary', () => {
  // PERIODS has an overlapping 10:00-11:00 (a cover lesson): the one that began last is "this lesson".
  const p = compileSchedule('school-day-periods', PERIODS);
  const s = compileSchedule('sixth-form-periods', SIXTH);
  const mon = '2026-11-23';
  const at = (sched: typeof p, hhmm: string, sec = 0) => lessonAt(sched, london(mon, hhmm, sec), TZ);
  assert.is(at(p, '08:49', 59), null, 'before the first lesson');
  assert.is(at(p, '08:50')?.window, '08:50-09:50');
  assert.is(iso(at(p, '09:49', 59)?.end), '2026-11-23T09:50:00.000Z', 'still the first lesson at its last second');
  assert.is(at(p, '09:50')?.window, '09:50-10:50', 'back to back: the next lesson from its first instant');
  assert.is(at(p, '10:30')?.window, '10:00-11:00', 'overlap: the lesson that began last');
  assert.is(at(p, '10:50')?.window, '10:00-11:00');
  assert.is(at(p, '11:00'), null, 'break');
  assert.is(at(p, '13:30'), null, 'lunch');
  assert.is(iso(at(p, '14:59')?.end), '2026-11-23T15:00:00.000Z');
  assert.is(at(s, '10:45'), null, 'the sixth form is in its break while the main school is in lessons');
  assert.is(iso(at(s, '10:29')?.end), '2026-11-23T10:30:00.000Z');
  assert.is(lessonAt(s, london('2026-11-27', '11:30'), TZ), null, 'no sixth-form lessons on Fridays');
  assert.is(lessonAt(p, london('2026-12-22', '09:00'), TZ), null, 'holiday');
  assert.is(lessonAt(p, london('2026-11-28', '09:00'), TZ), null, 'Saturday');
  assert.equal(
    lessonsOn(s, dayNumber(mon), TZ).map((l) => l.window),
    ['09:00-10:30', '11:00-12:30', '13:30-15:00'],
  );
});

test('BST and GMT: lessons end at their wall-clock time on both sides of each change', () => {
  const p = compileSchedule('school-day-periods', PERIODS);
  // Friday 27 March 2026 is GMT; the clocks go forward on Sunday 29 March; Monday 30 March is BST.
  const fri = lessonAt(p, london('2026-03-27', '10:15'), TZ)!;
  assert.is(iso(fri.end), '2026-03-27T11:00:00.000Z', '11:00 GMT');
  const mon = lessonOn(p, dayNumber('2026-03-30'), fri.window, TZ)!;
  assert.is(iso(mon.start), '2026-03-30T09:00:00.000Z', '"this lesson on Monday": 10:00 BST, not 7×24 h later');
  assert.is(iso(mon.end), '2026-03-30T10:00:00.000Z', '11:00 BST');
  // Autumn: Friday 23 October 2026 is BST, Monday 26 October GMT.
  const oct = lessonAt(p, london('2026-10-23', '09:00'), TZ)!;
  assert.is(iso(oct.end), '2026-10-23T08:50:00.000Z', '09:50 BST');
  assert.is(iso(lessonOn(p, dayNumber('2026-10-26'), oct.window, TZ)!.end), '2026-10-26T09:50:00.000Z', '09:50 GMT');
  // A lesson across midnight on the night the clocks go forward lasts an hour less.
  const n = compileSchedule('night', NIGHT);
  const late = lessonAt(n, Date.parse('2026-03-29T00:50:00Z'), TZ)!;
  assert.is(late.window, '00:45-02:45');
  assert.is(late.end - late.start, 60 * 60_000, '00:45 GMT to 02:45 BST is one hour');
  const across = lessonAt(n, Date.parse('2026-03-29T00:10:00Z'), TZ)!;
  assert.is(across.window, '23:30-00:30', 'the window that began on Saturday is still running on Sunday');
  assert.is(across.day, dayNumber('2026-03-28'));
  assert.is(iso(across.end), '2026-03-29T00:30:00.000Z');
});

test('the days with lessons skip weekends and holidays', () => {
  const p = compileSchedule('school-day-periods', PERIODS);
  const days = lessonDays(p, dayNumber('2026-12-17'), 3).map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10));
  assert.equal(days, ['2026-12-17', '2026-12-18', '2027-01-04']);
});

const CONFIG = (requests: string) => `
upstream: { servers: ["192.0.2.1"] }
timezone: Europe/London
categories: { instagram: [ig.txt] }
schedules:
  school-day-periods:
    days: [mon, tue, wed, thu, fri]
    windows: ["08:50-09:50", "09:50-10:50", "10:00-11:00", "11:10-12:10", "14:00-15:00"]
groups:
  room-12: { clients: [10.20.12.0/24], block: [instagram] }
  default: { block: [instagram] }
requests: { ${requests} }
`;

async function loaded(requests = 'lessons: school-day-periods'): Promise<LoadedConfig> {
  const dir = tempDir({ 'c.yaml': CONFIG(requests), 'ig.txt': 'instagram.com\n' });
  return loadConfig(path.join(dir, 'c.yaml'));
}

function problems(t: RequestTiming, l: LoadedConfig, now: number): Record<string, string> {
  try {
    requestWindow(t, l, now);
  } catch (e) {
    if (e instanceof TimingError) return e.problems as Record<string, string>;
    throw e;
  }
  assert.unreachable('no problem found');
  return {};
}

test('a request at 10:59 for a lesson ending 11:00 gets exactly that minute', async () => {
  const l = await loaded();
  const w = requestWindow({ lesson: 'current' }, l, london('2026-11-24', '10:59'));
  assert.equal(w, { startsAt: null, expiresAt: london('2026-11-24', '11:00'), lesson: '10:00-11:00 on Tue 24 Nov' });
  const last = requestWindow({ lesson: 'current' }, l, london('2026-11-24', '10:59', 59) + 999);
  assert.is(iso(last.expiresAt), '2026-11-24T11:00:00.000Z', 'at the last millisecond it is still that lesson');
  assert.match(problems({ lesson: 'current' }, l, london('2026-11-24', '11:00')).lesson, /no lesson is running now/);
  // In BST the same lesson ends at 10:00 UTC.
  assert.is(iso(requestWindow({ lesson: 'current' }, l, london('2026-06-16', '10:59')).expiresAt), '2026-06-16T10:00:00.000Z');
});

test('"this lesson next Tuesday", a lesson picked by its time, and explicit times', async () => {
  const l = await loaded();
  const now = london('2026-11-19', '10:20'); // Thursday, in the 10:00-11:00 lesson
  const next = requestWindow({ lesson: '2026-11-24' }, l, now);
  assert.equal(next, {
    startsAt: london('2026-11-24', '10:00'),
    expiresAt: london('2026-11-24', '11:00'),
    lesson: '10:00-11:00 on Tue 24 Nov',
  });
  const byTime = requestWindow({ lesson: '2026-11-24', from: '14:15' }, l, london('2026-11-19', '13:00'));
  assert.equal([iso(byTime.startsAt), iso(byTime.expiresAt)], ['2026-11-24T14:00:00.000Z', '2026-11-24T15:00:00.000Z']);
  assert.match(problems({ lesson: '2026-11-24' }, l, london('2026-11-19', '13:00')).from, /No lesson is running now/);
  assert.match(problems({ lesson: '2026-11-28' }, l, now).lesson, /no 10:00-11:00 lesson on 2026-11-28/);
  assert.match(problems({ lesson: '2026-11-24', from: '13:30' }, l, now).from, /no lesson .* at 13:30/);
  assert.match(problems({ lesson: '2026-11-18', from: '10:15' }, l, now).lesson, /is over/);
  assert.match(problems({ lesson: 'tuesday' }, l, now).lesson, /neither "current" nor a date/);
  assert.match(problems({ lesson: 'current', until: '15:00' }, l, now).until, /not with a lesson/);
  assert.match(problems({ lesson: '2026-12-24' }, l, now).lesson, /further ahead than requests.max_ahead \(14d\)/);

  const times = requestWindow({ from: '2026-11-20T13:00', until: '50m' }, l, now);
  assert.equal(times, { startsAt: london('2026-11-20', '13:00'), expiresAt: london('2026-11-20', '13:50'), lesson: null });
  const untilTime = requestWindow({ until: '15:30' }, l, now);
  assert.equal(untilTime, { startsAt: null, expiresAt: london('2026-11-19', '15:30'), lesson: null });
  assert.is(
    requestWindow({ from: '10:20', until: '30m' }, l, now + 30_000).startsAt,
    null,
    'a start typed as this minute is now',
  );
  assert.match(problems({ until: '09:00' }, l, now).until, /in the past/);
  assert.match(problems({ from: '09:00', until: '10:00' }, l, now).from, /in the past/);
  assert.match(problems({ from: '2026-11-20T13:00', until: '2026-11-20T12:00' }, l, now).until, /not after the start/);
  assert.match(problems({}, l, now).until, /say until when/);
  assert.match(problems({ until: '2d' }, l, now).until, /longer than a request may last \(requests.max_duration: 1d\)/);
  assert.match(problems({ until: 'soon' }, l, now).until, /neither a time .* nor a duration/);
});

test('without requests.lessons a lesson cannot be asked for, only times', async () => {
  const l = await loaded('max_duration: 2h');
  assert.match(problems({ lesson: 'current' }, l, london('2026-11-19', '10:20')).lesson, /no lesson timetable is configured/);
  assert.match(problems({ until: '3h' }, l, london('2026-11-19', '10:20')).until, /requests.max_duration: 2h/);
});

test.run();
