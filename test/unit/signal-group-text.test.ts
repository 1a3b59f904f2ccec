/**
 * The report's text for a group of signals (review/signal-groups.ts): when it ran ("2026-10-24
 * 08:01–15:58 BST", or the full first time when it ran past midnight, also across a change of
 * clocks) and the command listing its signals, in the timezone in force when asked.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SignalGroup } from '../../src/storage/review.js';
import { groupWhen, signalListCommand } from '../../src/review/signal-groups.js';
import { useTimezone } from '../../src/time/zone.js';

const before = process.env.TZ;
test.after(() => {
  if (before === undefined) delete process.env.TZ;
  else process.env.TZ = before;
});

const group = (first: number, last: number): SignalGroup => ({
  client: '10.20.0.5',
  device: 'PH-5',
  kind: 'persistent-attempts',
  severity: 'medium',
  day: first,
  signals: 2,
  occurrences: 7,
  unreviewed: 2,
  outcomes: {},
  first,
  last,
  domains: ['tiktok'],
  names: ['log.tiktokv.com'],
  only: null,
});

test('a group on one local day: the day, the first minute and the last time with its zone', () => {
  useTimezone('Europe/London');
  // 08:01:59 to 15:58:30 BST (07:01 and 14:58 UTC): minutes rounded down, the zone of the day.
  assert.is(groupWhen(group(Date.UTC(2026, 9, 24, 7, 1, 59), Date.UTC(2026, 9, 24, 14, 58, 30))), '2026-10-24 08:01–15:58 BST');
  useTimezone('UTC');
  assert.is(groupWhen(group(Date.UTC(2026, 9, 24, 7, 1), Date.UTC(2026, 9, 24, 14, 58))), '2026-10-24 07:01–14:58 UTC');
  // Not the same local day in UTC (23:30 and 00:10), the same in New York (19:30–20:10, GMT-4 in en-GB).
  const late = group(Date.UTC(2026, 9, 24, 23, 30), Date.UTC(2026, 9, 25, 0, 10));
  assert.is(groupWhen(late), '2026-10-24 23:30 UTC – 00:10 UTC (2026-10-25)');
  useTimezone('America/New_York');
  assert.is(groupWhen(late), '2026-10-24 19:30–20:10 GMT-4');
});

test('a group past local midnight, across the clocks going back: each time with its own zone', () => {
  useTimezone('Europe/London');
  // 23:30 BST on the 24th to 01:30 GMT on the 25th (the clocks go back at 02:00 BST).
  const g = group(Date.UTC(2026, 9, 24, 22, 30), Date.UTC(2026, 9, 25, 1, 30));
  assert.is(groupWhen(g), '2026-10-24 23:30 BST – 01:30 GMT (2026-10-25)');
  // Within the 25th: 00:30 BST to 01:30 GMT (an hour of clock time, two hours of real time).
  assert.is(groupWhen(group(Date.UTC(2026, 9, 24, 23, 30), Date.UTC(2026, 9, 25, 1, 30))), '2026-10-25 00:30–01:30 GMT');
});

test('the command listing a device’s signals: the period in the timezone in force when asked', () => {
  const from = Date.UTC(2026, 8, 5, 23, 0, 30);
  const to = Date.UTC(2026, 8, 12, 23, 0, 30);
  useTimezone('UTC');
  assert.is(
    signalListCommand('10.20.0.5', 41, from, to),
    'webfilter logs signals --client 10.20.0.5 --since 2026-09-05T23:00 --until 2026-09-12T23:01',
  );
  assert.is(
    signalListCommand('10.20.0.6', 250, from, to),
    'webfilter logs signals --client 10.20.0.6 --since 2026-09-05T23:00 --until 2026-09-12T23:01 --limit 250',
  );
  // The same period asked again after the timezone changed (tests, a console serving two schools' zones).
  useTimezone('Europe/London');
  assert.is(
    signalListCommand('10.20.0.5', 41, from, to),
    'webfilter logs signals --client 10.20.0.5 --since 2026-09-06T00:00 --until 2026-09-13T00:01',
  );
  assert.is(
    signalListCommand('10.20.0.5', 41, from, to + 3_600_000),
    'webfilter logs signals --client 10.20.0.5 --since 2026-09-06T00:00 --until 2026-09-13T01:01',
  );
});

test.run();
