import type { AuditEntry, AuditFilter, AuditRow } from './accounts.js';
import type { SignalEntry } from './review.js';

/**
 * What the online safety officer did about a circumvention signal. A review changes no policy: it
 * records the case handling (DfE standards: monitoring is acted on), so the reviewer role may give
 * one. A signal has at most one review; a second replaces the first (the access audit keeps both).
 */
export const REVIEW_OUTCOMES = ['no-action', 'spoke-to-student', 'sanction', 'false-positive', 'referred'] as const;
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];

/** Longest review note kept (a few sentences; details belong in the school's safeguarding system). */
export const MAX_REVIEW_NOTE = 1000;

export interface NewReview {
  outcome: ReviewOutcome;
  note: string;
  /** The console user, or the OS user of the CLI. */
  by: string;
  at: number;
}

/** The review could not be recorded (no such signal); the message says why, for people. */
export class ReviewError extends Error {}

export interface SignalReviewsRepository {
  /** One signal by its number, or null. */
  signal(id: number): Promise<SignalEntry | null>;
  /**
   * Records the review on the signal and `audit` beside it, in one transaction (the reviews' own
   * audit, kept with the evidence; the access audit shows it). Throws ReviewError when there is no
   * such signal (it may have passed its retention).
   */
  review(id: number, r: NewReview, audit: AuditRow): Promise<SignalEntry>;
  /** The reviews' audit rows (action signal-review) matching `f`, for the access audit. */
  auditEntries(f: AuditFilter): Promise<AuditEntry[]>;
  /** Signals not reviewed yet whose last occurrence is in [from, to). */
  unreviewedCount(from: number, to: number): Promise<number>;
}
