/**
 * How big does the evidence database get? Writes a synthetic school week through the real store
 * (same schema, same upserts as the daemon) and reports the file size.
 *   npm run bench:storage            (defaults: 2,000 devices, 40 school hours, 60 domains/device/hour)
 *   DEVICES=500 HOURS=10 npm run bench:storage
 * Also measures bytes per row of `log.access: full` on a sample and extrapolates a week.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AccessAggregate, AccessRow } from '../src/storage/evidence.js';
import { openStorage } from '../src/storage/open.js';

const DEVICES = Number(process.env.DEVICES ?? 2000);
const HOURS = Number(process.env.HOURS ?? 40); // 8 school hours × 5 days
const PER_HOUR = Number(process.env.DOMAINS_PER_HOUR ?? 60); // distinct registrable domains per device per hour
const QUERIES_PER_HOUR = Number(process.env.QUERIES_PER_HOUR ?? 600); // for the full-log estimate
const UNIVERSE = 20_000;

let seed = 1;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
// Zipf-like popularity: a few domains (google, microsoft, bbc) are everywhere, most are rare.
const domainAt = () => `site${Math.floor(UNIVERSE ** rand()) - 1}.example.co.uk`;

const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-size-'));
const file = path.join(dir, 'week.db');
const store = openStorage({ evidencePath: file, accountsPath: path.join(dir, 'week-accounts.db') }, 'write');
const start = Date.UTC(2026, 10, 16, 8);
const t0 = Date.now();
let rows = 0;
for (let h = 0; h < HOURS; h++) {
  const day = Math.floor(h / 8);
  const hour = Math.floor(start / 3_600_000) + day * 24 + (h % 8);
  let batch: AccessAggregate[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const client = `10.${20 + (d >> 16)}.${(d >> 8) & 255}.${d & 255}`;
    const seen = new Set<string>();
    while (seen.size < PER_HOUR) seen.add(domainAt());
    for (const domain of seen) {
      const ts = hour * 3_600_000 + Math.floor(rand() * 3_600_000);
      batch.push({
        hour,
        client,
        device: `dev-${d}`,
        grp: d % 5 === 0 ? 'staff' : 'students',
        domain,
        count: 1 + Math.floor(rand() * 30),
        firstTs: ts,
        lastTs: ts + 1000,
        user: '',
      });
    }
    if (batch.length >= 10_000) {
      await store.evidence.write({ blocked: [], signals: [], access: [], accessHourly: batch });
      rows += batch.length;
      batch = [];
    }
  }
  await store.evidence.write({ blocked: [], signals: [], access: [], accessHourly: batch });
  rows += batch.length;
}
// Closing the last connection checkpoints the WAL into the file.
await store.close();
const aggBytes = statSync(file).size;
const aggSeconds = (Date.now() - t0) / 1000;

// Full mode: bytes per row on a 300,000-row sample.
const fullFile = path.join(dir, 'full.db');
const full = openStorage({ evidencePath: fullFile, accountsPath: path.join(dir, 'full-accounts.db') }, 'write');
const SAMPLE = 300_000;
for (let i = 0; i < SAMPLE; i += 10_000) {
  const access: AccessRow[] = Array.from({ length: 10_000 }, (_, k) => ({
    ts: start + (i + k) * 50,
    client: `10.20.${(i + k) % 8}.${(i + k) % 250}`,
    device: `dev-${(i + k) % 2000}`,
    grp: 'students',
    qname: `www.${domainAt()}`,
    qtype: 'A',
    result: 'forwarded',
    user: '',
  }));
  await full.evidence.write({ blocked: [], signals: [], accessHourly: [], access });
}
await full.close();
const perRow = statSync(fullFile).size / SAMPLE;
rmSync(dir, { recursive: true, force: true });

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const fullWeek = DEVICES * HOURS * QUERIES_PER_HOUR * perRow;
console.log(`access log for ${DEVICES} devices × ${HOURS} school hours × ${PER_HOUR} domains/device/hour:`);
console.log(
  `  aggregate: ${rows.toLocaleString()} rows, ${mb(aggBytes)} (${(aggBytes / rows).toFixed(0)} bytes/row), written in ${aggSeconds.toFixed(0)} s`,
);
console.log(
  `  full (one row per query, ${QUERIES_PER_HOUR} queries/device/hour): ~${perRow.toFixed(0)} bytes/row → ~${(fullWeek / 1024 ** 3).toFixed(1)} GB a week`,
);
