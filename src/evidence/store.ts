import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SIGNAL_DEDUP_MS, type Rows } from './rows.js';
import { migrate, SCHEMA_VERSION, schemaVersion } from './schema.js';

export interface Retention {
  blocked_days: number;
  signals_days: number;
  access_days: number;
}

export interface PurgeResult {
  blocked: number;
  signals: number;
  accessHourly: number;
  access: number;
}

export interface Heartbeat {
  pid: number;
  version: string;
  startedAt: number;
  now: number;
  dropped: number;
  writeErrors: number;
}

const DAY_MS = 86_400_000;
/** Cap on remembered client/domain ids (a cache; misses just cost a statement). */
const ID_CACHE_LIMIT = 200_000;

/**
 * The evidence database (better-sqlite3, WAL). Opening it applies migrations. `write` stores one
 * batch of rows in one transaction: all of it or none, so a failed batch can be retried whole.
 */
export class EvidenceStore {
  private readonly clientIds = new Map<string, number>();
  private readonly domainIds = new Map<string, number>();
  private readonly stmts;

  private constructor(readonly db: Database.Database) {
    this.stmts = {
      blocked: db.prepare(
        `INSERT INTO blocked (ts, client, device, grp, qname, qtype, category, entry, response, transport, via)
         VALUES (@ts, @client, @device, @grp, @qname, @qtype, @category, @entry, @response, @transport, @via)`,
      ),
      findSignal: db.prepare(
        'SELECT id FROM signals WHERE client = ? AND kind = ? AND domain = ? AND last_ts >= ? ORDER BY last_ts DESC LIMIT 1',
      ),
      bumpSignal: db.prepare(
        `UPDATE signals SET count = count + ?, last_ts = max(last_ts, ?),
           device = CASE WHEN device = '' THEN ? ELSE device END WHERE id = ?`,
      ),
      insertSignal: db.prepare(
        `INSERT INTO signals (first_ts, last_ts, client, device, grp, kind, severity, qname, domain, detail, count)
         VALUES (@ts, @ts, @client, @device, @grp, @kind, @severity, @qname, @domain, @detail, @count)`,
      ),
      clientId: db.prepare(
        `INSERT INTO clients (address, device, grp) VALUES (?, ?, ?)
         ON CONFLICT (address, device, grp) DO UPDATE SET grp = excluded.grp RETURNING id`,
      ),
      domainId: db.prepare(
        'INSERT INTO domains (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id',
      ),
      accessHourly: db.prepare(
        `INSERT INTO access_hourly (hour, client_id, domain_id, count, first_ts, last_ts) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (hour, client_id, domain_id) DO UPDATE SET count = count + excluded.count,
           first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)`,
      ),
      access: db.prepare(
        `INSERT INTO access (ts, client, device, grp, qname, qtype, result)
         VALUES (@ts, @client, @device, @grp, @qname, @qtype, @result)`,
      ),
      heartbeat: db.prepare(
        `INSERT INTO daemon (id, pid, version, started_at, last_seen, last_write, dropped, write_errors)
         VALUES (1, @pid, @version, @startedAt, @now, @now, @dropped, @writeErrors)
         ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, version = excluded.version, started_at = excluded.started_at,
           last_seen = excluded.last_seen, dropped = excluded.dropped, write_errors = excluded.write_errors`,
      ),
      wrote: db.prepare('UPDATE daemon SET last_write = ? WHERE id = 1'),
    };
  }

  /**
   * Opens (creating if needed, with its directory) and migrates the database. A new file is made
   * 0640: it holds personal data. Throws on a corrupt file or one from a newer webfilter.
   */
  static open(file: string, opts: { busyTimeoutMs?: number; maxSizeMb?: number } = {}): EvidenceStore {
    const fresh = !existsSync(file);
    if (fresh) mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
    const db = new Database(file, { timeout: opts.busyTimeoutMs ?? 5000 });
    try {
      if (fresh) {
        chmodSync(file, 0o640);
        // Only possible before the first table, and must precede the switch to WAL.
        db.pragma('auto_vacuum = INCREMENTAL');
      }
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
      // A per-connection cap: writes past it fail with SQLITE_FULL, exactly like a full disk.
      if (opts.maxSizeMb) {
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(1, Math.floor((opts.maxSizeMb * 1024 * 1024) / pageSize))}`);
      }
      return new EvidenceStore(db);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /**
   * Opens an existing database for reading only (the review commands: an online safety officer in
   * group webfilter-review can read the 0640 file but not write it). Never migrates: an older
   * database is upgraded by the daemon or an ICT command; a newer one is refused.
   */
  static openReadOnly(file: string): EvidenceStore {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const version = schemaVersion(db);
      if (version < SCHEMA_VERSION) {
        throw new Error(
          `database schema is version ${version}, older than this webfilter (${SCHEMA_VERSION}): start the daemon once to upgrade it`,
        );
      }
      return new EvidenceStore(db);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** Writes a batch in one transaction. On failure nothing of it is stored and the error is thrown. */
  write(rows: Rows, now = Date.now()): void {
    try {
      this.db.transaction(() => {
        for (const r of rows.blocked) this.stmts.blocked.run(r);
        for (const s of rows.signals) {
          const hit = this.stmts.findSignal.get(s.client, s.kind, s.domain, s.ts - SIGNAL_DEDUP_MS) as { id: number } | undefined;
          if (hit) this.stmts.bumpSignal.run(s.count, s.ts, s.device, hit.id);
          else this.stmts.insertSignal.run(s);
        }
        for (const a of rows.accessHourly) {
          this.stmts.accessHourly.run(
            a.hour,
            this.clientId(a.client, a.device, a.grp),
            this.domainId(a.domain),
            a.count,
            a.firstTs,
            a.lastTs,
          );
        }
        for (const r of rows.access) this.stmts.access.run(r);
        this.stmts.wrote.run(now);
      })();
    } catch (e) {
      // Ids handed out inside the rolled-back transaction no longer exist.
      this.clientIds.clear();
      this.domainIds.clear();
      throw e;
    }
  }

  /** Records that the daemon is alive, for `webfilter status`. */
  heartbeat(h: Heartbeat): void {
    this.stmts.heartbeat.run(h);
  }

  /** Deletes rows older than the retention periods, then returns free pages to the filesystem. */
  purge(now: number, r: Retention): PurgeResult {
    const result = this.db.transaction(() => {
      const blocked = this.db.prepare('DELETE FROM blocked WHERE ts < ?').run(now - r.blocked_days * DAY_MS).changes;
      const signals = this.db.prepare('DELETE FROM signals WHERE last_ts < ?').run(now - r.signals_days * DAY_MS).changes;
      const accessCut = now - r.access_days * DAY_MS;
      const accessHourly = this.db
        .prepare('DELETE FROM access_hourly WHERE hour < ?')
        .run(Math.floor(accessCut / 3_600_000)).changes;
      const access = this.db.prepare('DELETE FROM access WHERE ts < ?').run(accessCut).changes;
      this.db.exec(`DELETE FROM clients WHERE id NOT IN (SELECT client_id FROM access_hourly);
                    DELETE FROM domains WHERE id NOT IN (SELECT domain_id FROM access_hourly);`);
      return { blocked, signals, accessHourly, access };
    })();
    this.clientIds.clear();
    this.domainIds.clear();
    this.db.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return result;
  }

  close(): void {
    this.db.close();
  }

  private clientId(address: string, device: string, grp: string): number {
    const key = `${address}\u0000${device}\u0000${grp}`;
    let id = this.clientIds.get(key);
    if (id === undefined) {
      id = (this.stmts.clientId.get(address, device, grp) as { id: number }).id;
      if (this.clientIds.size >= ID_CACHE_LIMIT) this.clientIds.clear();
      this.clientIds.set(key, id);
    }
    return id;
  }

  private domainId(name: string): number {
    let id = this.domainIds.get(name);
    if (id === undefined) {
      id = (this.stmts.domainId.get(name) as { id: number }).id;
      if (this.domainIds.size >= ID_CACHE_LIMIT) this.domainIds.clear();
      this.domainIds.set(name, id);
    }
    return id;
  }
}
