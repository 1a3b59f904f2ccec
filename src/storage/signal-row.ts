import type { SignalEntry } from './review.js';
import { isoTime } from './time-text.js';

/**
 * A signal's columns as either backend reads them (times in ms; `site` only from the shared store),
 * so that both turn a row into the review's entry the same way.
 */
export interface SignalRow {
  site?: string;
  id: number;
  first_ts: number;
  last_ts: number;
  client: string;
  device: string;
  group: string;
  kind: string;
  severity: string;
  qname: string;
  domain: string;
  detail: string;
  count: number;
  user: string | null;
  review_outcome: string | null;
  review_note: string | null;
  review_by: string | null;
  review_at: number | null;
}

/** The entry as the review shows it: its id is this store's (the handle in URLs and `signal review`). */
export function signalEntry(r: SignalRow): SignalEntry {
  const { first_ts, last_ts, review_outcome, review_note, review_by, review_at, ...rest } = r;
  return {
    ...rest,
    first_seen: isoTime(first_ts),
    last_seen: isoTime(last_ts),
    review:
      review_at === null
        ? null
        : { outcome: review_outcome ?? '', note: review_note ?? '', by: review_by ?? '', at: isoTime(review_at) },
  };
}
