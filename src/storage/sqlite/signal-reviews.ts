import type { AuditRow } from '../accounts.js';
import type { SignalEntry } from '../review.js';
import { ReviewError, type NewReview, type SignalReviewsRepository } from '../signal-reviews.js';
import type { DatabaseFile } from './database-file.js';
import { SIGNAL_COLUMNS, signalEntry, type SignalRowRead } from './review.js';

const SQL = {
  one: `SELECT ${SIGNAL_COLUMNS} FROM signals WHERE id = ?`,
  review: 'UPDATE signals SET review_outcome = @outcome, review_note = @note, review_by = @by, review_at = @at WHERE id = @id',
  audit: 'INSERT INTO access_audit (ts, actor, ip, action, target, detail) VALUES (@ts, @actor, @ip, @action, @target, @detail)',
  unreviewed: 'SELECT count(*) AS n FROM signals WHERE review_at IS NULL AND last_ts >= ? AND last_ts < ?',
};

/** Signal reviews in the SQLite file: on the signal's row, with the audit row in the same transaction. */
export class SqliteSignalReviews implements SignalReviewsRepository {
  constructor(private readonly file: DatabaseFile) {}

  async signal(id: number): Promise<SignalEntry | null> {
    const r = this.file.prepare(SQL.one).get(id) as SignalRowRead | undefined;
    return r ? signalEntry(r) : null;
  }

  async review(id: number, r: NewReview, audit: AuditRow): Promise<SignalEntry> {
    return this.file.transaction(() => {
      const changed = this.file.prepare(SQL.review).run({ id, ...r }).changes;
      if (changed === 0) throw new ReviewError(`no signal ${id} (it may never have existed, or passed its retention period)`);
      this.file.prepare(SQL.audit).run(audit);
      return signalEntry(this.file.prepare(SQL.one).get(id) as SignalRowRead);
    });
  }

  async unreviewedCount(from: number, to: number): Promise<number> {
    return (this.file.prepare(SQL.unreviewed).get(from, to) as { n: number }).n;
  }
}
