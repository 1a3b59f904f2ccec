/**
 * Who a CLI change is made by on filters sharing a store (issue 17, security finding 4): without
 * --account only root or the service user act, for this filter's own site; SUDO_USER is never
 * looked up as an account; on a single box nothing changes. An `--account`'s password is checked
 * against the trust's sign-in throttle (a real, throwaway PostgreSQL: test/helpers/postgres.ts), and
 * every refusal is an access-audit row access-denied.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hashPassword } from '../../src/accounts/passwords.js';
import { checkAccount } from '../../src/commands/cli-account.js';
import { cliActor } from '../../src/commands/cli-scope.js';
import { CommandError, UsageError } from '../../src/commands/errors.js';
import type { LoadedConfig } from '../../src/config/load.js';
import type { AuditRow } from '../../src/storage/accounts.js';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from '../helpers/daemon-process.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { sharedStores } from '../helpers/shared-storage.js';

const loaded = (shared: boolean) =>
  ({
    config: { site: 'carres-grammar', shared: shared ? { postgres: {} } : undefined, server: { user: 'webfilter' } },
  }) as unknown as LoadedConfig;

/** A store whose accounts must not be read: the root path never looks anyone up. */
const untouched = {
  accounts: new Proxy({}, { get: (_t, k) => () => assert.unreachable(`accounts.${String(k)} called`) }),
} as unknown as Storage;

/** A store that takes access-audit rows only (and reads no account). */
const auditOnly = (rows: AuditRow[]) =>
  ({
    accounts: new Proxy(
      {},
      {
        get: (_t, k) =>
          k === 'audit' ? async (r: AuditRow) => void rows.push(r) : () => assert.unreachable(`accounts.${String(k)} called`),
      },
    ),
  }) as unknown as Storage;

const withSudo = async <T>(name: string | undefined, fn: () => Promise<T>): Promise<T> => {
  const before = process.env.SUDO_USER;
  if (name === undefined) delete process.env.SUDO_USER;
  else process.env.SUDO_USER = name;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.SUDO_USER;
    else process.env.SUDO_USER = before;
  }
};

test('shared, no --account: root acts for this filter’s site; SUDO_USER is only the audit’s name, never an account', async () => {
  const r = await withSudo('trust.admin', () =>
    cliActor(untouched, loaded(true), {}, 'exceptions.change', 'exception add', { uid: 0, name: 'root' }),
  );
  assert.equal(r, { actor: 'trust.admin', recordedAs: 'trust.admin', scope: { kind: 'sites', sites: ['carres-grammar'] } });
});

test('shared, no --account: the service user (server.user) acts for this site; anyone else is refused', async () => {
  const svc = await withSudo(undefined, () =>
    cliActor(untouched, loaded(true), {}, 'requests.decide', 'request approve 3', { uid: 998, name: 'webfilter' }),
  );
  assert.equal(svc.scope, { kind: 'sites', sites: ['carres-grammar'] });
  const rows: AuditRow[] = [];
  try {
    await withSudo(undefined, () =>
      cliActor(auditOnly(rows), loaded(true), {}, 'exceptions.change', 'exception add', { uid: 1001, name: 'tech' }),
    );
    assert.unreachable('refused');
  } catch (e) {
    assert.instance(e, CommandError);
    assert.match((e as Error).message, /tech is not root or the service user: give --account NAME/);
  }
  assert.equal(
    rows.map((r) => [r.ip, r.action, r.target, r.detail]),
    [['cli', 'access-denied', 'exception add', 'no --account, and tech is not root or the service user']],
    'the refusal is audited',
  );
});

test('a single box: the OS user, unlimited, as always; --account is a usage error there', async () => {
  const r = await withSudo('ict-tech', () =>
    cliActor(untouched, loaded(false), {}, 'exceptions.change', 'exception add', { uid: 1001, name: 'x' }),
  );
  assert.equal(r, { actor: 'ict-tech', recordedAs: 'ict-tech' });
  try {
    await cliActor(untouched, loaded(false), { account: 'a' }, 'exceptions.change', 'exception add');
    assert.unreachable('refused');
  } catch (e) {
    assert.instance(e, UsageError);
  }
});

let pg: PgCluster | null = null;
test.after(async () => {
  await pg?.destroy();
});

const PW = 'cli-actor-password-2026';
const attempts = { console: { login_attempts: { per_account: 5, per_address: 20, window_minutes: 15 } } };
const config = attempts as unknown as LoadedConfig['config'];

test('--account: a wrong password is audited access-denied; past the free tries the trust’s throttle refuses even the right one', async () => {
  pg ??= await startPostgres();
  const url = await pg.createDatabase('cli');
  const dir = tempDir();
  const open = sharedStores(url, dir);
  const a = await open('carres-grammar', 'dns-a');
  const b = await open('kshs', 'dns-b');
  const refusal = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (e) {
      assert.instance(e, CommandError);
      return (e as Error).message;
    }
    throw new Error('not refused');
  };
  try {
    const at = Date.now();
    const row: AuditRow = { ts: at, actor: 'root', ip: 'cli', action: 'user-add', target: 'ict.cg', detail: '' };
    await a.accounts.addUser(
      { name: 'ict.cg', role: 'ict', groups: [], passwordHash: await hashPassword(PW), createdAt: at, createdBy: 'root' },
      row,
    );
    const ok = await withSudo('tech', () => checkAccount(a, 'ict.cg', PW, config, { role: 'ict' }, 'user list'));
    assert.is(ok.name, 'ict.cg', 'the right password at first');
    for (let i = 0; i < 5; i++) {
      const m = await withSudo('tech', () =>
        refusal(checkAccount(a, 'ict.cg', `wrong-${i}`, config, { role: 'ict' }, 'exception add')),
      );
      assert.is(m, '--account ict.cg: wrong account name or password');
    }
    // The sixth try, at another filter's CLI, within the wait: refused before its password is looked at.
    const held = await withSudo('tech', () => refusal(checkAccount(b, 'ict.cg', PW, config, { role: 'ict' }, 'user disable x')));
    assert.match(
      held,
      /^--account ict\.cg: too many failed sign-ins for this account from the command line; try again in \d+ seconds?\. Nothing was changed\.$/,
    );
    const audit = await pg.query<{ site: string; actor: string; ip: string; target: string; detail: string }>(
      "SELECT site, actor, ip, target, detail FROM access_audit WHERE action = 'access-denied' ORDER BY id",
      'cli',
    );
    assert.equal(
      audit.map((r) => [r.site, r.actor, r.ip, r.target, r.detail]),
      [
        ...Array.from({ length: 5 }, () => [
          'carres-grammar',
          'tech',
          'cli',
          'exception add',
          '--account ict.cg: wrong password',
        ]),
        ['kshs', 'tech', 'cli', 'user disable x', '--account ict.cg: refused, too many failed sign-ins for this account'],
      ],
    );
    const unknown = await withSudo('tech', () =>
      refusal(checkAccount(a, 'nobody.here', PW, config, { role: 'ict' }, 'logs audit')),
    );
    assert.is(unknown, '--account nobody.here: wrong account name or password', 'never says which of the two');
    const [last] = await pg.query<{ detail: string }>('SELECT detail FROM access_audit ORDER BY id DESC LIMIT 1', 'cli');
    assert.match(
      last.detail,
      /^--account unknown #[0-9a-f]{6} \(11 chars\): unknown account$/,
      'an unknown name is not stored as typed',
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test.run();
