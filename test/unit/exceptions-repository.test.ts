/**
 * The exceptions repository, run against both backends: the embedded SQLite store and the shared
 * PostgreSQL store (a real, throwaway PostgreSQL 15 cluster: test/helpers/postgres.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import {
  ExceptionChangeError,
  type ExceptionRecord,
  type ExceptionsRepository,
  type NewException,
} from '../../src/storage/exceptions.js';
import { openStorage } from '../../src/storage/open.js';
import { PostgresShared } from '../../src/storage/postgres/postgres-shared.js';
import { PG_LATEST, PG_MIGRATIONS } from '../../src/storage/postgres/schema.js';
import { postgresSchema } from '../../src/config/shared-schema.js';
import { tempDir } from '../helpers/daemon-process.js';
import { inTimezone } from '../helpers/timezone.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { until } from '../helpers/wait.js';
import { TRUST_SCOPE } from '../../src/storage/scope.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
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
const all = { since: 0, until: NOW + 365 * 86_400_000, scope: TRUST_SCOPE };

let pg: PgCluster | null = null;
let dbs = 0;

interface Handle {
  exceptions: ExceptionsRepository;
  close(): Promise<void>;
}

/** Each backend makes a fresh, empty store and can open a second handle on the same one (another process). */
const BACKENDS: { name: string; make(): Promise<{ first: Handle; again(): Handle }> }[] = [
  {
    name: 'sqlite',
    async make() {
      const dir = tempDir();
      const location = { evidencePath: path.join(dir, 'w.db'), accountsPath: path.join(dir, 'w-accounts.db') };
      const open = () => openStorage(location, 'write');
      return { first: open(), again: open };
    },
  },
  {
    name: 'postgres',
    async make() {
      pg ??= await startPostgres();
      const url = await pg.createDatabase(`repo${++dbs}`);
      const open = (site = 'carres-grammar', node = 'dns1') =>
        new PostgresShared({ site, node, postgres: postgresSchema.parse({ url }), urlFile: null });
      const first = open();
      await first.migrate();
      return { first, again: () => open('carres-grammar', 'dns2') };
    },
  },
];

test.after(async () => {
  await pg?.destroy();
});

for (const backend of BACKENDS) {
  const t = (name: string, fn: (s: ExceptionsRepository, again: () => Handle) => Promise<void>) =>
    test(`${backend.name}: ${name}`, async () => {
      const { first, again } = await backend.make();
      try {
        await fn(first.exceptions, again);
      } finally {
        await first.close();
      }
    });

  t('an add or revoke and its audit row are one change; a second revoke is refused', async (s) => {
    const added = await s.add(exception(), { actor: 'ict.smith', ip: '10.0.0.9', at: NOW, recordedAs: 'ict.smith (console)' });
    assert.equal(
      [added.createdBy, added.createdAt, added.revokedAt, added.startsAt, added.expiresAt],
      ['ict.smith (console)', NOW, null, NOW, NOW + HOUR],
    );
    const revoked = await s.revoke(added.id, 'lesson over', cli(NOW + 60_000));
    assert.equal([revoked.revokedBy, revoked.revokeReason, revoked.revokedAt], ['ict', 'lesson over', NOW + 60_000]);
    // When, in the config's timezone (the CLI and the console show this message), not ISO UTC.
    await inTimezone('Europe/London', () =>
      s.revoke(added.id, 'again', cli(NOW + 70_000)).then(
        () => assert.unreachable('revoked twice'),
        (e: unknown) => {
          assert.ok(e instanceof ExceptionChangeError);
          assert.match(e.message, /^exception \d+ was already revoked by ict at Mon, 23 Nov 2026, 12:01:00 GMT$/);
        },
      ),
    );
    await s.revoke(999, 'x', cli()).then(
      () => assert.unreachable(),
      (e: unknown) => assert.ok(e instanceof ExceptionChangeError && /no exception with id 999/.test(e.message)),
    );
    const audit = await s.auditEntries(all);
    assert.equal(
      audit.map((a) => [a.actor, a.ip, a.action, a.target]),
      [
        ['ict', 'cli', 'exception-revoke', `exception ${added.id}`],
        ['ict.smith', '10.0.0.9', 'exception-add', `exception ${added.id}`],
      ],
    );
    assert.match(audit[1].detail, /^instagram for group room-12 until .*, approved by Head: Y9 project$/);
    assert.equal(
      (await s.auditEntries({ ...all, action: 'exception-add' })).map((a) => a.action),
      ['exception-add'],
    );
    assert.equal((await s.auditEntries({ ...all, actor: 'nobody' })).length, 0);
  });

  t('current, all, between and changes since a change number', async (s) => {
    const a = await s.add(exception({ domains: ['youtube.com'], categories: [] }), cli());
    const b = await s.add(exception({ target: 'staff', expiresAt: NOW + 2 * HOUR }), cli());
    const first = await s.changesSince(0);
    assert.equal(
      first.changed.map((e) => e.id),
      [a.id, b.id],
    );
    assert.equal(first.changed[0].domains, ['youtube.com']);
    await s.revoke(a.id, 'done', cli(NOW + 1));
    const next = await s.changesSince(first.last);
    assert.equal(
      next.changed.map((e: ExceptionRecord) => [e.id, e.revokedAt]),
      [[a.id, NOW + 1]],
    );
    assert.equal((await s.changesSince(next.last)).changed, []);
    assert.equal(
      (await s.current(NOW + 90 * 60_000)).map((e) => e.id),
      [b.id],
    );
    assert.equal(
      (await s.current(NOW + 2 * HOUR)).map((e) => e.id),
      [],
      'expired at its exact time',
    );
    assert.equal(
      (await s.all()).map((e) => e.id),
      [b.id, a.id],
    );
    assert.equal(
      (await s.between(NOW - HOUR, NOW + HOUR)).map((e) => e.id),
      [a.id, b.id],
    );
  });

  t('a subscriber gets the current set at once and each change made elsewhere', async (s, again) => {
    const other = again();
    const seen: number[][] = [];
    const stop = s.subscribe((records) => seen.push(records.map((r) => r.id)));
    try {
      await until(() => seen.length >= 1, 'the first delivery');
      const e = await other.exceptions.add(exception({ expiresAt: Date.now() + HOUR, startsAt: Date.now() }), cli(Date.now()));
      await until(() => seen.length >= 2, 'the add delivered');
      await other.exceptions.revoke(e.id, 'done', cli(Date.now()));
      await until(() => seen.length >= 3, 'the revoke delivered');
      assert.equal(seen, [[], [e.id], []]);
    } finally {
      stop();
      await other.close();
    }
  });
}

test('postgres: each site sees only its own exceptions; a pushed exception keeps its times and audit, once', async () => {
  pg ??= await startPostgres();
  const url = await pg.createDatabase('sites');
  const open = (site: string, node: string) =>
    new PostgresShared({ site, node, postgres: postgresSchema.parse({ url }), urlFile: null });
  const a = open('carres-grammar', 'dns1');
  const b = open('kshs', 'dns1');
  try {
    await a.migrate();
    const ea = await a.exceptions.add(exception(), cli());
    await b.exceptions.add(exception({ target: 'staff' }), cli());
    assert.equal(
      (await a.exceptions.all()).map((e) => e.target),
      ['room-12'],
    );
    assert.equal(
      (await b.exceptions.all()).map((e) => e.target),
      ['staff'],
    );
    await b.exceptions.revoke(ea.id, 'not yours', cli()).then(
      () => assert.unreachable('revoked another site’s exception'),
      (e: unknown) => assert.ok(e instanceof ExceptionChangeError),
    );
    const local: ExceptionRecord = {
      ...exception({ target: 'room-7' }),
      id: 3,
      createdBy: 'ict.jones',
      createdAt: NOW - 5000,
      revokedAt: null,
      revokedBy: null,
      revokeReason: null,
      requestId: null,
      requestedBy: null,
    };
    const audit = [{ ts: NOW - 5000, action: 'added' as const, actor: 'ict.jones', ip: 'cli', detail: 'room-7 (local)' }];
    const pushed = await a.exceptions.push(local, audit, 'dns1/3');
    const again = await a.exceptions.push(local, audit, 'dns1/3');
    assert.is(again.id, pushed.id, 'the same push twice stores it once');
    assert.equal(
      [pushed.createdAt, pushed.createdBy, pushed.startsAt, pushed.expiresAt],
      [NOW - 5000, 'ict.jones', NOW, NOW + HOUR],
    );
    assert.equal(
      (await a.exceptions.auditEntries(all)).filter((x) => x.target === `exception ${pushed.id}`).map((x) => [x.time, x.actor]),
      [[new Date(NOW - 5000).toISOString(), 'ict.jones']],
    );
    const status = await a.status();
    assert.equal([status.connected, status.schemaVersion, status.codeSchemaVersion], [true, PG_LATEST, PG_LATEST]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('postgres: migrations apply once from several filters at once, and a newer store is refused', async () => {
  pg ??= await startPostgres();
  const url = await pg.createDatabase('migrations');
  const stores = [1, 2, 3].map(
    (n) => new PostgresShared({ site: 's', node: `n${n}`, postgres: postgresSchema.parse({ url }), urlFile: null }),
  );
  try {
    const results = await Promise.all(stores.map((s) => s.migrate()));
    assert.equal(
      results.map((r) => r.to),
      [PG_LATEST, PG_LATEST, PG_LATEST],
    );
    assert.equal(
      [...(await pg.query('SELECT version FROM webfilter_schema', 'migrations'))]
        .map((r) => Number(r.version))
        .sort((x, y) => x - y),
      PG_MIGRATIONS.map((m) => m.version),
    );
    await pg.query('INSERT INTO webfilter_schema (version) VALUES (99)', 'migrations');
    await stores[0].migrate().then(
      () => assert.unreachable('migrated a newer store'),
      (e: Error) =>
        assert.match(
          e.message,
          new RegExp(`schema version 99, newer than this webfilter understands \\(${PG_LATEST}\\): upgrade webfilter`),
        ),
    );
  } finally {
    for (const s of stores) await s.close();
  }
});

test.run();
