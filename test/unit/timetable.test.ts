import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { localToEpoch, wallTime, dayNumber } from '../../src/time/zoned-time.js';
import { tempDir } from '../helpers/daemon-process.js';

const CONFIG = `
upstream: { servers: ["192.0.2.1"] }
timezone: Europe/London
categories:
  facebook: [fb.txt]
  youtube: [yt.txt]
schedules:
  breaks: { days: [mon, tue, wed, thu, fri], windows: ["10:40-11:00", "12:30-13:15"] }
  school-day:
    days: [mon, tue, wed, thu, fri]
    windows: ["08:30-15:30"]
    holidays: [{ from: 2026-12-19, to: 2027-01-04 }]
  night: { days: [sun], windows: ["00:30-02:30", "23:00-01:00"] }
groups:
  staff: { clients: [10.10.0.0/16], block: [facebook], allow_during: { breaks: [facebook] } }
  students: { clients: [10.20.0.0/16], block: [facebook], block_during: { school-day: [youtube], night: [youtube] } }
  default: { block: [facebook] }
`;

async function setup() {
  const dir = tempDir({ 'fb.txt': 'facebook.com\n', 'yt.txt': 'youtube.com\n', 'c.yaml': CONFIG });
  const compiled = await compilePolicy(await loadConfig(path.join(dir, 'c.yaml')));
  const decide = (group: string, name: string, t: number) => {
    const g = compiled.timetable.effective(compiled.policy.groups.get(group)!, t);
    return compiled.policy.decide(g, name).action;
  };
  return { compiled, decide };
}

/** Instant of a London wall time. */
const london = (date: string, hhmm: string, sec = 0) => {
  const [h, m] = hhmm.split(':').map(Number);
  return localToEpoch(dayNumber(date), h * 60 + m, 'Europe/London') + sec * 1000;
};

test('local wall times convert correctly on both sides of the clock changes', () => {
  assert.is(new Date(london('2026-11-23', '10:40')).toISOString(), '2026-11-23T10:40:00.000Z', 'GMT');
  assert.is(new Date(london('2026-06-15', '10:40')).toISOString(), '2026-06-15T09:40:00.000Z', 'BST');
  assert.is(new Date(london('2026-03-29', '00:30')).toISOString(), '2026-03-29T00:30:00.000Z', 'before spring forward');
  assert.is(new Date(london('2026-03-29', '02:30')).toISOString(), '2026-03-29T01:30:00.000Z', 'after spring forward');
  assert.is(
    new Date(london('2026-03-29', '01:30')).toISOString(),
    '2026-03-29T01:30:00.000Z',
    'in the gap: pushed forward by it (02:30 BST)',
  );
  assert.is(new Date(london('2026-10-25', '01:30')).toISOString(), '2026-10-25T00:30:00.000Z', 'repeated hour: first occurrence');
  assert.equal(wallTime(Date.parse('2026-10-25T01:30:00Z'), 'Europe/London'), { day: dayNumber('2026-10-25'), minute: 90 });
});

test('staff break times: blocked at 10:39, allowed at 10:40 and 10:59, blocked at 11:00 — in GMT, BST and on the change weeks', async () => {
  const { decide } = await setup();
  for (const date of ['2026-11-23', '2026-06-15', '2026-03-30', '2026-10-26', '2026-03-27', '2026-10-23']) {
    const rows: [string, number, string][] = [
      ['10:39', 59, 'block'],
      ['10:40', 0, 'allow'],
      ['10:59', 0, 'allow'],
      ['10:59', 59, 'allow'],
      ['11:00', 0, 'block'],
      ['12:29', 0, 'block'],
      ['12:30', 0, 'allow'],
      ['13:15', 0, 'block'],
    ];
    for (const [hhmm, sec, want] of rows) {
      assert.is(decide('staff', 'www.facebook.com', london(date, hhmm, sec)), want, `${date} ${hhmm}:${sec}`);
    }
    assert.is(decide('students', 'www.facebook.com', london(date, '10:45')), 'block', 'students are not in the staff rule');
  }
  assert.is(decide('staff', 'www.facebook.com', london('2026-11-28', '10:45')), 'block', 'no break on a Saturday');
});

test('block_during: the school-day schedule, switched off by a holiday range', async () => {
  const { decide } = await setup();
  assert.is(decide('students', 'www.youtube.com', london('2026-12-18', '10:00')), 'block', 'last day of term');
  assert.is(decide('students', 'www.youtube.com', london('2026-12-18', '16:00')), 'allow', 'after school');
  assert.is(decide('students', 'www.youtube.com', london('2026-12-21', '10:00')), 'allow', 'holiday (a Monday)');
  assert.is(decide('students', 'www.youtube.com', london('2027-01-05', '10:00')), 'block', 'back at school');
  assert.is(decide('staff', 'www.youtube.com', london('2026-12-18', '10:00')), 'allow', 'staff have no youtube rule');
});

test('windows across midnight and across a clock change', async () => {
  const { decide } = await setup();
  // "00:30-02:30" on Sunday 29 March 2026: 00:30 GMT to 02:30 BST is one real hour.
  assert.is(decide('students', 'youtube.com', Date.parse('2026-03-29T00:29:00Z')), 'allow');
  assert.is(decide('students', 'youtube.com', Date.parse('2026-03-29T00:30:00Z')), 'block');
  assert.is(decide('students', 'youtube.com', Date.parse('2026-03-29T01:29:00Z')), 'block');
  assert.is(decide('students', 'youtube.com', Date.parse('2026-03-29T01:30:00Z')), 'allow');
  // On Sunday 25 October it is three real hours (00:30 BST = 23:30 UTC the day before).
  assert.is(decide('students', 'youtube.com', Date.parse('2026-10-24T23:30:00Z')), 'block');
  assert.is(decide('students', 'youtube.com', Date.parse('2026-10-25T02:29:00Z')), 'block');
  assert.is(decide('students', 'youtube.com', Date.parse('2026-10-25T02:30:00Z')), 'allow');
  // "23:00-01:00" on a Sunday runs into Monday.
  assert.is(decide('students', 'youtube.com', london('2026-11-22', '23:30')), 'block');
  assert.is(decide('students', 'youtube.com', london('2026-11-23', '00:59')), 'block');
  assert.is(decide('students', 'youtube.com', london('2026-11-23', '01:00')), 'allow');
});

test('check --at: which windows apply', async () => {
  const { compiled } = await setup();
  assert.equal(compiled.timetable.activeAt(london('2026-12-01', '10:45')), [
    { schedule: 'breaks', window: '10:40-11:00' },
    { schedule: 'school-day', window: '08:30-15:30' },
  ]);
  assert.equal(compiled.timetable.activeAt(london('2026-12-05', '10:45')), []);
});

test('config check rejects an allowed locked category, unknown schedules and bad windows', async () => {
  const dir = tempDir({ 'x.txt': 'x.example\n' });
  writeFileSync(
    path.join(dir, 'c.yaml'),
    `upstream: { servers: ["192.0.2.1"] }
timezone: Mars/Olympus
categories:
  illegal: { lists: [x.txt], locked: true }
  social: [x.txt]
schedules:
  breaks: { days: [mon, funday], windows: ["10:40-11:00", "25:00-26:00", "10:00-10:00"] }
groups:
  staff: { block: [illegal, social], allow_during: { breaks: [illegal], lunch: [social] }, clients: [10.0.0.0/8] }
  default: { block: [social], allow_during: { breaks: [youtube] } }
`,
  );
  let problems: string[] = [];
  try {
    await loadConfig(path.join(dir, 'c.yaml'));
  } catch (e) {
    problems = (e as { problems: string[] }).problems;
  }
  const text = problems.join('\n');
  assert.match(text, /timezone: is not an IANA timezone/);
  assert.match(text, /schedules\.breaks\.days\[1\]: "funday" is not one of/);
  assert.match(text, /schedules\.breaks\.windows\[1\]: a window is "HH:MM-HH:MM"/);
  assert.match(text, /schedules\.breaks\.windows\[2\]: a window is/);
  assert.match(text, /groups\.staff\.allow_during\.breaks\[0\]: "illegal" is locked: no schedule may allow it/);
  assert.match(text, /groups\.staff\.allow_during\.lunch: unknown schedule "lunch" \(schedules: breaks\)/);
  assert.match(text, /groups\.default\.allow_during\.breaks\[0\]: unknown category "youtube"/);
});

test.run();
