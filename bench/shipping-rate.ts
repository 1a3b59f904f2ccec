/**
 * `npm run bench:shipping-rate`: shipping evidence to PostgreSQL through the real shipping code
 * (EvidenceShipper, the SQLite outbox and cursors, the PostgreSQL upserts), into a throwaway local
 * PostgreSQL 15 cluster (test/helpers/postgres.ts).
 *
 * The source is a school's evidence file: SOURCE=DIR (a directory kept by `KEEP=1 npm run
 * bench:evidence`, holding evidence.db), else one generated here from the same model (DEVICES, 100;
 * DAYS, 2). It is shipped as site-01 (the shipping rate, rows/s: target ≥ 20,000), then again with
 * lost cursors (re-shipping: nothing changes), then as SITES-1 more sites (SITES, default 30): the
 * shared store of a trust of SITES schools, each with that week — its size and rows per table.
 * Writes its section of bench/shared.md.
 */
import { mkdtempSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../src/config/schema.js';
import { postgresSchema } from '../src/config/shared-schema.js';
import { DeviceNames } from '../src/evidence/devices.js';
import { decodeEvents, EventEncoder } from '../src/evidence/event-codec.js';
import { EvidenceProcessor } from '../src/evidence/processor.js';
import { EvidenceShipper } from '../src/evidence/shipper.js';
import { PostgresShared } from '../src/storage/postgres/postgres-shared.js';
import { SHIP_TABLES } from '../src/storage/shipping.js';
import { SqliteShipCursors } from '../src/storage/sqlite/ship-cursors.js';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { devices, schoolEvents } from './evidence-model.js';
import { writeSection } from './md-section.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SITES = Number(process.env.SITES ?? 30);
const BATCH = Number(process.env.BATCH ?? 1000);
const SOURCE = process.env.SOURCE;
const DEVICES = Number(process.env.DEVICES ?? 100);
const DAYS = Number(process.env.DAYS ?? 2);
const work = mkdtempSync(path.join(tmpdir(), 'webfilter-shipping-'));
const evidencePath = SOURCE ? path.join(SOURCE, 'evidence.db') : path.join(work, 'evidence.db');
const local = new SqliteStorage({ evidencePath, accountsPath: evidencePath.replace(/\.db$/, '-accounts.db') }, 'write');

if (!SOURCE) {
  const circumvention = configSchema.parse({ groups: { default: {} } }).circumvention;
  const names = Object.fromEntries(devices(DEVICES).map((d) => [d.client, d.name]));
  const processor = new EvidenceProcessor(
    { access: 'aggregate', circumvention, collapseMs: 60_000 },
    new DeviceNames({ names, leases: null }),
  );
  let enc = new EventEncoder();
  const flush = async () => {
    const { buffer, count } = enc.take();
    if (count > 0) await local.evidence.write(processor.process(decodeEvents(buffer, count)));
    enc = new EventEncoder();
  };
  for (const minute of schoolEvents({ devices: DEVICES, days: DAYS, start: Date.parse('2026-09-07T00:00:00Z') }))
    for (const e of minute) {
      enc.add(e);
      if (enc.count >= 1000) await flush();
    }
  await flush();
}

const pg = await startPostgres();
const url = await pg.createDatabase('trust');
const q = async (sql: string) => pg.query<Record<string, string>>(sql, 'trust');

/** Ships the whole source as `site` (fresh cursors); seconds and rows. */
async function ship(site: string): Promise<{ seconds: number; rows: number }> {
  const shared = new PostgresShared({ site, node: 'dns1', postgres: postgresSchema.parse({ url }), urlFile: null });
  await shared.migrate();
  const cursors = new SqliteShipCursors(path.join(mkdtempSync(path.join(work, 'c-')), 'copy.db'), 'write');
  let rows = 0;
  let error: string | null = null;
  const shipper = new EvidenceShipper({
    stores: { outbox: local.outbox, cursors, inbox: shared.evidence },
    version: 'bench',
    batchRows: BATCH,
    intervalMs: 3_600_000,
    minGapMs: 0,
    reportMs: 3_600_000,
    onState: (s) => ((rows = s.shippedRows), (error = s.error)),
    onLost: () => {},
  });
  const t0 = performance.now();
  await shipper.flush();
  const seconds = (performance.now() - t0) / 1000;
  await shipper.close();
  cursors.close();
  await shared.close();
  if (error) throw new Error(`shipping ${site} failed: ${error}`);
  return { seconds, rows };
}

const localRows = Object.fromEntries(SHIP_TABLES.map((t) => [t, 0])) as Record<string, number>;
for (const t of SHIP_TABLES) localRows[t] = local.outbox.after(t, 0, 1e9).rows.length;
const total = Object.values(localRows).reduce((a, b) => a + b, 0);
console.log(`source: ${evidencePath}, ${total.toLocaleString('en-GB')} rows ${JSON.stringify(localRows)}`);

const first = await ship('site-01');
const again = await ship('site-01');
const [{ n: afterAgain }] = await q(`SELECT (SELECT count(*) FROM blocked) + (SELECT count(*) FROM signals) AS n`);
const rest: number[] = [];
for (let i = 2; i <= SITES; i++) {
  const r = await ship(`site-${String(i).padStart(2, '0')}`);
  rest.push(r.seconds);
  process.stderr.write(`site ${i}: ${r.rows} rows in ${r.seconds.toFixed(1)} s\n`);
}
const tables = await q(`SELECT relname AS t, pg_total_relation_size(relid) AS bytes FROM pg_stat_user_tables ORDER BY relname`);
for (const r of tables) r.n = (await q(`SELECT count(*) AS n FROM ${r.t}`))[0].n;
const [{ size }] = await q(`SELECT pg_database_size('trust') AS size`);
await local.close();
await pg.destroy();

const mb = (b: number) => (b / 1048576).toFixed(0);
const body = `## Shipping evidence to PostgreSQL (issue 17)

${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}; a local PostgreSQL 15 (throwaway cluster);
source: ${SOURCE ? 'a week kept by `KEEP=1 npm run bench:evidence`' : `generated here (${DEVICES} devices, ${DAYS} days)`}: ${total.toLocaleString('en-GB')} rows
(${SHIP_TABLES.map((t) => `${t} ${localRows[t].toLocaleString('en-GB')}`).join(', ')}).
Through the real shipping code (EvidenceShipper, batches of 1,000 rows, one transaction each).
Re-run: \`npm run bench:shipping-rate\` (SOURCE=DIR, DEVICES, DAYS, SITES). Target: ≥ 20,000 rows/s.

| run | rows | seconds | rows/s |
| --- | --- | --- | --- |
| first shipment (site-01) | ${first.rows.toLocaleString('en-GB')} | ${first.seconds.toFixed(1)} | ${Math.round(first.rows / first.seconds).toLocaleString('en-GB')} |
| the same again, cursors lost (nothing changes) | ${again.rows.toLocaleString('en-GB')} | ${again.seconds.toFixed(1)} | ${Math.round(again.rows / again.seconds).toLocaleString('en-GB')} |
| ${SITES - 1} more sites, each | ${first.rows.toLocaleString('en-GB')} | ${(rest.reduce((a, b) => a + b, 0) / Math.max(1, rest.length)).toFixed(1)} (mean), ${Math.max(0, ...rest).toFixed(1)} (max) | ${Math.round(first.rows / (rest.reduce((a, b) => a + b, 0) / Math.max(1, rest.length))).toLocaleString('en-GB')} |

Blocked + signal rows after shipping site-01 twice: ${Number(afterAgain).toLocaleString('en-GB')} (= once).
The shared store with ${SITES} sites: **${mb(Number(size))} MB** (${tables.map((r) => `${r.t} ${Number(r.n).toLocaleString('en-GB')} rows ${mb(Number(r.bytes))} MB`).join('; ')}).
`;
writeSection(path.join(ROOT, 'bench/shared.md'), 'shipping-rate', body);
console.log(body);
