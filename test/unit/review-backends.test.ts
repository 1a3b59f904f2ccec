/**
 * The review's reads on both backends (issue 17): each school's evidence written by the real SQLite
 * writer on its box, shipped into one real PostgreSQL store (a throwaway cluster). A reader of one
 * site gets from the shared store exactly what that site's box gives (entries, counts, tallies,
 * devices); a trust-wide reader gets both sites, each row with its site; a reader never gets a row
 * of a site outside their scope, whatever filter they ask with; and signal reviews in the shared
 * store stay within the reviewer's sites.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadScope } from '../../src/storage/read-scope.js';
import type { ReviewRepository } from '../../src/storage/review.js';
import { sitesScope, TRUST_SCOPE } from '../../src/storage/scope.js';
import { ReviewError } from '../../src/storage/signal-reviews.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { DAY, HOUR, NOW, SITE_A, SITE_B, TAG, twoSites, type TwoSites } from '../helpers/evidence-sites.js';

let pg: PgCluster;
let s: TwoSites;

test.before(async () => {
  pg = await startPostgres();
  s = await twoSites(pg, 'review_backends');
});

test.after(async () => {
  await s?.close();
  await pg?.destroy();
});

const all = { since: 0, until: NOW + DAY };
const day1 = NOW - 2 * DAY;

/** Every read of the review repository, as the pages, reports and commands make them. */
function reads(r: ReviewRepository) {
  return {
    blocked: () => r.blocked(all),
    blockedByName: () => r.blocked({ ...all, name: 'facebook' }),
    blockedByDeviceSearch: () => r.blocked({ ...all, deviceSearch: 'PC' }),
    blockedByUser: () => r.blocked({ ...all, user: `${TAG[SITE_A]}.pupil` }),
    blockedCount: () => r.blockedCount(all),
    blockedCountGroup: () => r.blockedCount({ ...all, group: 'students', category: 'facebook' }),
    blockedCountDevice: () => r.blockedCount({ ...all, client: '10.20.1.6' }),
    blockedCountRagged: () => r.blockedCount({ since: day1 + 90 * 60_000, until: day1 + 30 * HOUR }),
    blockedCountName: () => r.blockedCount({ ...all, name: 'tiktok' }),
    signals: () => r.signals(all),
    signalsUnreviewed: () => r.signals({ ...all, unreviewed: true }),
    signalsKind: () => r.signals({ ...all, kind: 'vpn-proxy' }),
    accessHourly: () => r.accessHourly(all),
    // Ends inside both aggregates' hours (1:01-1:40 and 27:02-27:09): both overlap the period.
    accessHourlyRagged: () => r.accessHourly({ since: day1 + HOUR + 30 * 60_000, until: day1 + 27 * HOUR + 5 * 60_000 }),
    accessFull: () => r.accessFull(all),
    byGroupCategory: () => r.blockedByGroupCategory(day1 + 30 * 60_000, NOW),
    topDevices: () => r.topBlockedDevices(day1, NOW, 10),
    deviceCount: () => r.blockedDeviceCount(day1, NOW),
    blockedDevices: () => r.blockedDevices(day1, NOW, 10),
    perHour: () => r.blockedPerHour(day1, NOW),
    // Ragged ends longer than half their unit (read as the whole unit less the rows outside the
    // period), each with a row outside it (at 1:05 and 26:59) and rows inside.
    topDevicesLongEnds: () => r.topBlockedDevices(day1 + HOUR + 330_000, day1 + 26 * HOUR + 30 * 60_000, 10),
    byGroupCategoryLongEnds: () => r.blockedByGroupCategory(day1 + HOUR + 330_000, day1 + 26 * HOUR + 58 * 60_000),
    perHourLongEnds: () => r.blockedPerHour(day1 + HOUR + 330_000, day1 + 26 * HOUR + 58 * 60_000),
    // Kinds of equal counts come in no set order: compared by name.
    byKind: async () => (await r.signalsByKind(day1)).sort((x, y) => y.n - x.n || x.kind.localeCompare(y.kind)),
    tally: () => r.signalTally(day1, NOW),
    // Groups come in no set order: compared by device, kind and day.
    groups: async () =>
      (await r.signalGroups(day1, NOW, [day1, day1 + DAY])).sort((x, y) =>
        `${x.device} ${x.kind} ${x.day}`.localeCompare(`${y.device} ${y.kind} ${y.day}`),
      ),
    // The report's one read of the signals: groups (in no set order) with the tally's devices and days.
    groupsTally: async () => {
      const t = await r.signalGroupsTally(day1, NOW, [day1, day1 + DAY], day1 + 2 * DAY);
      const groups = t.groups.sort((x, y) => `${x.device} ${x.kind} ${x.day}`.localeCompare(`${y.device} ${y.kind} ${y.day}`));
      return { ...t, groups };
    },
    activity: () => r.activity(day1, HOUR, 48),
    activityDays: () => r.activity(day1 + 30 * 60_000, DAY, 2),
    devices: () => r.devices('', 100),
    devicesSearch: () => r.devices('lt', 100),
    devicesAddress: () => r.devices('10.20.1.6', 100),
    known: () => r.deviceKnown({ device: `${TAG[SITE_A]}-lt-1` }),
    knownB: () => r.deviceKnown({ device: `${TAG[SITE_B]}-lt-1` }),
    knownClient: () => r.deviceKnown({ client: '10.20.1.5' }),
  };
}

/** Entries without what differs by design: the site column (shared store only) and the signal's number (each store's own). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'site' && k !== 'id') o[k] = plain(x);
    return o;
  }
  return v;
}

const pgReads = (rs: ReadScope) => reads(s.shared.reads(rs).review);

/** Every read of `site` from the shared store equals its box's. */
async function sameAsBox(sites: TwoSites, site: string): Promise<void> {
  const box = reads(sites.boxes[site].reads({ scope: TRUST_SCOPE }).review);
  const shared = reads(sites.shared.reads({ scope: sitesScope([site]) }).review);
  for (const [name, read] of Object.entries(box)) {
    const want = await read();
    const got = await (shared as Record<string, () => Promise<unknown>>)[name]();
    assert.equal(plain(got), plain(want), `${site}: ${name}`);
  }
}

for (const site of [SITE_A, SITE_B]) {
  test(`a reader of ${site} gets from PostgreSQL exactly what ${site}'s own box gives, on every read`, async () => {
    const box = reads(s.boxes[site].reads({ scope: TRUST_SCOPE }).review);
    await sameAsBox(s, site);
    // Not vacuous: the box has rows of each kind.
    assert.is((await box.blocked()).length, 5);
    assert.is(await box.blockedCount(), 6);
    assert.is((await box.signals()).length, 3);
    assert.is((await box.accessHourly()).length, 2);
  });
}

test('a trust-wide reader gets both sites, each row with its site, and the totals add up', async () => {
  const trust = pgReads({ scope: TRUST_SCOPE });
  const blocked = await trust.blocked();
  assert.equal([...new Set(blocked.map((r) => r.site))].sort(), [SITE_A, SITE_B]);
  assert.is(await trust.blockedCount(), 12);
  assert.is(await trust.blockedCountGroup(), 2 * (await pgReads({ scope: sitesScope([SITE_A]) }).blockedCountGroup()));
  assert.is((await trust.signals()).length, 6);
  assert.is(await trust.deviceCount(), 4, 'the same address at two schools is two devices');
  assert.equal((await trust.devices()).map((d) => d.site).sort(), [SITE_A, SITE_A, SITE_B, SITE_B]);
  const tally = await trust.tally();
  assert.is(tally.devices.length, 4);
  // The site filter narrows a trust-wide read to one site.
  const onlyB = pgReads({ scope: TRUST_SCOPE, site: SITE_B });
  assert.equal(plain(await onlyB.blocked()), plain(await reads(s.boxes[SITE_B].reads({ scope: TRUST_SCOPE }).review).blocked()));
});

test('a reader of site A never gets a row of site B: every read, any filter, a site filter outside the scope', async () => {
  const b = TAG[SITE_B];
  for (const rs of [
    { scope: sitesScope([SITE_A]) },
    { scope: sitesScope([SITE_A]), site: SITE_B },
    { scope: sitesScope(['elsewhere']) },
  ]) {
    for (const [name, read] of Object.entries(pgReads(rs))) {
      const text = JSON.stringify(await read());
      assert.not.match(text, b, `${name} (${JSON.stringify(rs)})`);
      assert.not.match(text, SITE_B, `${name} (${JSON.stringify(rs)})`);
    }
    assert.is(await pgReads(rs).knownB(), false);
  }
  // Site B's device asked for by name and by its address, as a direct URL would.
  const a = s.shared.reads({ scope: sitesScope([SITE_A]) }).review;
  assert.equal(await a.blocked({ ...all, device: `${b}-pc-2` }), []);
  assert.equal(await a.signals({ ...all, deviceSearch: b }), []);
  assert.equal(await a.accessHourly({ ...all, user: `${b}.pupil` }), []);
  const outside = pgReads({ scope: sitesScope(['elsewhere']) });
  assert.is(await outside.blockedCount(), 0);
  assert.equal(await outside.signals(), []);
});

test('a box gives its rows only to a reader whose scope holds its site', async () => {
  const box = s.boxes[SITE_A];
  assert.is((await box.reads({ scope: sitesScope([SITE_A]) }).review.blocked(all)).length, 5);
  assert.is((await box.reads({ scope: sitesScope([SITE_B]) }).review.blocked(all)).length, 0);
  assert.is(await box.reads({ scope: TRUST_SCOPE, site: SITE_B }).review.blockedCount(all), 0);
  assert.is(await box.reads({ scope: sitesScope([SITE_B]) }).signalReviews.signal(1), null);
});

test('signal reviews in PostgreSQL: within the reviewer’s sites, with a review_audit row of the signal’s site', async () => {
  const trust = s.shared.reads({ scope: TRUST_SCOPE });
  const signalsB = await trust.review.signals({ ...all, kind: 'tunnel' });
  const b = signalsB.find((x) => x.site === SITE_B)!;
  const a = signalsB.find((x) => x.site === SITE_A)!;
  const readerA = s.shared.reads({ scope: sitesScope([SITE_A]) });
  const review = { outcome: 'no-action' as const, note: 'checked', by: 'oso.a', at: NOW };
  const audit = (id: number) => ({
    ts: NOW,
    actor: 'oso.a',
    ip: '10.0.0.7',
    action: 'signal-review',
    target: `signal ${id}`,
    detail: 'no-action: checked',
  });
  // Site B's signal, by its number, for a reviewer of site A: no such signal, nothing written.
  assert.is(await readerA.signalReviews.signal(b.id), null);
  try {
    await readerA.signalReviews.review(b.id, review, audit(b.id));
    assert.unreachable('a signal of another site was reviewed');
  } catch (e) {
    assert.instance(e, ReviewError);
  }
  assert.is((await trust.signalReviews.signal(b.id))!.review, null);
  const done = await readerA.signalReviews.review(a.id, review, audit(a.id));
  assert.equal([done.site, done.review?.outcome, done.review?.by], [SITE_A, 'no-action', 'oso.a']);
  const rows = await pg.query<{ site: string; signal_id: string; actor: string }>(
    'SELECT site, signal_id::text, actor FROM review_audit WHERE local_id IS NULL',
    'review_backends',
  );
  assert.equal(
    rows.map((r) => ({ ...r })),
    [{ site: SITE_A, signal_id: String(a.id), actor: 'oso.a' }],
  );
  // The review made on site A's box (shipped with its audit row) and this one.
  const trail = await readerA.signalReviews.auditEntries({ since: 0, until: NOW + 1, scope: TRUST_SCOPE });
  assert.equal(
    trail.map((e) => [e.actor, e.target]),
    [
      ['oso.a', `signal ${a.id} (${SITE_A})`],
      ['oso.a', `signal ${(await readerA.review.signals({ ...all, kind: 'encrypted-dns' }))[0].id} (${SITE_A})`],
    ],
  );
  assert.is(
    (
      await s.shared
        .reads({ scope: sitesScope([SITE_B]) })
        .signalReviews.auditEntries({ since: 0, until: NOW + 1, scope: TRUST_SCOPE })
    ).length,
    0,
  );
  // The review shipped from site A's box (signal 1) is there too; unreviewed counts are per scope.
  assert.is(await readerA.signalReviews.unreviewedCount(0, NOW + 1), 1);
  assert.is(await trust.signalReviews.unreviewedCount(0, NOW + 1), 4);
});

test('rows of two months (two month partitions of each table) read from PostgreSQL as from the box', async () => {
  const months = await twoSites(pg, 'review_months', 31 * DAY);
  try {
    for (const t of ['blocked', 'signals', 'access_hourly', 'access']) {
      const [n] = await pg.query<{ parts: string }>(`SELECT count(DISTINCT tableoid) AS parts FROM ${t}`, 'review_months');
      assert.is(Number(n.parts), 2, `${t}: rows in two month partitions`);
    }
    for (const site of [SITE_A, SITE_B]) await sameAsBox(months, site);
    const box = reads(months.boxes[SITE_A].reads({ scope: TRUST_SCOPE }).review);
    assert.is(await box.blockedCount(), 12, 'both months are read');
  } finally {
    await months.close();
  }
});

test.run();
