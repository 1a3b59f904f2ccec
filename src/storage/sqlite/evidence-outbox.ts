import type { EvidenceOutbox, ShipBacklog, ShipBatch, ShipCursorValues, ShipRow, ShipTable } from '../shipping.js';
import { SHIP_TABLES } from '../shipping.js';
import type { DatabaseFile } from './database-file.js';

interface TableRead {
  /** Which file: the evidence file, or the accounts file (the access audit). */
  file: 'evidence' | 'accounts';
  /** The rows after `@cursor` in change order, with their change counter as `_seq`, `@limit` at most. */
  rows: string;
  /** The change counter column (for the backlog count). */
  seq: string;
  from: string;
  /** When a row's last change was made (ms), for the lag; absent for the roll-ups (their rows' own are counted). */
  changed?: string;
  /** Row time compared with a retention cut-off, and which one (null: not purged by retention). */
  purge: { column: string; cut: 'blocked' | 'signals' | 'access'; scale: number } | null;
}

const READS: Record<ShipTable, TableRead> = {
  blocked: {
    file: 'evidence',
    rows: `SELECT id AS local_id, ts, last_ts, count, client, device, grp, user AS user_name, qname, qtype, category, entry,
             response, transport, via, seq AS _seq FROM blocked WHERE seq > @cursor ORDER BY seq LIMIT @limit`,
    seq: 'seq',
    from: 'blocked',
    changed: 'last_ts',
    purge: { column: 'ts', cut: 'blocked', scale: 1 },
  },
  signals: {
    file: 'evidence',
    rows: `SELECT id AS local_id, first_ts, last_ts, count, client, device, grp, user AS user_name, kind, severity, qname, domain,
             detail, review_outcome, review_note, review_by, review_at, seq AS _seq
           FROM signals WHERE seq > @cursor ORDER BY seq LIMIT @limit`,
    seq: 'seq',
    from: 'signals',
    changed: 'max(last_ts, coalesce(review_at, 0))',
    purge: { column: 'last_ts', cut: 'signals', scale: 1 },
  },
  access_hourly: {
    file: 'evidence',
    rows: `SELECT a.hour, c.address AS client, c.device, c.grp, c.user AS user_name, d.name AS domain, a.count, a.first_ts,
             a.last_ts, a.seq AS _seq
           FROM access_hourly a JOIN clients c ON c.id = a.client_id JOIN domains d ON d.id = a.domain_id
           WHERE a.seq > @cursor ORDER BY a.seq LIMIT @limit`,
    seq: 'seq',
    from: 'access_hourly',
    changed: 'last_ts',
    purge: { column: 'hour', cut: 'access', scale: 3_600_000 },
  },
  access: {
    file: 'evidence',
    rows: `SELECT id AS local_id, ts, client, device, grp, user AS user_name, qname, qtype, result, id AS _seq
           FROM access WHERE id > @cursor ORDER BY id LIMIT @limit`,
    seq: 'id',
    from: 'access',
    changed: 'ts',
    purge: { column: 'ts', cut: 'access', scale: 1 },
  },
  blocked_hourly: {
    file: 'evidence',
    rows: `SELECT hour, grp, category, count, seq AS _seq FROM blocked_hourly WHERE seq > @cursor ORDER BY seq LIMIT @limit`,
    seq: 'seq',
    from: 'blocked_hourly',
    purge: { column: 'hour', cut: 'blocked', scale: 3_600_000 },
  },
  blocked_device_daily: {
    file: 'evidence',
    rows: `SELECT day, client, device, grp, count, first_ts, last_ts, seq AS _seq FROM blocked_device_daily
           WHERE seq > @cursor ORDER BY seq LIMIT @limit`,
    seq: 'seq',
    from: 'blocked_device_daily',
    purge: { column: 'day', cut: 'blocked', scale: 86_400_000 },
  },
  review_audit: {
    file: 'evidence',
    rows: `SELECT id AS local_id, ts, signal_id AS signal_local_id, actor, ip, detail, seq AS _seq FROM review_audit
           WHERE seq > @cursor ORDER BY seq LIMIT @limit`,
    seq: 'seq',
    from: 'review_audit',
    changed: 'ts',
    purge: null,
  },
  access_audit: {
    file: 'accounts',
    rows: `SELECT id AS local_id, ts, actor, ip, action, target, detail, seq AS _seq FROM access_audit
           WHERE seq > @cursor ORDER BY seq LIMIT @limit`,
    seq: 'seq',
    from: 'access_audit',
    changed: 'ts',
    purge: null,
  },
};

/**
 * This box's evidence rows changed after the shipping cursors, read by their change counters (the
 * `seq` indexes). A counter is taken inside the write that sets it, and SQLite writes one after
 * another, so a row with a higher counter never commits before one with a lower: a cursor never
 * passes a row still to come.
 */
export class SqliteEvidenceOutbox implements EvidenceOutbox {
  constructor(private readonly files: { evidence: DatabaseFile; accounts: DatabaseFile }) {}

  after(table: ShipTable, cursor: number, limit: number): ShipBatch {
    const read = READS[table];
    const rows = this.files[read.file].prepare(read.rows).all({ cursor, limit }) as (ShipRow & { _seq: number })[];
    let last = cursor;
    for (const r of rows) {
      last = r._seq;
      delete (r as Partial<typeof r>)._seq;
    }
    return { table, rows, last };
  }

  backlog(cursors: ShipCursorValues): ShipBacklog {
    let rows = 0;
    let oldest: number | null = null;
    for (const table of SHIP_TABLES) {
      const read = READS[table];
      const db = this.files[read.file];
      const cursor = cursors[table];
      rows += (db.prepare(`SELECT count(*) AS n FROM ${read.from} WHERE ${read.seq} > ?`).get(cursor) as { n: number }).n;
      if (!read.changed) continue;
      // The first change after the cursor is the oldest waiting: a row changed again moves later.
      const first = db
        .prepare(`SELECT ${read.changed} AS t FROM ${read.from} WHERE ${read.seq} > ? ORDER BY ${read.seq} LIMIT 1`)
        .get(cursor) as { t: number } | undefined;
      if (first && (oldest === null || first.t < oldest)) oldest = first.t;
    }
    return { rows, oldest };
  }

  unshippedBefore(cursors: ShipCursorValues, cut: { blocked: number; signals: number; access: number }): number {
    let n = 0;
    for (const table of SHIP_TABLES) {
      const read = READS[table];
      if (!read.purge) continue;
      const before = Math.floor(cut[read.purge.cut] / read.purge.scale);
      n += (
        this.files[read.file]
          .prepare(`SELECT count(*) AS n FROM ${read.from} WHERE ${read.seq} > ? AND ${read.purge.column} < ?`)
          .get(cursors[table], before) as { n: number }
      ).n;
    }
    return n;
  }
}
