import type { SiteScope } from './scope.js';
import type { AuditEntry, AuditFilter } from './accounts.js';

/** An exception as stored. Times are ms since the Unix epoch. */
export interface ExceptionRecord {
  id: number;
  targetKind: 'group' | 'client';
  target: string;
  categories: string[];
  domains: string[];
  startsAt: number;
  expiresAt: number;
  reason: string;
  approvedBy: string;
  createdBy: string;
  createdAt: number;
  revokedAt: number | null;
  revokedBy: string | null;
  revokeReason: string | null;
  /** The permission request it grants (linked both ways), or null for one added by ICT directly. */
  requestId: number | null;
  /** The account that asked for it (a teacher), when it grants a request. */
  requestedBy: string | null;
}

/** A validated request (see exceptions/validate-exception.ts), ready to store. */
export type NewException = Pick<
  ExceptionRecord,
  'targetKind' | 'target' | 'categories' | 'domains' | 'startsAt' | 'expiresAt' | 'reason' | 'approvedBy'
>;

/** The permission request an exception grants (stored on the exception; set by the requests repository). */
export interface RequestLink {
  requestId: number;
  requestedBy: string;
}

/** Who changes an exception, from where and when: recorded in its audit row. */
export interface ChangedBy {
  /** The console user, or the OS user of the CLI (the access audit's actor). */
  actor: string;
  /** The console client's address, or "cli". */
  ip: string;
  at: number;
  /** As the exception records who added or revoked it: "ict.smith (console)", or the OS user. */
  recordedAs: string;
  /**
   * The sites the changing account may act for (filters sharing a store); a change of a site outside
   * it is refused (ExceptionChangeError). Absent: no account limits it (a single box; root's CLI).
   */
  scope?: SiteScope;
}

/** One line for the audit: what it opens, for whom, until when, on whose approval and why. */
export function describeException(e: NewException): string {
  return `${[...e.categories, ...e.domains].join(', ')} for ${e.targetKind} ${e.target} until ${new Date(e.expiresAt).toISOString()}, approved by ${e.approvedBy}: ${e.reason}`;
}

/** A refused change (no such exception, already revoked); the message says which, for people. */
export class ExceptionChangeError extends Error {}

/** The changing account's scope leaves out this filter's site (403, not 404). */
export class ExceptionScopeError extends ExceptionChangeError {}

/** Called with every exception not revoked and not expired, when the set may have changed. */
export type ExceptionsListener = (current: ExceptionRecord[]) => void;

/**
 * Approved exceptions. Every change is written together with its audit row in one transaction, and
 * delivered to subscribers (the daemon's policy) by whatever means the backend has.
 */
export interface ExceptionsRepository {
  /** Stores a validated exception and its audit row ("exception-add") in one transaction. */
  add(e: NewException, by: ChangedBy): Promise<ExceptionRecord>;
  /** Ends an exception now, with its audit row ("exception-revoke"); ExceptionChangeError when it cannot. */
  revoke(id: number, reason: string, by: ChangedBy): Promise<ExceptionRecord>;
  /** Every exception, newest first (`exception list --all`). */
  all(): Promise<ExceptionRecord[]>;
  /** Exceptions not revoked and not expired at `now` (including ones starting later), oldest first. */
  current(now: number): Promise<ExceptionRecord[]>;
  /** Exceptions created, or in force, in [from, to) (reports). */
  between(from: number, to: number): Promise<ExceptionRecord[]>;
  /**
   * The exceptions changed (added or revoked) after change number `since` (0: from the start), and
   * the number of the last change: a subscriber that lost contact catches up from where it was.
   */
  changesSince(since: number): Promise<{ last: number; changed: ExceptionRecord[] }>;
  /** The changes as access-audit entries (the audit page and `logs audit` show them with the rest). */
  auditEntries(f: AuditFilter): Promise<AuditEntry[]>;
  /**
   * Calls `listener` with the current exceptions now and after every change made by anyone (another
   * process, another thread); `onError` when they cannot be read (the last ones delivered stay in
   * force). Returns the unsubscribe function.
   */
  subscribe(listener: ExceptionsListener, onError?: (e: Error) => void): () => void;
}
