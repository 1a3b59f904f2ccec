import type Database from 'better-sqlite3';
import { StorageError } from '../storage.js';
import { count } from '../../text/plural.js';
import { DatabaseFile } from './database-file.js';
import type { Migration } from './migrate.js';

/**
 * The accounts file: console users (with their password hashes) and the access audit (who looked
 * at which device). It sits beside the evidence file but, unlike it, only the service user may
 * read it (0600): the review group reads the evidence, never these.
 */
export const ACCOUNTS_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      -- Review console accounts (webfilter user add/passwd/disable). Never deleted: disabled instead.
      CREATE TABLE users (
        id                  INTEGER PRIMARY KEY,
        name                TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role                TEXT NOT NULL CHECK (role IN ('reviewer', 'ict', 'teacher', 'approver')),
        scope_groups        TEXT NOT NULL DEFAULT '[]',  -- JSON array: the groups a teacher acts for
        password_hash       TEXT NOT NULL,               -- scrypt$N$r$p$salt$key (base64), never the password
        created_at          INTEGER NOT NULL,
        created_by          TEXT NOT NULL,
        password_changed_at INTEGER NOT NULL,
        disabled_at         INTEGER,
        disabled_by         TEXT
      );
      -- Who looked at or changed what (UK GDPR accountability): sign-ins, device views, exports and
      -- account changes, from the console and the CLI. (Exception and request changes are audited
      -- beside them in the evidence file, in their own transactions.)
      CREATE TABLE access_audit (
        id     INTEGER PRIMARY KEY,
        ts     INTEGER NOT NULL,
        actor  TEXT NOT NULL,                   -- console user, or OS user for the CLI
        ip     TEXT NOT NULL,                   -- client address, or 'cli'
        action TEXT NOT NULL,                   -- sign-in, sign-in-failed, sign-out, view-device, export, ...
        target TEXT NOT NULL,                   -- the device, user, ... acted on
        detail TEXT NOT NULL
      );
      CREATE INDEX access_audit_ts ON access_audit (ts);
    `,
  },
  {
    version: 2,
    sql: `
      -- Issue 25: a change counter (seq) for shipping the access audit to a central store: this
      -- file's own counter; a row takes its next value as it is written (a trigger, so every writer
      -- is covered; audit rows are never changed). Rows from before are numbered now.
      CREATE TABLE accounts_seq (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
      ALTER TABLE access_audit ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      UPDATE access_audit SET seq = id;
      INSERT INTO accounts_seq (id, value) VALUES (1, coalesce((SELECT max(id) FROM access_audit), 0));
      CREATE TRIGGER access_audit_seq AFTER INSERT ON access_audit BEGIN
        UPDATE accounts_seq SET value = value + 1 WHERE id = 1;
        UPDATE access_audit SET seq = (SELECT value FROM accounts_seq WHERE id = 1) WHERE id = NEW.id;
      END;
      CREATE INDEX access_audit_seq ON access_audit (seq);
    `,
  },
];

const USER_COLUMNS =
  'id, name, role, scope_groups, password_hash, created_at, created_by, password_changed_at, disabled_at, disabled_by';
const AUDIT_COLUMNS = 'id, ts, actor, ip, action, target, detail';

function hasTable(db: Database.Database, table: string): boolean {
  return db.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

/**
 * The accounts file (created 0600 and migrated on first use for `write`). `opensFirst` is the
 * evidence file beside it: opened (so upgraded) first, since an evidence file from before the
 * accounts had their own file moves them here as it upgrades.
 */
export function accountsFile(file: string, access: 'write' | 'read-only', opensFirst?: DatabaseFile): DatabaseFile {
  return new DatabaseFile({
    file,
    access,
    migrations: ACCOUNTS_MIGRATIONS,
    mode: 0o600,
    keepMode: true,
    label: 'accounts database',
    deniedHint: 'it holds the console accounts and the access audit, which only the service user (or root) may read',
    opensFirst,
  });
}

/**
 * Copies the accounts and the access audit of an evidence file made before they had their own file
 * into the accounts file (creating it), keeping their ids, so a copy made twice (two processes
 * upgrading at once) adds nothing. Throws when a row is not in the accounts file exactly as it is
 * here afterwards (e.g. an old evidence file restored beside another install's accounts): the
 * migration that drops them then does not run, and nothing is lost.
 */
export function copyAccountsOut(db: Database.Database, accountsPath: string): void {
  if (!hasTable(db, 'users') && !hasTable(db, 'access_audit')) return;
  const target = accountsFile(accountsPath, 'write');
  target.connection();
  target.close();
  db.prepare('ATTACH DATABASE ? AS accounts').run(accountsPath);
  try {
    db.transaction(() => {
      db.exec(`INSERT OR IGNORE INTO accounts.users (${USER_COLUMNS}) SELECT ${USER_COLUMNS} FROM main.users;
               INSERT OR IGNORE INTO accounts.access_audit (${AUDIT_COLUMNS}) SELECT ${AUDIT_COLUMNS} FROM main.access_audit;`);
      const missing = db
        .prepare(
          `SELECT (SELECT count(*) FROM (SELECT ${USER_COLUMNS} FROM main.users EXCEPT SELECT ${USER_COLUMNS} FROM accounts.users))
                + (SELECT count(*) FROM (SELECT ${AUDIT_COLUMNS} FROM main.access_audit EXCEPT SELECT ${AUDIT_COLUMNS} FROM accounts.access_audit)) AS n`,
        )
        .get() as { n: number };
      if (missing.n > 0)
        throw new StorageError(
          `${count(missing.n, 'console account or access-audit row')} of ${db.name} ${missing.n === 1 ? 'differs' : 'differ'} from those already in ${accountsPath}, ` +
            'so they were not moved there (nothing was changed): is that accounts file from another install?',
        );
    }).immediate();
  } catch (e) {
    // Another process finished the move (and dropped the tables) while this one was copying.
    if (!/no such table: main\./.test((e as Error).message)) throw e;
  } finally {
    db.exec('DETACH DATABASE accounts');
  }
}
