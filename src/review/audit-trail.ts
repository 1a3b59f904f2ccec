import type { AuditEntry, AuditFilter } from '../storage/accounts.js';
import type { Storage } from '../storage/storage.js';

/**
 * The access audit as shown (the console's Audit page, `webfilter logs audit`): the accounts
 * store's rows (sign-ins, views, exports, account changes), the exception changes and the permission
 * requests' (asked, approved, declined, expired) and the signal reviews, each of which is recorded with its record in one
 * transaction. Newest first, at most `f.limit`.
 */
export async function auditTrail(
  storage: Pick<Storage, 'accounts' | 'exceptions' | 'requests' | 'signalReviews'>,
  f: AuditFilter,
): Promise<AuditEntry[]> {
  const [accounts, exceptions, requests, reviews] = await Promise.all([
    storage.accounts.auditEntries(f),
    storage.exceptions.auditEntries(f),
    storage.requests.auditEntries(f),
    storage.signalReviews.auditEntries(f),
  ]);
  const merged = [...accounts, ...exceptions, ...requests, ...reviews].sort((a, b) =>
    a.time < b.time ? 1 : a.time > b.time ? -1 : 0,
  );
  return merged.slice(0, Math.max(1, f.limit ?? 1_000_000));
}
