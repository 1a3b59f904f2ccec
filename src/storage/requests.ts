import type { AuditEntry, AuditFilter } from './accounts.js';
import type { ChangedBy, ExceptionRecord, NewException } from './exceptions.js';

/** Permission requests as stored: a teacher asks, an approver decides. Times are ms since the Unix epoch. */

export const REQUEST_STATES = ['pending', 'approved', 'declined', 'expired'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export interface PermissionRequest {
  id: number;
  /** The group (class) it is for. */
  group: string;
  categories: string[];
  /** When it starts; null: when it is approved (a request for now, e.g. "until the end of this lesson"). */
  startsAt: number | null;
  expiresAt: number;
  /** The lesson asked for, for people ("10:00-11:00 on Tue 24 Nov"), or null when times were given. */
  lesson: string | null;
  reason: string;
  /** The account that asked (a teacher). */
  requestedBy: string;
  requestedAt: number;
  state: RequestState;
  /** The approver's account (or the standing permission), once decided. */
  decidedBy: string | null;
  decidedAt: number | null;
  /** The approver's optional note. */
  note: string;
  /** The exception an approval made (linked both ways). */
  exceptionId: number | null;
}

export type NewRequest = Pick<
  PermissionRequest,
  'group' | 'categories' | 'startsAt' | 'expiresAt' | 'lesson' | 'reason' | 'requestedBy'
>;

/** The decision to store with an approval: the exception it becomes (validated), and the approver's note. */
export interface Approval {
  exception: NewException;
  note: string;
  /** Recorded as the decider: the approver's account, or "standing permission (requests.auto_approve)". */
  decidedBy: string;
}

/** A refused decision (no such request, already decided, expired); the message says which, for people. */
export class RequestChangeError extends Error {}

export interface RequestFilter {
  state?: RequestState;
  /** Only requests made by this account. */
  requestedBy?: string;
  /** Requested, decided or running in [since, until). */
  since?: number;
  until?: number;
  limit?: number;
}

/**
 * When a pending request can no longer be granted as asked: at its start, or for a request that
 * starts on approval, at its end.
 */
export function dueAt(r: Pick<PermissionRequest, 'startsAt' | 'expiresAt'>): number {
  return r.startsAt ?? r.expiresAt;
}

/**
 * Permission requests. Each change is written with its audit row in one transaction; an approval
 * also stores the exception, through the exceptions repository's own write (its audit row included),
 * in that same transaction, so a request is never approved without its exception or the reverse.
 */
export interface RequestsRepository {
  /**
   * Stores a request (audited as request-add); with `standing`, approved at once in the same
   * transaction, recorded as done by `standing.by` (the standing permission, not the teacher).
   */
  add(
    r: NewRequest,
    by: ChangedBy,
    standing?: { approval: Approval; by: ChangedBy },
  ): Promise<{ request: PermissionRequest; exception: ExceptionRecord | null }>;
  /**
   * Approves a pending request not yet due (audited as request-approve) and stores its exception
   * (exception-add). RequestChangeError when it is not pending or is due at `by.at`.
   */
  approve(id: number, approval: Approval, by: ChangedBy): Promise<{ request: PermissionRequest; exception: ExceptionRecord }>;
  /** Declines a pending request (audited as request-decline). RequestChangeError when it is not pending. */
  decline(id: number, note: string, by: ChangedBy): Promise<PermissionRequest>;
  /**
   * Marks every pending request due at or before `now` as expired (audited as request-expire, at
   * the time it fell due), and returns them.
   */
  expireDue(now: number): Promise<PermissionRequest[]>;
  byId(id: number): Promise<PermissionRequest | null>;
  /** Newest first. */
  list(f: RequestFilter): Promise<PermissionRequest[]>;
  /** The changes as access-audit entries (merged into the audit page and `logs audit`). */
  auditEntries(f: AuditFilter): Promise<AuditEntry[]>;
  /** Pending requests not yet announced to the approvers, oldest first; `markNotified` records that they were. */
  unnotified(): Promise<PermissionRequest[]>;
  markNotified(ids: number[], at: number): Promise<void>;
}
