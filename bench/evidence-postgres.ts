/**
 * The evidence store at a school's scale on the shared PostgreSQL store: `npm run bench:evidence-postgres`.
 *
 * Takes a school's evidence file kept by `KEEP=1 npm run bench:evidence` (REUSE=DIR), ships every
 * row of it to a throwaway local PostgreSQL 15 cluster (test/helpers/postgres.ts) through the
 * daemon's own shipping (the store a `shared` config opens, its outbox, cursors and PostgreSQL
 * upserts, EvidenceShipper at the writer thread's batch), as site `site-01`. Then reports the shared
 * store's size and rows, the shipping rate, and the console's review pages read from PostgreSQL as
 * a trust-wide reviewer's console reads them (bench/console-pages.ts).
 *
 *   REUSE=/tmp/webfilter-evidence-XXXX DEVICES=2000 DAYS=264 REPS=10 npm run bench:evidence-postgres
 *
 * DEVICES and DAYS must be the kept run's: they set the console's clock (the end of the last day)
 * and the device whose page is timed. KEEP_PG=1 leaves the cluster running (its URL is printed).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { EvidenceShipper } from '../src/evidence/shipper.js';
import { loadStorage, storageLocation } from '../src/storage/open.js';
import { sharedCopyPath, type SharedStorage } from '../src/storage/shared-storage.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { pageLines, reviewPages, timePages } from './console-pages.js';
import { devices } from './evidence-model.js';
import { pgTableSizes } from './pg-table-sizes.js';

const REUSE = process.env.REUSE;
if (!REUSE || !existsSync(path.join(REUSE, 'evidence.db')) || !existsSync(path.join(REUSE, 'webfilter.yaml'))) {
  console.error('REUSE=DIR: a directory kept by `KEEP=1 npm run bench:evidence` (with evidence.db and webfilter.yaml)');
  process.exit(2);
}
const DEVICES = Number(process.env.DEVICES ?? 2000);
const DAYS = Number(process.env.DAYS ?? 7);
const REPS = Number(process.env.REPS ?? 10);
const START = Date.parse(process.env.START ?? '2026-09-07T00:00:00Z');
/** The writer thread's batch (src/evidence/writer-shipping.ts). */
const BATCH = Number(process.env.BATCH ?? 1000);
const DAY = 86_400_000;

const pg = await startPostgres();
const url = await pg.createDatabase('trust');
const q = (sql: string) => pg.query<Record<string, string>>(sql, 'trust');
const loads = [`start ${os.loadavg()[0].toFixed(1)}`];

// The kept run's config, made a filter of a trust: site-01 of the shared store.
const configPath = path.join(REUSE, 'webfilter-shared.yaml');
// database.path: the evidence.db beside it (a copy of a kept directory still names the original).
const kept = readFileSync(path.join(REUSE, 'webfilter.yaml'), 'utf8').replace(
  /^database: .*$/m,
  `database: { path: ${JSON.stringify(path.join(REUSE, 'evidence.db'))} }`,
);
writeFileSync(
  configPath,
  `${kept}site: site-01
node: dns1
shared:
  postgres: { url: ${JSON.stringify(url)} }
`,
);
const loaded = await loadConfig(configPath);
// The shipping cursors of an earlier run (beside the copy of its store's exceptions): this store is new.
for (const f of [sharedCopyPath(loaded.databasePath), `${sharedCopyPath(loaded.databasePath)}-wal`]) rmSync(f, { force: true });
const storage = (await loadStorage(storageLocation(loaded), 'write')) as SharedStorage;
await storage.shared.migrate();

// ---- ship ----
let shipped = 0;
let error: string | null = null;
const shipper = new EvidenceShipper({
  stores: storage.shipping,
  version: 'bench',
  batchRows: BATCH,
  intervalMs: 3_600_000,
  minGapMs: 0,
  reportMs: 30_000,
  onState: (s) => {
    shipped = s.shippedRows;
    error = s.error;
    process.stderr.write(`shipped ${shipped.toLocaleString('en-GB')} rows, backlog ${s.backlogRows.toLocaleString('en-GB')}\n`);
  },
  onLost: () => {},
});
const t0 = performance.now();
await shipper.flush();
const shipSeconds = (performance.now() - t0) / 1000;
await shipper.close();
if (error) throw new Error(`shipping failed: ${error}`);
loads.push(`after shipping ${os.loadavg()[0].toFixed(1)}`);
await q('VACUUM ANALYZE');

// ---- size and rows (a partitioned table summed over its month partitions) ----
const tables = await pgTableSizes(q);
const [{ size }] = await q(`SELECT pg_database_size('trust') AS size`);
const [{ attempts }] = await q('SELECT coalesce(sum(count), 0) AS attempts FROM blocked');

// ---- pages, read from PostgreSQL ----
const now = START + DAYS * DAY - 1;
const pageTimes = await timePages({ storage, loaded, now, reps: REPS }, reviewPages(devices(DEVICES)[5].name));
loads.push(`after the pages ${os.loadavg()[0].toFixed(1)}`);
await storage.close();

const f = (x: number) => Math.round(x).toLocaleString('en-GB');
const mb = (b: number) => (b / 1e6).toFixed(1);
console.log(`\nEvidence on PostgreSQL 15: ${REUSE}/evidence.db shipped as site-01 (${DEVICES} devices, ${DAYS} days)`);
console.log(
  `shipped: ${f(shipped)} rows in ${shipSeconds.toFixed(1)} s, ${f(shipped / shipSeconds)} rows/s (batches of ${BATCH})`,
);
console.log(`database: ${mb(Number(size))} MB; blocked attempts (sum of counts) ${f(Number(attempts))}`);
console.log(
  `tables: ${tables
    .filter((t) => t.n > 0)
    .map((t) => `${t.t} ${f(t.n)} rows ${mb(t.bytes)} MB`)
    .join(', ')}`,
);
console.log(`load average: ${loads.join(', ')}`);
console.log('page times (ms, read from PostgreSQL):');
for (const line of pageLines(pageTimes)) console.log(line);
console.log(JSON.stringify({ devices: DEVICES, days: DAYS, shipped, shipSeconds, bytes: Number(size), tables, pageTimes }));
if (process.env.KEEP_PG) console.log(`kept: ${url} (stop it: kill the postgres process under ${pg.dir})`);
else await pg.destroy();
