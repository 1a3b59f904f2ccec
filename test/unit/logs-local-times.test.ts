/**
 * `webfilter logs` tables show times as the school reads them (the config's timezone, naming the
 * zone); JSON and CSV keep ISO-8601 UTC. Run as on a UTC host with `timezone: Europe/London`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localTimes } from '../../src/commands/logs.js';
import { useTimezone } from '../../src/time/zone.js';

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

test.run();
