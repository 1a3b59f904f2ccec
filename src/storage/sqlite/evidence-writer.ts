import type { Database } from 'better-sqlite3';
import {
  SIGNAL_DEDUP_MS,
  type EvidenceWriter,
  type Heartbeat,
  type PurgeResult,
  type Retention,
  type Rows,
} from '../evidence.js';
import type { DatabaseFile } from './database-file.js';

const DAY_MS = 86_400_000;
/** Cap on remembered client/domain ids (a cache; misses just cost a statement). */
const ID_CACHE_LIMIT = 200_000;

const SQL = {
  blocked: `INSERT INTO blocked (ts, client, device, grp, qname, qtype, category, entry, response, transport, via, user)
            VALUES (@ts, @client, @device, @grp, @qname, @qtype, @category, @entry, @response, @transport, @via, NULLIF(@user, ''))`,
  findSignal:
    'SELECT id FROM signals WHERE client = ? AND kind = ? AND domain = ? AND last_ts >= ? AND review_at IS NULL ORDER BY last_ts DESC LIMIT 1',
  bumpSignal: `UPDATE signals SET count = count + ?, last_ts = max(last_ts, ?),
                 device = CASE WHEN device = '' THEN ? ELSE device END, user = COALESCE(user, NULLIF(?, '')) WHERE id = ?`,
  insertSignal: `INSERT INTO signals (first_ts, last_ts, client, device, grp, kind, severity, qname, domain, detail, count, user)
                 VALUES (@ts, @ts, @client, @device, @grp, @kind, @severity, @qname, @domain, @detail, @count, NULLIF(@user, ''))`,
  clientId: `INSERT INTO clients (address, device, grp, user) VALUES (?, ?, ?, ?)
             ON CONFLICT (address, device, grp, user) DO UPDATE SET grp = excluded.grp RETURNING id`,
  domainId: 'INSERT INTO domains (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id',
  accessHourly: `INSERT INTO access_hourly (hour, client_id, domain_id, count, first_ts, last_ts) VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (hour, client_id, domain_id) DO UPDATE SET count = count + excluded.count,
                   first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)`,
  access: `INSERT INTO access (ts, client, device, grp, qname, qtype, result, user)
           VALUES (@ts, @client, @device, @grp, @qname, @qtype, @result, NULLIF(@user, ''))`,
  heartbeat: `INSERT INTO daemon (id, pid, version, started_at, last_seen, last_write, dropped, write_errors, components)
              VALUES (1, @pid, @version, @startedAt, @now, @now, @dropped, @writeErrors, @components)
              ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, version = excluded.version, started_at = excluded.started_at,
                last_seen = excluded.last_seen, dropped = excluded.dropped, write_errors = excluded.write_errors,
                components = excluded.components`,
  wrote: 'UPDATE daemon SET last_write = ? WHERE id = 1',
};

/**
 * Writes the evidence into the SQLite file: each batch in one transaction. Access aggregates refer
 * to client and domain rows by id; the ids are remembered (bounded) so a busy hour costs one
 * statement per aggregate.
 */
export class SqliteEvidenceWriter implements EvidenceWriter {
  private readonly clientIds = new Map<string, number>();
  private readonly domainIds = new Map<string, number>();

  constructor(private readonly file: DatabaseFile) {}

  async write(rows: Rows, now = Date.now()): Promise<void> {
    const f = this.file;
    try {
      f.transaction(() => {
        for (const r of rows.blocked) f.prepare(SQL.blocked).run(r);
        for (const s of rows.signals) {
          const hit = f.prepare(SQL.findSignal).get(s.client, s.kind, s.domain, s.ts - SIGNAL_DEDUP_MS) as
            { id: number } | undefined;
          if (hit) f.prepare(SQL.bumpSignal).run(s.count, s.ts, s.device, s.user, hit.id);
          else f.prepare(SQL.insertSignal).run(s);
        }
        for (const a of rows.accessHourly) {
          f.prepare(SQL.accessHourly).run(
            a.hour,
            this.clientId(a.client, a.device, a.grp, a.user),
            this.domainId(a.domain),
            a.count,
            a.firstTs,
            a.lastTs,
          );
        }
        for (const r of rows.access) f.prepare(SQL.access).run(r);
        f.prepare(SQL.wrote).run(now);
      });
    } catch (e) {
      // Ids handed out inside the rolled-back transaction no longer exist.
      this.forgetIds();
      f.failed(e);
      throw e;
    }
  }

  async heartbeat(h: Heartbeat): Promise<void> {
    this.file.prepare(SQL.heartbeat).run({ ...h, components: JSON.stringify(h.components) });
  }

  async purge(now: number, r: Retention): Promise<PurgeResult> {
    const result = this.file.transaction((db: Database) => {
      const blocked = db.prepare('DELETE FROM blocked WHERE ts < ?').run(now - r.blocked_days * DAY_MS).changes;
      const signals = db.prepare('DELETE FROM signals WHERE last_ts < ?').run(now - r.signals_days * DAY_MS).changes;
      const accessCut = now - r.access_days * DAY_MS;
      const accessHourly = db.prepare('DELETE FROM access_hourly WHERE hour < ?').run(Math.floor(accessCut / 3_600_000)).changes;
      const access = db.prepare('DELETE FROM access WHERE ts < ?').run(accessCut).changes;
      db.exec(`DELETE FROM clients WHERE id NOT IN (SELECT client_id FROM access_hourly);
               DELETE FROM domains WHERE id NOT IN (SELECT domain_id FROM access_hourly);`);
      return { blocked, signals, accessHourly, access };
    });
    this.forgetIds();
    const db = this.file.connection();
    db.pragma('incremental_vacuum');
    db.pragma('wal_checkpoint(TRUNCATE)');
    return result;
  }

  private forgetIds(): void {
    this.clientIds.clear();
    this.domainIds.clear();
  }

  private clientId(address: string, device: string, grp: string, user: string): number {
    const key = `${address}\u0000${device}\u0000${grp}\u0000${user}`;
    let id = this.clientIds.get(key);
    if (id === undefined) {
      id = (this.file.prepare(SQL.clientId).get(address, device, grp, user) as { id: number }).id;
      if (this.clientIds.size >= ID_CACHE_LIMIT) this.clientIds.clear();
      this.clientIds.set(key, id);
    }
    return id;
  }

  private domainId(name: string): number {
    let id = this.domainIds.get(name);
    if (id === undefined) {
      id = (this.file.prepare(SQL.domainId).get(name) as { id: number }).id;
      if (this.domainIds.size >= ID_CACHE_LIMIT) this.domainIds.clear();
      this.domainIds.set(name, id);
    }
    return id;
  }
}
