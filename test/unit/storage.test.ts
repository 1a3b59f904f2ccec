/**
 * The repositories, through the Storage interface (a second backend runs the same tests by adding
 * itself to BACKENDS), and then what is particular to the SQLite files: modes, WAL, migrations.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ExceptionChangeError, type ExceptionRecord, type NewException } from '../../src/storage/exceptions.js';
import { RequestChangeError, type NewRequest } from '../../src/storage/requests.js';
import type { Rows, SignalRow } from '../../src/storage/evidence.js';
import { openStorage } from '../../src/storage/open.js';
import { StorageError, type Storage } from '../../src/storage/storage.js';
import { EVIDENCE_MIGRATIONS } from '../../src/storage/sqlite/evidence-schema.js';
import { lastVersion, migrate, SchemaTooNewError } from '../../src/storage/sqlite/migrate.js';
import { tempDir } from '../helpers/daemon-process.js';
import { inTimezone } from '../helpers/timezone.js';
import { TRUST_SCOPE } from '../../src/storage/scope.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const empty = (): Rows => ({ blocked: [], signals: [], accessHourly: [], access: [] });
const blocked = (
  ts: number,
  qname = 'www.facebook.com',
  over: Partial<Rows['blocked'][number]> = {},
): Rows['blocked'][number] => ({
  ts,
  lastTs: over.ts ?? ts,
  count: 1,
  joinMs: 0,
  client: '10.20.1.5',
  device: 'LT-1',
  grp: 'students',
  qname,
  qtype: 'A',
  category: 'facebook',
  entry: 'facebook.com',
  response: 'NXDOMAIN',
  transport: 'udp',
  via: '',
  user: '',
  ...over,
});
const signal = (ts: number, over: Partial<SignalRow> = {}): SignalRow => ({
  ts,
  client: '10.20.1.5',
  device: '',
  grp: 'students',
  kind: 'encrypted-dns',
  severity: 'high',
  qname: 'dns.google',
  domain: 'dns.google',
  detail: 'd',
  user: '',
  count: 1,
  ...over,
});
const exception = (over: Partial<NewException> = {}): NewException => ({
  targetKind: 'group',
  target: 'room-12',
  categories: ['instagram'],
  domains: [],
  startsAt: NOW,
  expiresAt: NOW + HOUR,
  reason: 'Y9 project',
  approvedBy: 'Head',
  ...over,
});
const cli = (at = NOW) => ({ actor: 'ict', ip: 'cli', at, recordedAs: 'ict' });
const all = { since: 0, until: NOW + 365 * DAY, scope: TRUST_SCOPE };

/** Backends under test: each makes a fresh, empty store (and a second handle on the same one). */
const BACKENDS: { name: string; make(): { storage: Storage; again(): Storage; dir: string } }[] = [
  {
    name: 'sqlite',
    make() {
      const dir = tempDir();
      const location = { evidencePath: path.join(dir, 'sub', 'w.db'), accountsPath: path.join(dir, 'sub', 'w-accounts.db') };
      return { storage: openStorage(location, 'write'), again: () => openStorage(location, 'write'), dir };
    },
  },
];

for (const backend of BACKENDS) {
  const t = (name: string, fn: (s: Storage, again: () => Storage) => Promise<void>) =>
    test(`${backend.name}: ${name}`, async () => {
      const { storage, again } = backend.make();
      try {
        await fn(storage, again);
      } finally {
        await storage.close();
      }
    });

  t('signals: same client+kind+domain within 10 minutes of the last one is one row with a count', async (s) => {
    await s.evidence.write({
      ...empty(),
      signals: [signal(NOW), signal(NOW + 60_000), signal(NOW + 9 * 60_000, { device: 'LT-1' })],
    });
    await s.evidence.write({ ...empty(), signals: [signal(NOW + 18 * 60_000)] }); // 9 min after the last: same row
    await s.evidence.write({ ...empty(), signals: [signal(NOW + 29 * 60_000)] }); // 11 min after the last: new row
    await s.evidence.write({
      ...empty(),
      signals: [signal(NOW + 29 * 60_000, { client: '10.20.1.6' }), signal(NOW + 29 * 60_000, { kind: 'vpn-proxy' })],
    });
    const rows = (await s.review.signals(all))
      .map((r) => [r.client, r.kind, r.count, (Date.parse(r.last_seen) - NOW) / 60_000, r.device, Date.parse(r.first_seen) - NOW])
      .sort((x, y) => Number(x[3]) - Number(y[3]) || `${x[0]} ${x[1]}`.localeCompare(`${y[0]} ${y[1]}`));
    assert.equal(rows, [
      ['10.20.1.5', 'encrypted-dns', 4, 18, 'LT-1', 0],
      ['10.20.1.5', 'encrypted-dns', 1, 29, '', 29 * 60_000],
      ['10.20.1.5', 'vpn-proxy', 1, 29, '', 29 * 60_000],
      ['10.20.1.6', 'encrypted-dns', 1, 29, '', 29 * 60_000],
    ]);
  });

  t('access aggregates add up per hour, client and domain', async (s) => {
    const agg = (hour: number, count: number, client = '10.20.1.5') => ({
      hour,
      client,
      device: 'LT-1',
      grp: 'students',
      domain: 'bbc.co.uk',
      count,
      firstTs: hour * HOUR,
      lastTs: hour * HOUR + count,
      user: '',
    });
    const h = Math.floor(NOW / HOUR);
    await s.evidence.write({ ...empty(), accessHourly: [agg(h, 3), agg(h + 1, 1)] });
    await s.evidence.write({ ...empty(), accessHourly: [agg(h, 2), agg(h, 5, '10.20.1.6')] });
    const rows = (await s.review.accessHourly(all)).map((r) => ({ client: r.client, count: r.count, hour: r.hour }));
    assert.equal(
      rows.sort((a, b) => a.hour.localeCompare(b.hour) || a.client.localeCompare(b.client)),
      [
        { client: '10.20.1.5', count: 5, hour: '2026-11-23T12:00Z' },
        { client: '10.20.1.6', count: 5, hour: '2026-11-23T12:00Z' },
        { client: '10.20.1.5', count: 1, hour: '2026-11-23T13:00Z' },
      ],
    );
  });

  t('a failed batch stores nothing, and the store still works afterwards', async (s) => {
    const bad = { ...empty(), blocked: [blocked(NOW), { ...blocked(NOW), qname: null as unknown as string }] };
    let failed = false;
    await s.evidence.write(bad).catch(() => (failed = true));
    assert.ok(failed);
    assert.is((await s.review.blocked(all)).length, 0);
    await s.evidence.write({
      ...empty(),
      blocked: [blocked(NOW)],
      accessHourly: [
        { hour: 1, client: 'c', device: '', grp: 'g', domain: 'd.example', count: 1, firstTs: 1, lastTs: 1, user: '' },
      ],
    });
    assert.is((await s.review.blocked(all)).length, 1);
  });

  t('retention with a fake clock: old rows go, recent rows stay', async (s) => {
    const acc = (ts: number, domain: string) => ({
      hour: Math.floor(ts / HOUR),
      client: '10.20.1.5',
      device: '',
      grp: 'students',
      domain,
      count: 1,
      firstTs: ts,
      lastTs: ts,
      user: '',
    });
    const full = (ts: number) => ({
      ts,
      client: '10.20.1.5',
      device: '',
      grp: 'students',
      qname: 'www.bbc.co.uk',
      qtype: 'A',
      result: 'forwarded',
      user: '',
    });
    await s.evidence.write({
      blocked: [blocked(NOW - 400 * DAY, 'old.facebook.com'), blocked(NOW - 10 * DAY, 'recent.facebook.com')],
      signals: [signal(NOW - 366 * DAY, { domain: 'old.example' }), signal(NOW - 364 * DAY, { domain: 'recent.example' })],
      accessHourly: [acc(NOW - 91 * DAY, 'old.example'), acc(NOW - 89 * DAY, 'recent.example')],
      access: [full(NOW - 91 * DAY), full(NOW - DAY)],
    });
    const result = await s.evidence.purge(NOW, { blocked_days: 365, signals_days: 365, access_days: 90 });
    assert.equal(result, { blocked: 1, signals: 1, accessHourly: 1, access: 1 });
    assert.equal(
      (await s.review.blocked(all)).map((r) => r.qname),
      ['recent.facebook.com'],
    );
    assert.equal(
      (await s.review.signals(all)).map((r) => r.domain),
      ['recent.example'],
    );
    assert.equal(
      (await s.review.accessHourly(all)).map((r) => r.domain),
      ['recent.example'],
    );
    assert.is((await s.review.accessFull(all)).length, 1);
  });

  t('heartbeat for `webfilter status`', async (s) => {
    assert.is(await s.review.heartbeat(), null);
    await s.evidence.heartbeat({
      pid: 42,
      version: '1.2.3',
      startedAt: NOW,
      now: NOW + 5,
      dropped: 7,
      writeErrors: 1,
      components: {},
    });
    await s.evidence.heartbeat({
      pid: 42,
      version: '1.2.3',
      startedAt: NOW,
      now: NOW + 10,
      dropped: 8,
      writeErrors: 1,
      components: { console: { state: 'down', detail: 'x', since: NOW } },
    });
    const h = await s.review.heartbeat();
    assert.equal([h?.pid, h?.version, h?.lastSeen, h?.dropped, h?.components.console.state], [42, '1.2.3', NOW + 10, 8, 'down']);
  });

  t('review filters: group (and "" for no group), category, device, client, limit, newest first', async (s) => {
    await s.evidence.write({
      ...empty(),
      blocked: [
        blocked(NOW - 3000),
        blocked(NOW - 2000, 'x.instagram.com', { category: 'instagram', grp: '', device: '', client: '10.99.0.1' }),
        blocked(NOW - 1000, 'y.facebook.com', { grp: 'staff' }),
      ],
    });
    const names = async (f: object) => (await s.review.blocked({ ...all, ...f })).map((r) => r.qname);
    assert.equal(await names({}), ['y.facebook.com', 'x.instagram.com', 'www.facebook.com']);
    assert.equal(await names({ group: 'students' }), ['www.facebook.com']);
    assert.equal(await names({ group: '' }), ['x.instagram.com']);
    assert.equal(await names({ category: 'instagram' }), ['x.instagram.com']);
    assert.equal(await names({ client: '10.99.0.1' }), ['x.instagram.com']);
    assert.equal(await names({ device: 'LT-1', limit: 1 }), ['y.facebook.com']);
    assert.equal(await names({ since: NOW - 2500, until: NOW - 1500 }), ['x.instagram.com']);
    assert.is((await s.review.blocked(all))[0].time, new Date(NOW - 1000).toISOString());
  });

  t('counts for the overview and the report', async (s) => {
    const h0 = Math.floor(NOW / HOUR) * HOUR;
    await s.evidence.write({
      ...empty(),
      blocked: [
        blocked(h0 + 10),
        blocked(h0 + 20),
        blocked(h0 + HOUR + 5, 'x', { client: '10.20.1.9', device: 'LT-9' }),
        blocked(h0 + 2 * HOUR, 'y', { category: 'instagram' }),
      ],
      signals: [signal(h0 + 30, { count: 3 }), signal(h0 + HOUR + 1, { kind: 'tunnel', domain: 't.example' })],
    });
    const to = h0 + 3 * HOUR;
    assert.equal(await s.review.blockedByGroupCategory(h0, to), [
      { group: 'students', category: 'facebook', count: 3 },
      { group: 'students', category: 'instagram', count: 1 },
    ]);
    assert.equal(await s.review.topBlockedDevices(h0, to, 1), [
      { client: '10.20.1.5', device: 'LT-1', group: 'students', blocked: 3 },
    ]);
    assert.is(await s.review.blockedDeviceCount(h0, to), 2);
    assert.equal(await s.review.blockedPerHour(h0, to), [
      { hour: h0 / HOUR, count: 2 },
      { hour: h0 / HOUR + 1, count: 1 },
      { hour: h0 / HOUR + 2, count: 1 },
    ]);
    assert.equal(await s.review.signalsByKind(h0), [
      { kind: 'encrypted-dns', signals: 1, n: 3, devices: 1 },
      { kind: 'tunnel', signals: 1, n: 1, devices: 1 },
    ]);
    assert.equal(await s.review.activity(h0, HOUR, 2), { blocked: [2, 1], signals: [3, 1] });
    assert.is(await s.review.deviceKnown({ device: 'LT-9' }), true);
    assert.is(await s.review.deviceKnown({ client: '10.20.1.9' }), true);
    // Device search: any part of a name in any case, or the start of an address; LIKE's % and _ are text.
    assert.equal((await s.review.devices('lt', 10)).map((d) => d.device).sort(), ['LT-1', 'LT-9']);
    assert.equal(
      (await s.review.devices('10.20.1.9', 10)).map((d) => [d.device, d.blocked]),
      [['LT-9', 1]],
    );
    assert.equal(await s.review.devices('%', 10), []);
    assert.equal(await s.review.devices('lt_', 10), []);
    const found = await s.review.blocked({ since: h0, until: to, deviceSearch: 'lt-9' });
    assert.equal(
      found.map((b) => b.device),
      ['LT-9'],
    );
    assert.is(await s.review.deviceKnown({ device: 'NOPE-1' }), false);
  });

  t('exceptions: an add or revoke and its audit row are one change; a second revoke is refused', async (s) => {
    const added = await s.exceptions.add(exception(), {
      actor: 'ict.smith',
      ip: '10.0.0.9',
      at: NOW,
      recordedAs: 'ict.smith (console)',
    });
    assert.equal([added.createdBy, added.createdAt, added.revokedAt], ['ict.smith (console)', NOW, null]);
    const revoked = await s.exceptions.revoke(added.id, 'lesson over', cli(NOW + 60_000));
    assert.equal([revoked.revokedBy, revoked.revokeReason], ['ict', 'lesson over']);
    await s.exceptions.revoke(added.id, 'again', cli(NOW + 70_000)).then(
      () => assert.unreachable('revoked twice'),
      (e: unknown) => assert.ok(e instanceof ExceptionChangeError && /already revoked by ict/.test(e.message)),
    );
    await s.exceptions.revoke(999, 'x', cli()).then(
      () => assert.unreachable(),
      (e: unknown) => assert.ok(e instanceof ExceptionChangeError && /no exception with id 999/.test(e.message)),
    );
    const audit = await s.exceptions.auditEntries(all);
    assert.equal(
      audit.map((a) => [a.actor, a.ip, a.action, a.target]),
      [
        ['ict', 'cli', 'exception-revoke', `exception ${added.id}`],
        ['ict.smith', '10.0.0.9', 'exception-add', `exception ${added.id}`],
      ],
    );
    assert.match(audit[1].detail, /^instagram for group room-12 until .*, approved by Head: Y9 project$/);
    assert.equal(
      (await s.exceptions.auditEntries({ ...all, action: 'exception-add' })).map((a) => a.action),
      ['exception-add'],
    );
  });

  t('exceptions: current, all, between and changes since a change number', async (s) => {
    const a = await s.exceptions.add(exception(), cli());
    const b = await s.exceptions.add(exception({ target: 'staff', expiresAt: NOW + 2 * HOUR }), cli());
    const first = await s.exceptions.changesSince(0);
    assert.equal(
      first.changed.map((e) => e.id),
      [a.id, b.id],
    );
    await s.exceptions.revoke(a.id, 'done', cli(NOW + 1));
    const next = await s.exceptions.changesSince(first.last);
    assert.equal(
      next.changed.map((e: ExceptionRecord) => [e.id, e.revokedAt]),
      [[a.id, NOW + 1]],
    );
    assert.equal((await s.exceptions.changesSince(next.last)).changed, []);
    assert.equal(
      (await s.exceptions.current(NOW + 90 * 60_000)).map((e) => e.id),
      [b.id],
    );
    assert.equal(
      (await s.exceptions.all()).map((e) => e.id),
      [b.id, a.id],
    );
    assert.equal(
      (await s.exceptions.between(NOW - HOUR, NOW + HOUR)).map((e) => e.id),
      [a.id, b.id],
    );
  });

  t('exceptions: a subscriber gets the current set at once and each change made elsewhere', async (s, again) => {
    const other = again();
    try {
      const seen: number[][] = [];
      const stop = s.exceptions.subscribe((records) => seen.push(records.map((r) => r.id)));
      const wait = async (n: number) => {
        for (let i = 0; i < 200 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      };
      await wait(1);
      const e = await other.exceptions.add(exception({ expiresAt: Date.now() + HOUR, startsAt: Date.now() }), cli(Date.now()));
      await wait(2);
      await other.accounts.audit({ ts: NOW, actor: 'x', ip: 'cli', action: 'sign-in', target: 'x', detail: '' });
      await other.exceptions.revoke(e.id, 'done', cli(Date.now()));
      await wait(3);
      stop();
      assert.equal(seen, [[], [e.id], []]);
    } finally {
      await other.close();
    }
  });

  t('accounts: a change and its audit row together; names are unique whatever their case', async (s) => {
    const u = await s.accounts.addUser(
      { name: 'Oso.Jones', role: 'reviewer', groups: [], passwordHash: 'h1', createdAt: NOW, createdBy: 'root' },
      { ts: NOW, actor: 'root', ip: 'cli', action: 'user-add', target: 'Oso.Jones', detail: 'role reviewer' },
    );
    assert.equal((await s.accounts.findUser('oso.jones'))?.id, u.id);
    assert.is(await s.accounts.passwordHash(u.id), 'h1');
    await s.accounts
      .addUser(
        { name: 'oso.JONES', role: 'ict', groups: [], passwordHash: 'h2', createdAt: NOW, createdBy: 'root' },
        { ts: NOW, actor: 'root', ip: 'cli', action: 'user-add', target: 'oso.JONES', detail: '' },
      )
      .then(
        () => assert.unreachable('duplicate name'),
        () => undefined,
      );
    await s.accounts.setPasswordHash(u.id, 'h3', NOW + 1, {
      ts: NOW + 1,
      actor: 'root',
      ip: 'cli',
      action: 'user-passwd',
      target: u.name,
      detail: '',
    });
    await s.accounts.disableUser(u.id, 'root', NOW + 2, {
      ts: NOW + 2,
      actor: 'root',
      ip: 'cli',
      action: 'user-disable',
      target: u.name,
      detail: '',
    });
    const after = await s.accounts.userById(u.id);
    assert.equal([after?.passwordChangedAt, after?.disabledAt, after?.disabledBy], [NOW + 1, NOW + 2, 'root']);
    assert.is(await s.accounts.passwordHash(u.id), 'h3');
    assert.equal(
      (await s.accounts.auditEntries(all)).map((a) => a.action),
      ['user-disable', 'user-passwd', 'user-add'],
    );
    assert.equal(
      (await s.accounts.listUsers()).map((x) => x.name),
      ['Oso.Jones'],
    );
  });

  t('accounts: a teacher keeps their groups, and a change of them is audited with it', async (s) => {
    const u = await s.accounts.addUser(
      { name: 't.smith', role: 'teacher', groups: ['room-12', 'y9-media'], passwordHash: 'h', createdAt: NOW, createdBy: 'root' },
      { ts: NOW, actor: 'root', ip: 'cli', action: 'user-add', target: 't.smith', detail: '' },
    );
    assert.equal(u.groups, ['room-12', 'y9-media']);
    await s.accounts.setGroups(u.id, ['room-14'], {
      ts: NOW + 1,
      actor: 'root',
      ip: 'cli',
      action: 'user-groups',
      target: 't.smith',
      detail: 'groups room-14',
    });
    assert.equal((await s.accounts.findUser('t.smith'))?.groups, ['room-14']);
    assert.equal(
      (await s.accounts.auditEntries(all)).map((a) => a.action),
      ['user-groups', 'user-add'],
    );
  });

  const request = (over: Partial<NewRequest> = {}): NewRequest => ({
    group: 'room-12',
    categories: ['instagram'],
    startsAt: null,
    expiresAt: NOW + HOUR,
    lesson: '12:00-13:00 on Mon 23 Nov',
    reason: 'Y9 media project',
    requestedBy: 't.smith',
    ...over,
  });
  const teacher = (at = NOW) => ({ actor: 't.smith', ip: '10.0.0.5', at, recordedAs: 't.smith (console)' });
  const head = (at = NOW) => ({ actor: 'head.patel', ip: '10.0.0.9', at, recordedAs: 'head.patel (console)' });

  t('requests: asked, then approved into an exception linked both ways, each with its audit row', async (s) => {
    const { request: r, exception: none } = await s.requests.add(request(), teacher());
    assert.is(none, null);
    assert.equal([r.state, r.requestedBy, r.requestedAt, r.startsAt, r.exceptionId], ['pending', 't.smith', NOW, null, null]);
    const { request: a, exception: e } = await s.requests.approve(
      r.id,
      {
        exception: exception({ startsAt: NOW + 60_000, approvedBy: 'head.patel' }),
        note: 'this lesson only',
        decidedBy: 'head.patel',
      },
      head(NOW + 60_000),
    );
    assert.equal(
      [a.state, a.decidedBy, a.decidedAt, a.note, a.exceptionId],
      ['approved', 'head.patel', NOW + 60_000, 'this lesson only', e.id],
    );
    assert.equal(
      [e.requestId, e.requestedBy, e.approvedBy, e.createdBy],
      [r.id, 't.smith', 'head.patel', 'head.patel (console)'],
    );
    assert.equal(
      (await s.exceptions.current(NOW + 60_000)).map((x) => x.requestId),
      [r.id],
      'the policy sees it',
    );
    const audit = (await s.requests.auditEntries(all)).reverse();
    assert.equal(
      audit.map((x) => [x.action, x.actor, x.ip, x.target]),
      [
        ['request-add', 't.smith', '10.0.0.5', `request ${r.id}`],
        ['request-approve', 'head.patel', '10.0.0.9', `request ${r.id}`],
      ],
    );
    assert.match(audit[1].detail, new RegExp(`→ exception ${e.id}; note: this lesson only$`));
    assert.equal(
      (await s.exceptions.auditEntries(all)).map((x) => [x.action, x.actor, x.target]),
      [['exception-add', 'head.patel', `exception ${e.id}`]],
    );
    // Said in the config's timezone, as every time the CLI and the console show.
    await inTimezone('Europe/London', () =>
      s.requests.approve(r.id, { exception: exception(), note: '', decidedBy: 'x' }, head()).then(
        () => assert.unreachable('approved twice'),
        (err: unknown) => {
          assert.ok(err instanceof RequestChangeError);
          assert.match(String(err), /already approved by head\.patel at Mon, 23 Nov 2026, 12:01:00 GMT$/);
        },
      ),
    );
    assert.is((await s.exceptions.all()).length, 1, 'no second exception');
  });

  t('requests: declined with a note; nothing opened; cannot then be approved', async (s) => {
    const { request: r } = await s.requests.add(request(), teacher());
    const d = await s.requests.decline(r.id, 'use the school account', head(NOW + 1));
    assert.equal([d.state, d.decidedBy, d.note], ['declined', 'head.patel', 'use the school account']);
    await s.requests.approve(r.id, { exception: exception(), note: '', decidedBy: 'head.patel' }, head(NOW + 2)).then(
      () => assert.unreachable(),
      (err: unknown) => assert.ok(err instanceof RequestChangeError),
    );
    assert.equal(await s.exceptions.all(), []);
    assert.equal(
      (await s.requests.auditEntries({ ...all, action: 'request-decline' })).map((x) => x.detail),
      ['use the school account'],
    );
  });

  t(
    'requests: a pending one expires at its start (or, for now, its end), recorded at that time; late approval refused',
    async (s) => {
      const later = (await s.requests.add(request({ startsAt: NOW + HOUR, expiresAt: NOW + 2 * HOUR }), teacher())).request;
      const now = (await s.requests.add(request({ expiresAt: NOW + 30 * 60_000 }), teacher())).request;
      assert.equal(await s.requests.expireDue(NOW + 30 * 60_000 - 1), []);
      assert.equal(
        (await s.requests.expireDue(NOW + 30 * 60_000)).map((r) => [r.id, r.state, r.decidedAt]),
        [[now.id, 'expired', NOW + 30 * 60_000]],
      );
      await inTimezone('Europe/London', () =>
        s.requests.approve(later.id, { exception: exception(), note: '', decidedBy: 'h' }, head(NOW + HOUR)).then(
          () => assert.unreachable('approved after its start'),
          (err: unknown) =>
            assert.match(String(err), /can no longer be approved: its start \(Mon, 23 Nov 2026, 13:00:00 GMT\) has passed/),
        ),
      );
      assert.equal(
        (await s.requests.expireDue(NOW + 3 * HOUR)).map((r) => [r.id, r.decidedAt]),
        [[later.id, NOW + HOUR]],
      );
      assert.equal(await s.requests.expireDue(NOW + 4 * HOUR), [], 'once');
      const audit = await s.requests.auditEntries({ ...all, action: 'request-expire' });
      assert.equal(
        audit.map((x) => [x.target, x.actor, x.ip, x.time]),
        [
          [`request ${later.id}`, 'webfilter', 'daemon', new Date(NOW + HOUR).toISOString()],
          [`request ${now.id}`, 'webfilter', 'daemon', new Date(NOW + 30 * 60_000).toISOString()],
        ],
      );
      assert.match(audit[0].detail, /^its start passed while it was pending/);
      assert.equal(await s.exceptions.all(), []);
    },
  );

  t('requests: a standing permission approves in the same transaction, recorded as the standing permission', async (s) => {
    const by = { actor: 'requests.auto_approve', ip: '10.0.0.5', at: NOW, recordedAs: 'requests.auto_approve' };
    const { request: r, exception: e } = await s.requests.add(
      request({ group: 'sixth-form', categories: ['youtube'] }),
      teacher(),
      {
        approval: {
          exception: exception({ target: 'sixth-form', categories: ['youtube'], approvedBy: 'standing' }),
          note: '',
          decidedBy: 'standing',
        },
        by,
      },
    );
    assert.equal(
      [r.state, r.decidedBy, r.exceptionId, e?.requestedBy, e?.createdBy],
      ['approved', 'standing', e?.id, 't.smith', 'requests.auto_approve'],
    );
    assert.equal((await s.requests.auditEntries(all)).map((x) => [x.action, x.actor]).reverse(), [
      ['request-add', 't.smith'],
      ['request-approve', 'requests.auto_approve'],
    ]);
  });

  t('requests: listed newest first by who asked and state; approvers are told once', async (s) => {
    const a = (await s.requests.add(request(), teacher())).request;
    const b = (await s.requests.add(request({ requestedBy: 'j.jones' }), { ...teacher(), actor: 'j.jones' })).request;
    assert.equal(
      (await s.requests.list({})).map((r) => r.id),
      [b.id, a.id],
    );
    assert.equal(
      (await s.requests.list({ requestedBy: 't.smith' })).map((r) => r.id),
      [a.id],
    );
    await s.requests.decline(b.id, '', head());
    assert.equal(
      (await s.requests.list({ state: 'pending' })).map((r) => r.id),
      [a.id],
    );
    assert.equal(
      (await s.requests.unnotified()).map((r) => r.id),
      [a.id],
    );
    await s.requests.markNotified([a.id], NOW);
    assert.equal(await s.requests.unnotified(), []);
  });
}

// What is particular to the SQLite files.

function sqliteFile() {
  const dir = tempDir();
  const file = path.join(dir, 'sub', 'w.db');
  return {
    file,
    open: (access: 'write' | 'read-only' = 'write') =>
      openStorage({ evidencePath: file, accountsPath: path.join(dir, 'sub', 'a.db') }, access),
  };
}

test('sqlite: a new file is 0640 (personal data), in WAL mode, at the current schema version', async () => {
  const { file, open } = sqliteFile();
  const s = open();
  await s.open();
  await s.close();
  assert.is(statSync(file).mode & 0o777, 0o640);
  const db = new Database(file, { readonly: true });
  assert.is(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.is(db.pragma('user_version', { simple: true }), lastVersion(EVIDENCE_MIGRATIONS));
  assert.is(db.pragma('auto_vacuum', { simple: true }), 2, 'incremental');
  db.close();
});

test('sqlite: an older database is upgraded in place, its rows kept; a newer one is refused', async () => {
  const { file, open } = sqliteFile();
  const s = open();
  await s.evidence.write({ ...empty(), blocked: [blocked(NOW)] });
  await s.close();
  const latest = lastVersion(EVIDENCE_MIGRATIONS);
  const db = new Database(file);
  const next = [
    ...EVIDENCE_MIGRATIONS,
    { version: latest + 1, sql: "ALTER TABLE blocked ADD COLUMN note TEXT NOT NULL DEFAULT ''" },
  ];
  assert.equal(migrate(db, next), { from: latest, to: latest + 1 });
  assert.equal(db.prepare('SELECT qname, note FROM blocked').all(), [{ qname: 'www.facebook.com', note: '' }]);
  db.close();
  for (const access of ['write', 'read-only'] as const) {
    await open(access)
      .open()
      .then(
        () => assert.unreachable(access),
        (e: unknown) =>
          assert.ok(e instanceof SchemaTooNewError && /newer than this webfilter/.test((e as Error).message), access),
      );
  }
});

test('sqlite: read-only refuses a missing file and an older schema, saying what to do', async () => {
  const { file, open } = sqliteFile();
  await open('read-only')
    .open()
    .then(
      () => assert.unreachable(),
      (e: unknown) =>
        assert.ok(e instanceof StorageError && /no database at .* yet: the daemon creates it/.test((e as Error).message)),
    );
  const w = open();
  await w.open();
  await w.close();
  const db = new Database(file);
  db.pragma('user_version = 3');
  db.close();
  await open('read-only')
    .open()
    .then(
      () => assert.unreachable(),
      (e: unknown) =>
        assert.ok(e instanceof StorageError && /older than this webfilter .*start the daemon once/.test((e as Error).message)),
    );
});

test('sqlite: version 3 → 4: blocked rows gain an empty via; the view shows it; new rows keep their chain', async () => {
  const { file, open } = sqliteFile();
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const db = new Database(file);
  migrate(
    db,
    EVIDENCE_MIGRATIONS.filter((m) => m.version <= 3),
  );
  db.prepare(
    `INSERT INTO blocked (ts, client, grp, qname, qtype, category, entry, response, transport)
     VALUES (1, '10.20.1.5', 'students', 'old.facebook.com', 'A', 'facebook', 'facebook.com', 'NXDOMAIN', 'udp')`,
  ).run();
  db.close();
  const s = open();
  await s.evidence.write({
    ...empty(),
    blocked: [{ ...blocked(NOW, 'cloak.example'), via: 'cloak.example → www.facebook.com' }],
  });
  await s.close();
  const check = new Database(file, { readonly: true });
  assert.equal(check.prepare('SELECT qname, via FROM v_blocked ORDER BY time').all(), [
    { qname: 'old.facebook.com', via: '' },
    { qname: 'cloak.example', via: 'cloak.example → www.facebook.com' },
  ]);
  check.close();
});

test('sqlite: version 4 → 5: exception audit rows from before keep no address and are not shown twice', async () => {
  const { file, open } = sqliteFile();
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  migrate(
    db,
    EVIDENCE_MIGRATIONS.filter((m) => m.version <= 4),
  );
  db.exec(`INSERT INTO exceptions (target_kind, target, categories, domains, starts_at, expires_at, reason, approved_by, created_by, created_at)
           VALUES ('group', 'g', '["c"]', '[]', 1, 2, 'r', 'a', 'old', 1);
           INSERT INTO exception_audit (ts, exception_id, action, actor, detail) VALUES (1, 1, 'added', 'old', 'd');`);
  db.close();
  const s = open();
  assert.equal(await s.exceptions.auditEntries({ since: 0, until: NOW, scope: TRUST_SCOPE }), []);
  await s.exceptions.add(exception(), cli());
  assert.is((await s.exceptions.auditEntries({ since: 0, until: NOW + 1, scope: TRUST_SCOPE })).length, 1);
  await s.close();
});

test('sqlite: version 6 → 7: accounts keep their ids and roles and gain empty groups; exceptions gain no request', async () => {
  const { file, open } = sqliteFile();
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  migrate(
    db,
    EVIDENCE_MIGRATIONS.filter((m) => m.version <= 6),
  );
  db.exec(`INSERT INTO users (id, name, role, password_hash, created_at, created_by, password_changed_at)
           VALUES (7, 'oso.jones', 'reviewer', 'h', 1, 'root', 1);
           INSERT INTO exceptions (target_kind, target, categories, domains, starts_at, expires_at, reason, approved_by, created_by, created_at)
           VALUES ('group', 'g', '["c"]', '[]', 1, 2, 'r', 'a', 'old', 1);`);
  db.close();
  const s = open();
  const u = await s.accounts.findUser('OSO.JONES');
  assert.equal([u?.id, u?.role, u?.groups], [7, 'reviewer', []], 'names still unique whatever their case');
  assert.equal(
    (await s.exceptions.all()).map((e) => [e.requestId, e.requestedBy]),
    [[null, null]],
  );
  await s.accounts
    .addUser(
      { name: 'x', role: 'nobody' as 'ict', groups: [], passwordHash: 'h', createdAt: 1, createdBy: 'r' },
      { ts: 1, actor: 'r', ip: 'cli', action: 'user-add', target: 'x', detail: '' },
    )
    .then(
      () => assert.unreachable('an unknown role is refused by the table too'),
      (e: unknown) => assert.match(String(e), /CHECK constraint failed/),
    );
  await s.close();
});

test.run();
