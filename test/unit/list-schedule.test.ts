/** When subscribed lists are fetched again (nextFetchDelay), and the list config's validation. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { emptyState } from '../../src/lists/state-store.js';
import { nextFetchDelay } from '../../src/lists/subscriptions.js';
import { tempDir } from '../helpers/daemon-process.js';

const H = 3_600_000;
const M = 60_000;
const now = 100 * H;
const stored = (checkedAgo: number) => ({
  ...emptyState('https://l.example/x'),
  body: 'x.txt',
  checked_at: now - checkedAgo,
  fetched_at: now - checkedAgo,
});

test('never fetched: at once; fetched: when refresh has passed since the last attempt, plus at most 10% jitter', () => {
  assert.is(nextFetchDelay(null, 0, 24 * H, now, 0.5), 0);
  assert.is(nextFetchDelay(stored(2 * H), 0, 6 * H, now, 0), 4 * H);
  assert.is(nextFetchDelay(stored(H / 2), 0, H, now, 0.5), 33 * M, '10% of a 1 h refresh is 6 min: half of it');
  assert.is(nextFetchDelay(stored(30 * H), 0, 24 * H, now, 0), 0, 'overdue after a long power-off: now');
  assert.ok(nextFetchDelay(stored(0), 0, 24 * H, now, 0.999999) <= 24 * H + 15 * M, 'jitter is capped at 15 min');
});

test('after failures the retry backs off from 5 min, doubling, never beyond refresh', () => {
  const s = stored(0);
  assert.is(nextFetchDelay(s, 1, 24 * H, now, 0), 5 * M);
  assert.is(nextFetchDelay(s, 2, 24 * H, now, 0), 10 * M);
  assert.is(nextFetchDelay(s, 4, 24 * H, now, 0), 40 * M);
  assert.is(nextFetchDelay(s, 20, 6 * H, now, 0), 6 * H);
  assert.is(nextFetchDelay(null, 1, 24 * H, now, 0) > 0, true, 'a first fetch that failed is not retried in a loop');
});

async function problems(categories: string, extra = ''): Promise<string[]> {
  const dir = tempDir({
    'c.yaml': `upstream: { servers: ["192.0.2.53:53"] }\ncategories:\n${categories}\ngroups: { default: { block: [] } }\n${extra}`,
    'f.txt': 'a.example\n',
  });
  try {
    const loaded = await loadConfig(path.join(dir, 'c.yaml'));
    assert.equal(loaded.listStateDir, path.join(dir, 'lists'), 'the state directory is lists/ beside the database');
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

test('list URLs must be https, refresh a duration of at least a minute; files and URLs mix', async () => {
  assert.equal(
    await problems('  a: { lists: ["https://lists.example.org/a.txt", f.txt], refresh: 6h }', 'database: { path: w.db }'),
    [],
  );
  assert.equal(await problems('  a: { lists: ["http://lists.example.org/a.txt"] }'), [
    'categories.a.lists[0]: "http://lists.example.org/a.txt": list URLs must be https:// (a list fetched in clear text could be changed on the way) (line 3)',
  ]);
  assert.equal(await problems('  a: { lists: [f.txt], refresh: 10s }'), [
    'categories.a.refresh: "10s" is too often: refresh at most once a minute (line 3)',
  ]);
  assert.equal(await problems('  a: { lists: [f.txt], refresh: soon }'), [
    'categories.a.refresh: "soon" is not a duration (e.g. 50m, 2h, 1h30m, 3d) (line 3)',
  ]);
  assert.equal(await problems('  a: [f.txt]', 'subscriptions: { max_shrink: 2, tls_ca: missing.pem }'), [
    'subscriptions.max_shrink: 2: expected number to be <=1 (line 5)',
  ]);
  const ca = await problems('  a: [f.txt]', 'subscriptions: { tls_ca: missing.pem }');
  assert.is(ca.length, 1);
  assert.match(ca[0], /^subscriptions\.tls_ca: cannot read ".*missing\.pem" \(ENOENT\) \(line 5\)$/);
});

test.run();
