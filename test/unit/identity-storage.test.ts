/**
 * The store's side of identity: evidence rows carry the user (NULL when nobody was known) and are
 * filtered by it; access aggregates are kept per user; the identities repository keeps mappings
 * across restarts; migration 6 upgrades a version-5 file without losing a row.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import path from 'node:path';
import type { Rows } from '../../src/storage/evidence.js';
import type { IdentityRecord } from '../../src/storage/identities.js';
import { accountsPathFor, openStorage } from '../../src/storage/open.js';
import { EVIDENCE_MIGRATIONS } from '../../src/storage/sqlite/evidence-schema.js';
import { lastVersion, migrate } from '../../src/storage/sqlite/migrate.js';
import { tempDir } from '../helpers/daemon-process.js';

const NOW = Date.UTC(2026, 10, 30, 10, 0, 0);
const HOUR = 3_600_000;
const all = { since: 0, until: NOW + HOUR };

function store() {
  const dir = tempDir();
  return openStorage({ evidencePath: path.join(dir, 'e.db'), accountsPath: path.join(dir, 'e-accounts.db') }, 'write');
}

const blocked = (user: string, qname: string): Rows['blocked'][number] => ({
  ts: NOW,
  lastTs: NOW,
  count: 1,
  joinMs: 0,
  client: '10.20.3.4',
  device: '',
  grp: 'staff',
  qname,
  qtype: 'A',
  category: 'instagram',
  entry: 'instagram.com',
  response: 'NXDOMAIN',
  transport: 'udp',
  via: '',
  user,
});

test('rows carry the user (NULL when none), and the review filters by it', async () => {
  const s = store();
  const agg = (user: string, count: number) => ({
    hour: Math.floor(NOW / HOUR),
    client: '10.20.3.4',
    device: '',
    grp: 'staff',
    domain: 'bbc.co.uk',
    count,
    firstTs: NOW,
    lastTs: NOW,
    user,
  });
  await s.evidence.write({
    blocked: [blocked('j.smith', 'a.instagram.com'), blocked('', 'b.instagram.com')],
    signals: [
      {
        ts: NOW,
        client: '10.20.3.4',
        device: '',
        grp: 'staff',
        kind: 'vpn-proxy',
        severity: 'high',
        qname: 'x.vpn',
        domain: 'x.vpn',
        detail: 'd',
        count: 1,
        user: 'j.smith',
      },
    ],
    accessHourly: [agg('j.smith', 2), agg('', 3), agg('j.smith', 4)],
    access: [
      {
        ts: NOW,
        client: '10.20.3.4',
        device: '',
        grp: 'staff',
        qname: 'www.bbc.co.uk',
        qtype: 'A',
        result: 'forwarded',
        user: 'j.smith',
      },
    ],
  });
  assert.equal((await s.review.blocked(all)).map((r) => [r.qname, r.user]).sort(), [
    ['a.instagram.com', 'j.smith'],
    ['b.instagram.com', null],
  ]);
  assert.equal(
    (await s.review.blocked({ ...all, user: 'j.smith' })).map((r) => r.qname),
    ['a.instagram.com'],
  );
  assert.equal(
    (await s.review.signals({ ...all, user: 'j.smith' })).map((r) => r.user),
    ['j.smith'],
  );
  assert.equal((await s.review.signals({ ...all, user: 'nobody' })).length, 0);
  const hourly = (await s.review.accessHourly(all)).map((r) => [r.user, r.count]).sort();
  assert.equal(
    hourly,
    [
      [null, 3],
      ['j.smith', 6],
    ],
    'one aggregate per user: the same address, hour and domain for two people stay apart',
  );
  assert.equal((await s.review.accessFull({ ...all, user: 'j.smith' })).length, 1);
  await s.close();
});

test('identities: set, replace, delete, live by expiry, purge', async () => {
  const s = store();
  const rec = (address: string, user: string, expires: number): IdentityRecord => ({
    address,
    user,
    group: 'staff',
    mac: null,
    session: 's',
    source: 'radius',
    reporter: '10.0.0.2',
    since: NOW - HOUR,
    expires,
  });
  await s.identities.apply([
    { op: 'set', identity: rec('10.20.3.4', 'a', NOW + HOUR) },
    { op: 'set', identity: rec('2001:db8:1:2::/64', 'b', NOW + HOUR) },
    { op: 'set', identity: rec('10.20.3.5', 'c', NOW - 1) },
    { op: 'set', identity: rec('10.20.3.4', 'd', NOW + 2 * HOUR) },
  ]);
  assert.equal((await s.identities.live(NOW)).map((r) => [r.address, r.user]).sort(), [
    ['10.20.3.4', 'd'],
    ['2001:db8:1:2::/64', 'b'],
  ]);
  assert.equal(
    (await s.identities.live(NOW)).find((r) => r.address === '10.20.3.4'),
    rec('10.20.3.4', 'd', NOW + 2 * HOUR),
    'every field round-trips',
  );
  await s.identities.apply([{ op: 'delete', address: '2001:db8:1:2::/64' }]);
  assert.is(await s.identities.purge(NOW), 1, 'the lapsed one');
  assert.equal(
    (await s.identities.live(0)).map((r) => r.address),
    ['10.20.3.4'],
  );
  await s.close();
});

test('migration 6 upgrades a version-5 file in place: rows kept, user NULL, aggregates still counted', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'old.db');
  const db = new Database(file);
  migrate(
    db,
    EVIDENCE_MIGRATIONS.filter((m) => m.version <= 5),
  );
  db.exec(`INSERT INTO blocked (ts, client, device, grp, qname, qtype, category, entry, response, transport)
           VALUES (${NOW}, '10.20.3.4', 'PC1', 'students', 'www.facebook.com', 'A', 'facebook', 'facebook.com', 'NXDOMAIN', 'udp');
           INSERT INTO clients (id, address, device, grp) VALUES (7, '10.20.3.4', 'PC1', 'students');
           INSERT INTO domains (id, name) VALUES (3, 'bbc.co.uk');
           INSERT INTO access_hourly VALUES (${Math.floor(NOW / HOUR)}, 7, 3, 5, ${NOW}, ${NOW});`);
  db.close();
  const s = openStorage({ evidencePath: file, accountsPath: accountsPathFor(file) }, 'write');
  assert.equal(
    (await s.review.blocked(all)).map((r) => [r.qname, r.device, r.user]),
    [['www.facebook.com', 'PC1', null]],
  );
  await s.evidence.write({
    blocked: [],
    signals: [],
    access: [],
    accessHourly: [
      {
        hour: Math.floor(NOW / HOUR),
        client: '10.20.3.4',
        device: 'PC1',
        grp: 'students',
        domain: 'bbc.co.uk',
        count: 2,
        firstTs: NOW,
        lastTs: NOW,
        user: '',
      },
    ],
  });
  assert.equal(
    (await s.review.accessHourly(all)).map((r) => [r.client, r.count, r.user]),
    [['10.20.3.4', 7, null]],
    'added to the old aggregate',
  );
  await s.close();
  const after = new Database(file, { readonly: true });
  assert.is(after.pragma('user_version', { simple: true }), lastVersion(EVIDENCE_MIGRATIONS), 'upgraded through 6 to the latest');
  assert.equal(after.prepare('SELECT "group", user FROM v_blocked').all(), [{ group: 'students', user: null }]);
  after.close();
});

test.run();
