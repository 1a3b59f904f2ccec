/**
 * Times people type and read are in the config's `timezone`, not the host's: the CLI and the daemon
 * run here with TZ=UTC and `timezone: Europe/London`, on a BST date and a GMT date. Outputs name the
 * zone; JSON stays ISO-8601 UTC.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { cli } from '../helpers/cli.js';
import { tempDir, testConfig, LISTS } from '../helpers/daemon-process.js';
import { PASSWORDS, request, signIn, startConsoleDaemon } from '../helpers/console-client.js';

const UTC_HOST = { TZ: 'UTC' };
const year = new Date().getUTCFullYear() + 1;
/** A summer (BST, UTC+1) and a winter (GMT) date in the future, and the same in the past. */
const BST = `${year}-07-01`;
const GMT = `${year + 1}-01-15`;
const BST_PAST = `${year - 2}-06-15`;
const GMT_PAST = `${year - 2}-01-15`;

function setup(): string {
  const dir = tempDir({
    ...LISTS,
    'webfilter.yaml': testConfig({
      upstreams: [53],
      extra: 'timezone: Europe/London\nexceptions: { max_duration: 800d }',
    }),
  });
  return path.join(dir, 'webfilter.yaml');
}

test('exception add --until: 15:30 means 15:30 in London, BST and GMT alike, on a UTC host', async () => {
  const config = setup();
  for (const [date, utc, zone] of [
    [BST, '14:30', 'BST'],
    [GMT, '15:30', 'GMT'],
  ]) {
    const add = await cli(
      [
        ...['exception', 'add', '--group', 'students', '--category', 'instagram', '--until', `${date} 15:30`],
        ...['--reason', 'r', '--approved-by', 'Head', '--config', config],
      ],
      UTC_HOST,
    );
    assert.is(add.code, 0, add.stderr);
    assert.match(add.stdout, new RegExp(`until \\w{3}, \\d\\d \\w{3} \\d{4}, 15:30:00 ${zone}`), add.stdout);
  }
  const list = await cli(['exception', 'list', '--json', '--config', config], UTC_HOST);
  const ex = (JSON.parse(list.stdout) as { expires_at: string }[]).map((e) => e.expires_at);
  assert.equal(ex.sort(), [`${BST}T14:30:00.000Z`, `${GMT}T15:30:00.000Z`], 'JSON is UTC');
  const table = await cli(['exception', 'list', '--config', config], UTC_HOST);
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`${BST} 15:30 BST`));
  assert.match(table.stdout, new RegExp(`${GMT} 15:30 GMT`));
});

test('check --at: the minute in London, said with its zone', async () => {
  const config = setup();
  for (const [date, utc, zone] of [
    [BST, '09:45', 'BST'],
    [GMT, '10:45', 'GMT'],
  ]) {
    const j = await cli(
      ['check', 'www.facebook.com', '--group', 'students', '--at', `${date} 10:45`, '--json', '--config', config],
      UTC_HOST,
    );
    assert.is(j.code, 0, j.stderr);
    assert.is((JSON.parse(j.stdout) as { at: string }).at, `${date}T${utc}:00.000Z`);
    const t = await cli(
      ['check', 'www.facebook.com', '--group', 'students', '--at', `${date} 10:45`, '--config', config],
      UTC_HOST,
    );
    assert.match(t.stdout, new RegExp(`10:45:00 ${zone}`));
  }
});

test('report --since DATE: the period starts at London midnight, and the report says the zone', async () => {
  const config = setup();
  // Make the database (the review commands open it read-only).
  const made = await cli(
    [
      ...['exception', 'add', '--group', 'students', '--category', 'instagram', '--for', '1h'],
      ...['--reason', 'r', '--approved-by', 'Head', '--config', config],
    ],
    UTC_HOST,
  );
  assert.is(made.code, 0, made.stderr);
  for (const [date, utc, zone] of [
    [BST_PAST, `${BST_PAST.slice(0, 8)}14T23:00`, 'BST'],
    [GMT_PAST, `${GMT_PAST}T00:00`, 'GMT'],
  ]) {
    const j = await cli(['report', '--since', date, '--until', `${date} 12:00`, '--json', '--config', config], UTC_HOST);
    assert.is(j.code, 0, j.stderr);
    assert.is(new Date((JSON.parse(j.stdout) as { from: number }).from).toISOString(), `${utc}:00.000Z`);
    if (zone === 'GMT') {
      const t = await cli(['report', '--since', date, '--until', `${date} 12:00`, '--config', config], UTC_HOST);
      assert.match(t.stdout, new RegExp(`00:00:00 ${zone}`));
    }
  }
});

test('console: times on the pages are London times with the zone, on a UTC host', async () => {
  const c = await startConsoleDaemon({ extra: 'timezone: Europe/London\nexceptions: { max_duration: 800d }', env: UTC_HOST });
  try {
    const add = await cli(
      [
        ...['exception', 'add', '--group', 'students', '--category', 'instagram', '--until', `${BST} 15:30`],
        ...['--reason', 'r', '--approved-by', 'Head', '--config', c.d.configFile],
      ],
      UTC_HOST,
    );
    assert.is(add.code, 0, add.stderr);
    const s = await signIn(c.base, 'ict.admin', PASSWORDS.ict);
    const page = await request(c.base, '/exceptions', { cookie: s.cookie });
    assert.match(page.body, new RegExp(`${BST} 15:30 BST`));
  } finally {
    await c.stop();
  }
});

test.run();
