/**
 * End to end: the evidence of two filters of one site (node A on 127.0.0.21, node B on 127.0.0.22)
 * shipped to one real, throwaway PostgreSQL cluster. Blocked attempts (repeats collapsed into one row
 * whose count grows after it was shipped), signals and access aggregates made on both arrive with
 * exact counts and no duplicates: with the store up, paused (SIGSTOP) and stopped during the
 * traffic, and after `kill -9` of a node in the middle of a shipment (then restarted). A filter
 * without `shared` ships nothing and shows the shipping metrics at 0. One of the two runs the shared
 * store's retention (an old month dropped), the other finds it done.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { postgresSchema } from '../../src/config/shared-schema.js';
import { RCODE } from '../../src/dns/constants.js';
import { PostgresShared } from '../../src/storage/postgres/postgres-shared.js';
import { cli } from '../helpers/cli.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { udpQuery } from '../helpers/dns-client.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { until } from '../helpers/wait.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const STUDENT = { localAddress: '127.0.0.10' };
const GROUPS = '  students: { clients: [127.0.0.10/32], block: [facebook, instagram] }\n  default: { block: [facebook] }';

/** January 2020 (ms): older than any retention the tests use. */
const OLD_MONTH = Date.UTC(2020, 0, 15);

let pg: PgCluster;
let up: FakeUpstream;
const nodes: Record<'dns-a' | 'dns-b', { d: DaemonProcess; yaml: string; sent: Sent }> = {} as never;

interface Sent {
  blocked: number;
  access: number;
  signals: number;
}

function config(node: string, address: string, url: string, upstream: number): string {
  return testConfig({
    upstreams: [upstream],
    groups: GROUPS,
    server: `  listen: ["${address}:0"]\n  allowed_clients: [127.0.0.10/32]`,
    database: 'flush_ms: 100',
    extra: `site: carres-grammar\nnode: ${node}\nshared: { postgres: { url: "${url}", connect_timeout_ms: 1000, query_timeout_ms: 2000 } }`,
  });
}

async function ask(d: DaemonProcess, name: string): Promise<number> {
  const host = d.addresses[0].split(':')[0];
  const r = await udpQuery(d.port, query(name), { ...STUDENT, host, timeoutMs: 2000 });
  assert.ok(r, `${d.addresses[0]} answered ${name}`);
  return header(r!).rcode;
}

/**
 * A class's traffic on one node: repeats of one blocked name (one collapsed row, counted), blocked
 * names of their own (`distinct`), browsing (the access aggregates) and a DoH canary (a signal).
 */
async function traffic(node: keyof typeof nodes, o: { repeats: number; distinct: number; tag: string }): Promise<void> {
  const { d, sent } = nodes[node];
  for (let i = 0; i < o.repeats; i++) assert.is(await ask(d, 'www.instagram.com'), RCODE.NXDOMAIN);
  for (let i = 0; i < o.distinct; i++) assert.is(await ask(d, `${o.tag}-${i}.cdninstagram.com`), RCODE.NXDOMAIN);
  for (let i = 0; i < 10; i++) assert.is(await ask(d, `www.site${i % 3}.example`), RCODE.NOERROR);
  await ask(d, 'use-application-dns.net');
  sent.blocked += o.repeats + o.distinct;
  sent.access += 10;
  sent.signals += 1;
}

interface Counts {
  blocked: number;
  blockedRows: number;
  access: number;
  signals: number;
  canaries: number;
  signalRows: number;
  hourly: number;
  daily: number;
}

function localCounts(d: DaemonProcess): Counts {
  const db = new Database(path.join(d.dir, 'webfilter.db'), { readonly: true });
  try {
    const one = (sql: string) => Number((db.prepare(sql).get() as { n: number | null }).n ?? 0);
    return {
      blocked: one('SELECT sum(count) AS n FROM blocked'),
      blockedRows: one('SELECT count(*) AS n FROM blocked'),
      access: one('SELECT sum(count) AS n FROM access_hourly'),
      signals: one('SELECT sum(count) AS n FROM signals'),
      canaries: one("SELECT sum(count) AS n FROM signals WHERE qname = 'use-application-dns.net'"),
      signalRows: one('SELECT count(*) AS n FROM signals'),
      hourly: one('SELECT sum(count) AS n FROM blocked_hourly'),
      daily: one('SELECT sum(count) AS n FROM blocked_device_daily'),
    };
  } finally {
    db.close();
  }
}

async function sharedCounts(node: string): Promise<Counts> {
  const [r] = await pg.query<Record<string, string | null>>(
    `SELECT (SELECT sum(count) FROM blocked WHERE node = '${node}') AS blocked,
            (SELECT count(*) FROM blocked WHERE node = '${node}') AS "blockedRows",
            (SELECT sum(count) FROM access_hourly WHERE node = '${node}') AS access,
            (SELECT sum(count) FROM signals WHERE node = '${node}') AS signals,
            (SELECT sum(count) FROM signals WHERE node = '${node}' AND qname = 'use-application-dns.net') AS canaries,
            (SELECT count(*) FROM signals WHERE node = '${node}') AS "signalRows",
            (SELECT sum(count) FROM blocked_hourly WHERE node = '${node}') AS hourly,
            (SELECT sum(count) FROM blocked_device_daily WHERE node = '${node}') AS daily`,
    'trust',
  );
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v ?? 0)])) as unknown as Counts;
}

/** Waits until the shared store holds exactly what each node holds, and that is exactly what was sent. */
async function allArrived(what: string, ms = 30_000): Promise<void> {
  for (const [node, { d, sent }] of Object.entries(nodes)) {
    let last: [Counts, Counts] | null = null;
    try {
      await until(
        async () => {
          const local = localCounts(d);
          last = [local, await sharedCounts(node)];
          return (
            local.blocked === sent.blocked &&
            local.access === sent.access &&
            local.canaries === sent.signals &&
            JSON.stringify(last[1]) === JSON.stringify(local)
          );
        },
        `${node}'s evidence in the shared store (${what})`,
        ms,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}: sent ${JSON.stringify(sent)}, local/shared ${JSON.stringify(last)}`);
    }
    const c = localCounts(d);
    assert.is(c.hourly, sent.blocked, `${node}: the hourly roll-up counts every attempt`);
    assert.is(c.daily, sent.blocked, `${node}: the daily roll-up counts every attempt`);
  }
  const [dup] = await pg.query<{ n: string }>(
    `SELECT count(*) AS n FROM (SELECT node, local_id, ts FROM blocked GROUP BY 1, 2, 3 HAVING count(*) > 1) x`,
    'trust',
  );
  assert.is(Number(dup.n), 0, 'no duplicate rows');
}

async function metric(d: DaemonProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://${d.metrics}/metrics`);
  return sampleValue(parseExposition(await res.text()), name, labels);
}

test.before(async () => {
  pg = await startPostgres();
  const url = await pg.createDatabase('trust');
  // A month of evidence long past shared.retention (365 days by default), left by another filter.
  const store = new PostgresShared({
    site: 'carres-grammar',
    node: 'old-node',
    postgres: postgresSchema.parse({ url }),
    urlFile: null,
  });
  await store.migrate();
  await store.close();
  await pg.query(`SELECT webfilter_month_partition('blocked', 1, ${OLD_MONTH})`, 'trust');
  await pg.query(
    `INSERT INTO blocked (site, node, local_id, ts, last_ts, count, client, device, grp, qname, qtype, category, entry, response, transport, via)
     VALUES ('carres-grammar', 'old-node', 1, ${OLD_MONTH}, ${OLD_MONTH}, 1, '10.0.0.1', '', 'students', 'old.example', 'A', 'facebook', 'facebook.com', 'NXDOMAIN', 'udp', '')`,
    'trust',
  );
  up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  for (const [node, address] of [
    ['dns-a', '127.0.0.21'],
    ['dns-b', '127.0.0.22'],
  ] as const) {
    const yaml = config(node, address, url, up.port);
    nodes[node] = { d: await startDaemon(yaml, LISTS), yaml, sent: { blocked: 0, access: 0, signals: 0 } };
  }
});

test.after(async () => {
  for (const n of Object.values(nodes)) await n.d.stop();
  await up?.close();
  await pg?.destroy();
});

test('evidence made on both nodes arrives with exact counts, and a collapsed row that grows is counted again', async () => {
  await traffic('dns-a', { repeats: 5, distinct: 3, tag: 'up' });
  await traffic('dns-b', { repeats: 4, distinct: 2, tag: 'up' });
  await allArrived('store up');
  await traffic('dns-a', { repeats: 3, distinct: 0, tag: 'up2' });
  await allArrived('after repeats of shipped rows');
  const [row] = await pg.query<{ count: string }>(
    `SELECT count FROM blocked WHERE node = 'dns-a' AND qname = 'www.instagram.com'`,
    'trust',
  );
  assert.is(Number(row.count), 8, "the collapsed row's count followed it");
  assert.is(await metric(nodes['dns-a'].d, 'webfilter_shipping_backlog_rows'), 0);
});

test("the filters run the shared store's retention once between them: a month older than it is dropped", async () => {
  const ran = (n: keyof typeof nodes) => nodes[n].d.logs.some((l) => l.msg === 'shared store retention done');
  await until(async () => ran('dns-a') || ran('dns-b'), 'a retention run logged');
  const [m] = await pg.query<{ result: string }>(`SELECT result FROM maintenance WHERE task = 'retention'`, 'trust');
  assert.match(m.result, /blocked_p202001/);
  const [old] = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM blocked WHERE node = 'old-node'`, 'trust');
  assert.is(Number(old.n), 0);
  assert.is(ran('dns-a') && ran('dns-b'), false, 'one filter ran it; the other found it done within the hour');
  assert.ok(nodes['dns-a'].d.logs.every((l) => l.msg !== 'shared store retention failed: tried again in an hour'));
});

for (const outage of ['paused', 'stopped'] as const) {
  test(`shared store ${outage} during the traffic: nothing lost, nothing doubled once it is back`, async () => {
    if (outage === 'paused') pg.pause();
    else await pg.stop();
    try {
      await traffic('dns-a', { repeats: 3, distinct: 20, tag: outage });
      await traffic('dns-b', { repeats: 2, distinct: 15, tag: outage });
      const a = nodes['dns-a'].d;
      await until(async () => (await metric(a, 'webfilter_shipping_backlog_rows')) > 0, 'a backlog in the metrics');
      // The shared store is a part of its own: down while it does not answer, status degraded.
      const shared = { component: 'shared' };
      await until(async () => (await metric(a, 'webfilter_component_up', shared)) === 0, 'the shared part down');
      const status = await cli(['--config', a.configFile, 'status', '--json']);
      const shipping = JSON.parse(status.stdout).shipping;
      assert.ok(shipping.backlog_rows > 0, `webfilter status shows the backlog: ${status.stdout}`);
      assert.is(status.code, 1, `webfilter status is degraded: ${status.stdout}`);
      assert.ok(
        JSON.parse(status.stdout).problems.some((p: string) => p.startsWith('shared: ')),
        `the problem names the shared store: ${status.stdout}`,
      );
    } finally {
      if (outage === 'paused') pg.resume();
      else await pg.start();
    }
    await allArrived(`after the store was ${outage}`);
    await until(async () => (await metric(nodes['dns-a'].d, 'webfilter_shipping_backlog_rows')) === 0, 'backlog 0 again');
    assert.is(await metric(nodes['dns-a'].d, 'webfilter_shipping_lag_seconds'), 0);
    await until(
      async () => (await metric(nodes['dns-a'].d, 'webfilter_component_up', { component: 'shared' })) === 1,
      'the shared part up again',
    );
  });
}

test('kill -9 of a node in the middle of a shipment: restarted, its rows arrive exactly once', async () => {
  const a = nodes['dns-a'];
  await pg.stop();
  try {
    // A backlog of several shipping batches (1,000 rows each).
    await traffic('dns-a', { repeats: 1, distinct: 3500, tag: 'kill' });
    await until(() => localCounts(a.d).blocked === a.sent.blocked, 'the backlog written locally', 30_000);
  } finally {
    await pg.start();
  }
  const total = localCounts(a.d).blockedRows;
  const partial = await until(
    async () => {
      const n = (await sharedCounts('dns-a')).blockedRows;
      return n > total - 3500 && n < total ? n : 0;
    },
    'a shipment under way',
    30_000,
  );
  a.d.child.kill('SIGKILL');
  await a.d.stop();
  console.log(`  node A killed with ${partial} of ${total} blocked rows in the shared store`);
  a.d = await startDaemon(a.yaml, LISTS, { dir: a.d.dir });
  await allArrived('after kill -9 and restart', 60_000);
});

test('a filter without shared ships nothing and shows the shipping metrics at 0', async () => {
  const d = await startDaemon(
    testConfig({
      upstreams: [up.port],
      groups: GROUPS,
      server: '  listen: ["127.0.0.23:0"]\n  allowed_clients: [127.0.0.10/32]',
    }),
    LISTS,
  );
  try {
    assert.is(await ask(d, 'www.instagram.com'), RCODE.NXDOMAIN);
    assert.is(await metric(d, 'webfilter_shipping_backlog_rows'), 0);
    assert.is(await metric(d, 'webfilter_shipping_lag_seconds'), 0);
    const status = await cli(['--config', d.configFile, 'status', '--json']);
    assert.ok(status.stdout, `webfilter status --json: ${status.stderr}`);
    assert.is(JSON.parse(status.stdout).shipping, null);
  } finally {
    await d.stop();
  }
  assert.not.ok(existsSync(path.join(d.dir, 'webfilter-shared-copy.db')), 'no shared state made');
});

test.run();
