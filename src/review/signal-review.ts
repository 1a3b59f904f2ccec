import type { SignalReviewsRepository } from '../storage/signal-reviews.js';
import { MAX_REVIEW_NOTE, REVIEW_OUTCOMES, type ReviewOutcome } from '../storage/signal-reviews.js';
import type { SignalEntry } from '../storage/review.js';

/**
 * Recording what was done about a signal, the same for the CLI and the console: the outcome must be
 * one of REVIEW_OUTCOMES, the note is trimmed and bounded, and the review and its audit row are
 * written together. It changes no policy, so the reviewer role may do it.
 */

/** A review request that cannot be recorded; `problems` say what is wrong, for people. */
export class ReviewRequestError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

export interface ReviewRequest {
  id: number;
  outcome: string;
  note: string;
  /** The console user, or the OS user behind the CLI. */
  by: string;
  /** The console client's address, or "cli". */
  ip: string;
  at: number;
}

export function checkReview(r: Pick<ReviewRequest, 'id' | 'outcome' | 'note'>): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(r.id) || r.id <= 0) problems.push(`"${r.id}" is not a signal number`);
  if (!(REVIEW_OUTCOMES as readonly string[]).includes(r.outcome))
    problems.push(`outcome "${r.outcome}" is not one of ${REVIEW_OUTCOMES.join(', ')}`);
  if (r.note.trim().length > MAX_REVIEW_NOTE) problems.push(`the note is longer than ${MAX_REVIEW_NOTE} characters`);
  return problems;
}

/** Checks and records a review; throws ReviewRequestError (bad input) or ReviewError (no such signal). */
export async function recordReview(repo: SignalReviewsRepository, r: ReviewRequest): Promise<SignalEntry> {
  const problems = checkReview(r);
  if (problems.length > 0) throw new ReviewRequestError(problems);
  const note = r.note.trim().replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  return repo.review(
    r.id,
    { outcome: r.outcome as ReviewOutcome, note, by: r.by, at: r.at },
    {
      ts: r.at,
      actor: r.by,
      ip: r.ip,
      action: 'signal-review',
      target: `signal ${r.id}`,
      detail: `${r.outcome}${note ? `: ${note}` : ''}`,
    },
  );
}
