/**
 * Shipping the evidence to the shared store (issue 17): every row is written to this box's SQLite
 * first, as on a single box; the evidence writer thread then copies the rows changed since a cursor
 * per table to PostgreSQL, idempotently, and advances the cursor only once PostgreSQL committed.
 * The three halves: the outbox (the local rows, by change counter), the cursors (kept beside the
 * copy of the shared exceptions, so a new shared store starts them again) and the inbox (the shared
 * store's upserts).
 */

/**
 * The tables shipped, in the order each pass ships them (a review's audit after its signal). The
 * cursor of each is its `seq` change counter (issue 25), except `access` (the per-query log, only
 * ever inserted into), shipped by its row id.
 */
export const SHIP_TABLES = [
  'blocked',
  'signals',
  'access_hourly',
  'access',
  'blocked_hourly',
  'blocked_device_daily',
  'review_audit',
  'access_audit',
] as const;
export type ShipTable = (typeof SHIP_TABLES)[number];

/** A row as shipped: the shared table's columns (without site and node), SQLite's `user` as `user_name`. */
export type ShipRow = Record<string, string | number | null>;

/** Rows of one table changed after a cursor, in change order, and the cursor that follows them. */
export interface ShipBatch {
  table: ShipTable;
  rows: ShipRow[];
  /** The change counter of the last row: the table's cursor once these rows are in the shared store. */
  last: number;
}

export type ShipCursorValues = Record<ShipTable, number>;

/** What is waiting to be shipped. */
export interface ShipBacklog {
  rows: number;
  /** When the oldest change waiting was made (ms since the epoch), null when nothing waits. */
  oldest: number | null;
}

/** This box's evidence as the shipper reads it. */
export interface EvidenceOutbox {
  /** Up to `limit` rows of `table` changed after `cursor`, oldest change first. */
  after(table: ShipTable, cursor: number, limit: number): ShipBatch;
  /** Rows changed after the cursors, and when the oldest of those changes was made. */
  backlog(cursors: ShipCursorValues): ShipBacklog;
  /**
   * Rows not shipped yet that a retention purge at these cut-offs (ms) would delete (counted before
   * the purge, so the loss is logged): evidence older than `blocked` (blocked attempts and their
   * roll-ups), `signals`, `access` (the access log and its aggregates).
   */
  unshippedBefore(cursors: ShipCursorValues, cut: { blocked: number; signals: number; access: number }): number;
}

/** Where the shipper keeps its cursors (this box's SQLite). */
export interface ShipCursors {
  values(): ShipCursorValues;
  /** Moves `table`'s cursor to `value` (never back). */
  advance(table: ShipTable, value: number): void;
}

/** How a filter's shipping stands, as it reports it to the shared store. */
export interface ShippingReport {
  backlogRows: number;
  lagSeconds: number;
  version: string;
}

/** The shared store's side. */
export interface EvidenceInbox {
  /**
   * Stores a batch in one transaction, keyed by site, node and the local key: a row already there
   * takes the larger count and last time and the smaller first time, so storing a batch twice, or
   * an older copy of a row after a newer one, changes nothing.
   */
  upsert(batch: ShipBatch): Promise<void>;
  /** Records this filter's backlog and lag (for `webfilter shared status` of every filter of the site). */
  report(r: ShippingReport): Promise<void>;
}

/** What one run of the central retention did. */
export interface CentralRetentionResult {
  droppedPartitions: string[];
  deletedRows: number;
}

/** The shared store's own retention (`shared.retention`), run by the filters' shipping. */
export interface CentralRetention {
  /**
   * Runs it unless some filter of the trust did within the hour (then null); `stop` ends a run
   * between two statements (the thread closing, a run that takes too long).
   */
  runIfDue(now: number, stop?: () => boolean): Promise<CentralRetentionResult | null>;
}

/** The three halves, as the evidence writer thread (and `webfilter status`) gets them. */
export interface ShippingStores {
  outbox: EvidenceOutbox;
  cursors: ShipCursors;
  inbox: EvidenceInbox;
  /** With `shared.retention` (the daemon): the shared store's retention, run from the shipping. */
  retention?: CentralRetention;
}

export function zeroCursors(): ShipCursorValues {
  return Object.fromEntries(SHIP_TABLES.map((t) => [t, 0])) as ShipCursorValues;
}

/** The backlog and lag (seconds, 0 when nothing waits) at `now`. */
export function shippingBacklog(
  s: Pick<ShippingStores, 'outbox' | 'cursors'>,
  now: number,
): { rows: number; lagSeconds: number } {
  const b = s.outbox.backlog(s.cursors.values());
  return { rows: b.rows, lagSeconds: b.oldest === null ? 0 : Math.max(0, (now - b.oldest) / 1000) };
}
