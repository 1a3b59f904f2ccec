/**
 * `webfilter logs` tables show times as the school reads them (the config's timezone, naming the
 * zone); JSON and CSV keep ISO-8601 UTC. Run as on a UTC host with `timezone: Europe/London`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localTimes } from '../../src/commands/logs.js';
import { useTimezone } from '../../src/time/zone.js';
import { formatShort, localTimesIn } from '../../src/time/local-time.js';
import { inTimezone } from '../helpers/timezone.js';

test('logs table: evidence times in London time with the zone, BST and GMT alike', () => {
  const before = process.env.TZ;
  try {
    useTimezone('Europe/London');
    const [summer, winter] = localTimes([
      { time: '2026-07-01T14:30:07.123Z', last_time: '2026-07-01T14:31:00.000Z', qname: 'www.facebook.com' },
      { time: '2026-01-15T14:30:07.000Z', hour: '2026-01-15T14:00:00.000Z', count: 3 },
    ]);
    assert.equal(summer, { time: '2026-07-01 15:30:07 BST', last_time: '2026-07-01 15:31:00 BST', qname: 'www.facebook.com' });
    assert.equal(winter, { time: '2026-01-15 14:30:07 GMT', hour: '2026-01-15 14:00:00 GMT', count: 3 });
    const [empty] = localTimes([{ time: null, last_seen: 'not a time' }]);
    assert.equal(empty, { time: null, last_seen: 'not a time' }, 'a cell that is not a time is left as it is');
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
});

test('logs audit table: the times inside DETAIL are local too (an exception’s "until", a request’s "from … until …")', async () => {
  await inTimezone('Europe/London', () => {
    const [added, asked, kept] = localTimes([
      {
        time: '2026-07-01T14:30:07.123Z',
        action: 'exception-add',
        detail: 'instagram for group room-12 until 2026-07-01T15:30:00.000Z, approved by Head: Y9 project',
      },
      {
        time: '2026-01-15T09:00:00.000Z',
        action: 'request-add',
        detail: 'youtube for group y9-media, from 2026-01-15T10:00:00.000Z until 2026-01-15T10:50:30.500Z: lesson 3',
      },
      {
        time: '2026-01-15T09:00:00.000Z',
        action: 'signal-review',
        detail: 'no-action: seen at 2026-01-15T09:00, 12:00Z or 1234Z',
      },
    ]);
    assert.is(added.detail, 'instagram for group room-12 until 2026-07-01 16:30 BST, approved by Head: Y9 project');
    assert.is(asked.detail, 'youtube for group y9-media, from 2026-01-15 10:00 GMT until 2026-01-15 10:50:30 GMT: lesson 3');
    assert.is(kept.detail, 'no-action: seen at 2026-01-15T09:00, 12:00Z or 1234Z', 'only whole ISO UTC instants change');
  });
  assert.is(localTimesIn('an hour: 2026-11-24T10:00Z'), `an hour: ${formatShort(Date.UTC(2026, 10, 24, 10))}`);
});

test.run();
