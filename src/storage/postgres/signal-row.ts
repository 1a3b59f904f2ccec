import type { SignalRow } from '../signal-row.js';

/** A signal's columns as read from the shared store (bigints as float8: exact for ms times and counts). */
export const PG_SIGNAL_COLUMNS = `site, id::float8 AS id, first_ts::float8 AS first_ts, last_ts::float8 AS last_ts, client, device,
  grp AS "group", kind, severity, qname, domain, detail, count::float8 AS count, user_name AS "user",
  review_outcome, review_note, review_by, review_at::float8 AS review_at`;

/** A signal row of the shared store: every row names its site. */
export type PgSignalRow = SignalRow & { site: string };
