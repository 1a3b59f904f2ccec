import type { ExceptionRecord } from '../storage/exceptions.js';
import type { Storage } from '../storage/storage.js';
import type { DigestData, DigestException } from './render-digest.js';

/** Unreviewed signals older than the day, counted back this far ("still waiting"). */
const OLDER_UNREVIEWED_DAYS = 30;

/**
 * Gathers the daily digest from the store, through its repositories: the day's signals (with their
 * reviews), unreviewed signals from the 30 days before, blocked attempts by group and category, and
 * the exceptions granted (created or starting) and ended (expired or revoked) that day.
 */
export async function digestData(
  storage: Pick<Storage, 'review' | 'exceptions' | 'signalReviews'>,
  start: number,
  end: number,
): Promise<DigestData> {
  const signals = await storage.review.signals({ since: start, until: end, limit: 5000 });
  const olderUnreviewed = await storage.signalReviews.unreviewedCount(start - OLDER_UNREVIEWED_DAYS * 86_400_000, start);
  const blocked = await storage.review.blockedByGroupCategory(start, end);
  const exceptions = await storage.exceptions.between(start, end);
  const summary = (e: ExceptionRecord, at: number): DigestException => ({
    id: e.id,
    what: [...e.categories, ...e.domains].join(', '),
    target: `${e.targetKind} ${e.target}`,
    approvedBy: e.approvedBy,
    at,
  });
  const inDay = (t: number | null) => t !== null && t >= start && t < end;
  const granted = exceptions.filter((e) => inDay(e.createdAt) || inDay(e.startsAt)).map((e) => summary(e, e.startsAt));
  const ended = exceptions
    .map((e) => ({ e, at: e.revokedAt !== null && e.revokedAt < e.expiresAt ? e.revokedAt : e.expiresAt }))
    .filter(({ at }) => inDay(at))
    .map(({ e, at }) => summary(e, at));
  return {
    start,
    end,
    // Oldest first within the day, so the digest reads as the day went.
    signals: [...signals].reverse().map((s) => ({
      id: s.id,
      client: s.client,
      device: s.device,
      group: s.group,
      user: s.user ?? '',
      kind: s.kind,
      severity: s.severity,
      count: s.count,
      firstTs: Date.parse(s.first_seen),
      lastTs: Date.parse(s.last_seen),
      review: s.review ? { outcome: s.review.outcome, by: s.review.by } : null,
    })),
    olderUnreviewed,
    blocked,
    granted,
    ended,
  };
}
