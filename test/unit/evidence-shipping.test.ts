/**
 * Shipping the evidence to a real PostgreSQL (issue 17): what arrives equals the local rows exactly,
 * table by table; a collapsed row's count that grew after it was shipped grows there too; shipping
 * everything again (cursors lost) changes nothing, not even a row version; a review made in the
 * shared store stays; two nodes' roll-ups add up; unshipped rows a purge would delete are counted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { postgresSchema } from '../../src/config/shared-schema.js';
import { DeviceNames } from '../../src/evidence/devices.js';
import { decodeEvents, EventEncoder } from '../../src/evidence/event-codec.js';
import { EvidenceProcessor } from '../../src/evidence/processor.js';
import { EvidenceShipper, type ShippingState } from '../../src/evidence/shipper.js';
import type { QueryEvent } from '../../src/observe/query-event.js';
import { PostgresShared } from '../../src/storage/postgres/postgres-shared.js';
import { SHIP_TABLES, type ShipTable } from '../../src/storage/shipping.js';
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
  async ship(batchRows = 7): Promise<ShippingState> {
    let last: ShippingState | null = null;
    const shipper = new EvidenceShipper({
      stores: { outbox: this.local.outbox, cursors: this.cursors, inbox: this.shared.evidence },
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
    return last!;
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

test.after(async () => {
  await pg?.destroy();
});

test.run();
