import Database from 'better-sqlite3';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { StorageError, type StorageAccess } from '../storage.js';
import { lastVersion, migrate, SchemaTooNewError, schemaVersion, type Migration } from './migrate.js';

export interface DatabaseFileOptions<Context = unknown> {
  file: string;
  access: StorageAccess;
  migrations: readonly Migration<Context>[];
  /** What the migrations' steps outside SQL need to know (e.g. where the accounts file is). */
  context?: Context;
  /** Mode of a new file: 0640 for the evidence (the review group reads it), 0600 for accounts. */
  mode: number;
  /** Take away, at each open for writing, any permission beyond `mode` someone gave the file since. */
  keepMode?: boolean;
  /** Opened (so upgraded) before this file is, for writing: its migrations may fill this one. */
  opensFirst?: DatabaseFile;
  /** What the file is, for messages: "database", "accounts database". */
  label: string;
  /** Past this size writes fail with SQLITE_FULL, exactly like a full disk (0 = no cap). */
  maxSizeMb?: number;
  busyTimeoutMs?: number;
  /** Said when the file exists but this user may not read it: why, and so what to do. */
  deniedHint?: string;
}

/** Prepared statements kept per connection. */
const MAX_STATEMENTS = 500;

/** SQLite error codes after which the connection is dropped and opened again on next use. */
const REOPEN_AFTER = /SQLITE_CORRUPT|SQLITE_NOTADB/;

/**
 * One SQLite file (better-sqlite3, WAL), opened on first use and again after a failure that needs
 * it. Opening for `write` creates the file (and its directory) and applies the migrations; opening
 * `read-only` never changes the file, and refuses one older or newer than this code.
 */
export class DatabaseFile {
  private db: Database.Database | null = null;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly o: DatabaseFileOptions) {}

  get path(): string {
    return this.o.file;
  }

  /** Whether the file is there (a store not yet created reads as empty where that makes sense). */
  exists(): boolean {
    return existsSync(this.o.file);
  }

  /** The open connection (opening it first). Throws StorageError when it cannot be opened. */
  connection(): Database.Database {
    this.db ??= this.o.access === 'write' ? this.openForWriting() : this.openReadOnly();
    return this.db;
  }

  /** A prepared statement for `sql`, kept for as long as the connection. */
  prepare(sql: string): Database.Statement {
    const db = this.connection();
    let s = this.statements.get(sql);
    if (!s) {
      // Review queries are built from their filters: a bounded set, but keep the cache bounded anyway.
      if (this.statements.size >= MAX_STATEMENTS) this.statements.clear();
      s = db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` in one transaction (all or nothing). */
  transaction<T>(fn: (db: Database.Database) => T): T {
    const db = this.connection();
    return db.transaction(() => fn(db))();
  }

  /** Closes the connection when `e` says the file is damaged, so that the next use opens it again. */
  failed(e: unknown): void {
    if (REOPEN_AFTER.test((e as { code?: string }).code ?? '')) this.close();
  }

  close(): void {
    this.statements.clear();
    this.db?.close();
    this.db = null;
  }

  private openForWriting(): Database.Database {
    const { file } = this.o;
    this.openFirst();
    const fresh = !existsSync(file);
    let db: Database.Database;
    try {
      if (fresh) mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
      db = new Database(file, { timeout: this.o.busyTimeoutMs ?? 5000 });
    } catch (e) {
      throw this.named(e);
    }
    try {
      if (fresh) {
        chmodSync(file, this.o.mode);
        // Made by root (ICT's command before the daemon ever ran): it belongs to whoever owns the
        // directory (the service user), or the daemon could not open it later.
        if (process.getuid?.() === 0) {
          const dir = statSync(path.dirname(file));
          if (dir.uid !== 0) chownSync(file, dir.uid, dir.gid);
        }
        // Only possible before the first table, and must precede the switch to WAL.
        db.pragma('auto_vacuum = INCREMENTAL');
      } else if (this.o.keepMode) {
        const st = statSync(file);
        if (st.mode & 0o777 & ~this.o.mode && (st.uid === process.getuid?.() || process.getuid?.() === 0))
          chmodSync(file, st.mode & 0o777 & this.o.mode);
      }
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db, this.o.migrations, this.o.context);
      if (this.o.maxSizeMb) {
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(1, Math.floor((this.o.maxSizeMb * 1024 * 1024) / pageSize))}`);
      }
      return db;
    } catch (e) {
      db.close();
      throw this.named(e);
    }
  }

  /**
   * Opens `opensFirst`. When it cannot be opened, this file is still used if it exists (the
   * accounts stay usable with a damaged evidence file); if not, its failure is the answer.
   */
  private openFirst(): void {
    try {
      this.o.opensFirst?.connection();
    } catch (e) {
      if (!existsSync(this.o.file)) throw e;
    }
  }

  private openReadOnly(): Database.Database {
    const { file } = this.o;
    if (!existsSync(file))
      throw new StorageError(`no ${this.o.label} at ${file} yet: the daemon creates it when it first starts`);
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new StorageError(
        `cannot read the ${this.o.label} ${file}${this.o.deniedHint ? `: ${this.o.deniedHint}` : ''} (run this with sudo)`,
      );
    }
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
    } catch (e) {
      throw this.named(e);
    }
    try {
      const latest = lastVersion(this.o.migrations);
      const version = schemaVersion(db, latest);
      if (version < latest) {
        throw new Error(
          `database schema is version ${version}, older than this webfilter (${latest}): start the daemon once to upgrade it`,
        );
      }
      return db;
    } catch (e) {
      db.close();
      throw this.named(e);
    }
  }

  /** `e` as a StorageError whose message names the file. */
  private named(e: unknown): StorageError {
    const message = (e as Error).message;
    if (e instanceof SchemaTooNewError) return new SchemaTooNewError(`${this.o.file}: ${message}`);
    const code = (e as { code?: string }).code;
    return Object.assign(new StorageError(`cannot open the ${this.o.label} ${this.o.file}: ${message}`), { cause: e, code });
  }
}
