/**
 * The Devices page reads a per-device summary the evidence writer keeps (issue 25): it must equal a
 * full scan of the evidence after a generated school's days, after a signal learns its device's
 * name, and after a retention purge that removes part of every kind of evidence.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import Database from 'better-sqlite3';
import { configSchema } from '../../src/config/schema.js';
import { DeviceNames } from '../../src/evidence/devices.js';
import { decodeEvents, EventEncoder } from '../../src/evidence/event-codec.js';
import { EvidenceProcessor } from '../../src/evidence/processor.js';
import type { SignalRow } from '../../src/storage/evidence.js';
import { openStorage } from '../../src/storage/open.js';
import type { DeviceSummary } from '../../src/storage/review.js';
import { EVIDENCE_MIGRATIONS } from '../../src/storage/sqlite/evidence-schema.js';
import { devices, schoolEvents } from '../../bench/evidence-model.js';
import { tempDir } from '../helpers/daemon-process.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 8, 7);

/** The page's rows computed from every row of the evidence (what the summary stands for). */
function fullScan(file: string): DeviceSummary[] {
  const db = new Database(file, { readonly: true });
  const keys = db
    .prepare(
      `SELECT device, client, grp, sum(b) AS blocked, sum(s) AS signals, max(l) AS last FROM (
         SELECT device, client, grp, count AS b, 0 AS s, last_ts AS l FROM blocked_device_daily
         UNION ALL SELECT device, client, grp, 0, 1, last_ts FROM signals
         UNION ALL SELECT c.device, c.address, c.grp, 0, 0, a.last_ts FROM clients c JOIN access_hourly a ON a.client_id = c.id
       ) GROUP BY device, client, grp`,
    )
    .all() as { device: string; client: string; grp: string; blocked: number; signals: number; last: number }[];
  db.close();
  const byDevice = new Map<string, { r: DeviceSummary; last: number }>();
  for (const k of keys) {
    const id = `${k.device}\u0000${k.client}`;
    const d = byDevice.get(id);
    if (!d) {
      byDevice.set(id, {
        r: { device: k.device, client: k.client, group: k.grp, blocked: k.blocked, signals: k.signals, last_seen: '' },
        last: k.last,
      });
      continue;
    }
    d.r.blocked += k.blocked;
    d.r.signals += k.signals;
    d.last = Math.max(d.last, k.last);
    if (k.grp > d.r.group) d.r.group = k.grp; // as on PostgreSQL: the greatest group name
  }
  return [...byDevice.values()]
    .map(({ r, last }) => ({ ...r, last_seen: new Date(last).toISOString() }))
    .sort((a, b) => (a.last_seen !== b.last_seen ? (a.last_seen < b.last_seen ? 1 : -1) : a.device < b.device ? -1 : 1));
}

const signal = (at: number, device: string): SignalRow => ({
  ts: at,
  client: '10.99.0.1',
  device,
  grp: 'students',
  kind: 'vpn-proxy',
  severity: 'high',
  qname: 'vpn.example',
  domain: 'vpn.example',
  detail: '',
  count: 1,
  user: '',
});

test('the Devices summary equals a full scan after generated days, a renamed signal and a retention purge', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'e.db');
  const store = openStorage({ evidencePath: file, accountsPath: path.join(dir, 'a.db') }, 'write');
  const names = Object.fromEntries(devices(30).map((d) => [d.client, d.name]));
  delete names[devices(30)[3].client]; // one device the filter has no name for
  const circumvention = configSchema.parse({ groups: { default: {} } }).circumvention;
  const processor = new EvidenceProcessor(
    { access: 'aggregate', circumvention, collapseMs: 120_000 },
    new DeviceNames({ names, leases: null }),
  );
  const events = [...schoolEvents({ devices: 30, days: 3, start: START })].flat();
  for (let i = 0; i < events.length; i += 2000) {
    const enc = new EventEncoder();
    for (const e of events.slice(i, i + 2000)) enc.add(e);
    const { buffer, count } = enc.take();
    await store.evidence.write(processor.process(decodeEvents(buffer, count)));
  }
  // A signal first seen without a device name, which the next occurrence brings: it moves device.
  const none = { blocked: [], accessHourly: [], access: [] };
  await store.evidence.write({ ...none, signals: [signal(START + 2 * DAY + 9 * HOUR, '')] });
  await store.evidence.write({ ...none, signals: [signal(START + 2 * DAY + 9 * HOUR + 60_000, 'PH-VPN')] });

  const page = () => store.review.devices('', 10_000);
  const before = fullScan(file);
  assert.ok(before.length >= 31, `${before.length} devices`);
  assert.ok(before.some((d) => d.device === 'PH-VPN' && d.signals === 1));
  assert.not.ok(
    before.some((d) => d.client === '10.99.0.1' && d.device === ''),
    'the nameless row is gone',
  );
  assert.ok(before.some((d) => d.signals > 0) && before.some((d) => d.blocked > 100));
  assert.equal(await page(), before, 'after writing');

  // The migration builds the same summary from the evidence already there.
  const db = new Database(file);
  db.exec('DROP TABLE device_totals');
  db.exec(EVIDENCE_MIGRATIONS.find((m) => m.version === 12)!.sql as string);
  db.close();
  assert.equal(await page(), before, 'built by the migration');

  // Retention: the first day and a half of blocked attempts and access, the first day of signals.
  const now = START + 3 * DAY + 12 * HOUR;
  const purged = await store.evidence.purge(now, { blocked_days: 2, signals_days: 2.5, access_days: 2 });
  assert.ok(purged.blocked > 0 && purged.signals > 0 && purged.accessHourly > 0, JSON.stringify(purged));
  const after = fullScan(file);
  assert.not.equal(after, before, 'the purge changed what the page shows');
  assert.equal(await page(), after, 'after the purge');
  // Everything purged: the page is empty.
  await store.evidence.purge(now + 10 * DAY, { blocked_days: 1, signals_days: 1, access_days: 1 });
  assert.equal(fullScan(file), []);
  assert.equal(await page(), []);
  await store.close();
});

test.run();
