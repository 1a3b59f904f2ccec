/**
 * The console accounts and the access audit live in a file of their own beside the evidence, which
 * only the service user reads: an evidence file from before (made by the previous build) hands them
 * over without loss when it is upgraded, and nothing done to the evidence file touches them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyPassword } from '../../src/accounts/passwords.js';
import { addUser } from '../../src/accounts/users.js';
import { accountsPathFor, openStorage } from '../../src/storage/open.js';
import { StorageError, type Storage } from '../../src/storage/storage.js';
import { TRUST_SCOPE } from '../../src/storage/scope.js';
import { EVIDENCE_MIGRATIONS } from '../../src/storage/sqlite/evidence-schema.js';
import { lastVersion } from '../../src/storage/sqlite/migrate.js';
import { tempDir } from '../helpers/daemon-process.js';

/** An evidence file written by the build before this change (main at 14f76e3; see make-fixture.mjs beside it). */
const PREVIOUS_BUILD = fileURLToPath(new URL('../fixtures/previous-build/webfilter.db', import.meta.url));
const NOW = Date.UTC(2026, 10, 30, 12);
const cli = (at = NOW) => ({ actor: 'ict', ip: 'cli', at });

function copyOfPreviousBuild(): { file: string; accounts: string; open(access?: 'write' | 'read-only'): Storage } {
  const dir = tempDir();
  const file = path.join(dir, 'webfilter.db');
  copyFileSync(PREVIOUS_BUILD, file);
  chmodSync(file, 0o640);
  const accounts = accountsPathFor(file);
  return { file, accounts, open: (access = 'write') => openStorage({ evidencePath: file, accountsPath: accounts }, access) };
}

function rows(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

const tables = (file: string) =>
  (rows(file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") as { name: string }[]).map((r) => r.name);

test('an evidence file made by the previous build: its accounts and access audit move to the accounts file, nothing lost', async () => {
  const { file, accounts, open } = copyOfPreviousBuild();
  const users = rows(file, 'SELECT * FROM users ORDER BY id');
  const audit = rows(file, 'SELECT * FROM access_audit ORDER BY id');
  const hashes = (users as { password_hash: string }[]).map((u) => u.password_hash);
  assert.is(users.length, 4, 'the fixture has accounts');
  assert.is(audit.length, 8, 'and an access audit');
  const evidenceBefore = rows(
    file,
    'SELECT (SELECT count(*) FROM blocked) b, (SELECT count(*) FROM signals) s, (SELECT count(*) FROM exception_audit) e',
  );

  const s = open();
  await s.open();
  assert.ok(existsSync(accounts), 'the accounts file is made');
  assert.is(statSync(accounts).mode & 0o777, 0o600, 'only the service user reads it');
  assert.is(statSync(file).mode & 0o777, 0o640, 'the evidence stays readable by the review group');
  assert.equal(rows(accounts, 'SELECT * FROM users ORDER BY id'), users, 'every account, exactly');
  assert.equal(
    rows(accounts, 'SELECT id, ts, actor, ip, action, target, detail FROM access_audit ORDER BY id'),
    audit,
    'every audit row, exactly',
  );
  assert.not.ok(tables(file).includes('users') || tables(file).includes('access_audit'), 'gone from the evidence file');
  assert.is(rows(file, 'PRAGMA user_version').length, 1);
  assert.equal(rows(file, 'PRAGMA user_version'), [{ user_version: lastVersion(EVIDENCE_MIGRATIONS) }]);
  assert.equal(
    rows(
      file,
      'SELECT (SELECT count(*) FROM blocked) b, (SELECT count(*) FROM signals) s, (SELECT count(*) FROM exception_audit) e',
    ),
    evidenceBefore,
    'the evidence is untouched',
  );

  // Through the repository, as the console signs in.
  const oso = await s.accounts.findUser('OSO.JONES');
  assert.ok(oso && (await verifyPassword('oso-new-password-2026', (await s.accounts.passwordHash(oso.id))!)));
  assert.not.ok(
    await verifyPassword('oso-password-2026', (await s.accounts.passwordHash(oso!.id))!),
    'the changed password stays changed',
  );
  assert.equal((await s.accounts.findUser('mr.brown'))?.groups, ['students']);
  assert.is((await s.accounts.findUser('left.staff'))?.disabledBy, 'ict.smith');
  assert.is((await s.accounts.auditEntries({ since: 0, until: NOW, scope: TRUST_SCOPE })).length, 8);
  const added = await addUser(s.accounts, 'new.head', 'approver', 'approver-password-2026', cli());
  assert.is(added.id, 5, 'new accounts follow the old ids');
  await s.close();

  // No password hash is left readable in the evidence file (the freed pages are overwritten).
  const bytes = Buffer.concat([readFileSync(file), existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`) : Buffer.alloc(0)]);
  for (const h of hashes) assert.not.ok(bytes.includes(h.split('$')[5]), 'no hash in the evidence file');

  // Opening again changes nothing.
  const again = open();
  assert.is((await again.accounts.listUsers()).length, 5);
  assert.is((await again.accounts.auditEntries({ since: 0, until: NOW + 1, scope: TRUST_SCOPE })).length, 9);
  await again.close();
});

test('no password hash stays in the freed pages of an evidence file that does not vacuum (secure_delete)', async () => {
  const { file, open } = copyOfPreviousBuild();
  const db = new Database(file);
  const hashes = (db.prepare('SELECT password_hash FROM users').all() as { password_hash: string }[]).map(
    (u) => u.password_hash.split('$')[5],
  );
  db.pragma('auto_vacuum = NONE'); // as a file copied or vacuumed by hand may be: freed pages stay in it
  db.exec('VACUUM');
  db.close();
  assert.ok(
    hashes.every((h) => readFileSync(file).includes(h)),
    'the hashes are in the file before',
  );
  const s = open();
  await s.open();
  await s.close();
  const bytes = Buffer.concat([readFileSync(file), existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`) : Buffer.alloc(0)]);
  for (const h of hashes) assert.not.ok(bytes.includes(h), 'no hash left in the evidence file');
});

test('an old evidence file beside accounts that are not its own is refused, and nothing is moved or lost', async () => {
  const { file, accounts, open } = copyOfPreviousBuild();
  const other = openStorage({ evidencePath: path.join(path.dirname(file), 'other.db'), accountsPath: accounts }, 'write');
  await addUser(other.accounts, 'someone.else', 'ict', 'another-password-2026', cli());
  await other.close();
  const s = open();
  await s.open().then(
    () => assert.unreachable('refused'),
    (e: unknown) => assert.match(String(e), /differ from those already in .*webfilter-accounts\.db.*another install/),
  );
  await s.close();
  assert.is(rows(file, 'SELECT * FROM users').length, 4, 'the old accounts stay where they were');
  assert.equal(
    rows(file, 'PRAGMA user_version'),
    [{ user_version: EVIDENCE_MIGRATIONS.find((m) => m.before)!.version - 1 }],
    'not the move',
  );
  assert.equal(
    (rows(accounts, 'SELECT name FROM users') as { name: string }[]).map((u) => u.name),
    ['someone.else'],
  );
});

test('a new store: the accounts are in their own 0600 file; an older copy of the evidence put back leaves them as they are', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'sub', 'w.db');
  const location = { evidencePath: file, accountsPath: accountsPathFor(file) };
  const s = openStorage(location, 'write');
  await addUser(s.accounts, 'ict.smith', 'ict', 'ict-password-2026', cli());
  await s.close();
  assert.is(statSync(location.accountsPath).mode & 0o777, 0o600);
  assert.not.ok(tables(file).includes('users'), 'no accounts in the evidence file');
  copyFileSync(file, path.join(dir, 'backup.db'));

  const t = openStorage(location, 'write');
  await addUser(t.accounts, 'oso.jones', 'reviewer', 'oso-password-2026', cli(NOW + 1));
  await t.close();
  copyFileSync(path.join(dir, 'backup.db'), file); // the evidence restored from last night's copy
  const u = openStorage(location, 'write');
  assert.equal(
    (await u.accounts.listUsers()).map((x) => x.name),
    ['ict.smith', 'oso.jones'],
  );
  assert.is((await u.accounts.auditEntries({ since: 0, until: NOW + 2, scope: TRUST_SCOPE })).length, 2);
  await u.close();
});

test('the accounts file is made 0600 again if someone widened it, and stays usable when the evidence file is damaged', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'w.db');
  const location = { evidencePath: file, accountsPath: accountsPathFor(file) };
  const s = openStorage(location, 'write');
  await addUser(s.accounts, 'ict.smith', 'ict', 'ict-password-2026', cli());
  await s.close();
  chmodSync(location.accountsPath, 0o644);
  writeFileSync(file, 'not a database at all, and long enough to look like one '.repeat(100));
  const t = openStorage(location, 'write');
  assert.is((await t.accounts.findUser('ict.smith'))?.role, 'ict', 'signing in does not need the evidence');
  await t.open().then(
    () => assert.unreachable('the evidence file is damaged'),
    (e: unknown) => assert.ok(e instanceof StorageError),
  );
  await t.close();
  assert.is(statSync(location.accountsPath).mode & 0o777, 0o600);
});

test('read-only before any account exists reads as none; the accounts never share the evidence file', async () => {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'd'));
  const file = path.join(dir, 'd', 'w.db');
  const w = openStorage({ evidencePath: file, accountsPath: path.join(dir, 'd', 'a.db') }, 'write');
  await w.open();
  await w.close();
  const r = openStorage({ evidencePath: file, accountsPath: path.join(dir, 'd', 'none-yet.db') }, 'read-only');
  assert.equal(await r.accounts.listUsers(), []);
  assert.equal(await r.accounts.auditEntries({ since: 0, until: NOW, scope: TRUST_SCOPE }), []);
  await r.close();
  assert.throws(
    () => openStorage({ evidencePath: file, accountsPath: file }, 'write'),
    (e: unknown) => e instanceof StorageError && /a file of their own/.test((e as Error).message),
  );
});

test.run();
