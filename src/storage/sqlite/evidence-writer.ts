import type { Database } from 'better-sqlite3';
import {
  blockedKey,
  joinRepeat,
  SIGNAL_DEDUP_MS,
  type EvidenceWriter,
  type Heartbeat,
  type PurgeResult,
  type Retention,
  type Rows,
} from '../evidence.js';
import type { DatabaseFile } from './database-file.js';
import { DeviceTotals } from './device-totals.js';

const DAY_MS = 86_400_000;
/** Cap on remembered client/domain ids (a cache; misses just cost a statement). */
const ID_CACHE_LIMIT = 200_000;

/** Rows deleted per purge step (one short transaction each). */
const PURGE_STEP_ROWS = 1000;
/** Pages given back to the file system per step after a purge. */
const VACUUM_STEP_PAGES = 1000;
/** Cap on remembered open blocked rows (repeats of a forgotten one just start a new row). */
const OPEN_LIMIT = 500_000;

const SQL = {
  seq: 'SELECT value FROM evidence_seq WHERE id = 1',
  setSeq: 'UPDATE evidence_seq SET value = ? WHERE id = 1',
  blocked: `INSERT INTO blocked (ts, last_ts, count, client, device, grp, qname, qtype, category, entry, response, transport, via, user, seq)
            VALUES (@ts, @lastTs, @count, @client, @device, @grp, @qname, @qtype, @category, @entry, @response, @transport, @via,
                    NULLIF(@user, ''), @seq)`,
  bumpBlocked: 'UPDATE blocked SET count = count + ?, last_ts = max(last_ts, ?), seq = ? WHERE id = ?',
  blockedHourly: `INSERT INTO blocked_hourly (hour, grp, category, count, seq) VALUES (?, ?, ?, ?, ?)
                  ON CONFLICT (hour, grp, category) DO UPDATE SET count = count + excluded.count, seq = excluded.seq`,
  blockedDaily: `INSERT INTO blocked_device_daily (day, client, device, grp, count, first_ts, last_ts, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (day, client, device, grp) DO UPDATE SET count = count + excluded.count,
                   first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts), seq = excluded.seq`,
  findSignal:
    'SELECT id, device, grp, last_ts FROM signals WHERE client = ? AND kind = ? AND domain = ? AND last_ts >= ? AND review_at IS NULL ORDER BY last_ts DESC LIMIT 1',
  bumpSignal: `UPDATE signals SET count = count + ?, last_ts = max(last_ts, ?),
                 device = CASE WHEN device = '' THEN ? ELSE device END, user = COALESCE(user, NULLIF(?, '')), seq = ? WHERE id = ?`,
  insertSignal: `INSERT INTO signals (first_ts, last_ts, client, device, grp, kind, severity, qname, domain, detail, count, user, seq)
                 VALUES (@ts, @ts, @client, @device, @grp, @kind, @severity, @qname, @domain, @detail, @count, NULLIF(@user, ''), @seq)`,
  clientId: `INSERT INTO clients (address, device, grp, user) VALUES (?, ?, ?, ?)
             ON CONFLICT (address, device, grp, user) DO UPDATE SET grp = excluded.grp RETURNING id`,
  domainId: 'INSERT INTO domains (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id',
  accessHourly: `INSERT INTO access_hourly (hour, client_id, domain_id, count, first_ts, last_ts, seq) VALUES (?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (hour, client_id, domain_id) DO UPDATE SET count = count + excluded.count,
                   first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts), seq = excluded.seq`,
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
  /** Blocked rows that a repeat may still be counted on: key → row id and last attempt. */
  private readonly open = new Map<string, { id: number; lastTs: number }>();
  private lastPrune = 0;
  /** The Devices page's summary, kept as the rows are written and purged. */
  private readonly totals: DeviceTotals;

  constructor(private readonly file: DatabaseFile) {
    this.totals = new DeviceTotals(file);
  }

  async write(rows: Rows, now = Date.now()): Promise<void> {
    const f = this.file;
    try {
      f.transaction(() => {
        let seq = (f.prepare(SQL.seq).get() as { value: number }).value;
        this.writeBlocked(rows, () => ++seq);
        for (const s of rows.signals) {
          const hit = f.prepare(SQL.findSignal).get(s.client, s.kind, s.domain, s.ts - SIGNAL_DEDUP_MS) as
            { id: number; device: string; grp: string; last_ts: number } | undefined;
          if (hit) {
            f.prepare(SQL.bumpSignal).run(s.count, s.ts, s.device, s.user, ++seq, hit.id);
            const last = Math.max(hit.last_ts, s.ts);
            if (hit.device === '' && s.device !== '') this.totals.signalMoved(s.client, hit.grp, s.device, last);
            else this.totals.signal(hit.device, s.client, hit.grp, last, 0);
          } else {
            f.prepare(SQL.insertSignal).run({ ...s, seq: ++seq });
            this.totals.signal(s.device, s.client, s.grp, s.ts);
          }
        }
        const seen = new Map<string, { device: string; client: string; grp: string; last: number }>();
        for (const a of rows.accessHourly) {
          const k = `${a.device}\u0000${a.client}\u0000${a.grp}`;
          const t = seen.get(k);
          if (t) t.last = Math.max(t.last, a.lastTs);
          else seen.set(k, { device: a.device, client: a.client, grp: a.grp, last: a.lastTs });
          f.prepare(SQL.accessHourly).run(
            a.hour,
            this.clientId(a.client, a.device, a.grp, a.user),
            this.domainId(a.domain),
            a.count,
            a.firstTs,
            a.lastTs,
            ++seq,
          );
        }
        for (const t of seen.values()) this.totals.access(t.device, t.client, t.grp, t.last);
        for (const r of rows.access) f.prepare(SQL.access).run(r);
        f.prepare(SQL.setSeq).run(seq);
        f.prepare(SQL.wrote).run(now);
      });
    } catch (e) {
      // Ids handed out inside the rolled-back transaction no longer exist.
      this.forgetIds();
      f.failed(e);
      throw e;
    }
  }

  /**
   * Blocked rows: a repeat of a row still open (see joinRepeat) is counted on it, anything else is a
   * new row; the roll-ups are counted up by the batch's totals.
   */
  private writeBlocked(rows: Rows, next: () => number): void {
    const f = this.file;
    const hourly = new Map<string, { hour: number; grp: string; category: string; n: number }>();
    const daily = new Map<
      string,
      { day: number; client: string; device: string; grp: string; n: number; first: number; last: number }
    >();
    for (const r of rows.blocked) {
      const key = blockedKey(r);
      const open = this.open.get(key);
      if (open && joinRepeat(open, r) && f.prepare(SQL.bumpBlocked).run(r.count, r.lastTs, next(), open.id).changes > 0) {
        open.lastTs = Math.max(open.lastTs, r.lastTs);
      } else {
        const id = Number(f.prepare(SQL.blocked).run({ ...r, seq: next() }).lastInsertRowid);
        if (r.joinMs > 0) {
          if (this.open.size >= OPEN_LIMIT) this.pruneOpen(r.ts - r.joinMs);
          this.open.set(key, { id, lastTs: r.lastTs });
        }
      }
      const hour = Math.floor(r.ts / 3_600_000);
      const hk = `${hour}\u0000${r.grp}\u0000${r.category}`;
      const h = hourly.get(hk);
      if (h) h.n += r.count;
      else hourly.set(hk, { hour, grp: r.grp, category: r.category, n: r.count });
      const day = Math.floor(r.ts / 86_400_000);
      const dk = `${day}\u0000${r.client}\u0000${r.device}\u0000${r.grp}`;
      const d = daily.get(dk);
      if (d) {
        d.n += r.count;
        d.first = Math.min(d.first, r.ts);
        d.last = Math.max(d.last, r.lastTs);
      } else daily.set(dk, { day, client: r.client, device: r.device, grp: r.grp, n: r.count, first: r.ts, last: r.lastTs });
    }
    for (const h of hourly.values()) f.prepare(SQL.blockedHourly).run(h.hour, h.grp, h.category, h.n, next());
    for (const d of daily.values()) {
      f.prepare(SQL.blockedDaily).run(d.day, d.client, d.device, d.grp, d.n, d.first, d.last, next());
      this.totals.blocked(d.device, d.client, d.grp, d.n, d.last);
    }
    if (rows.blocked.length > 0)
      this.pruneOpen(rows.blocked[rows.blocked.length - 1].ts - 2 * rows.blocked[0].joinMs - 3_600_000);
  }

  /** Forgets open rows whose last attempt is before `before` (now and then: not every batch). */
  private pruneOpen(before: number): void {
    if (this.open.size < OPEN_LIMIT && before - this.lastPrune < 60_000) return;
    this.lastPrune = before;
    for (const [k, o] of this.open) if (o.lastTs < before) this.open.delete(k);
    if (this.open.size >= OPEN_LIMIT) this.open.clear();
  }

  async heartbeat(h: Heartbeat): Promise<void> {
    this.file.prepare(SQL.heartbeat).run({ ...h, components: JSON.stringify(h.components) });
  }

  async purge(now: number, r: Retention, pause: () => Promise<void> = async () => {}): Promise<PurgeResult> {
    const blockedCut = now - r.blocked_days * DAY_MS;
    const accessCut = now - r.access_days * DAY_MS;
    const result: PurgeResult = { blocked: 0, signals: 0, accessHourly: 0, access: 0 };
    const signalsCut = now - r.signals_days * DAY_MS;
    const accessCutHour = Math.floor(accessCut / 3_600_000);
    const blockedCutDay = Math.floor(blockedCut / DAY_MS);
    const run = (sql: string, cut: number) => (db: Database) => db.prepare(sql).run(cut).changes;
    // Oldest first, a bounded batch per statement: each step is a short transaction of its own. The
    // Devices page's summary is counted down in the same transactions (device-totals.ts).
    const steps: [keyof PurgeResult | null, (db: Database) => number][] = [
      [
        'blocked',
        run(
          `DELETE FROM blocked WHERE id IN (SELECT id FROM blocked WHERE ts < ? ORDER BY ts LIMIT ${PURGE_STEP_ROWS})`,
          blockedCut,
        ),
      ],
      [
        'signals',
        (db) => {
          const gone = db
            .prepare(
              `DELETE FROM signals WHERE id IN (SELECT id FROM signals WHERE last_ts < ? ORDER BY last_ts LIMIT ${PURGE_STEP_ROWS})
               RETURNING device, client, grp, 1 AS n`,
            )
            .all(signalsCut) as { device: string; client: string; grp: string; n: number }[];
          this.totals.purged(db, 'signals', gone);
          return gone.length;
        },
      ],
      [
        'access',
        run(
          `DELETE FROM access WHERE id IN (SELECT id FROM access WHERE ts < ? ORDER BY ts LIMIT ${PURGE_STEP_ROWS})`,
          accessCut,
        ),
      ],
      [
        'accessHourly',
        run(
          `DELETE FROM access_hourly WHERE (hour, client_id, domain_id) IN
             (SELECT hour, client_id, domain_id FROM access_hourly WHERE hour < ? ORDER BY hour LIMIT ${PURGE_STEP_ROWS})`,
          accessCutHour,
        ),
      ],
      [null, (db) => (this.totals.accessPurged(db, accessCutHour), 0)],
      [null, run('DELETE FROM blocked_hourly WHERE hour < ?', Math.floor(blockedCut / 3_600_000))],
      [
        null,
        (db) => {
          const gone = db
            .prepare(
              `DELETE FROM blocked_device_daily WHERE (day, client, device, grp) IN
                 (SELECT day, client, device, grp FROM blocked_device_daily WHERE day < ? ORDER BY day LIMIT ${PURGE_STEP_ROWS})
               RETURNING device, client, grp, count AS n`,
            )
            .all(blockedCutDay) as { device: string; client: string; grp: string; n: number }[];
          this.totals.purged(db, 'blocked', gone);
          return gone.length;
        },
      ],
    ];
    try {
      for (const [table, step] of steps) {
        for (;;) {
          const n = this.file.transaction(step);
          if (table) result[table] += n;
          if (n < PURGE_STEP_ROWS) break;
          await pause();
        }
        await pause();
      }
      if (result.accessHourly > 0) {
        this.file.transaction((db: Database) =>
          db.exec(`DELETE FROM clients WHERE id NOT IN (SELECT client_id FROM access_hourly);
                   DELETE FROM domains WHERE id NOT IN (SELECT domain_id FROM access_hourly);`),
        );
      }
    } finally {
      // Client and domain rows may be gone; open blocked rows are minutes old, far inside retention
      // (and a repeat of one that is gone starts a new row: see writeBlocked).
      this.clientIds.clear();
      this.domainIds.clear();
    }
    const db = this.file.connection();
    // A file made before auto_vacuum was set cannot give pages back this way (the loop ends at once).
    for (let free = Infinity; ;) {
      const left = db.pragma('freelist_count', { simple: true }) as number;
      if (left === 0 || left >= free || db.pragma('auto_vacuum', { simple: true }) !== 2) break;
      free = left;
      db.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`);
      await pause();
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    return result;
  }

  private forgetIds(): void {
    this.clientIds.clear();
    this.domainIds.clear();
    this.open.clear();
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
