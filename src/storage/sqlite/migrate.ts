import type Database from 'better-sqlite3';
import { StorageError } from '../storage.js';

/**
 * Versioned schema migrations, applied in order at open. PRAGMA user_version holds the version
 * reached; an older database is upgraded in place, never wiped; a newer one is refused (this code
 * cannot know what it would be writing into).
 */
export interface Migration<Context = unknown> {
  version: number;
  sql: string;
  /**
   * Rebuilds a table other tables refer to (SQLite's documented way to change a constraint):
   * foreign keys are off while it runs, and checked before it commits.
   */
  rebuildsParent?: boolean;
  /**
   * Runs first, outside the migration's transaction (copying rows to another file: a transaction
   * of its own, since an attached file cannot join one begun before it was attached).
   */
  before?(db: Database.Database, context: Context): void;
  /** Runs after the migration's transaction (e.g. giving the freed space back). */
  after?(db: Database.Database, context: Context): void;
}

/** Thrown for a database written by a newer webfilter. */
export class SchemaTooNewError extends StorageError {}

/** The database's schema version; throws SchemaTooNewError when it is newer than `latest` (this code cannot know its shape). */
export function schemaVersion(db: Database.Database, latest: number): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > latest) {
    throw new SchemaTooNewError(
      `database schema is version ${version}, newer than this webfilter understands (${latest}): upgrade webfilter`,
    );
  }
  return version;
}

/** The version a list of migrations reaches. */
export function lastVersion(migrations: readonly Migration[]): number {
  return migrations[migrations.length - 1].version;
}

/**
 * Brings the database up to the last of `migrations`, each in its own transaction. `context` is
 * what their `before`/`after` steps need to know beyond the file (e.g. where the accounts file is).
 */
export function migrate<Context>(
  db: Database.Database,
  migrations: readonly Migration<Context>[],
  context?: Context,
): { from: number; to: number } {
  const latest = lastVersion(migrations);
  const from = schemaVersion(db, latest);
  for (const m of migrations) {
    if (m.version <= from) continue;
    m.before?.(db, context as Context);
    // IMMEDIATE takes the write lock first and the version is read again under it: two processes
    // (the daemon's threads, a CLI command) starting at once apply each migration exactly once.
    // PRAGMA foreign_keys cannot change inside a transaction: it is set around it.
    if (m.rebuildsParent) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        if ((db.pragma('user_version', { simple: true }) as number) >= m.version) return;
        db.exec(m.sql);
        if (m.rebuildsParent && (db.pragma('foreign_key_check') as unknown[]).length > 0)
          throw new StorageError(`migration ${m.version} would break references between tables: not applied`);
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } finally {
      if (m.rebuildsParent) db.pragma('foreign_keys = ON');
    }
    m.after?.(db, context as Context);
  }
  return { from, to: latest };
}
