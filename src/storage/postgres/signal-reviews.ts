import type { AuditEntry, AuditFilter, AuditRow } from '../accounts.js';
import { noSignal, type ReadScope } from '../read-scope.js';
import type { SignalEntry } from '../review.js';
import { ReviewError, type NewReview, type SignalReviewsRepository } from '../signal-reviews.js';
import { isoTime } from '../time-text.js';
import type { PostgresConnection } from './connection.js';
import { Params, query, siteWhere } from './review-sql.js';
import { signalEntry } from '../signal-row.js';
import { PG_SIGNAL_COLUMNS, type PgSignalRow } from './signal-row.js';

/**
 * Signal reviews in the shared store (when `shared` is set): the review columns of the signal's row
 * and a review_audit row (with the signal's site and node) in one transaction. Shipping never
 * overwrites these columns (it fills them from a node only while they are empty). A signal outside
 * the reader's sites is "no such signal", exactly as one that never existed.
 */
export class PostgresSignalReviews implements SignalReviewsRepository {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly rs: ReadScope,
  ) {}

  async signal(id: number): Promise<SignalEntry | null> {
    const ps = new Params();
    const [r] = await query<PgSignalRow>(
      this.conn,
      'read a signal',
      `SELECT ${PG_SIGNAL_COLUMNS} FROM signals WHERE id = ${ps.p(id)} AND ${siteWhere(this.rs, ps)}`,
      ps,
    );
    return r ? signalEntry(r) : null;
  }

  async review(id: number, r: NewReview, audit: AuditRow): Promise<SignalEntry> {
    return this.conn.transaction('record the review', async (tx) => {
      const ps = new Params();
      const [row] = (await tx.unsafe(
        `UPDATE signals SET review_outcome = ${ps.p(r.outcome)}, review_note = ${ps.p(r.note)}, review_by = ${ps.p(r.by)},
           review_at = ${ps.p(r.at)} WHERE id = ${ps.p(id)} AND ${siteWhere(this.rs, ps)} RETURNING ${PG_SIGNAL_COLUMNS}, node`,
        ps.values as never[],
      )) as unknown as (PgSignalRow & { node: string })[];
      if (!row) throw new ReviewError(noSignal(id));
      await tx`INSERT INTO review_audit (site, node, ts, signal_id, actor, ip, detail)
               VALUES (${row.site}, ${row.node}, ${audit.ts}, ${id}, ${audit.actor}, ${audit.ip}, ${audit.detail})`;
      const { node: _node, ...signal } = row;
      return signalEntry(signal);
    });
  }

  async auditEntries(f: AuditFilter): Promise<AuditEntry[]> {
    if (f.action && f.action !== 'signal-review') return [];
    const ps = new Params();
    const actor = f.actor ? ` AND actor = ${ps.p(f.actor)}` : '';
    const rows = await query<{ ts: number; signal: string; site: string; actor: string; ip: string; detail: string }>(
      this.conn,
      'read the reviews audit',
      `SELECT ts::float8 AS ts, coalesce(signal_id::text, node || '/' || signal_local_id::text) AS signal, site, actor, ip, detail
       FROM review_audit WHERE ${siteWhere(this.rs, ps)} AND ts >= ${ps.p(f.since)} AND ts < ${ps.p(f.until)}${actor}
       ORDER BY review_audit.ts DESC, review_audit.id DESC LIMIT ${Math.max(1, Math.floor(f.limit ?? 1_000_000))}`,
      ps,
    );
    return rows.map((r) => ({
      time: isoTime(r.ts),
      actor: r.actor,
      ip: r.ip,
      action: 'signal-review',
      target: `signal ${r.signal} (${r.site})`,
      detail: r.detail,
    }));
  }

  async unreviewedCount(from: number, to: number): Promise<number> {
    const ps = new Params();
    const [r] = await query<{ n: number }>(
      this.conn,
      'count unreviewed signals',
      `SELECT count(*)::float8 AS n FROM signals WHERE ${siteWhere(this.rs, ps)} AND review_at IS NULL
         AND last_ts >= ${ps.p(from)} AND last_ts < ${ps.p(to)}`,
      ps,
    );
    return r.n;
  }
}
