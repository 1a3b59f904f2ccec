/**
 * The evidence writer's throughput (issue 25: keep up with 50,000 blocked attempts/s). Pre-encodes
 * the school model's blocked attempts (bench/evidence-model.ts, 2,000 devices) into batches, then
 * pushes them through the daemon's real EvidenceRecorder queue and writer thread (decode, processor,
 * detectors, collapse, roll-ups, SQLite) as fast as the queue accepts them:
 *   rate: batches offered at RATE attempts/s whatever the writer does (as the DNS thread would):
 *         does it keep up (dropped 0, queue depth bounded)?
 *   paced: a batch offered only while the queue has room: the most the writer sustains.
 *   ATTEMPTS=1000000 RATE=50000 npm run bench:evidence-rate
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.js';
import { EventEncoder } from '../src/evidence/event-codec.js';
import { EvidenceRecorder } from '../src/evidence/recorder.js';
import { writerInit } from '../src/evidence/settings.js';
import { schoolEvents } from './evidence-model.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ATTEMPTS = Number(process.env.ATTEMPTS ?? 1_000_000);
const RATE = Number(process.env.RATE ?? 50_000);
const START = Date.parse('2026-09-07T00:00:00Z');
const bl = (f: string) => JSON.stringify(path.join(ROOT, 'blocklists', f));

async function run(mode: 'rate' | 'paced'): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-evidence-rate-'));
  const configPath = path.join(dir, 'webfilter.yaml');
  writeFileSync(
    configPath,
    `server: { listen: ["127.0.0.1:5300"], allowed_clients: [10.0.0.0/8] }
categories:
  tiktok: [${bl('social-media/tiktok.txt')}]
  instagram: [${bl('social-media/instagram.txt')}]
  snapchat: [${bl('social-media/snapchat.txt')}]
groups:
  students: { clients: [10.0.0.0/8], block: [tiktok, instagram, snapchat] }
  default: { block: [tiktok] }
database: { path: ${JSON.stringify(path.join(dir, 'evidence.db'))} }
log: { level: warn, access: aggregate }
timezone: UTC
`,
  );
  const loaded = await loadConfig(configPath);
  const db = loaded.config.database;
  // Pre-encode: only blocked attempts, in the model's time order, in batches of batch_rows.
  const batches: { buffer: ArrayBuffer; count: number }[] = [];
  let enc = new EventEncoder();
  let n = 0;
  outer: for (const minute of schoolEvents({ devices: 2000, days: 5, start: START }))
    for (const e of minute) {
      if (e.kind !== 'blocked') continue;
      enc.add(e);
      if (++n >= ATTEMPTS) break outer;
      if (enc.count >= db.batch_rows) batches.push(enc.take());
    }
  if (enc.count > 0) batches.push(enc.take());
  const recorder = new EvidenceRecorder({
    init: writerInit(loaded, Date.now()),
    queueSize: db.queue_size,
    batchRows: db.batch_rows,
    flushMs: db.flush_ms,
    retention: { ...loaded.config.retention, schedule: '0 0 1 1 *' },
    log: pino({ level: 'warn' }),
    onSignals: () => {},
    onStoreState: () => {},
  });
  recorder.open();
  const tick = () => new Promise((r) => setImmediate(r));
  const sleep = () => new Promise((r) => setTimeout(r, 1));
  const t0 = performance.now();
  let maxDepth = 0;
  let sent = 0;
  for (const b of batches) {
    if (mode === 'paced') while (recorder.depth + b.count > db.queue_size) await sleep();
    // At RATE: wait for this batch's moment (never for room in the queue).
    else while (performance.now() - t0 < (sent / RATE) * 1000) await sleep();
    recorder.addBatch(b);
    sent += b.count;
    maxDepth = Math.max(maxDepth, recorder.depth);
    await tick();
  }
  const offered = performance.now() - t0;
  const unwritten = await recorder.close(Date.now() + 600_000);
  const s = (performance.now() - t0) / 1000;
  const written = n - recorder.dropped - Math.max(0, unwritten);
  console.log(
    `${mode === 'rate' ? `at ${RATE.toLocaleString('en-GB')}/s` : 'paced'} ${n.toLocaleString('en-GB')} attempts offered in ${(offered / 1000).toFixed(1)} s` +
      ` (${Math.round(n / (offered / 1000)).toLocaleString('en-GB')}/s); written ${written.toLocaleString('en-GB')} in ${s.toFixed(1)} s` +
      ` = ${Math.round(written / s).toLocaleString('en-GB')} attempts/s; dropped ${recorder.dropped.toLocaleString('en-GB')};` +
      ` max queue ${maxDepth} of ${db.queue_size}; load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  rmSync(dir, { recursive: true, force: true });
}

for (const mode of (process.env.MODES ?? 'rate,paced').split(',') as ('rate' | 'paced')[]) await run(mode);
