import type { AuditEntry, AuditFilter, AuditRow } from '../accounts.js';
import { isoTime } from '../time-text.js';
import type { SignalEntry } from '../review.js';
import { ReviewError, type NewReview, type SignalReviewsRepository } from '../signal-reviews.js';
import type { DatabaseFile } from './database-file.js';
import { signalEntry, type SignalRow } from '../signal-row.js';
import { SIGNAL_COLUMNS } from './review.js';

const SQL = {
  one: `SELECT ${SIGNAL_COLUMNS} FROM signals WHERE id = ?`,
  // A review changes the row: it takes the next change number (seq), as every change does (see EvidenceWriter).
  review: `UPDATE signals SET review_outcome = @outcome, review_note = @note, review_by = @by, review_at = @at,
             seq = (SELECT value + 1 FROM evidence_seq WHERE id = 1) WHERE id = @id`,
  seq: 'UPDATE evidence_seq SET value = value + 1 WHERE id = 1',
  audit: 'INSERT INTO review_audit (ts, signal_id, actor, ip, detail) VALUES (@ts, @signalId, @actor, @ip, @detail)',
  unreviewed: 'SELECT count(*) AS n FROM signals WHERE review_at IS NULL AND last_ts >= ? AND last_ts < ?',
};

/**
 * Signal reviews in the evidence file: on the signal's row, with their audit row beside it
 * (review_audit) in the same transaction; the access audit shows those rows with the accounts'.
 */
export class SqliteSignalReviews implements SignalReviewsRepository {
  constructor(private readonly file: DatabaseFile) {}

  async signal(id: number): Promise<SignalEntry | null> {
    const r = this.file.prepare(SQL.one).get(id) as SignalRow | undefined;
    return r ? signalEntry(r) : null;
  }

  async review(id: number, r: NewReview, audit: AuditRow): Promise<SignalEntry> {
    return this.file.transaction(() => {
      const changed = this.file.prepare(SQL.review).run({ id, ...r }).changes;
      if (changed === 0) throw new ReviewError(`no signal ${id} (it may never have existed, or passed its retention period)`);
      this.file.prepare(SQL.seq).run();
      this.file.prepare(SQL.audit).run({ ts: audit.ts, signalId: id, actor: audit.actor, ip: audit.ip, detail: audit.detail });
      return signalEntry(this.file.prepare(SQL.one).get(id) as SignalRow);
    });
  }

  async auditEntries(f: AuditFilter): Promise<AuditEntry[]> {
    if (f.action && f.action !== 'signal-review') return [];
    const parts = ['ts >= @since', 'ts < @until'];
    const params: Record<string, unknown> = { since: f.since, until: f.until };
    if (f.actor) {
      parts.push('actor = @actor');
      params.actor = f.actor;
    }
    const rows = this.file
      .prepare(
        `SELECT ts, signal_id, actor, ip, detail FROM review_audit WHERE ${parts.join(' AND ')}
         ORDER BY ts DESC, id DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
      )
      .all(params) as { ts: number; signal_id: number; actor: string; ip: string; detail: string }[];
    return rows.map((r) => ({
      time: isoTime(r.ts),
      actor: r.actor,
      ip: r.ip,
      action: 'signal-review',
      target: `signal ${r.signal_id}`,
      detail: r.detail,
    }));
  }

  async unreviewedCount(from: number, to: number): Promise<number> {
    return (this.file.prepare(SQL.unreviewed).get(from, to) as { n: number }).n;
  }
}
