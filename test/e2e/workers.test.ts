/**
 * End-to-end: `server.workers: 2` — DNS worker processes behind one primary — answers, counts and
 * records exactly as one process does; exceptions, SIGHUP and SIGTERM reach every worker.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { tcpQuery, udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import { parseExposition } from '../helpers/prometheus-text.js';
import { cli } from '../helpers/cli.js';

const STUDENT = { localAddress: '127.0.0.10' };
const SIXTH = { localAddress: '127.0.0.20' };
const OUTSIDER = { localAddress: '127.0.0.99' };
const server = (workers: number) =>
  `  listen: ["127.0.0.1:0"]\n  allowed_clients: [127.0.0.10/32, 127.0.0.20/32]\n  workers: ${workers}`;
const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 300)] });

/** The daemon's child processes (its DNS workers), from /proc. */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(') ') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Runs `check` once per DNS worker with every other worker stopped (SIGSTOP, then SIGCONT), so each
 * worker alone answers it: the kernel would otherwise give a light test load to whichever wakes first.
 */
async function eachWorker(d: DaemonProcess, check: (label: string) => Promise<void>): Promise<void> {
  const workers = children(d.child.pid!);
  assert.is(workers.length, 2);
  for (const w of workers) {
    const others = workers.filter((o) => o !== w);
    for (const o of others) process.kill(o, 'SIGSTOP');
    try {
      await check(`worker pid ${w}`);
    } finally {
      for (const o of others) process.kill(o, 'SIGCONT');
    }
  }
}

/** `n` queries at once (so the kernel hands them to different workers); their rcodes. */
async function burst(d: DaemonProcess, names: string[], client: { localAddress: string }, type: number = TYPE.A) {
  const replies = await Promise.all(names.map((n) => udpQuery(d.port, query(n, type), client)));
  return replies.map((r) => (r ? header(r).rcode : -1));
}

/**
 * A known mix of queries, with every answer checked; returns the per-query metrics (every sample of
 * the query families, by name and labels) and the evidence rows, read after a SIGTERM stop.
 */
async function mix(workers: number): Promise<{ metrics: Record<string, number>; rows: Record<string, number>; pids: number }> {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(testConfig({ upstreams: [up.port], server: server(workers) }), LISTS);
  let pids = 0;
  try {
    pids = children(d.child.pid!).length;
    for (let round = 0; round < 3; round++) {
      const blocked = Array.from({ length: 20 }, (_, i) => `w${round}-${i}.facebook.com`);
      assert.equal(
        await burst(d, blocked, STUDENT),
        blocked.map(() => RCODE.NXDOMAIN),
      );
      // Distinct names: no worker can answer one from its own cache, so forwarded counts match exactly.
      const allowed = Array.from({ length: 20 }, (_, i) => `w${round}-${i}.news.example`);
      assert.equal(
        await burst(d, allowed, SIXTH, TYPE.AAAA),
        allowed.map(() => RCODE.NOERROR),
      );
      assert.equal(await burst(d, ['a.example', 'b.example', 'c.example'], OUTSIDER), [
        RCODE.REFUSED,
        RCODE.REFUSED,
        RCODE.REFUSED,
      ]);
      const bad = query(`bad${round}.example`);
      bad.writeUInt16BE(2, 4);
      assert.is(header((await udpQuery(d.port, bad, SIXTH))!).rcode, RCODE.FORMERR);
      const tcp = await tcpQuery(d.port, [query(`t${round}.news.example`, TYPE.HTTPS), query(`t${round}.fb.com`)], SIXTH);
      assert.equal(
        tcp.map((r) => header(r).rcode),
        [RCODE.NOERROR, RCODE.NOERROR],
      );
    }
    const text = await (await fetch(`http://${d.metrics}/metrics`)).text();
    const metrics: Record<string, number> = {};
    for (const s of parseExposition(text)) {
      if (
        !/^webfilter_(queries_total|responses_total|blocked_total|request_duration_seconds_count|cache_misses_total)$/.test(
          s.name,
        )
      )
        continue;
      metrics[`${s.name}${JSON.stringify(s.labels)}`] = s.value;
    }
    const readRows = () => {
      const db = new Database(path.join(d.dir, 'webfilter.db'), { readonly: true });
      const one = (sql: string) => (db.prepare(sql).get() as { n: number | null }).n ?? 0;
      try {
        return {
          blocked: one('SELECT count(*) AS n FROM blocked'),
          blockedFacebook: one("SELECT count(*) AS n FROM blocked WHERE category = 'facebook'"),
          accessed: one('SELECT sum(count) AS n FROM access_hourly'),
          accessDomains: one('SELECT count(DISTINCT domain_id) AS n FROM access_hourly'),
        };
      } finally {
        db.close();
      }
    };
    // The writer stores in batches: wait (bounded) until it has what was answered, so a busy machine
    // cannot turn a slow write into a difference. 60 blocked, 3 × 22 allowed.
    for (let i = 0; i < 150; i++) {
      let r: ReturnType<typeof readRows> | null = null;
      try {
        r = readRows();
      } catch {
        // not created yet
      }
      if (r && r.blocked >= 60 && r.accessed >= 66) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const stopped = await d.stop();
    assert.is(stopped.code, 0);
    return { metrics, rows: readRows(), pids };
  } finally {
    await d.stop();
    await up.close();
  }
}

test('2 workers: every answer, metric total and evidence row exactly as 1 process', async () => {
  const one = await mix(1);
  const two = await mix(2);
  assert.is(one.pids, 0, 'one process: no workers');
  assert.is(two.pids, 2, 'two DNS worker processes');
  assert.ok(Object.keys(one.metrics).length > 20, 'the query families were read');
  assert.equal(two.metrics, one.metrics);
  assert.is(one.rows.blocked, 60);
  assert.is(one.rows.accessed, 66);
  assert.equal(two.rows, one.rows);
});

test('2 workers: an exception, a SIGHUP and a SIGTERM drain reach every worker', async () => {
  const up = await startFakeUpstream((q) => (q.includes('slow') ? { delayMs: 300, reply: answer(q) } : answer(q)));
  const d = await startDaemon(testConfig({ upstreams: [up.port], server: server(2), timeoutMs: 2000 }), LISTS);
  const names = (prefix: string, n = 40) => Array.from({ length: n }, (_, i) => `${prefix}${i}.instagram.com`);
  try {
    assert.is(children(d.child.pid!).length, 2);
    assert.equal([...new Set(await burst(d, names('before'), STUDENT))], [RCODE.NXDOMAIN]);
    const add = await cli(
      [
        '--config',
        d.configFile,
        'exception',
        'add',
        '--group',
        'students',
        '--category',
        'instagram',
        '--for',
        '10m',
        '--reason',
        'Y9 media project',
        '--approved-by',
        'Head',
      ],
      { SUDO_USER: 'ict-tech' },
    );
    assert.is(add.code, 0, add.stderr);
    // Once the primary has read it from the store, every worker has been told.
    await d.waitForLog((l) => l.msg === 'exceptions updated' && String(l.exceptions).includes('1:group'), 5000);
    await new Promise((r) => setTimeout(r, 100));
    await eachWorker(d, async (w) =>
      assert.equal([...new Set(await burst(d, names(`open-${w.split(' ')[2]}-`), STUDENT))], [RCODE.NOERROR], `opened by ${w}`),
    );

    writeFileSync(path.join(d.dir, 'facebook.txt'), 'facebook.com\nreloaded.example\n');
    d.child.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === 'reloaded', 10_000);
    await eachWorker(d, async (w) => {
      const reloaded = Array.from({ length: 20 }, (_, i) => `n${i}-${w.split(' ')[2]}.reloaded.example`);
      assert.equal([...new Set(await burst(d, reloaded, STUDENT))], [RCODE.NXDOMAIN], `${w} has the new list`);
    });
    // Each answered alone above: both show in the per-worker counter.
    const perWorker = parseExposition(await (await fetch(`http://${d.metrics}/metrics`)).text()).filter(
      (x) => x.name === 'webfilter_worker_answers_total',
    );
    assert.is(perWorker.length, 2);
    for (const x of perWorker) assert.ok(x.value >= 40, `worker ${x.labels.worker} answered ${x.value}`);

    const slow = Array.from({ length: 10 }, (_, i) => `slow${i}.example`);
    const pending = burst(d, slow, SIXTH);
    await new Promise((r) => setTimeout(r, 50));
    const stopped = d.stop();
    assert.equal(
      await pending,
      slow.map(() => RCODE.NOERROR),
      'queries in flight at SIGTERM are answered',
    );
    const { code, ms } = await stopped;
    assert.is(code, 0);
    assert.ok(ms < 5000, `${ms} ms`);
    const db = new Database(path.join(d.dir, 'webfilter.db'), { readonly: true });
    const slowRows = db
      .prepare("SELECT sum(a.count) AS n FROM access_hourly a JOIN domains d ON d.id = a.domain_id WHERE d.name LIKE 'slow%'")
      .get() as { n: number };
    db.close();
    assert.is(slowRows.n, 10, 'the drained queries were recorded');
  } finally {
    await d.stop();
    await up.close();
  }
});

test('2 workers: identity feed mappings and log-offs reach every worker', async () => {
  const TOKEN = 'feed-token-0123456789abcdef';
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(
    testConfig({
      upstreams: [up.port],
      server: '  listen: ["127.0.0.1:0"]\n  allowed_clients: [127.0.0.0/8]\n  workers: 2',
      categories: '  facebook: [facebook.txt]',
      groups: '  staff: { block: [] }\n  default: { block: [facebook] }',
      extra: 'identity:\n  feed: { enabled: true, token_file: token, requests_per_minute: 60 }',
    }),
    { 'facebook.txt': 'facebook.com\n', token: `${TOKEN}\n` },
    { beforeStart: (dir) => chmodSync(path.join(dir, 'token'), 0o600) },
  );
  const post = async (body: unknown) =>
    (
      await fetch(`http://${d.metrics}/identity`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(body),
      })
    ).status;
  /** The rcode for facebook.com from 127.0.0.41, polled (the primary tells the workers just after it answers the POST). */
  const expect = async (want: number, what: string) => {
    let got = -1;
    for (let i = 0; i < 40 && got !== want; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      got = (await burst(d, ['facebook.com'], { localAddress: '127.0.0.41' }))[0];
    }
    assert.is(got, want, what);
  };
  try {
    await eachWorker(d, () => expect(RCODE.NXDOMAIN, 'nothing mapped'));
    assert.is(await post({ address: '127.0.0.41', user: 'j.smith', group: 'staff', ttl: '8h' }), 200);
    await eachWorker(d, (w) => expect(RCODE.NOERROR, `j.smith is staff in ${w}`));
    assert.is(await post({ address: '127.0.0.41', user: 'j.smith', logoff: true }), 200);
    await eachWorker(d, (w) => expect(RCODE.NXDOMAIN, `logged off in ${w}`));
  } finally {
    await d.stop();
    await up.close();
  }
});

test.run();
