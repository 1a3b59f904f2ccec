import type { AuditEntry, AuditFilter } from '../storage/accounts.js';
import { scopeIncludes } from '../storage/scope.js';
import type { Storage } from '../storage/storage.js';

/**
 * The access audit as shown (the console's Audit page, `webfilter logs audit`): the accounts
 * store's rows (sign-ins, views, exports, account changes), the exception changes and the permission
 * requests' (asked, approved, declined, expired) and the signal reviews, each of which is recorded with its record in one
 * transaction. Newest first, at most `f.limit`.
 *
 * Only rows about the reader's sites (`f.scope`, issue 17): the accounts rows by the site each
 * is about (AuditRow.site); the exception, request and signal-review rows are this filter's
 * (`site`, its `site:` with shared; undefined on a single box, whose accounts see all of it), so they
 * are shown only when the reader's scope holds this filter's site.
 */
export async function auditTrail(
  storage: Pick<Storage, 'accounts' | 'exceptions' | 'requests' | 'signalReviews'>,
  f: AuditFilter,
  site: string | undefined,
): Promise<AuditEntry[]> {
  const here = site === undefined || scopeIncludes(f.scope, site);
  const none = async (): Promise<AuditEntry[]> => [];
  const [accounts, exceptions, requests, reviews] = await Promise.all([
    storage.accounts.auditEntries(f),
    here ? storage.exceptions.auditEntries(f) : none(),
    here ? storage.requests.auditEntries(f) : none(),
    here ? storage.signalReviews.auditEntries(f) : none(),
  ]);
  const merged = [...accounts, ...exceptions, ...requests, ...reviews].sort((a, b) =>
    a.time < b.time ? 1 : a.time > b.time ? -1 : 0,
  );
  return merged.slice(0, Math.max(1, f.limit ?? 1_000_000));
}
