import type { ExceptionRecord } from '../exceptions.js';
import type { StorageAccess } from '../storage.js';
import { DatabaseFile } from './database-file.js';
import type { Migration } from './migrate.js';

/**
 * This filter's copy of its site's exceptions in the shared store, in a small SQLite file of its own
 * beside the evidence file: the daemon enforces from it through an outage of the shared store (with
 * each exception's absolute UTC times, so expiry stays exact), and knows which change it applied
 * last. It also records which exceptions made on this box alone (`--local`, a request approved
 * here) have reached the shared store, and as which shared id.
 */
const COPY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE shared_exceptions (
        id         INTEGER PRIMARY KEY,        -- the shared store's id
        record     TEXT NOT NULL,              -- the exception as JSON (times in ms since the epoch, UTC)
        expires_at INTEGER NOT NULL,
        revoked    INTEGER NOT NULL
      );
      CREATE TABLE copy_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE pushed (
        local_id      INTEGER PRIMARY KEY,     -- the exception's id in this box's evidence file
        shared_id     INTEGER NOT NULL,
        revoke_pushed INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- How far this filter's evidence has been shipped to the shared store: per table, the last
      -- change counter (seq; the row id for the access log) PostgreSQL has committed.
      CREATE TABLE ship_cursor (
        tbl   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );
    `,
  },
];

/** The copy's file (its migrations), for the classes that keep their state in it. */
export function sharedCopyFile(path: string, access: StorageAccess): DatabaseFile {
  return new DatabaseFile({
    file: path,
    access,
    migrations: COPY_MIGRATIONS,
    mode: 0o640,
    label: 'copy of the shared exceptions',
  });
}

export class SqliteExceptionCopy {
  private readonly file: DatabaseFile;

  constructor(path: string, access: StorageAccess) {
    this.file = sharedCopyFile(path, access);
  }

  /** The last shared change applied (0: none yet). */
  lastChange(): number {
    const r = this.file.prepare("SELECT value FROM copy_state WHERE key = 'last_change'").get() as { value: number } | undefined;
    return r?.value ?? 0;
  }

  /** Stores changed exceptions and the change number they bring the copy to, together. */
  apply(changed: ExceptionRecord[], last: number): void {
    this.file.transaction(() => {
      const put = this.file.prepare(
        'INSERT OR REPLACE INTO shared_exceptions (id, record, expires_at, revoked) VALUES (?, ?, ?, ?)',
      );
      for (const e of changed) put.run(e.id, JSON.stringify(e), e.expiresAt, e.revokedAt === null ? 0 : 1);
      this.file.prepare("INSERT OR REPLACE INTO copy_state (key, value) VALUES ('last_change', ?)").run(last);
    });
  }

  /** Which shared store the copy is of (when its schema was first created, ms), 0 for none yet. */
  storeEpoch(): number {
    const r = this.file.prepare("SELECT value FROM copy_state WHERE key = 'store_epoch'").get() as { value: number } | undefined;
    return r?.value ?? 0;
  }

  /**
   * Replaces the whole copy with a store's exceptions (a first copy, or of a store created anew);
   * the evidence is shipped to that store from the start again (its cursors reset).
   */
  replace(all: ExceptionRecord[], last: number, storeEpoch: number): void {
    this.file.transaction(() => {
      this.file.prepare('DELETE FROM shared_exceptions').run();
      this.file.prepare('DELETE FROM ship_cursor').run();
      this.apply(all, last);
      this.file.prepare("INSERT OR REPLACE INTO copy_state (key, value) VALUES ('store_epoch', ?)").run(storeEpoch);
    });
  }

  all(): ExceptionRecord[] {
    return this.records('SELECT record FROM shared_exceptions ORDER BY id DESC');
  }

  /** Not revoked and not expired at `now`, oldest first. */
  current(now: number): ExceptionRecord[] {
    return this.records('SELECT record FROM shared_exceptions WHERE revoked = 0 AND expires_at > ? ORDER BY id', now);
  }

  /** Local id → shared id, and whether its revocation reached the shared store too. */
  pushed(): Map<number, { sharedId: number; revokePushed: boolean }> {
    const rows = this.file.prepare('SELECT local_id, shared_id, revoke_pushed FROM pushed').all() as {
      local_id: number;
      shared_id: number;
      revoke_pushed: number;
    }[];
    return new Map(rows.map((r) => [r.local_id, { sharedId: r.shared_id, revokePushed: r.revoke_pushed === 1 }]));
  }

  markPushed(localId: number, sharedId: number, revokePushed: boolean): void {
    this.file
      .prepare('INSERT OR REPLACE INTO pushed (local_id, shared_id, revoke_pushed) VALUES (?, ?, ?)')
      .run(localId, sharedId, revokePushed ? 1 : 0);
  }

  close(): void {
    this.file.close();
  }

  private records(sql: string, ...params: unknown[]): ExceptionRecord[] {
    return (this.file.prepare(sql).all(...params) as { record: string }[]).map((r) => JSON.parse(r.record) as ExceptionRecord);
  }
}
