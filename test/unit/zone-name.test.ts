import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatShort, zoneName } from '../../src/time/local-time.js';
import { useTimezone } from '../../src/time/zone.js';

// zoneName keeps the names it has worked out by hour (a report names the zone of tens of thousands
// of times); a change of offset within an hour must still give the right name on both sides.
test('zone names stay right across a change of offset in the middle of an hour (Lord Howe, 15:30 UTC)', () => {
  const before = process.env.TZ;
  try {
    useTimezone('Australia/Lord_Howe');
    const change = Date.parse('2026-10-03T15:30:00Z');
    assert.is(zoneName(change - 60_000), 'GMT+10:30');
    assert.is(zoneName(change + 60_000), 'GMT+11');
    assert.is(zoneName(change - 60_000), 'GMT+10:30');
    assert.ok(formatShort(change + 60_000).endsWith('GMT+11'));
    useTimezone('Europe/London');
    assert.is(zoneName(Date.parse('2026-07-01T12:00:00Z')), 'BST');
    assert.is(zoneName(Date.parse('2026-12-01T12:00:00Z')), 'GMT');
    useTimezone('UTC');
    assert.is(zoneName(Date.parse('2026-07-01T12:00:00Z')), 'UTC');
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
});

test.run();
