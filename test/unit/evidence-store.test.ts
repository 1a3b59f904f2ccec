import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError, migrate } from '../../src/evidence/schema.js';
import { EvidenceStore } from '../../src/evidence/store.js';
import type { Rows, SignalRow } from '../../src/evidence/rows.js';
import { tempDir } from '../helpers/daemon-process.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const empty = (): Rows => ({ blocked: [], signals: [], accessHourly: [], access: [] });
const blocked = (ts: number, qname = 'www.facebook.com') => ({
  ts,
  client: '10.20.1.5',
  device: 'LT-1',
  grp: 'students',
  qname,
  qtype: 'A',
  category: 'facebook',
  entry: 'facebook.com',
  response: 'NXDOMAIN',
  transport: 'udp',
  via: '',
});
const signal = (ts: number, over: Partial<SignalRow> = {}): SignalRow => ({
  ts,
  client: '10.20.1.5',
  device: '',
  grp: 'students',
  kind: 'encrypted-dns',
  severity: 'high',
  qname: 'dns.google',
  domain: 'dns.google',
  detail: 'd',
  count: 1,
  ...over,
});

function open() {
  const file = path.join(tempDir(), 'sub', 'w.db');
  return { file, store: EvidenceStore.open(file) };
}

test('open creates the file 0640 (personal data), in WAL mode, at the current schema version', () => {
  const { file, store } = open();
  assert.is(statSync(file).mode & 0o777, 0o640);
  assert.is(store.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.is(store.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.is(store.db.pragma('auto_vacuum', { simple: true }), 2, 'incremental');
  store.close();
});

test('an older database is upgraded in place, its rows kept; a newer one is refused', () => {
  const { file, store } = open();
  store.write({ ...empty(), blocked: [blocked(NOW)] });
  store.close();
  const db = new Database(file);
  const v2 = [
    ...MIGRATIONS,
    { version: SCHEMA_VERSION + 1, sql: "ALTER TABLE blocked ADD COLUMN note TEXT NOT NULL DEFAULT ''" },
  ];
  assert.equal(migrate(db, v2), { from: SCHEMA_VERSION, to: SCHEMA_VERSION + 1 });
  assert.equal(db.prepare('SELECT qname, note FROM blocked').all(), [{ qname: 'www.facebook.com', note: '' }]);
  db.close();
  assert.throws(
    () => EvidenceStore.open(file),
    (e: unknown) => e instanceof SchemaTooNewError && /newer than this webfilter/.test((e as Error).message),
  );
});

test('version 3 → 4: blocked rows gain an empty via; the view shows it; new rows keep their chain', () => {
  const file = path.join(tempDir(), 'v3.db');
  const db = new Database(file);
  migrate(
    db,
    MIGRATIONS.filter((m) => m.version <= 3),
  );
  db.prepare(
    `INSERT INTO blocked (ts, client, grp, qname, qtype, category, entry, response, transport)
     VALUES (1, '10.20.1.5', 'students', 'old.facebook.com', 'A', 'facebook', 'facebook.com', 'NXDOMAIN', 'udp')`,
  ).run();
  db.close();
  const store = EvidenceStore.open(file);
  store.write({ ...empty(), blocked: [{ ...blocked(NOW, 'cloak.example'), via: 'cloak.example → www.facebook.com' }] });
  assert.equal(store.db.prepare('SELECT qname, via FROM v_blocked ORDER BY time').all(), [
    { qname: 'old.facebook.com', via: '' },
    { qname: 'cloak.example', via: 'cloak.example → www.facebook.com' },
  ]);
  store.close();
});

test('signals: same client+kind+domain within 10 minutes of the last one is one row with a count', () => {
  const { store } = open();
  store.write({ ...empty(), signals: [signal(NOW), signal(NOW + 60_000), signal(NOW + 9 * 60_000, { device: 'LT-1' })] });
  store.write({ ...empty(), signals: [signal(NOW + 18 * 60_000)] }); // 9 min after the last: same row
  store.write({ ...empty(), signals: [signal(NOW + 29 * 60_000)] }); // 11 min after the last: new row
  store.write({
    ...empty(),
    signals: [signal(NOW + 29 * 60_000, { client: '10.20.1.6' }), signal(NOW + 29 * 60_000, { kind: 'vpn-proxy' })],
  });
  const rows = store.db.prepare('SELECT client, kind, count, first_ts, last_ts, device FROM signals ORDER BY id').all() as Record<
    string,
    unknown
  >[];
  assert.equal(
    rows.map((r) => [r.client, r.kind, r.count, (Number(r.last_ts) - NOW) / 60_000, r.device]),
    [
      ['10.20.1.5', 'encrypted-dns', 4, 18, 'LT-1'],
      ['10.20.1.5', 'encrypted-dns', 1, 29, ''],
      ['10.20.1.6', 'encrypted-dns', 1, 29, ''],
      ['10.20.1.5', 'vpn-proxy', 1, 29, ''],
    ],
  );
  assert.is(rows[0].first_ts, NOW);
  store.close();
});

test('access aggregates add up per hour, client and domain', () => {
  const { store } = open();
  const agg = (hour: number, count: number, client = '10.20.1.5') => ({
    hour,
    client,
    device: 'LT-1',
    grp: 'students',
    domain: 'bbc.co.uk',
    count,
    firstTs: hour * 3_600_000,
    lastTs: hour * 3_600_000 + count,
  });
  const h = Math.floor(NOW / 3_600_000);
  store.write({ ...empty(), accessHourly: [agg(h, 3), agg(h + 1, 1)] });
  store.write({ ...empty(), accessHourly: [agg(h, 2), agg(h, 5, '10.20.1.6')] });
  const rows = store.db.prepare('SELECT client, domain, count, hour FROM v_access_hourly ORDER BY hour, client').all();
  assert.equal(rows, [
    { client: '10.20.1.5', domain: 'bbc.co.uk', count: 5, hour: '2026-11-23T12:00Z' },
    { client: '10.20.1.6', domain: 'bbc.co.uk', count: 5, hour: '2026-11-23T12:00Z' },
    { client: '10.20.1.5', domain: 'bbc.co.uk', count: 1, hour: '2026-11-23T13:00Z' },
  ]);
  store.close();
});

test('a failed batch stores nothing, and the store still works afterwards', () => {
  const { store } = open();
  const bad = { ...empty(), blocked: [blocked(NOW), { ...blocked(NOW), qname: null as unknown as string }] };
  assert.throws(() => store.write(bad));
  assert.is((store.db.prepare('SELECT count(*) n FROM blocked').get() as { n: number }).n, 0);
  store.write({
    ...empty(),
    blocked: [blocked(NOW)],
    accessHourly: [{ hour: 1, client: 'c', device: '', grp: 'g', domain: 'd.example', count: 1, firstTs: 1, lastTs: 1 }],
  });
  assert.is((store.db.prepare('SELECT count(*) n FROM blocked').get() as { n: number }).n, 1);
  store.close();
});

test('retention with a fake clock: old rows go, recent rows stay', () => {
  const { store } = open();
  const hour = (ts: number) => Math.floor(ts / 3_600_000);
  const acc = (ts: number, domain: string) => ({
    hour: hour(ts),
    client: '10.20.1.5',
    device: '',
    grp: 'students',
    domain,
    count: 1,
    firstTs: ts,
    lastTs: ts,
  });
  const full = (ts: number) => ({
    ts,
    client: '10.20.1.5',
    device: '',
    grp: 'students',
    qname: 'www.bbc.co.uk',
    qtype: 'A',
    result: 'forwarded',
  });
  store.write({
    blocked: [blocked(NOW - 400 * DAY, 'old.facebook.com'), blocked(NOW - 10 * DAY, 'recent.facebook.com')],
    signals: [signal(NOW - 366 * DAY, { domain: 'old.example' }), signal(NOW - 364 * DAY, { domain: 'recent.example' })],
    accessHourly: [acc(NOW - 91 * DAY, 'old.example'), acc(NOW - 89 * DAY, 'recent.example')],
    access: [full(NOW - 91 * DAY), full(NOW - DAY)],
  });
  const result = store.purge(NOW, { blocked_days: 365, signals_days: 365, access_days: 90 });
  assert.equal(result, { blocked: 1, signals: 1, accessHourly: 1, access: 1 });
  const col = (sql: string) => (store.db.prepare(sql).all() as Record<string, unknown>[]).map((r) => Object.values(r)[0]);
  assert.equal(col('SELECT qname FROM blocked'), ['recent.facebook.com']);
  assert.equal(col('SELECT domain FROM signals'), ['recent.example']);
  assert.equal(col('SELECT domain FROM v_access_hourly'), ['recent.example']);
  assert.equal(col('SELECT name FROM domains'), ['recent.example'], 'unused domains are cleaned up too');
  assert.is(col('SELECT count(*) FROM access')[0], 1);
  store.close();
});

test('heartbeat row for `webfilter status`', () => {
  const { store } = open();
  store.heartbeat({ pid: 42, version: '1.2.3', startedAt: NOW, now: NOW + 5, dropped: 7, writeErrors: 1 });
  store.heartbeat({ pid: 42, version: '1.2.3', startedAt: NOW, now: NOW + 10, dropped: 8, writeErrors: 1 });
  assert.equal(store.db.prepare('SELECT pid, version, last_seen, dropped FROM daemon').all(), [
    { pid: 42, version: '1.2.3', last_seen: NOW + 10, dropped: 8 },
  ]);
  store.close();
});

test.run();
