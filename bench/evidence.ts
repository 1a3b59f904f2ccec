/**
 * The evidence store at a school's scale: `npm run bench:evidence`.
 *
 * Generates a school's query events (bench/evidence-model.ts: phones retrying blocked apps every
 * TTL, laptops browsing, circumvention episodes, exceptions) with historic timestamps and writes them
 * through the daemon's own evidence path: encoded by EventEncoder, queued by the EvidenceRecorder and
 * written by the real writer thread (decode, processor, detectors, SQLite writer). Then reports the
 * disk size, rows, write throughput, the console's page times (its route handlers, in this process,
 * on a read-only connection as the console thread has) and `webfilter report` (the CLI, a process).
 *
 *   DEVICES=2000 DAYS=7 npm run bench:evidence          (defaults: 2,000 devices, 7 days from Mon 7 Sep 2026)
 *   KEEP=1 ...                                           keeps the database (its path is printed)
 *   REPS=10 ...                                          page loads per page (p50, p95)
 *   BATCH_ROWS=60000 ...                                 the writer's batch (database.batch_rows; see below)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.js';
import { EventEncoder } from '../src/evidence/event-codec.js';
import { EvidenceRecorder } from '../src/evidence/recorder.js';
import { writerInit } from '../src/evidence/settings.js';
import { loadStorage, storageLocation } from '../src/storage/open.js';
import { pageLines, reviewPages, timePages } from './console-pages.js';
import { devices, schoolEvents } from './evidence-model.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEVICES = Number(process.env.DEVICES ?? 2000);
const DAYS = Number(process.env.DAYS ?? 7);
const REPS = Number(process.env.REPS ?? 10);
const START = Date.parse(process.env.START ?? '2026-09-07T00:00:00Z');
// The writer's batch (database.batch_rows, default 1,000). Compressed time makes every retry a row
// update at 1,000; a larger batch collapses the repeats it holds before they reach SQLite, and the
// rows written are the same (same collapse window): one school day of 2,000 devices at 118,000
// events/s instead of 54,000 (bench/README.md, "The year").
const BATCH_ROWS = process.env.BATCH_ROWS;
const DAY = 86_400_000;

// REUSE=DIR times the pages of a database kept by an earlier run (KEEP=1) without writing again.
const REUSE = process.env.REUSE;
const dir = REUSE ?? mkdtempSync(path.join(tmpdir(), 'webfilter-evidence-'));
const dbPath = path.join(dir, 'evidence.db');
const bl = (f: string) => JSON.stringify(path.join(ROOT, 'blocklists', f));
const names = Object.fromEntries(devices(DEVICES).map((d) => [d.client, d.name]));
const configPath = path.join(dir, 'webfilter.yaml');
if (!REUSE)
  writeFileSync(
    configPath,
    `server: { listen: ["127.0.0.1:5300"], allowed_clients: [10.0.0.0/8] }
categories:
  tiktok: [${bl('social-media/tiktok.txt')}]
  instagram: [${bl('social-media/instagram.txt')}]
  snapchat: [${bl('social-media/snapchat.txt')}]
  facebook: [${bl('social-media/facebook.txt')}]
  twitter-x: [${bl('social-media/twitter-x.txt')}]
  youtube: [${bl('social-media/youtube.txt')}]
groups:
  staff: { clients: [10.200.0.0/16], block: [] }
  students: { clients: [10.0.0.0/8], block: [tiktok, instagram, snapchat, facebook, twitter-x, youtube] }
  default: { block: [tiktok] }
database: { path: ${JSON.stringify(dbPath)}${BATCH_ROWS ? `, batch_rows: ${Number(BATCH_ROWS)}` : ''} }
log: { level: warn, access: aggregate }
timezone: UTC
clients:
  names: ${JSON.stringify(names)}
`,
  );
const loaded = await loadConfig(configPath);
const log = pino({ level: 'warn' });

// ---- write ----
const database = loaded.config.database;
let events = 0;
let blockedEvents = 0;
let writeSeconds = 0;
let dropped = 0;
if (!REUSE) {
  const recorder = new EvidenceRecorder({
    init: writerInit(loaded, Date.now()),
    queueSize: database.queue_size,
    batchRows: database.batch_rows,
    flushMs: database.flush_ms,
    retention: { ...loaded.config.retention, schedule: '0 0 1 1 *' },
    log,
    onSignals: () => {},
    onStoreState: (ok, error) => {
      if (!ok) console.error(`store: ${error}`);
    },
  });
  recorder.open();
  const wait = () => new Promise((r) => setTimeout(r, 2));
  const t0 = performance.now();
  let encoder = new EventEncoder();
  const flush = async () => {
    if (encoder.count === 0) return;
    // Flow control: the bench must not outrun the writer (the daemon would drop and count).
    while (recorder.depth > database.queue_size / 4) await wait();
    recorder.addBatch(encoder.take());
  };
  for (const minute of schoolEvents({ devices: DEVICES, days: DAYS, start: START }, (day) => {
    if (day > 0)
      process.stderr.write(
        `day ${day}: ${events.toLocaleString('en-GB')} events, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
      );
  })) {
    for (const e of minute) {
      encoder.add(e);
      events++;
      if (e.kind === 'blocked') blockedEvents++;
      if (encoder.count >= database.batch_rows) await flush();
    }
  }
  await flush();
  const unwritten = await recorder.close(Date.now() + 600_000);
  writeSeconds = (performance.now() - t0) / 1000;
  dropped = recorder.dropped;
  if (recorder.dropped > 0 || unwritten > 0) console.error(`dropped ${recorder.dropped}, unwritten ${unwritten}`);
}

// ---- size and rows ----
const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
const bytes = size(dbPath) + size(`${dbPath}-wal`);
const db = new Database(dbPath, { readonly: true });
const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
const rows: Record<string, number> = {};
for (const t of ['blocked', 'signals', 'access_hourly', 'blocked_hourly', 'blocked_device_daily'])
  if (tables.includes(t)) rows[t] = (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
const hasCount =
  (db.prepare("SELECT count(*) AS n FROM pragma_table_info('blocked') WHERE name = 'count'").get() as { n: number }).n > 0;
const storedAttempts = (db.prepare(`SELECT ${hasCount ? 'sum(count)' : 'count(*)'} AS n FROM blocked`).get() as { n: number }).n;
db.close();

// ---- page times ----
const storage = await loadStorage(storageLocation(loaded), 'write');
const now = START + DAYS * DAY - 1;
const someDevice = devices(DEVICES)[5].name;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const pageTimes = await timePages({ storage, loaded, now, reps: REPS }, reviewPages(someDevice));
await storage.close();

// `webfilter report` for the last 7 days of the data (a process of its own, as ICT runs it).
const reportTimes: number[] = [];
for (let i = 0; i < Math.min(REPS, 5); i++) {
  const s = performance.now();
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'dist/cli.js'), 'report', '--config', configPath, '--since', day(now - 6 * DAY), '--until', day(now + 1)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    },
  );
  reportTimes.push(performance.now() - s);
  if (r.status !== 0) console.error(`webfilter report: exit ${r.status}: ${r.stderr}`);
}
reportTimes.sort((a, b) => a - b);
// The CLI's floor: Node starting and loading the CLI's modules (`webfilter --version`), whatever it reports.
const floorTimes: number[] = [];
for (let i = 0; i < Math.min(REPS, 5); i++) {
  const s = performance.now();
  spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), '--version'], { encoding: 'utf8' });
  floorTimes.push(performance.now() - s);
}
floorTimes.sort((a, b) => a - b);

const f = (x: number) => Math.round(x).toLocaleString('en-GB');
console.log(
  `\nEvidence bench: ${DEVICES} devices, ${DAYS} days from ${day(START)} (${f(events)} events, ${f(blockedEvents)} blocked attempts)`,
);
console.log(`write: ${writeSeconds.toFixed(1)} s, ${f(events / writeSeconds)} events/s (dropped ${dropped})`);
console.log(
  `disk: ${(bytes / 1e6).toFixed(1)} MB (${(bytes / Math.max(1, storedAttempts)).toFixed(1)} bytes per blocked attempt)`,
);
console.log(
  `rows: ${Object.entries(rows)
    .map(([t, n]) => `${t} ${f(n)}`)
    .join(', ')}; blocked attempts stored ${f(storedAttempts)}`,
);
console.log('page times (ms):');
for (const line of pageLines(pageTimes)) console.log(line);
console.log(
  `  webfilter report (7 days, process)            p50 ${reportTimes[Math.floor(reportTimes.length / 2)].toFixed(0).padStart(6)}  max ${reportTimes[reportTimes.length - 1].toFixed(0).padStart(6)}`,
);
console.log(
  `  webfilter --version (the CLI's floor)         p50 ${floorTimes[Math.floor(floorTimes.length / 2)].toFixed(0).padStart(6)}  max ${floorTimes[floorTimes.length - 1].toFixed(0).padStart(6)}`,
);
console.log(
  JSON.stringify({
    devices: DEVICES,
    days: DAYS,
    events,
    blockedEvents,
    storedAttempts,
    writeSeconds,
    bytes,
    rows,
    pageTimes,
    reportMs: reportTimes,
    cliFloorMs: floorTimes,
  }),
);
if (process.env.KEEP) console.log(`kept: ${dbPath} (config ${configPath})`);
else if (!REUSE) rmSync(dir, { recursive: true, force: true });
