/**
 * Shipping the evidence to a real PostgreSQL (issue 17): what arrives equals the local rows exactly,
 * table by table; a collapsed row's count that grew after it was shipped grows there too; shipping
 * everything again (cursors lost) changes nothing, not even a row version; a review made in the
 * shared store stays; two nodes' roll-ups add up; unshipped rows a purge would delete are counted.
 * Schema 4 (month partitions): a schema-3 store with rows converts losing none; the central
 * retention drops old months and trims the month straddling its cut; a NUL in a text does not
 * stall shipping.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { postgresSchema } from '../../src/config/shared-schema.js';
import { DeviceNames } from '../../src/evidence/devices.js';
import { decodeEvents, EventEncoder } from '../../src/evidence/event-codec.js';
import { EvidenceProcessor } from '../../src/evidence/processor.js';
import { EvidenceShipper, type ShipperOptions, type ShippingState } from '../../src/evidence/shipper.js';
import type { QueryEvent } from '../../src/observe/query-event.js';
import { PostgresEvidenceRetention } from '../../src/storage/postgres/evidence-retention.js';
import { migratePostgres } from '../../src/storage/postgres/migrate.js';
import { PostgresShared } from '../../src/storage/postgres/postgres-shared.js';
import { PG_LATEST, PG_MIGRATIONS } from '../../src/storage/postgres/schema.js';
import { SHIP_TABLES, type CentralRetention, type CentralRetentionResult, type ShipTable } from '../../src/storage/shipping.js';
import { SqliteShipCursors } from '../../src/storage/sqlite/ship-cursors.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { tempDir } from '../helpers/daemon-process.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { blockedEvent } from '../helpers/query-events.js';

const circumvention = configSchema.parse({ groups: { default: {} } }).circumvention;
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const HOUR = 3_600_000;

let pg: PgCluster | undefined;

const ev = blockedEvent;
const vpn = { signal: 'vpn-proxy', qname: 'nordvpn.com', reason: 'vpn-proxy', entry: 'nordvpn.com' };
const browse = (qname: string) => ({ kind: 'forwarded' as const, recordBlocked: false, qname, rcode: 0, response: '' });

/** A school hour of a few devices: repeats (collapsed), signals, browsing, over two hours. */
function traffic(start: number, clients: string[]): QueryEvent[] {
  const out: QueryEvent[] = [];
  clients.forEach((client, i) => {
    for (let k = 0; k < 30; k++) {
      const at = start + k * 20_000 + i;
      out.push(ev(at, { client }));
      if (k % 3 === 0) out.push(ev(at + 1, { client, qname: `cdn${k % 4}.tiktok.com`, reason: 'tiktok', entry: 'tiktok.com' }));
      if (k % 10 === 0) out.push(ev(at + 2, { client, ...vpn }));
      out.push(ev(at + 3, { client, ...browse(`www.site${k % 5}.example`) }));
    }
  });
  return out.sort((x, y) => x.at - y.at);
}

class Node {
  readonly local: SqliteStorage;
  readonly shared: PostgresShared;
  cursors: SqliteShipCursors;
  private readonly processor = new EvidenceProcessor(
    { access: 'aggregate', circumvention, collapseMs: 120_000 },
    new DeviceNames({ names: { '10.20.1.5': 'PH-5', '10.20.1.6': 'PH-6' }, leases: null }),
  );
  constructor(
    readonly dir: string,
    url: string,
    readonly site: string,
    readonly node: string,
  ) {
    this.local = new SqliteStorage(
      { evidencePath: path.join(dir, 'e.db'), accountsPath: path.join(dir, 'e-accounts.db') },
      'write',
    );
    this.shared = new PostgresShared({ site, node, postgres: postgresSchema.parse({ url }), urlFile: null });
    this.cursors = new SqliteShipCursors(path.join(dir, 'e-shared-copy.db'), 'write');
  }
  async write(events: QueryEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 200) {
      const enc = new EventEncoder();
      for (const e of events.slice(i, i + 200)) enc.add(e);
      const { buffer, count } = enc.take();
      await this.local.evidence.write(this.processor.process(decodeEvents(buffer, count)));
    }
  }
  /** One shipping pass through the real shipper, batches of `batchRows`. */
  async ship(batchRows = 7, more: Pick<ShipperOptions, 'now' | 'onRetention'> & { retention?: CentralRetention } = {}) {
    let last: ShippingState | null = null;
    const shipper = new EvidenceShipper({
      ...more,
      stores: { outbox: this.local.outbox, cursors: this.cursors, inbox: this.shared.evidence, retention: more.retention },
      version: 'test',
      batchRows,
      intervalMs: 60_000,
      minGapMs: 0,
      reportMs: 0,
      onState: (s) => (last = s),
      onLost: () => {},
    });
    await shipper.flush();
    await shipper.close();
    return last! as ShippingState;
  }
  /** Every local row of `table` as shipped (all of it, from no cursor). */
  localRows(table: ShipTable): Record<string, unknown>[] {
    return this.local.outbox.after(table, 0, 1e9).rows;
  }
  async close(): Promise<void> {
    this.cursors.close();
    await this.shared.close();
    await this.local.close();
  }
}

const ORDER: Record<ShipTable, string> = {
  blocked: 'local_id, ts',
  signals: 'local_id, first_ts',
  access_hourly: 'hour, client, device, grp, user_name, domain',
  access: 'local_id',
  blocked_hourly: 'hour, grp, category',
  blocked_device_daily: 'day, client, device, grp',
  review_audit: 'local_id',
  access_audit: 'local_id',
};

/** The shared store's rows of one node, with the local columns only, numbers as numbers. */
async function sharedRows(n: Node, table: ShipTable, db: string): Promise<Record<string, unknown>[]> {
  const cols = Object.keys(n.localRows(table)[0] ?? {});
  if (cols.length === 0) return [];
  const rows = await pg!.query(
    `SELECT ${cols.join(', ')} FROM ${table} WHERE site = '${n.site}' AND node = '${n.node}' ORDER BY ${ORDER[table]}`,
    db,
  );
  return rows.map((r) =>
    Object.fromEntries(
      cols.map((c) => [
        c,
        typeof r[c] === 'string' &&
        /^-?\d+$/.test(r[c] as string) &&
        !['client', 'device', 'grp', 'qname', 'detail', 'target'].includes(c)
          ? Number(r[c])
          : r[c],
      ]),
    ),
  );
}

function sorted(rows: Record<string, unknown>[], table: ShipTable): Record<string, unknown>[] {
  const keys = ORDER[table].split(', ');
  return [...rows].sort((x, y) => {
    for (const k of keys) {
      const a = x[k] as string | number;
      const b = y[k] as string | number;
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  });
}

async function assertSame(n: Node, db: string, what: string): Promise<void> {
  for (const table of SHIP_TABLES) {
    assert.equal(await sharedRows(n, table, db), sorted(n.localRows(table), table), `${what}: ${table} of ${n.node}`);
  }
}

test('shipped rows equal the local ones; grown counts follow; shipping all again writes nothing; a shared review stays', async () => {
  pg ??= await startPostgres();
  const db = 'ship1';
  const url = await pg.createDatabase(db);
  const n = new Node(tempDir(), url, 'carres', 'dns1');
  try {
    await n.shared.migrate();
    await n.write(traffic(T0, ['10.20.1.5', '10.20.1.6']));
    await n.local.accounts.audit({ ts: T0, actor: 'oso', ip: '127.0.0.1', action: 'view-device', target: 'PH-5', detail: '' });
    const first = await n.ship();
    assert.is(first.error, null);
    assert.is(first.backlogRows, 0);
    assert.ok(
      n.localRows('blocked').some((r) => Number(r.count) > 1),
      'collapsed rows among them',
    );
    assert.ok(n.localRows('signals').length > 0 && n.localRows('access_hourly').length > 0);
    await assertSame(n, db, 'first shipment');

    // More of the same: collapsed rows and aggregates grow after they were shipped; a local review.
    await n.write(traffic(T0 + 610_000, ['10.20.1.5', '10.20.1.6']));
    const sig = n.localRows('signals')[0];
    await n.local.signalReviews.review(
      Number(sig.local_id),
      { outcome: 'spoke-to-student', note: 'talked', by: 'oso', at: T0 + HOUR },
      { ts: T0 + HOUR, actor: 'oso', ip: '127.0.0.1', action: 'review-signal', target: `signal ${sig.local_id}`, detail: '' },
    );
    assert.ok(first.backlogRows === 0 && n.local.outbox.backlog(n.cursors.values()).rows > 0, 'a backlog again');
    await n.ship();
    await assertSame(n, db, 'after growth');
    const [audit] = await pg.query<{ signal_id: string; sid: string }>(
      `SELECT r.signal_id, s.id AS sid FROM review_audit r JOIN signals s ON s.local_id = r.signal_local_id AND s.node = r.node`,
      db,
    );
    assert.is(audit.signal_id, audit.sid, "the audit names the signal's shared id");

    // Everything shipped again from scratch (cursors lost): no row changes, not even its version.
    const versions = async () =>
      Promise.all(SHIP_TABLES.map((t) => pg!.query(`SELECT xmin::text AS v FROM ${t} ORDER BY ${ORDER[t]}`, db)));
    const before = await versions();
    n.cursors.close();
    n.cursors = new SqliteShipCursors(path.join(tempDir(), 'fresh-copy.db'), 'write');
    await n.ship(1000);
    assert.equal(await versions(), before, 'shipping again wrote nothing');
    await assertSame(n, db, 'after shipping again');

    // A review made in the shared store (the console) is never overwritten by the node's rows.
    const other = n.localRows('signals').find((r) => r.review_at === null)!;
    await pg.query(
      `UPDATE signals SET review_outcome = 'referred', review_by = 'dsl', review_at = 1 WHERE node = 'dns1' AND local_id = ${other.local_id}`,
      db,
    );
    await n.write([ev(T0 + 1_300_000, { client: String(other.client), ...vpn })]);
    await n.ship();
    const [kept] = await pg.query(`SELECT review_outcome, review_by, count FROM signals WHERE local_id = ${other.local_id}`, db);
    assert.equal([kept.review_outcome, kept.review_by], ['referred', 'dsl']);
  } finally {
    await n.close();
  }
});

test("two nodes' rows stay apart and their roll-ups add up to the sum of both", async () => {
  pg ??= await startPostgres();
  const db = 'ship2';
  const url = await pg.createDatabase(db);
  const a = new Node(tempDir(), url, 'carres', 'dns1');
  const b = new Node(tempDir(), url, 'carres', 'dns2');
  try {
    await a.shared.migrate();
    // The same devices ask both filters (DHCP gives both): the same keys on each node.
    await a.write(traffic(T0, ['10.20.1.5', '10.20.1.6']));
    await b.write(traffic(T0 + 5, ['10.20.1.5']));
    await a.ship();
    await b.ship();
    await assertSame(a, db, 'node a');
    await assertSame(b, db, 'node b');
    const sum = (rows: Record<string, unknown>[]) => rows.reduce((s, r) => s + Number(r.count), 0);
    for (const t of ['blocked', 'blocked_hourly', 'blocked_device_daily', 'access_hourly', 'signals'] as const) {
      const [row] = await pg.query<{ n: string }>(`SELECT sum(count) AS n FROM ${t} WHERE site = 'carres'`, db);
      assert.is(Number(row.n), sum(a.localRows(t)) + sum(b.localRows(t)), `${t}: the centre's sum is both nodes' sum`);
    }
    const [byHour] = await pg.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT hour, grp, category FROM blocked_hourly GROUP BY 1, 2, 3 HAVING count(DISTINCT node) = 2) x`,
      db,
    );
    assert.ok(Number(byHour.n) > 0, 'the same hour and category from both nodes: two rows, summed when read');
  } finally {
    await a.close();
    await b.close();
  }
});

test('rows a retention purge would delete before they were shipped are counted', async () => {
  pg ??= await startPostgres();
  const url = await pg.createDatabase('ship3');
  const n = new Node(tempDir(), url, 'carres', 'dns1');
  try {
    await n.write(traffic(T0, ['10.20.1.5']));
    const cursors = n.cursors.values();
    const all = SHIP_TABLES.filter((t) => t !== 'review_audit' && t !== 'access_audit').reduce(
      (s, t) => s + n.localRows(t).length,
      0,
    );
    const later = T0 + 400 * 86_400_000;
    assert.is(n.local.outbox.unshippedBefore(cursors, { blocked: later, signals: later, access: later }), all);
    assert.is(
      n.local.outbox.unshippedBefore(cursors, { blocked: T0 - HOUR * 24, signals: T0 - HOUR * 24, access: T0 - HOUR * 24 }),
      0,
    );
    await n.shared.migrate();
    await n.ship();
    assert.is(n.local.outbox.unshippedBefore(n.cursors.values(), { blocked: later, signals: later, access: later }), 0);
  } finally {
    await n.close();
  }
});

const DAY = 86_400_000;
const partitionsOf = async (table: string, db: string) =>
  (
    await pg!.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${table}'::regclass ORDER BY 1`,
      db,
    )
  ).map((r) => r.name);

test('schema 3 to 4: the evidence tables become month partitions, every row, id and review kept; shipping again changes nothing', async () => {
  pg ??= await startPostgres();
  const db = 'ship_convert';
  const url = await pg.createDatabase(db);
  const n = new Node(tempDir(), url, 'carres', 'dns1');
  try {
    await migratePostgres(
      n.shared.conn,
      PG_MIGRATIONS.filter((m) => m.version <= 3),
    );
    // This code's shipper asks for month partitions; a schema-3 store has none to make (what the
    // schema-3 shipper wrote is the same rows): a stand-in answers, replaced by migration 4.
    await pg.query(
      `CREATE FUNCTION webfilter_month_partition(text, bigint, bigint) RETURNS text LANGUAGE sql AS $$ SELECT '' $$`,
      db,
    );
    await n.write([...traffic(Date.UTC(2026, 9, 20, 10), ['10.20.1.5']), ...traffic(T0, ['10.20.1.5', '10.20.1.6'])]);
    assert.is((await n.ship()).error, null);
    await pg.query(
      `UPDATE signals SET review_outcome = 'referred', review_note = 'n', review_by = 'dsl', review_at = 5 WHERE id = (SELECT min(id) FROM signals)`,
      db,
    );
    const snapshot = () => Promise.all(SHIP_TABLES.map((t) => pg!.query(`SELECT * FROM ${t} ORDER BY ${ORDER[t]}`, db)));
    const before = await snapshot();
    assert.ok(before.every((rows, i) => rows.length > 0 || ['access', 'review_audit', 'access_audit'].includes(SHIP_TABLES[i])));
    assert.equal(await n.shared.migrate(), { from: 3, to: PG_LATEST });
    assert.equal(await snapshot(), before, 'every row as it was, ids and review columns included');
    const kinds = await pg.query<{ relkind: string }>(
      `SELECT relkind FROM pg_class WHERE relname IN ('blocked', 'signals', 'access_hourly', 'access', 'blocked_hourly', 'blocked_device_daily')`,
      db,
    );
    assert.equal(
      kinds.map((k) => k.relkind),
      ['p', 'p', 'p', 'p', 'p', 'p'],
    );
    const parts = await partitionsOf('blocked', db);
    assert.ok(parts.includes('blocked_p202610') && parts.includes('blocked_p202611'), parts.join());

    // Everything shipped again (cursors lost) into the partitioned tables: no row changes.
    const versions = async () =>
      Promise.all(SHIP_TABLES.map((t) => pg!.query(`SELECT xmin::text AS v FROM ${t} ORDER BY ${ORDER[t]}`, db)));
    const was = await versions();
    n.cursors.close();
    n.cursors = new SqliteShipCursors(path.join(tempDir(), 'fresh-copy.db'), 'write');
    await n.ship(1000);
    assert.equal(await versions(), was, 'shipping again wrote nothing');
    const [kept] = await pg.query(`SELECT review_by FROM signals WHERE id = (SELECT min(id) FROM signals)`, db);
    assert.is(kept.review_by, 'dsl', 'the review made in the shared store stays');

    // Rows of a month with no partition yet (an old one) ship: the partition is made; ids go on.
    const maxId = Number((await pg.query<{ m: string }>('SELECT max(id) AS m FROM blocked', db))[0].m);
    await n.write(traffic(Date.UTC(2025, 4, 3, 10), ['10.20.1.7']));
    assert.is((await n.ship()).error, null);
    assert.ok((await partitionsOf('blocked', db)).includes('blocked_p202505'));
    const [fresh] = await pg.query<{ m: string }>(`SELECT min(id) AS m FROM blocked WHERE client = '10.20.1.7'`, db);
    assert.ok(Number(fresh.m) > maxId, 'ids continue the old sequence');
  } finally {
    await n.close();
  }
});

test('central retention: an old month is dropped, the month across the cut loses its older rows, a younger one stays; once an hour for the trust', async () => {
  pg ??= await startPostgres();
  const db = 'ship_retention';
  const url = await pg.createDatabase(db);
  const n = new Node(tempDir(), url, 'carres', 'dns1');
  const at = (month: number, day: number) => Date.UTC(2025, month, day, 10);
  try {
    await n.shared.migrate();
    const devices = ['10.20.1.5', '10.20.1.6'];
    await n.write([at(0, 10), at(2, 10), at(2, 20), at(3, 5)].flatMap((t) => traffic(t, devices)));
    await n.ship(1000);
    // A January signal still seen in April (its last time after the cut) keeps its month.
    await pg.query(`UPDATE signals SET last_ts = ${at(3, 6)} WHERE id = (SELECT min(id) FROM signals)`, db);
    const now = at(3, 15);
    const cutMs = now - 30 * DAY;
    const retention = { blocked_days: 30, signals_days: 30, access_days: 30 };
    // Run by the filter's shipper after a pass, with its clock.
    let result: CentralRetentionResult | { error: string } | null = null;
    await n.ship(1000, {
      retention: new PostgresEvidenceRetention(n.shared.conn, retention),
      now: () => now,
      onRetention: (r) => (result = r),
    });
    assert.ok(result && 'droppedPartitions' in result, JSON.stringify(result));
    result = result as CentralRetentionResult;
    for (const t of ['blocked', 'access_hourly', 'blocked_hourly', 'blocked_device_daily']) {
      assert.ok(result.droppedPartitions.includes(`${t}_p202501`), `${t}: January dropped`);
      const parts = await partitionsOf(t, db);
      assert.ok(
        !parts.includes(`${t}_p202501`) && parts.includes(`${t}_p202503`) && parts.includes(`${t}_p202504`),
        parts.join(),
      );
    }
    assert.ok(result.deletedRows > 0);
    const unit: Record<string, number> = { blocked: 1, access_hourly: HOUR, blocked_hourly: HOUR, blocked_device_daily: DAY };
    const cutCol: Record<string, string> = {
      blocked: 'ts',
      access_hourly: 'hour',
      blocked_hourly: 'hour',
      blocked_device_daily: 'day',
    };
    for (const t of ['blocked', 'access_hourly', 'blocked_hourly', 'blocked_device_daily'] as const) {
      const want = n.localRows(t).filter((r) => Number(r[cutCol[t]]) >= Math.floor(cutMs / unit[t]));
      assert.ok(want.length > 0 && want.length < n.localRows(t).length);
      assert.equal(await sharedRows(n, t, db), sorted(want, t), `${t}: the rows from the cut on, exactly`);
    }
    const signals = await pg.query<{ tableoid: string; n: string }>(
      `SELECT tableoid::regclass::text AS tableoid, count(*) AS n FROM signals GROUP BY 1 ORDER BY 1`,
      db,
    );
    const local = n.localRows('signals').filter((r) => Number(r.last_ts) >= cutMs).length;
    assert.equal(
      signals.map((r) => [r.tableoid, Number(r.n)]),
      [
        ['signals_p202501', 1],
        ['signals_p202503', local / 2],
        ['signals_p202504', local / 2],
      ],
    );
    // Another filter of the trust within the hour: not due.
    assert.is(await new PostgresEvidenceRetention(n.shared.conn, retention).runIfDue(now), null);
    const [m] = await pg.query<{ result: string }>(`SELECT result FROM maintenance WHERE task = 'retention'`, db);
    assert.match(m.result, /dropped \d+ partitions .*blocked_p202501/);
  } finally {
    await n.close();
  }
});

test('a text holding NUL ships (as U+FFFD) and the rows after it too', async () => {
  pg ??= await startPostgres();
  const db = 'ship_nul';
  const url = await pg.createDatabase(db);
  const n = new Node(tempDir(), url, 'carres', 'dns1');
  try {
    await n.shared.migrate();
    await n.write([
      ev(T0, { client: '10.20.1.5' }),
      ev(T0 + 1000, { client: '10.20.1.6', qname: 'a\u0000b.tiktok.com', reason: 'tiktok', entry: 'tiktok.com' }),
      ev(T0 + 2000, { client: '10.20.1.7' }),
    ]);
    const state = await n.ship(1);
    assert.is(state.error, null);
    assert.is(state.backlogRows, 0);
    const rows = await pg.query<{ qname: string }>('SELECT qname FROM blocked ORDER BY local_id', db);
    assert.equal(
      rows.map((r) => r.qname),
      ['i.instagram.com', 'a\uFFFDb.tiktok.com', 'i.instagram.com'],
    );
  } finally {
    await n.close();
  }
});

test.after(async () => {
  await pg?.destroy();
});

test.run();
