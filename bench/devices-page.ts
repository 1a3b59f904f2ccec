// `node --import tsx bench/devices-page.ts DIR [REPS]` (DIR: a kept bench:evidence directory, whose
// evidence.db is migrated in place): the Devices page's read, the old query (grouping the whole roll-up,
// signals and access) against devices() on device_totals (issue 25), CPU per call, p50/p95.
import { openStorage } from '../src/storage/open.js';
import Database from 'better-sqlite3';
import os from 'node:os';
const dir = process.argv[2];
const reps = Number(process.argv[3] ?? 20);
const s = openStorage({ evidencePath: `${dir}/evidence.db`, accountsPath: `${dir}/evidence-accounts.db` }, 'write');
const t0 = process.cpuUsage();
await s.open();
const mig = process.cpuUsage(t0);
console.log('open+migrate CPU ms', ((mig.user + mig.system) / 1000).toFixed(0));
await s.close();
const db = new Database(`${dir}/evidence.db`, { readonly: true });
const OLD = `SELECT device, client, max(grp) AS "group", max(last) AS last, sum(blocked) AS blocked, sum(signals) AS signals
       FROM (
         SELECT device, client, grp, max(last_ts) AS last, sum(count) AS blocked, 0 AS signals FROM blocked_device_daily
         GROUP BY device, client
         UNION ALL
         SELECT device, client, grp, max(last_ts), 0, count(*) FROM signals GROUP BY device, client
         UNION ALL
         SELECT c.device, c.address, c.grp, max(a.last_ts), 0, 0 FROM clients c LEFT JOIN access_hourly a ON a.client_id = c.id
         GROUP BY c.device, c.address
       )
       WHERE @search = '' OR device LIKE @contains ESCAPE '\\' OR client LIKE @prefix ESCAPE '\\'
       GROUP BY device, client ORDER BY last IS NULL, last DESC, device LIMIT 500`;
const r = openStorage({ evidencePath: `${dir}/evidence.db`, accountsPath: `${dir}/evidence-accounts.db` }, 'read-only');
await r.open();
const oldQ = db.prepare(OLD);
const p = { search: '', contains: '%%', prefix: '%' };
const time = async (name: string, fn: () => unknown) => {
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c = process.cpuUsage();
    await fn();
    const d = process.cpuUsage(c);
    ms.push((d.user + d.system) / 1000);
  }
  ms.sort((a, b) => a - b);
  const q = (f: number) => ms[Math.min(ms.length - 1, Math.ceil(f * ms.length) - 1)].toFixed(1);
  console.log(`${name}: CPU ms p50 ${q(0.5)} p95 ${q(0.95)} (n=${reps}, load ${os.loadavg()[0].toFixed(1)})`);
};
const count = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
console.log('rows', {
  blocked_device_daily: count('blocked_device_daily'),
  signals: count('signals'),
  access_hourly: count('access_hourly'),
  device_totals: count('device_totals'),
});
const a = oldQ.all(p) as { blocked: number; signals: number; device: string; client: string }[];
const b = await r.review.devices('', 500);
console.log(
  'same devices, blocked and signals as the old query:',
  JSON.stringify(a.map((x) => [x.device, x.client, x.blocked, x.signals]).sort()) ===
    JSON.stringify(b.map((x) => [x.device, x.client, x.blocked, x.signals]).sort()),
  a.length,
  b.length,
);
for (let k = 0; k < 2; k++) {
  await time('old query (full grouping)', () => oldQ.all(p));
  await time('new devices() (device_totals)', () => r.review.devices('', 500));
}
await time('new devices() search "lt"', () => r.review.devices('lt', 500));
await r.close();
db.close();
