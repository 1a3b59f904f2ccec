import type { SignalEntry } from '../review.js';
import { isoTime } from '../time-text.js';

/** A signal's columns as read from the shared store (bigints as float8: exact for ms times and counts). */
export const PG_SIGNAL_COLUMNS = `site, id::float8 AS id, first_ts::float8 AS first_ts, last_ts::float8 AS last_ts, client, device,
  grp AS "group", kind, severity, qname, domain, detail, count::float8 AS count, user_name AS "user",
  review_outcome, review_note, review_by, review_at::float8 AS review_at`;

export interface PgSignalRow {
  site: string;
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
export function pgSignalEntry(r: PgSignalRow): SignalEntry {
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
