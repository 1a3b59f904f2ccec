/**
 * The report reads a period's signals once (issue 25): signalGroupsTally works out signalTally's
 * devices and per-day counts from the signal groups. On generated signals (devices that change
 * group, kinds seen at the same instant, reviewed and unreviewed signals, signals that go on past
 * the period's last day, a change of clocks inside the period) every number equals the one the
 * tally's own SQL counts, on SQLite and on PostgreSQL, and the report built either way is the same.
 */
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { postgresSchema } from '../../src/config/shared-schema.js';
import { buildReport, localDayStarts } from '../../src/review/report.js';
import { signalKind } from '../../src/signals/kinds.js';
import type { SignalRow } from '../../src/storage/evidence.js';
import { openStorage } from '../../src/storage/open.js';
import type { ReviewRepository, SignalTally } from '../../src/storage/review.js';
import { sitesScope } from '../../src/storage/scope.js';
import type { Storage } from '../../src/storage/storage.js';
import { useTimezone } from '../../src/time/zone.js';
import { tempDir } from '../helpers/daemon-process.js';
import { sharedReader, shipFile } from '../helpers/evidence-sites.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SITE = 'tally-school';
/** Friday 23 October 2026, 00:00 UTC: the clocks go back in London early on Sunday the 25th. */
const START = Date.UTC(2026, 9, 23);

/** A small seeded generator (mulberry32): the same signals on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = ['persistent-attempts', 'vpn-proxy', 'encrypted-dns', 'tunnel'];

/** Four days of signals of 24 devices, in time order, with every awkward case the tally has. */
function generated(): SignalRow[] {
  const rnd = random(25);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const rows: SignalRow[] = [];
  const signal = (ts: number, i: number, kind: string, domain: string, over: Partial<SignalRow> = {}): SignalRow => ({
    ts,
    client: `10.30.0.${i % 20}`,
    // Addresses 0–3 also seen under a second name; device 7 has none.
    device: i === 7 ? '' : i >= 20 ? `TAB-${i}` : `PH-${i}`,
    grp: 'students',
    kind,
    severity: signalKind(kind)?.severity ?? 'low',
    qname: `api.${domain}`,
    domain,
    detail: `${kind} ${domain}`,
    count: 1 + Math.floor(rnd() * 5),
    user: '',
    ...over,
  });
  for (let n = 0; n < 1500; n++) {
    const i = Math.floor(rnd() * 24);
    const ts = START + Math.floor(rnd() * 4 * DAY);
    const kind = pick(KINDS);
    // Devices 8–11 move between groups now and then (a device's group is its earliest signal's);
    // device 12's encrypted-dns signals are all in sixth-form (each of its lines in one group, not all the same).
    const grp =
      i === 12
        ? kind === 'encrypted-dns'
          ? 'sixth-form'
          : 'students'
        : i >= 8 && i < 12 && rnd() < 0.4
          ? pick(['staff', 'sixth-form'])
          : 'students';
    rows.push(signal(ts, i, kind, pick(['tiktok', 'instagram', 'nordvpn.com', 'dns.google']), { grp }));
    // Now and then another kind at the very same instant (equal last times: the order among equals).
    if (rnd() < 0.08 && i !== 12) rows.push(signal(ts, i, pick(KINDS), 'same-instant.example', { grp: pick(['aaa', 'zzz']) }));
  }
  // Each device's first signals: two kinds at the same instant (their order in the tally: by name).
  for (let i = 0; i < 24; i++)
    for (const kind of ['vpn-proxy', 'encrypted-dns'])
      if (i !== 12) rows.push(signal(START + MIN, i, kind, 'first.example', { grp: i >= 8 && i < 12 ? 'staff' : 'students' }));
  // Repeats every 6 minutes from 23:20 UTC on the 25th until 00:40: one signal last seen on the next
  // day (past a period that ends that evening, on a day of its own in the tally).
  for (let t = START + 2 * DAY + 23 * HOUR + 20 * MIN; t < START + 3 * DAY + 40 * MIN; t += 6 * MIN)
    rows.push(signal(t, 5, 'persistent-attempts', 'youtube'), signal(t + MIN, 9, 'tunnel', 'ngrok.io', { grp: 'staff' }));
  return rows.sort((a, b) => a.ts - b.ts);
}

/** A box of SITE with the generated signals, a fifth of them reviewed (three outcomes). */
async function box(evidencePath: string): Promise<Storage> {
  const store = openStorage({ evidencePath, accountsPath: evidencePath.replace(/\.db$/, '-accounts.db'), site: SITE }, 'write');
  const rows = generated();
  for (let i = 0; i < rows.length; i += 200)
    await store.evidence.write({ blocked: [], signals: rows.slice(i, i + 200), accessHourly: [], access: [] }, START + 5 * DAY);
  const all = await store.review.signals({ since: 0, until: START + 10 * DAY });
  const rnd = random(7);
  for (const s of all.filter(() => rnd() < 0.2)) {
    const outcome = (['no-action', 'sanction', 'spoke-to-student'] as const)[s.id % 3];
    const at = START + 5 * DAY;
    await store.signalReviews.review(
      s.id,
      { outcome, note: '', by: 'oso', at },
      { ts: at, actor: 'oso', ip: 'cli', action: 'signal-review', target: `signal ${s.id}`, detail: outcome },
    );
  }
  return store;
}

/** The periods asked: whole days, ragged ends, one ending the evening a signal runs on past midnight. */
function periods(): [number, number][] {
  return [
    [START, START + 4 * DAY],
    [START + 9 * HOUR + 30 * MIN, START + 2 * DAY + 13 * HOUR + 7 * MIN],
    [START + DAY + 17 * HOUR, START + 2 * DAY + 23 * HOUR + 45 * MIN],
    [START - DAY, START + 6 * DAY],
  ];
}

const dayOf = (ms: number) => new Date(ms).toLocaleDateString('en-CA');

/** Per local day: what the tally's quarters add up to, and what the groups' days say. */
function byDay(days: { at: number; signals: number; occurrences: number }[]): [string, number, number][] {
  const m = new Map<string, [number, number]>();
  for (const d of days) {
    const [s, o] = m.get(dayOf(d.at)) ?? [0, 0];
    m.set(dayOf(d.at), [s + d.signals, o + d.occurrences]);
  }
  return [...m].sort(([a], [b]) => a.localeCompare(b)).map(([d, [s, o]]) => [d, s, o]);
}

/** Both ways of counting one period: signalTally's SQL, and the groups'. */
async function both(review: ReviewRepository, from: number, to: number) {
  const starts = localDayStarts(from, to);
  const last = new Date(starts[starts.length - 1]);
  const end = new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1).getTime();
  const sql: SignalTally = await review.signalTally(from, to);
  const derived = await review.signalGroupsTally(from, to, starts, end);
  return { sql, derived, groups: await review.signalGroups(from, to, starts), end };
}

test('SQLite: the tally worked out from the groups equals signalTally in every number and order', async () => {
  const before = process.env.TZ;
  const store = await box(path.join(tempDir(), 'tally.db'));
  try {
    let tailSeen = false;
    for (const tz of ['UTC', 'Europe/London', 'America/Santiago']) {
      useTimezone(tz);
      for (const [from, to] of periods()) {
        const { sql, derived, groups, end } = await both(store.review, from, to);
        const what = `${tz} ${new Date(from).toISOString()}–${new Date(to).toISOString()}`;
        assert.equal(derived.devices, sql.devices, `devices ${what}`);
        // Field order too: the report's JSON is the same text.
        assert.equal(JSON.stringify(derived.devices), JSON.stringify(sql.devices), `JSON ${what}`);
        assert.equal(byDay(derived.days), byDay(sql.quarters.map((q) => ({ ...q, at: q.quarter }))), `days ${what}`);
        assert.equal(derived.groups, groups, `groups ${what}`);
        assert.ok(
          derived.groups.every((g) => !('lastFirst' in g) && !('grpMin' in g)),
          'groups as signalGroups gives them',
        );
        if (derived.days.some((d) => d.at >= end)) tailSeen = true;
        // The report built from one read equals the one built from the tally (groups aside).
        const full = await buildReport(store.review, store.exceptions, store.requests, from, to, to);
        const light = await buildReport(store.review, store.exceptions, store.requests, from, to, to, { signalGroups: false });
        assert.equal(
          JSON.stringify({ ...full, signalsByDevice: full.signalsByDevice.map((d) => ({ ...d, groups: [] })) }),
          JSON.stringify(light),
          `report ${what}`,
        );
      }
    }
    assert.ok(tailSeen, 'a period whose signals go on past its last day');
    useTimezone('Europe/London');
    const [from, to] = periods()[0];
    const { derived } = await both(store.review, from, to);
    // Each awkward case is in the data: devices whose earliest signal was in another group, devices
    // partly reviewed (unreviewed kinds first), kinds first seen at the same instant.
    assert.ok(derived.devices.length >= 20, `${derived.devices.length} devices`);
    assert.ok(
      derived.devices.some((d) => d.group !== 'students'),
      'a device whose earliest signal was in another group',
    );
    assert.ok(
      derived.devices.some((d) => d.unreviewed > 0 && d.unreviewed < d.signals),
      'a device partly reviewed',
    );
    // Mixed devices are the ones asked of the database: each one's group is its earliest signal's.
    const rows = await store.review.signals({ since: from, until: to });
    for (const d of derived.devices) {
      const own = rows.filter((s) => s.client === d.client && s.device === d.device);
      const first = Math.min(...own.map((s) => Date.parse(s.last_seen)));
      assert.ok(
        own.some((s) => Date.parse(s.last_seen) === first && s.group === d.group),
        `${d.device}: ${d.group}`,
      );
    }
    assert.ok(
      derived.devices.some((d) => new Set(rows.filter((s) => s.client === d.client).map((s) => s.group)).size > 1),
      'devices with signals in two groups',
    );
  } finally {
    await store.close();
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
});

let pg: PgCluster | undefined;
test.after(async () => {
  await pg?.destroy();
});

test('PostgreSQL: the same signals shipped give the same tally from the groups as from its SQL, and as the box', async () => {
  const before = process.env.TZ;
  pg = await startPostgres();
  const url = await pg.createDatabase('tally_of_groups');
  const postgres = postgresSchema.parse({ url });
  const dir = tempDir();
  const evidencePath = path.join(dir, 'box.db');
  const own = await box(evidencePath);
  const shared = await sharedReader(dir, 'node', SITE, postgres);
  try {
    await shipFile(evidencePath, SITE, postgres);
    const review = shared.reads({ scope: sitesScope([SITE]) }).review;
    const noSite = <T>(v: T): T => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'site' ? undefined : x))) as T;
    for (const tz of ['UTC', 'Europe/London']) {
      useTimezone(tz);
      for (const [from, to] of periods()) {
        const what = `${tz} ${new Date(from).toISOString()}–${new Date(to).toISOString()}`;
        const { sql, derived, groups } = await both(review, from, to);
        assert.ok(derived.devices.every((d) => d.site === SITE));
        assert.equal(derived.devices, sql.devices, `devices ${what}`);
        assert.equal(byDay(derived.days), byDay(sql.quarters.map((q) => ({ ...q, at: q.quarter }))), `days ${what}`);
        assert.equal(derived.groups, groups, `groups ${what}`);
        // And the box's own reads say the same (the site column aside).
        const boxed = await both(own.review, from, to);
        assert.equal(noSite(derived.devices), boxed.derived.devices, `box ${what}`);
        assert.equal(byDay(derived.days), byDay(boxed.derived.days), `box days ${what}`);
      }
    }
  } finally {
    await own.close();
    await shared.close();
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
});

test.run();
