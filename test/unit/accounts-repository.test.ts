/**
 * The accounts repository (accounts, their scope, the access audit) run against both backends: a
 * single box's SQLite accounts file and the shared PostgreSQL store of filters that share one (a
 * real, throwaway PostgreSQL 15 cluster: test/helpers/postgres.ts), through openStorage as the
 * daemon and the CLI open them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { SessionStore } from '../../src/console/sessions.js';
import type { AuditRow, NewUser } from '../../src/storage/accounts.js';
import { openStorage } from '../../src/storage/open.js';
import { sitesScope, TRUST_SCOPE } from '../../src/storage/scope.js';
import { StorageError, type Storage } from '../../src/storage/storage.js';
import { tempDir } from '../helpers/daemon-process.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { sharedStores } from '../helpers/shared-storage.js';

const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);
const all = { since: 0, until: NOW + 86_400_000, scope: TRUST_SCOPE };
const row = (action: string, target: string, ts = NOW, detail = ''): AuditRow => ({
  ts,
  actor: 'root',
  ip: 'cli',
  action,
  target,
  detail,
});
const user = (over: Partial<NewUser> = {}): NewUser => ({
  name: 'Oso.Jones',
  role: 'reviewer',
  groups: [],
  passwordHash: 'h1',
  createdAt: NOW,
  createdBy: 'root',
  ...over,
});

let pg: PgCluster | null = null;
let dbs = 0;

/** Each backend makes a fresh store; `other` is a second filter's handle on the same one (another site on PostgreSQL). */
const BACKENDS: { name: string; make(): Promise<{ s: Storage; other(): Promise<Storage> }> }[] = [
  {
    name: 'sqlite',
    async make() {
      const dir = tempDir();
      const location = { evidencePath: path.join(dir, 'w.db'), accountsPath: path.join(dir, 'w-accounts.db') };
      return { s: openStorage(location, 'write'), other: async () => openStorage(location, 'write') };
    },
  },
  {
    name: 'postgres',
    async make() {
      pg ??= await startPostgres();
      const url = await pg.createDatabase(`acc${++dbs}`);
      const dir = tempDir();
      const open = sharedStores(url, dir);
      return { s: await open('carres-grammar', 'dns1'), other: () => open('kshs', 'dns1') };
    },
  },
];

test.after(async () => {
  await pg?.destroy();
});

for (const backend of BACKENDS) {
  const t = (name: string, fn: (s: Storage, other: () => Promise<Storage>) => Promise<void>) =>
    test(`${backend.name}: ${name}`, async () => {
      const { s, other } = await backend.make();
      try {
        await fn(s, other);
      } finally {
        await s.close();
      }
    });

  t('add, find (any case), password, disable, list: each change with its audit row; a name is taken once', async (s) => {
    const u = await s.accounts.addUser(user(), row('user-add', 'Oso.Jones'));
    assert.equal(
      [u.name, u.role, u.groups, u.createdAt, u.passwordChangedAt, u.disabledAt],
      ['Oso.Jones', 'reviewer', [], NOW, NOW, null],
    );
    assert.equal((await s.accounts.findUser('oso.jones'))?.id, u.id);
    assert.equal(await s.accounts.userById(u.id), u);
    assert.is(await s.accounts.findUser('nobody'), null);
    assert.is(await s.accounts.passwordHash(u.id), 'h1');
    await s.accounts.addUser(user({ name: 'oso.JONES', role: 'ict' }), row('user-add', 'oso.JONES')).then(
      () => assert.unreachable('duplicate name'),
      (e: unknown) => assert.ok(e instanceof Error),
    );
    await s.accounts.setPasswordHash(u.id, 'h3', NOW + 1, row('user-passwd', u.name, NOW + 1));
    await s.accounts.disableUser(u.id, 'root', NOW + 2, row('user-disable', u.name, NOW + 2));
    const after = await s.accounts.userById(u.id);
    assert.equal([after?.passwordChangedAt, after?.disabledAt, after?.disabledBy], [NOW + 1, NOW + 2, 'root']);
    assert.is(await s.accounts.passwordHash(u.id), 'h3');
    await s.accounts.addUser(user({ name: 'ict.adams', role: 'ict' }), row('user-add', 'ict.adams', NOW + 3));
    assert.equal(
      (await s.accounts.listUsers()).map((x) => x.name),
      ['ict.adams', 'Oso.Jones'],
    );
    assert.equal(
      (await s.accounts.auditEntries(all)).map((a) => [a.action, a.target]),
      [
        ['user-add', 'ict.adams'],
        ['user-disable', 'Oso.Jones'],
        ['user-passwd', 'Oso.Jones'],
        ['user-add', 'Oso.Jones'],
      ],
    );
  });

  t('a teacher keeps their groups; a change of them is audited with it', async (s) => {
    const u = await s.accounts.addUser(
      user({ name: 't.smith', role: 'teacher', groups: ['room-12', 'y9-media'] }),
      row('user-add', 't.smith'),
    );
    assert.equal(u.groups, ['room-12', 'y9-media']);
    await s.accounts.setGroups(u.id, ['room-14'], row('user-groups', 't.smith', NOW + 1, 'groups room-14'));
    assert.equal((await s.accounts.findUser('t.smith'))?.groups, ['room-14']);
    assert.equal(
      (await s.accounts.auditEntries({ ...all, action: 'user-groups' })).map((a) => a.detail),
      ['groups room-14'],
    );
  });

  t('the access audit: filtered by period, actor and action, newest first, limited', async (s) => {
    for (let i = 0; i < 5; i++)
      await s.accounts.audit({ ...row(i % 2 ? 'view-device' : 'sign-in', `d${i}`, NOW + i), actor: `u${i % 2}` });
    assert.equal(
      (await s.accounts.auditEntries(all)).map((a) => a.target),
      ['d4', 'd3', 'd2', 'd1', 'd0'],
    );
    assert.equal(
      (await s.accounts.auditEntries({ ...all, actor: 'u1' })).map((a) => a.target),
      ['d3', 'd1'],
    );
    assert.equal(
      (await s.accounts.auditEntries({ ...all, action: 'sign-in', limit: 2 })).map((a) => a.target),
      ['d4', 'd2'],
    );
    assert.equal(
      (await s.accounts.auditEntries({ since: NOW + 1, until: NOW + 3, scope: TRUST_SCOPE })).map((a) => a.target),
      ['d2', 'd1'],
    );
    assert.is((await s.accounts.auditEntries(all))[0].time, new Date(NOW + 4).toISOString());
  });

  if (backend.name === 'sqlite')
    t('scope: a single box’s accounts all see its whole store; a site scope is refused, saying why', async (s) => {
      const u = await s.accounts.addUser(user(), row('user-add', 'Oso.Jones'));
      assert.equal(u.scope, TRUST_SCOPE);
      await s.accounts.setScope(u.id, sitesScope(['kshs']), row('user-scope', u.name)).then(
        () => assert.unreachable('scoped on a single box'),
        (e: unknown) => assert.ok(e instanceof StorageError && /share a store \(set shared\)/.test(e.message), String(e)),
      );
      assert.equal((await s.accounts.findUser('oso.jones'))?.scope, TRUST_SCOPE);
      assert.is(s.signIns, undefined, 'a single box’s console counts failed sign-ins in memory');
    });
  else {
    t('scope: stored with the account, seen by every site’s filter, changed with its audit row', async (s, other) => {
      const b = await other();
      try {
        const u = await s.accounts.addUser(user({ scope: sitesScope(['kshs', 'carres-grammar']) }), row('user-add', 'Oso.Jones'));
        assert.equal(u.scope, { kind: 'sites', sites: ['carres-grammar', 'kshs'] });
        await s.accounts.addUser(user({ name: 'trust.dsl', scope: TRUST_SCOPE }), row('user-add', 'trust.dsl'));
        assert.equal((await b.accounts.findUser('OSO.JONES'))?.scope, u.scope, 'the other site’s filter sees the same account');
        assert.equal((await b.accounts.findUser('trust.dsl'))?.scope, TRUST_SCOPE);
        await b.accounts.setScope(u.id, sitesScope(['kshs']), row('user-scope', u.name, NOW + 1, 'site kshs'));
        assert.equal((await s.accounts.userById(u.id))?.scope, sitesScope(['kshs']));
        await s.accounts.setScope(u.id, TRUST_SCOPE, row('user-scope', u.name, NOW + 2, 'the whole trust'));
        assert.equal((await b.accounts.userById(u.id))?.scope, TRUST_SCOPE);
        assert.equal(
          (await s.accounts.auditEntries({ ...all, action: 'user-scope' })).map((a) => a.detail),
          ['the whole trust', 'site kshs'],
        );
        // Each filter's audit rows carry its site: a scoped read sees only its sites'.
        assert.equal(
          (await s.accounts.auditEntries({ ...all, action: 'user-scope', scope: sitesScope(['kshs']) })).map((a) => a.detail),
          ['site kshs'],
        );
        assert.equal((await b.accounts.auditEntries({ ...all, scope: sitesScope(['nowhere']) })).length, 0);
      } finally {
        await b.close();
      }
    });

    t(
      'sessions: made at one filter, valid at another; sign-out, a disabled account or a new password ends them everywhere',
      async (s, other) => {
        const b = await other();
        const limits = { idleMs: 3_600_000, absoluteMs: 8 * 3_600_000 };
        const atA = new SessionStore(limits, s.sessions);
        const atB = new SessionStore(limits, b.sessions);
        try {
          assert.ok(s.sessions && b.sessions, 'shared filters keep sessions in the store');
          const u = await s.accounts.addUser(user(), row('user-add', 'Oso.Jones'));
          const one = await atA.create(u.id, u.name, u.role, NOW);
          const seen = await atB.get(one.token, NOW + 1000);
          assert.equal([seen?.userId, seen?.user, seen?.csrf], [u.id, 'Oso.Jones', one.session.csrf]);
          assert.is(await atB.get('forged', NOW + 1000), null);
          await atA.end(one.token);
          assert.is(await atB.get(one.token, NOW + 2000), null, 'signed out at A: gone at B');
          const two = await atA.create(u.id, u.name, u.role, NOW);
          await b.accounts.setPasswordHash(u.id, 'h2', NOW + 10, row('user-passwd', u.name, NOW + 10));
          assert.is(await atA.get(two.token, NOW + 20), null, 'a new password ends its sessions');
          const three = await atB.create(u.id, u.name, u.role, NOW + 30);
          await s.accounts.disableUser(u.id, 'root', NOW + 40, row('user-disable', u.name, NOW + 40));
          assert.is(await atA.get(three.token, NOW + 50), null, 'a disabled account’s sessions end');
          const four = await atA.create(u.id, u.name, u.role, NOW + 60);
          await pg!.query(`UPDATE console_sessions SET last_seen = last_seen - ${limits.idleMs + 1000}`, `acc${dbs}`);
          assert.is(await atB.get(four.token, NOW + 60), null, 'idle too long, at any filter');
          const rows = await pg!.query<{ token_hash: string }>('SELECT token_hash FROM console_sessions', `acc${dbs}`);
          assert.not.ok(
            rows.some((r) => [one, two, three, four].some((x) => r.token_hash === x.token)),
            'only hashes of tokens are stored',
          );
        } finally {
          await b.close();
        }
      },
    );

    t('failed sign-ins: one count for the trust, seen by every filter, timed by PostgreSQL’s clock', async (s, other) => {
      const b = await other();
      const db = `acc${dbs}`;
      const limits = { perAccount: 5, perIp: 20, windowMs: 15 * 60_000 };
      try {
        assert.ok(s.signIns && b.signIns, 'shared filters count failed sign-ins in the store');
        for (let i = 0; i < 5; i++) {
          assert.is(await s.signIns.held('Oso.Jones', '10.0.0.66', limits), null, `try ${i + 1} is free`);
          await s.signIns.fail('Oso.Jones', '10.0.0.66', limits);
        }
        // Five failures at filter A's console: the next try at filter B's must wait (1 s after the 5th).
        const held = await b.signIns.held('oso.jones', '10.0.0.66', limits);
        assert.equal(held?.why, 'account', 'held at the other filter');
        assert.ok(held!.waitMs > 0 && held!.waitMs <= 1000, String(held?.waitMs));
        assert.is(await b.signIns.held('oso.jones', '10.0.0.5', limits), null, 'from another address: not held');
        // The wait doubles with each further failure, wherever it is made.
        await pg!.query("UPDATE sign_in_failures SET last_at = last_at - interval '2 seconds'", db);
        assert.is(await b.signIns.held('oso.jones', '10.0.0.66', limits), null, 'the wait ends (by PostgreSQL’s clock)');
        await b.signIns.fail('oso.jones', '10.0.0.66', limits);
        const doubled = await s.signIns.held('oso.jones', '10.0.0.66', limits);
        assert.ok(doubled && doubled.waitMs > 1000 && doubled.waitMs <= 2000, String(doubled?.waitMs));
        const counts = await pg!.query<{ key: string; failures: number }>(
          'SELECT key, failures FROM sign_in_failures ORDER BY key',
          db,
        );
        assert.equal(
          counts.map((r) => [r.key, r.failures]),
          [
            ['ip:10.0.0.66', 6],
            ['u:oso.jones@10.0.0.66', 6],
          ],
        );
        await s.signIns.succeed('OSO.JONES', '10.0.0.66');
        assert.is(await b.signIns.held('oso.jones', '10.0.0.66', limits), null, 'a good sign-in clears the account’s count');
        // One address trying many accounts, across both filters.
        for (let i = 0; i < 20; i++) await (i % 2 ? s : b).signIns!.fail(`user${i}`, '10.0.0.9', limits);
        assert.equal((await s.signIns.held('someone', '10.0.0.9', limits))?.why, 'address');
        // Forgotten once the window passes without a failure (and deleted as later failures are counted).
        await pg!.query("UPDATE sign_in_failures SET last_at = last_at - interval '16 minutes'", db);
        assert.is(await s.signIns.held('someone', '10.0.0.9', limits), null, 'forgotten after the window');
        await b.signIns.fail('user0', '10.0.0.9', limits);
        const left = await pg!.query<{ key: string; failures: number }>(
          'SELECT key, failures FROM sign_in_failures ORDER BY key',
          db,
        );
        assert.equal(
          left.map((r) => [r.key, r.failures]),
          [
            ['ip:10.0.0.9', 1],
            ['u:user0@10.0.0.9', 1],
          ],
          'old keys swept; a key past its window starts again at 1',
        );
      } finally {
        await b.close();
      }
    });

    t('sessions are timed by PostgreSQL’s clock: a filter whose clock is wrong neither stretches nor cuts one', async (s) => {
      const limits = { idleMs: 3_600_000, absoluteMs: 8 * 3_600_000 };
      const db = `acc${dbs}`;
      const atA = new SessionStore(limits, s.sessions);
      const u = await s.accounts.addUser(user(), row('user-add', 'Oso.Jones'));
      const pgNow = async () =>
        Number((await pg!.query<{ ms: string }>('SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms', db))[0].ms);
      // Signed in at a filter whose clock is a day behind: the row has PostgreSQL's time.
      const slow = NOW - 86_400_000;
      const one = await atA.create(u.id, u.name, u.role, slow);
      const [made] = await pg!.query<{ created_at: string; last_seen: string }>(
        'SELECT created_at, last_seen FROM console_sessions',
        db,
      );
      const t0 = await pgNow();
      assert.ok(Math.abs(Number(made.created_at) - t0) < 60_000, `created_at ${made.created_at} is PostgreSQL's now ${t0}`);
      assert.ok(Math.abs(Number(made.last_seen) - t0) < 60_000, 'last_seen too');
      // A filter whose clock is far ahead does not cut a fresh session.
      assert.ok(await atA.get(one.token, slow + 10 * limits.absoluteMs), 'live by PostgreSQL, whatever this filter says');
      // Idle past the limit by PostgreSQL's clock: refused, though this filter's clock says it was just seen.
      await pg!.query(`UPDATE console_sessions SET last_seen = last_seen - ${limits.idleMs + 1000}`, db);
      const [aged] = await pg!.query<{ last_seen: string }>('SELECT last_seen FROM console_sessions', db);
      assert.is(await atA.get(one.token, Number(aged.last_seen)), null, 'idle by PostgreSQL’s clock');
      assert.is((await pg!.query('SELECT 1 FROM console_sessions', db)).length, 0, 'and deleted');
      // Signed in too long ago by PostgreSQL's clock (kept busy, so only the absolute limit ends it).
      const two = await atA.create(u.id, u.name, u.role, NOW);
      await pg!.query(`UPDATE console_sessions SET created_at = created_at - ${limits.absoluteMs + 1000}`, db);
      const [old] = await pg!.query<{ created_at: string }>('SELECT created_at FROM console_sessions', db);
      assert.is(await atA.get(two.token, Number(old.created_at) + 1000), null, 'past the absolute limit by PostgreSQL’s clock');
    });
  }
}

test.run();
