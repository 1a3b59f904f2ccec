/** End-to-end: the evidence store survives kill -9, a full disk never stops DNS, newer databases are refused. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { RCODE } from '../../src/dns/constants.js';
import { startDaemon, tempDir, testConfig, LISTS } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpBlast, udpQuery } from '../helpers/dns-client.js';
import { cli } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';

const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends blocked queries (100 every 5 ms) from a student's address until stopped; resolves with how many were sent. */
function blockedStream(port: number, prefix: string): { stop(): Promise<number> } {
  let running = true;
  let sent = 0;
  const done = (async () => {
    while (running) {
      await udpBlast(
        port,
        Array.from({ length: 100 }, () => query(`${prefix}-${sent++}.facebook.com`)),
        { localAddress: '127.0.0.10' },
      );
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return sent;
    },
  };
}

function countRows(file: string): { blocked: number; integrity: string } {
  const db = new Database(file, { readonly: true });
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? '';
    const blocked = (db.prepare('SELECT count(*) AS n FROM blocked').get() as { n: number }).n;
    return { blocked, integrity };
  } finally {
    db.close();
  }
}

test('kill -9 while writing, five times: integrity_check ok, every committed row kept, the daemon starts again', async () => {
  const up = await startFakeUpstream(answer);
  const config = testConfig({ upstreams: [up.port], database: 'batch_rows: 50, flush_ms: 20' });
  const dir = tempDir();
  const dbFile = path.join(dir, 'webfilter.db');
  let committed = 0;
  try {
    for (let round = 0; round < 5; round++) {
      const d = await startDaemon(config, LISTS, { dir });
      const stream = blockedStream(d.port, `r${round}`);
      // Kill in the middle of a steady stream of blocked queries, i.e. of batched writes: once this
      // round's first batch is committed (the writer thread may take a while to start on a busy
      // machine), then a little later, at a different point each round.
      await until(() => countRows(dbFile).blocked > committed, `round ${round}'s first rows`);
      await sleep(50 + round * 40);
      d.child.kill('SIGKILL');
      await d.stop();
      const sent = await stream.stop();
      const after = countRows(dbFile);
      assert.is(after.integrity, 'ok', `round ${round}: integrity_check`);
      assert.ok(after.blocked >= committed, `round ${round}: ${after.blocked} rows, ${committed} were committed before`);
      assert.ok(after.blocked > committed, `round ${round}: this round wrote something before the kill`);
      assert.ok(
        after.blocked - committed < sent,
        `round ${round}: killed mid-stream (${after.blocked - committed} of ${sent} stored)`,
      );
      committed = after.blocked;
    }
    // A last clean start and stop keeps everything.
    const d = await startDaemon(config, LISTS, { dir });
    const r = await udpQuery(d.port, query('last.facebook.com'), { localAddress: '127.0.0.10' });
    assert.is(header(r!).rcode, RCODE.NXDOMAIN);
    assert.is((await d.stop()).code, 0);
    assert.is(countRows(dbFile).blocked, committed + 1);
  } finally {
    await up.close();
  }
});

/** Mounts a tmpfs of `kb` KB at `dir` (root only); false when this machine does not allow it. */
function mountTmpfs(dir: string, kb: number): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir]).status === 0;
}

test('a full disk (a 256 KB tmpfs, or database.max_size_mb where mounting is not allowed) never stops DNS; writing resumes with room', async () => {
  const up = await startFakeUpstream(answer);
  const mnt = path.join(tempDir(), 'disk');
  mkdirSync(mnt);
  const tmpfs = mountTmpfs(mnt, 256);
  const dbFile = path.join(mnt, 'webfilter.db');
  const config = testConfig({
    upstreams: [up.port],
    database: `queue_size: 500, batch_rows: 100, flush_ms: 20${tmpfs ? '' : ', max_size_mb: 0.25'}`,
  }).replace('path: webfilter.db', `path: ${dbFile}`);
  const d = await startDaemon(config, LISTS);
  try {
    // Long unique names fill 256 KB in a few thousand rows.
    const pad = 'x'.repeat(50);
    for (let batch = 0; batch < 8; batch++) {
      const names = Array.from({ length: 500 }, (_, i) => query(`${pad}.${batch}-${i}.${pad}.facebook.com`));
      await udpBlast(d.port, names, { localAddress: '127.0.0.10' });
      const probe = await udpQuery(d.port, query(`probe${batch}.example.org`), { localAddress: '127.0.0.10', timeoutMs: 2000 });
      assert.ok(probe, `batch ${batch}: DNS still answers`);
      assert.is(header(probe!).rcode, RCODE.NOERROR);
    }
    await d.waitForLog((l) => l.msg === 'evidence store write failed: retrying' && /full/i.test(String(l.error)), 10_000);
    const text = await (await fetch(`http://${d.metrics}/metrics`)).text();
    assert.ok(sampleValue(parseExposition(text), 'webfilter_log_write_errors_total') > 0, 'write errors counted');
    if (tmpfs) {
      // Room again: the retried batch and new events are written.
      spawnSync('mount', ['-o', 'remount,size=8m', mnt]);
      await sleep(1500);
      await udpQuery(d.port, query('after-room.facebook.com'), { localAddress: '127.0.0.10' });
      await sleep(500);
    }
  } finally {
    await d.stop();
    await up.close();
  }
  const after = countRows(dbFile);
  assert.is(after.integrity, 'ok');
  assert.ok(after.blocked > 0 && after.blocked < 4000, `${after.blocked} rows: some written, the rest dropped and counted`);
  if (tmpfs) {
    const db = new Database(dbFile, { readonly: true });
    assert.ok(db.prepare("SELECT 1 FROM blocked WHERE qname = 'after-room.facebook.com'").get(), 'writing resumed');
    db.close();
    spawnSync('umount', [mnt]);
  }
});

test('the CLI refuses a database from a newer webfilter, for reading and writing, and leaves it untouched', async () => {
  const dir = tempDir({ ...LISTS, 'webfilter.yaml': testConfig({ upstreams: [1] }) });
  const dbFile = path.join(dir, 'webfilter.db');
  const db = new Database(dbFile);
  db.pragma('user_version = 99');
  db.close();
  const size = statSync(dbFile).size;
  const config = path.join(dir, 'webfilter.yaml');
  for (const args of [
    ['logs', 'blocked'],
    ['exception', 'add', '--group', 'students', '--category', 'instagram', '--for', '10m', '--reason', 'r', '--approved-by', 'h'],
  ]) {
    const r = await cli([...args, '--config', config]);
    assert.is(r.code, 1, `${args.join(' ')}: exit 1`);
    assert.match(r.stderr, /version 99, newer than this webfilter/);
  }
  const check = new Database(dbFile, { readonly: true });
  assert.is(check.pragma('user_version', { simple: true }), 99);
  assert.is((check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n, 0);
  check.close();
  assert.is(statSync(dbFile).size, size);
});

test.run();
