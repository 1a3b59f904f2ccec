/**
 * Evidence at a school's scale (issue 25): repeats of a blocked attempt collapsed into one row with
 * an exact count that every reader shows; roll-ups equal to a full scan of the rows and of the
 * events; a purge of a large day that does not hold up the writer (measured as queue depth).
 */
import { TRUST_SCOPE } from '../../src/storage/scope.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { configSchema } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { ROUTES } from '../../src/console/routes.js';
import type { ConsoleEnv, RequestContext } from '../../src/console/context.js';
import { DeviceNames } from '../../src/evidence/devices.js';
import { decodeEvents, EventEncoder } from '../../src/evidence/event-codec.js';
import { EvidenceProcessor } from '../../src/evidence/processor.js';
import { EvidenceRecorder } from '../../src/evidence/recorder.js';
import type { WriterInit } from '../../src/evidence/writer-messages.js';
import type { QueryEvent } from '../../src/observe/query-event.js';
import { exportCsv, exportData } from '../../src/review/export.js';
import { buildReport } from '../../src/review/report.js';
import { reportText } from '../../src/review/report-render.js';
import { groupWhen } from '../../src/review/signal-groups.js';
import type { Rows } from '../../src/storage/evidence.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { schoolEvents } from '../../bench/evidence-model.js';
import { ROOT, tempDir } from '../helpers/daemon-process.js';
import { until } from '../helpers/wait.js';
import { useTimezone } from '../../src/time/zone.js';
import { blockedEvent } from '../helpers/query-events.js';

const circumvention = configSchema.parse({ groups: { default: {} } }).circumvention;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The default window (60 s) plus the default block TTL (60 s). */
const JOIN_MS = 120_000;
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

const ev = blockedEvent;

const names = { '10.20.1.5': 'PH-5' };

function init(file: string, collapseMs = JOIN_MS): WriterInit {
  return {
    storage: { evidencePath: file, accountsPath: file.replace(/\.db$/, '-accounts.db') },
    processor: { access: 'aggregate', circumvention, collapseMs },
    devices: { names, leases: null, ptr: null },
    version: 'test',
    pid: process.pid,
    startedAt: Date.now(),
  };
}

/** The writer's path in this thread: encoded, decoded, processed, written (batches of `batch`). */
async function writeThrough(store: Storage, processor: EvidenceProcessor, events: QueryEvent[], batch = 1000): Promise<void> {
  for (let i = 0; i < events.length; i += batch) {
    const enc = new EventEncoder();
    for (const e of events.slice(i, i + batch)) enc.add(e);
    const { buffer, count } = enc.take();
    await store.evidence.write(processor.process(decodeEvents(buffer, count)));
  }
}

function processor(collapseMs = JOIN_MS): EvidenceProcessor {
  return new EvidenceProcessor({ access: 'aggregate', circumvention, collapseMs }, new DeviceNames({ names, leases: null }));
}

function logCapture() {
  const lines: string[] = [];
  const log = {
    info: (_o: unknown, m: string) => lines.push(m),
    warn: () => {},
    error: (_o: unknown, m: string) => lines.push(m),
  };
  return { lines, log: log as unknown as pino.Logger };
}

function recorder(file: string, batchRows: number, log: pino.Logger, collapseMs = JOIN_MS): EvidenceRecorder {
  return new EvidenceRecorder({
    init: init(file, collapseMs),
    queueSize: 1_000_000,
    batchRows,
    flushMs: 20,
    retention: { blocked_days: 30, signals_days: 30, access_days: 30, schedule: '0 0 1 1 *' },
    log,
    onSignals: () => {},
    onStoreState: () => {},
  });
}

/** A console page through the route table (its handler, as the console thread runs it). */
async function page(env: ConsoleEnv, url: string, now: number): Promise<{ status: number; body: string }> {
  const u = new URL(url, 'http://console.invalid');
  const route = ROUTES.find((r) => r.method === 'GET' && r.path === u.pathname)!;
  const out = { status: 0, body: '' };
  const res = {
    headersSent: false,
    setHeader() {},
    writeHead: (s: number) => (out.status = s),
    end: (b?: string) => (out.body = String(b ?? '')),
  };
  const ctx = {
    url: u,
    res,
    req: { headers: {}, method: 'GET' },
    ip: '127.0.0.1',
    now,
    env,
    session: { user: 'oso', role: 'reviewer', csrf: 'x', userId: 1, createdAt: 0 },
    // A single box's account: its whole store (issue 17).
    scope: TRUST_SCOPE,
  } as unknown as RequestContext;
  await route.handler(ctx, []);
  return out;
}

test('a burst of 10,000 repeats is one row with count 10,000, and the report, console, logs and export say 10,000', async () => {
  const file = path.join(tempDir(), 'e.db');
  const { log } = logCapture();
  const rec = recorder(file, 1000, log);
  rec.open();
  // Through the daemon's own path: encoded, queued, handed to the writer thread in batches.
  const enc = new EventEncoder();
  for (let i = 0; i < 10_000; i++) {
    enc.add(ev(T0 + i * 5));
    if (enc.count === 1000) rec.addBatch(enc.take());
  }
  await until(() => rec.written >= 1 && rec.depth === 0, 'the burst written', 60_000);
  assert.is(await rec.close(Date.now() + 30_000), 0);

  const store = openStorage({ evidencePath: file, accountsPath: file.replace(/\.db$/, '-accounts.db') }, 'write');
  const f = { since: T0 - HOUR, until: T0 + HOUR };
  const rows = await store.review.blocked(f);
  assert.is(rows.length, 1, 'one row');
  assert.is(rows[0].count, 10_000);
  assert.is(rows[0].time, new Date(T0).toISOString());
  assert.is(rows[0].last_time, new Date(T0 + 9_999 * 5).toISOString());
  assert.is(await store.review.blockedCount(f), 10_000);
  assert.is(await store.review.blockedCount({ ...f, device: 'PH-5' }), 10_000);
  assert.is(await store.review.blockedCount({ ...f, name: 'instagram' }), 10_000);

  const report = await buildReport(store.review, store.exceptions, store.requests, T0 - HOUR, T0 + HOUR, T0 + HOUR);
  assert.is(report.totals.blocked, 10_000);
  assert.equal(report.topDevices, [{ client: '10.20.1.5', device: 'PH-5', group: 'students', blocked: 10_000 }]);
  assert.is(
    report.days.reduce((n, d) => n + d.blocked, 0),
    10_000,
  );
  assert.match(reportText(report), /10,?000 blocked attempts/);

  const loaded = await loadConfig(path.join(ROOT, 'config/example.yaml'));
  const env = { storage: store, loaded, log: pino({ level: 'silent' }), now: () => T0 + HOUR } as unknown as ConsoleEnv;
  const now = T0 + 30 * 60_000;
  const blockedPage = await page(env, '/blocked?since=24h', now);
  assert.is(blockedPage.status, 200);
  assert.match(blockedPage.body, /10000\s+attempts/);
  assert.match(blockedPage.body, /10000 \(to /);
  assert.match((await page(env, '/blocked?since=24h&q=instagram', now)).body, /10000\s+attempts/);
  const overview = await page(env, '/', now);
  assert.match(overview.body, /<b>10000<\/b>blocked attempts/);
  const device = await page(env, '/device?name=PH-5&since=24h', now);
  assert.match(device.body, /<b>10000<\/b>blocked attempts/);
  const reports = await page(env, '/reports?since=24h', now);
  assert.match(reports.body, /<b>10000<\/b>blocked attempts/);

  const exported = await exportData(store.review, { ...f, device: 'PH-5' }, now);
  assert.is(exported.blocked[0].count, 10_000);
  assert.match(exportCsv(exported), /,10000\r?\n|,10000$/m);
  await store.close();
});

test('a repeat after the window (or in the next hour) starts a second row; counts stay exact', async () => {
  const store = openStorage({ evidencePath: path.join(tempDir(), 'e.db'), accountsPath: path.join(tempDir(), 'a.db') }, 'write');
  const p = processor();
  // Within one batch: joined while each repeat is at most JOIN_MS after the last.
  await writeThrough(store, p, [ev(T0), ev(T0 + JOIN_MS), ev(T0 + 2 * JOIN_MS + 1)]);
  // Across batches (the writer joins them to the stored row), then past the window again.
  await writeThrough(store, p, [ev(T0 + 3 * JOIN_MS + 1)]);
  await writeThrough(store, p, [ev(T0 + 4 * JOIN_MS + 1)]);
  // The next hour starts a row of its own, however close.
  const h = T0 + HOUR;
  await writeThrough(store, p, [ev(h - 1000), ev(h)]);
  const rows = (await store.review.blocked({ since: T0 - HOUR, until: T0 + 2 * HOUR })).reverse();
  assert.equal(
    rows.map((r) => [r.time, r.count, r.last_time]),
    [
      [new Date(T0).toISOString(), 2, new Date(T0 + JOIN_MS).toISOString()],
      [new Date(T0 + 2 * JOIN_MS + 1).toISOString(), 3, new Date(T0 + 4 * JOIN_MS + 1).toISOString()],
      [new Date(h - 1000).toISOString(), 1, new Date(h - 1000).toISOString()],
      [new Date(h).toISOString(), 1, new Date(h).toISOString()],
    ],
  );
  // Another name, type or device is another row.
  await writeThrough(store, p, [
    ev(h + 1),
    ev(h + 2, { qtype: 28 }),
    ev(h + 3, { client: '10.20.1.6' }),
    ev(h + 4, { qname: 'graph.instagram.com' }),
  ]);
  assert.is((await store.review.blocked({ since: h, until: h + HOUR })).length, 4);
  assert.is(await store.review.blockedCount({ since: T0 - HOUR, until: T0 + 2 * HOUR }), 11);
  await store.close();
});

test('roll-ups equal a full scan of the rows and a tally of the generated events', async () => {
  const store = openStorage({ evidencePath: path.join(tempDir(), 'e.db'), accountsPath: path.join(tempDir(), 'a.db') }, 'write');
  const start = Date.UTC(2026, 8, 7);
  const events = [...schoolEvents({ devices: 40, days: 2, start })].flat();
  await writeThrough(store, processor(), events);
  const blockedEvents = events.filter((e) => e.kind === 'blocked');
  assert.ok(blockedEvents.length > 50_000, `${blockedEvents.length} blocked events`);
  const rows = await store.review.blocked({ since: 0, until: start + 3 * DAY });
  assert.ok(rows.length < blockedEvents.length / 10, `${rows.length} rows for ${blockedEvents.length} attempts`);

  const tally = <K>(items: { key: K; n: number }[]) => {
    const m = new Map<string, number>();
    for (const { key, n } of items) m.set(JSON.stringify(key), (m.get(JSON.stringify(key)) ?? 0) + n);
    return [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  };
  // Per hour by group and category: roll-up vs rows vs events.
  const rollupHours = tally(
    (await store.review.blockedPerHour(start, start + 2 * DAY)).map((h) => ({ key: h.hour, n: h.count })),
  );
  const rowHours = tally(rows.map((r) => ({ key: Math.floor(Date.parse(r.time) / HOUR), n: r.count })));
  const eventHours = tally(blockedEvents.map((e) => ({ key: Math.floor(e.at / HOUR), n: 1 })));
  assert.equal(rollupHours, rowHours);
  assert.equal(rollupHours, eventHours);
  const byGc = tally(
    (await store.review.blockedByGroupCategory(start, start + 2 * DAY)).map((r) => ({ key: [r.group, r.category], n: r.count })),
  );
  assert.equal(byGc, tally(blockedEvents.map((e) => ({ key: [e.group, e.reason], n: 1 }))));
  // Per device: whole days from the daily roll-up, ragged ends (not whole hours) from the rows, or,
  // where a ragged end is longer than half its unit, the whole unit less the rows outside the period.
  for (const [from, to] of [
    [start, start + 2 * DAY],
    [start + 9 * HOUR + 17 * 60_000, start + DAY + 11 * HOUR + 5_000],
    [start - HOUR, start + 2 * DAY - HOUR], // local midnights at UTC+1 (a UK summer week)
    [start + HOUR, start + DAY - HOUR], // within one day, most of it
    [start + 8 * HOUR, start + 16 * HOUR], // within one day, a third of it
    [start + 9 * HOUR + 5 * 60_000, start + 9 * HOUR + 55 * 60_000], // within one hour, most of it
    [start + 10 * HOUR + 50 * 60_000, start + 13 * HOUR + 40 * 60_000],
  ]) {
    const dev = tally((await store.review.topBlockedDevices(from, to, 10_000)).map((d) => ({ key: d.client, n: d.blocked })));
    const scan = tally(
      rows.filter((r) => Date.parse(r.time) >= from && Date.parse(r.time) < to).map((r) => ({ key: r.client, n: r.count })),
    );
    assert.equal(dev, scan, `devices in [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`);
    const total = scan.reduce((n, [, c]) => n + c, 0);
    assert.is(await store.review.blockedCount({ since: from, until: to }), total);
    assert.is(
      (await store.review.blockedByGroupCategory(from, to)).reduce((n, r) => n + r.count, 0),
      total,
    );
    const inPeriod = rows.filter((r) => Date.parse(r.time) >= from && Date.parse(r.time) < to);
    assert.equal(
      tally((await store.review.blockedPerHour(from, to)).map((h) => ({ key: h.hour, n: h.count }))),
      tally(inPeriod.map((r) => ({ key: Math.floor(Date.parse(r.time) / HOUR), n: r.count }))),
    );
  }
  // The overview's buckets (hours of a day, then the whole day) agree with the events.
  const act = await store.review.activity(start + DAY, HOUR, 24);
  for (let i = 0; i < 24; i++)
    assert.is(act.blocked[i], blockedEvents.filter((e) => Math.floor((e.at - start - DAY) / HOUR) === i).length, `hour ${i}`);
  const day = await store.review.activity(start + DAY, DAY, 1);
  assert.is(day.blocked[0], blockedEvents.filter((e) => e.at >= start + DAY && e.at < start + 2 * DAY).length);
  await store.close();
});

test('the report counts signals in the database exactly as listing every row would (devices, order, kinds, days, totals)', async () => {
  const before = process.env.TZ;
  useTimezone('Europe/London');
  const store = openStorage({ evidencePath: path.join(tempDir(), 'e.db'), accountsPath: path.join(tempDir(), 'a.db') }, 'write');
  try {
    const start = Date.UTC(2026, 8, 7);
    const events = [...schoolEvents({ devices: 40, days: 2, start })].flat();
    // One VPN lookup on its own on the second day: a day's line holding one signal (shown itself).
    const vpn = events.find((e) => e.reason === 'vpn-proxy')!;
    events.push({ ...vpn, at: start + DAY + 12 * HOUR });
    await writeThrough(store, processor(), events);
    const from = start + 7 * HOUR + 23 * 60_000;
    const to = start + DAY + 19 * HOUR;
    let rows = await store.review.signals({ since: from, until: to });
    assert.ok(rows.length > 100, `${rows.length} signals`);
    // Review every seventh (so some devices are fully reviewed, some partly, some not at all).
    for (const s of rows.filter((_, i) => i % 7 === 0)) {
      const audit = { ts: to, actor: 'oso', ip: 'cli', action: 'signal-review', target: `signal ${s.id}`, detail: '' };
      await store.signalReviews.review(s.id, { outcome: 'false-positive', note: '', by: 'oso', at: to }, audit);
    }
    rows = await store.review.signals({ since: from, until: to });
    // The oracle: every row, grouped and ordered in JS as the report did before it counted in SQL.
    const byDevice = new Map<string, typeof rows>();
    for (const s of [...rows].reverse())
      byDevice.set(`${s.client} ${s.device}`, [...(byDevice.get(`${s.client} ${s.device}`) ?? []), s]);
    for (const list of byDevice.values()) list.sort((a, b) => Number(!!a.review) - Number(!!b.review));
    const occ = (l: typeof rows) => l.reduce((n, s) => n + s.count, 0);
    const open = (l: typeof rows) => l.filter((s) => !s.review).length;
    const rank = (l: typeof rows) => Math.min(...l.map((s) => ({ high: 0, medium: 1, low: 2 })[s.severity] ?? 3));
    const expected = [...byDevice.values()]
      .sort((a, b) => Number(open(b) > 0) - Number(open(a) > 0) || rank(a) - rank(b) || occ(b) - occ(a))
      .map((l) => ({
        client: l[0].client,
        device: l[0].device,
        group: [...l].sort((a, b) => Date.parse(a.last_seen) - Date.parse(b.last_seen))[0].group,
        signals: l.length,
        occurrences: occ(l),
        unreviewed: open(l),
        kinds: [...new Set(l.map((s) => s.kind))],
        ids: l.map((s) => s.id),
      }));
    const dayOf = (iso: string) => new Date(iso).toLocaleDateString('en-CA');
    const days = new Map<string, { signals: number; occurrences: number }>();
    for (const s of rows) {
      const d = days.get(dayOf(s.last_seen)) ?? { signals: 0, occurrences: 0 };
      days.set(dayOf(s.last_seen), { signals: d.signals + 1, occurrences: d.occurrences + s.count });
    }

    const full = await buildReport(store.review, store.exceptions, store.requests, from, to, to);
    const light = await buildReport(store.review, store.exceptions, store.requests, from, to, to, { signalGroups: false });
    for (const r of [full, light]) {
      const got = r.signalsByDevice.map((d) => ({ ...d, signals: d.signalCount }));
      assert.equal(
        got.map(({ client, device, group, signals, occurrences, unreviewed, kinds }) => ({
          client,
          device,
          group,
          signals,
          occurrences,
          unreviewed,
          kinds,
        })),
        expected.map(({ ids: _, ...e }) => e),
      );
      assert.equal(r.totals.signals, rows.length);
      assert.equal(r.totals.occurrences, occ(rows));
      assert.equal(r.totals.unreviewed, open(rows));
      assert.equal(
        r.days.filter((d) => d.signals > 0).map((d) => [d.day, d.signals, d.occurrences]),
        [...days].sort().map(([d, t]) => [d, t.signals, t.occurrences]),
      );
    }
    // Each device's signals per kind and local day: every count as a grouping of the rows says.
    const groupsOf = new Map<string, typeof rows>();
    for (const s of rows) {
      const key = `${s.client} ${s.device}\u0000${s.kind}\u0000${dayOf(s.last_seen)}`;
      groupsOf.set(key, [...(groupsOf.get(key) ?? []), s]);
    }
    const expectedGroups = expected.map((e) =>
      [...groupsOf.entries()]
        .filter(([k]) => k.startsWith(`${e.client} ${e.device}\u0000`))
        .map(([k, l]) => {
          const outcomes: Record<string, number> = {};
          for (const s of l) if (s.review) outcomes[s.review.outcome] = (outcomes[s.review.outcome] ?? 0) + 1;
          return {
            kind: l[0].kind,
            day: k.split('\u0000')[2],
            signals: l.length,
            occurrences: occ(l),
            unreviewed: open(l),
            outcomes,
            first: Math.min(...l.map((s) => Date.parse(s.first_seen))),
            last: Math.max(...l.map((s) => Date.parse(s.last_seen))),
            domains: [...new Set(l.map((s) => s.domain))].sort(),
            names: [...new Set(l.map((s) => s.qname))].sort(),
            only: l.length === 1 ? l[0].id : null,
            rank: rank(l),
          };
        })
        .sort(
          (a, b) =>
            Number(b.unreviewed > 0) - Number(a.unreviewed > 0) ||
            a.rank - b.rank ||
            a.day.localeCompare(b.day) ||
            a.first - b.first,
        )
        .map(({ rank: _, ...g }) => g),
    );
    const gotGroups = full.signalsByDevice.map((d) =>
      d.groups.map(({ client: _c, device: _d, severity: _s, day, only, ...g }) => ({
        ...g,
        day: new Date(day).toLocaleDateString('en-CA'),
        only: only?.id ?? null,
      })),
    );
    assert.equal(
      gotGroups,
      expectedGroups.map((l) => l.map(({ kind, day, ...g }) => ({ kind, day, ...g }))),
    );
    // Both kinds of line are exercised: a day with one signal (shown itself) and days with many.
    const flat = full.signalsByDevice.flatMap((d) => d.groups);
    const sizes = flat.map((g) => g.signals).join(' ');
    assert.ok(flat.some((g) => g.only) && flat.some((g) => g.signals > 3), `groups of one and of many: ${sizes}`);
    assert.ok(
      flat.some((g) => g.unreviewed > 0 && Object.keys(g.outcomes).length > 0),
      'a partly reviewed group',
    );
    assert.ok(flat.length < rows.length / 3, `${flat.length} lines for ${rows.length} signals`);
    // What the OSO reads: the largest day's line says its signals and occurrences exactly, and names
    // the command that lists each of them.
    const owner = full.signalsByDevice.find((d) => d.groups.some((g) => g.signals === Math.max(...flat.map((x) => x.signals))))!;
    const big = owner.groups.find((g) => g.signals === Math.max(...flat.map((x) => x.signals)))!;
    const text = reportText(full);
    const section = text.slice(text.indexOf(`${owner.device} ${owner.client} [`));
    const line = section.split('\n').find((l) => l.includes(groupWhen(big)))!;
    assert.match(line, new RegExp(`${big.kind}\\s+\\S+\\s+${big.signals}\\s+${big.occurrences}\\s`));
    assert.match(line, big.unreviewed > 0 ? `${big.unreviewed} NOT REVIEWED` : 'reviewed:');
    assert.match(section, `Each signal: webfilter logs signals --client ${owner.client} --since `);
    // The day search over many days (37 hourly starts, not a power of two): each signal lands in the
    // last start at or before its last time.
    const hours = Array.from({ length: 37 }, (_, i) => from - (from % HOUR) + i * HOUR);
    const oracle = new Map<string, number>();
    for (const s of rows) {
      const t = Date.parse(s.last_seen);
      const start = [...hours].reverse().find((h) => h <= t) ?? hours[0];
      const key = `${s.client} ${s.device} ${s.kind} ${start}`;
      oracle.set(key, (oracle.get(key) ?? 0) + 1);
    }
    const hourly = await store.review.signalGroups(from, to, hours);
    assert.ok(hourly.length > 40, `${hourly.length} hourly groups`);
    assert.equal(new Map(hourly.map((g) => [`${g.client} ${g.device} ${g.kind} ${g.day}`, g.signals])), oracle);
    assert.ok(light.signalsByDevice.every((d) => d.groups.length === 0));
    assert.equal({ ...light, signalsByDevice: [] }, { ...full, signalsByDevice: [] });
  } finally {
    await store.close();
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
});

test('a purge of a large day while writing keeps the queue within the usual batch (queue depth)', async () => {
  const file = path.join(tempDir(), 'e.db');
  // A large old day: 800,000 rows (no repeats), 40 days back.
  const old = Date.now() - 40 * DAY;
  const seed = openStorage({ evidencePath: file, accountsPath: file.replace(/\.db$/, '-accounts.db') }, 'write');
  for (let i = 0; i < 800_000; i += 10_000) {
    const rows: Rows = { blocked: [], signals: [], accessHourly: [], access: [] };
    for (let k = i; k < i + 10_000; k++)
      rows.blocked.push({
        ts: old + k,
        lastTs: old + k,
        count: 1,
        joinMs: 0,
        client: `10.20.${(k >> 8) & 255}.${k & 255}`,
        device: '',
        grp: 'students',
        qname: `n${k}.tiktokv.com`,
        qtype: 'A',
        category: 'tiktok',
        entry: 'tiktokv.com',
        response: 'NXDOMAIN',
        transport: 'udp',
        via: '',
        user: '',
      });
    await seed.evidence.write(rows);
  }
  await seed.close();

  const batchRows = 500;
  const { lines, log } = logCapture();
  const rec = recorder(file, batchRows, log);
  rec.open();
  let fed = 0;
  // The writer thread is up (its start is not what is measured).
  const first = new EventEncoder();
  first.add(ev(Date.now(), { qname: `live${fed++}.tiktokv.com` }));
  rec.addBatch(first.take());
  await until(() => rec.written > 0, 'the writer started', 60_000);
  let maxDepth = 0;
  rec.purge(Date.now());
  // Events keep coming (a steady 10 every 10 ms) until the purge is done; the queue is sampled as they arrive.
  while (!lines.includes('retention purge done')) {
    const enc = new EventEncoder();
    for (let k = 0; k < 10; k++) enc.add(ev(Date.now(), { qname: `live${fed++ % 1000}.tiktokv.com` }));
    rec.addBatch(enc.take());
    maxDepth = Math.max(maxDepth, rec.depth);
    await new Promise((r) => setTimeout(r, 10));
  }
  await until(() => rec.depth === 0, 'the queue emptied', 60_000);
  assert.is(await rec.close(Date.now() + 30_000), 0);
  assert.ok(fed > 100, `${fed} events written during the purge`);
  // Done in one transaction, this purge held the writer for seconds and the queue grew past 8,000
  // here; a step at a time, the queue holds the batch being filled and what arrives during one step.
  assert.ok(maxDepth <= 3 * batchRows, `queue depth reached ${maxDepth} during the purge (batch ${batchRows})`);
  const store = openStorage({ evidencePath: file, accountsPath: file.replace(/\.db$/, '-accounts.db') }, 'read-only');
  assert.is(await store.review.blockedCount({ since: 0, until: Date.now() - 30 * DAY }), 0, 'the old day is gone');
  assert.is(
    await store.review.blockedCount({ since: Date.now() - DAY, until: Date.now() + 1 }),
    fed,
    'every live event is counted',
  );
  await store.close();
});

test('seq: every shipped row takes the next change number when written and again when changed', async () => {
  const file = path.join(tempDir(), 'e.db');
  const store = openStorage({ evidencePath: file, accountsPath: file.replace(/\.db$/, '-accounts.db') }, 'write');
  const p = processor();
  const seqs = () => {
    const db = new Database(file, { readonly: true });
    const q = (sql: string) => (db.prepare(sql).all() as { seq: number }[]).map((r) => r.seq);
    const out = {
      blocked: q('SELECT seq FROM blocked ORDER BY id'),
      hourly: q('SELECT seq FROM blocked_hourly'),
      daily: q('SELECT seq FROM blocked_device_daily'),
      signals: q('SELECT seq FROM signals ORDER BY id'),
      access: q('SELECT seq FROM access_hourly'),
      counter: (db.prepare('SELECT value FROM evidence_seq').get() as { value: number }).value,
    };
    db.close();
    return out;
  };
  const signal = { signal: 'vpn-proxy', qname: 'nordvpn.com', reason: 'vpn-proxy', entry: 'nordvpn.com' };
  await writeThrough(store, p, [
    ev(T0),
    ev(T0 + 1, signal),
    ev(T0 + 2, { kind: 'forwarded', recordBlocked: false, qname: 'www.bbc.co.uk' }),
  ]);
  const a = seqs();
  assert.is(a.blocked.length, 2);
  const all = [...a.blocked, ...a.hourly, ...a.daily, ...a.signals, ...a.access];
  assert.is(new Set(all).size, all.length, 'each write a number of its own');
  assert.is(Math.max(...all), a.counter);
  // A repeat counted on the blocked row, the signal and the aggregate: each changed row is renumbered.
  await writeThrough(store, p, [
    ev(T0 + 1000),
    ev(T0 + 1001, signal),
    ev(T0 + 1002, { kind: 'forwarded', recordBlocked: false, qname: 'www.bbc.co.uk' }),
  ]);
  const b = seqs();
  assert.is(b.blocked.length, 2, 'repeats collapsed');
  assert.ok(b.blocked[0] > a.counter, 'the blocked row changed');
  assert.ok(b.signals[0] > a.counter && b.access[0] > a.counter && b.hourly.every((s) => s > a.counter));
  assert.ok(b.blocked[1] > a.counter, "the signal attempt's blocked row changed too");
  // The access audit (in the accounts file) takes its file's next number as each row is written.
  await store.accounts.audit({ ts: T0, actor: 'oso', ip: '127.0.0.1', action: 'view-device', target: 'PH-5', detail: '' });
  await store.accounts.audit({ ts: T0, actor: 'oso', ip: '127.0.0.1', action: 'export', target: 'PH-5', detail: '' });
  const accounts = new Database(file.replace(/\.db$/, '-accounts.db'), { readonly: true });
  assert.equal(
    (accounts.prepare('SELECT seq FROM access_audit ORDER BY id').all() as { seq: number }[]).map((r) => r.seq),
    [1, 2],
  );
  accounts.close();
  await store.close();
});

test.run();
