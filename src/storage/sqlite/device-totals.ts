import type { Database } from 'better-sqlite3';
import type { DatabaseFile } from './database-file.js';

const HOUR_MS = 3_600_000;

const SQL = {
  blocked: `INSERT INTO device_totals (device, client, grp, blocked, blocked_last) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (device, client, grp) DO UPDATE SET blocked = blocked + excluded.blocked,
              blocked_last = max(coalesce(blocked_last, 0), excluded.blocked_last)`,
  signal: `INSERT INTO device_totals (device, client, grp, signals, signals_last) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (device, client, grp) DO UPDATE SET signals = signals + excluded.signals,
             signals_last = max(coalesce(signals_last, 0), excluded.signals_last)`,
  access: `INSERT INTO device_totals (device, client, grp, access_last) VALUES (?, ?, ?, ?)
           ON CONFLICT (device, client, grp) DO UPDATE SET access_last = max(coalesce(access_last, 0), excluded.access_last)`,
  signalLeft: `UPDATE device_totals SET signals = signals - 1,
                 signals_last = (SELECT max(last_ts) FROM signals WHERE client = @client AND device = '' AND grp = @grp)
               WHERE client = @client AND device = '' AND grp = @grp`,
  signalsPurged: `UPDATE device_totals SET signals = signals - @n, signals_last = CASE WHEN signals = @n THEN NULL ELSE signals_last END
                  WHERE client = @client AND device = @device AND grp = @grp`,
  blockedPurged: `UPDATE device_totals SET blocked = blocked - @n, blocked_last = CASE WHEN blocked = @n THEN NULL ELSE blocked_last END
                  WHERE client = @client AND device = @device AND grp = @grp`,
  emptyKey: `DELETE FROM device_totals WHERE client = @client AND device = @device AND grp = @grp
               AND blocked_last IS NULL AND signals_last IS NULL AND access_last IS NULL`,
  accessLastPurged: 'UPDATE device_totals SET access_last = NULL WHERE access_last < ?',
  empty: 'DELETE FROM device_totals WHERE blocked_last IS NULL AND signals_last IS NULL AND access_last IS NULL',
};

/**
 * The per-device summary the console's Devices page reads (issue 25: grouping the whole device-day
 * roll-up, every signal and the access aggregates grew with retention — ≈ 0.8 s for a 2,000-device
 * year). One row per device, address and group: blocked attempts (the sum of blocked_device_daily),
 * signals (rows), and the newest time of each kind of evidence, kept by the evidence writer in the
 * same transaction as the rows it counts, and counted down by the retention purge as it deletes.
 * Exact because every row deleted is older than what remains of its kind: a day of the roll-up, an
 * hour of access aggregates and a signal's last time never cross the cut (a blocked row never
 * crosses an hour, an aggregate is one hour's). The migration builds it from a full scan.
 */
export class DeviceTotals {
  constructor(private readonly file: DatabaseFile) {}

  blocked(device: string, client: string, grp: string, n: number, last: number): void {
    this.file.prepare(SQL.blocked).run(device, client, grp, n, last);
  }

  /** A new signal row (or one that moved here, see signalMoved). */
  signal(device: string, client: string, grp: string, last: number, added = 1): void {
    this.file.prepare(SQL.signal).run(device, client, grp, added, last);
  }

  /** A signal row took a device name it did not have (the writer's bump): it moves from the nameless row. */
  signalMoved(client: string, grp: string, device: string, last: number): void {
    this.file.prepare(SQL.signalLeft).run({ client, grp });
    this.signal(device, client, grp, last);
    this.file.prepare(SQL.empty).run();
  }

  access(device: string, client: string, grp: string, last: number): void {
    this.file.prepare(SQL.access).run(device, client, grp, last);
  }

  /**
   * Rows the purge deleted, oldest first, in the deleting transaction: signal rows (n 1 each) or
   * days of blocked_device_daily (n their count). A device whose count reaches 0 has none left of
   * that kind; until then its newest row is still there, so its last time stands.
   */
  purged(db: Database, kind: 'signals' | 'blocked', rows: { device: string; client: string; grp: string; n: number }[]): void {
    const byKey = new Map<string, { device: string; client: string; grp: string; n: number }>();
    for (const r of rows) {
      const k = `${r.device}\u0000${r.client}\u0000${r.grp}`;
      const t = byKey.get(k);
      if (t) t.n += r.n;
      else byKey.set(k, { ...r });
    }
    const update = db.prepare(kind === 'signals' ? SQL.signalsPurged : SQL.blockedPurged);
    const empty = db.prepare(SQL.emptyKey);
    for (const t of byKey.values()) {
      update.run(t);
      empty.run({ client: t.client, device: t.device, grp: t.grp });
    }
  }

  /** After the access aggregates' hours before `cutHour` are deleted. */
  accessPurged(db: Database, cutHour: number): void {
    db.prepare(SQL.accessLastPurged).run(cutHour * HOUR_MS);
    db.prepare(SQL.empty).run();
  }
}
