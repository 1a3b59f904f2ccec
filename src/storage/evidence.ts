/**
 * Evidence as the store takes it: the rows the evidence processor makes, written in batches by the
 * writer thread through an EvidenceWriter. Times are ms since the Unix epoch.
 */

/**
 * A blocked attempt, or a run of repeats of it (same device and address, group, user, name, type,
 * category, list entry, answer, transport and chain) collapsed into one row: `count` attempts from
 * `ts` (the first) to `lastTs`.
 */
export interface BlockedRow {
  ts: number;
  lastTs: number;
  count: number;
  /**
   * How long after a stored row's last attempt this one may still be counted on it, ms (0: never):
   * the collapse window plus the block answer's TTL. Rows never span an hour boundary (UTC), so
   * hourly counts from the rows and from the roll-ups agree exactly.
   */
  joinMs: number;
  client: string;
  device: string;
  grp: string;
  qname: string;
  qtype: string;
  category: string;
  entry: string;
  response: string;
  transport: string;
  /** The chain the block was found through ("cloak.example → www.facebook.com"), or "". */
  via: string;
  /** The person at the address (RADIUS accounting, identity feed), or "" (stored as NULL). */
  user: string;
}

/** What makes two blocked attempts repeats of one another: everything but the time, and the hour. */
export function blockedKey(r: BlockedRow): string {
  return `${Math.floor(r.ts / 3_600_000)}\u0000${r.client}\u0000${r.device}\u0000${r.grp}\u0000${r.user}\u0000${r.qname}\u0000${r.qtype}\u0000${r.category}\u0000${r.entry}\u0000${r.response}\u0000${r.transport}\u0000${r.via}`;
}

/**
 * Counts `r` on `open` when it repeats it within the window (same key, `r.ts` at most `joinMs` after
 * `open`'s last attempt); true when it did.
 */
export function joinRepeat(open: { lastTs: number }, r: BlockedRow): boolean {
  return r.joinMs > 0 && r.ts >= open.lastTs - r.joinMs && r.ts - open.lastTs <= r.joinMs;
}

export interface SignalRow {
  ts: number;
  client: string;
  device: string;
  grp: string;
  kind: string;
  severity: string;
  qname: string;
  /** Dedup key with client and kind: the registrable domain (or the category, for repeated attempts). */
  domain: string;
  detail: string;
  /** Occurrences this row stands for. */
  count: number;
  /** The person at the address, or "" (stored as NULL). */
  user: string;
}

/** Allowed queries of one client to one registrable domain within one hour. */
export interface AccessAggregate {
  hour: number;
  client: string;
  device: string;
  grp: string;
  domain: string;
  count: number;
  firstTs: number;
  lastTs: number;
  /** The person at the address, or "": part of the aggregate's key. */
  user: string;
}

export interface AccessRow {
  ts: number;
  client: string;
  device: string;
  grp: string;
  qname: string;
  qtype: string;
  result: string;
  /** The person at the address, or "" (stored as NULL). */
  user: string;
}

export interface Rows {
  blocked: BlockedRow[];
  signals: SignalRow[];
  accessHourly: AccessAggregate[];
  access: AccessRow[];
}

/** Same client + kind + domain within this long of the last one is merged into one signal row. */
export const SIGNAL_DEDUP_MS = 10 * 60 * 1000;

export interface Retention {
  blocked_days: number;
  signals_days: number;
  access_days: number;
}

export interface PurgeResult {
  blocked: number;
  signals: number;
  accessHourly: number;
  access: number;
}

/** An optional part's health (console, metrics listener, evidence store), as the heartbeat carries it. */
export interface PartHealth {
  state: 'up' | 'down' | 'starting' | 'off';
  detail: string;
  since: number;
}

/** The running daemon's heartbeat, for `webfilter status`. */
export interface Heartbeat {
  pid: number;
  version: string;
  startedAt: number;
  now: number;
  dropped: number;
  writeErrors: number;
  components: Record<string, PartHealth>;
}

/** The last heartbeat as stored, with the time of the last batch written. */
export interface HeartbeatRecord {
  pid: number;
  version: string;
  startedAt: number;
  lastSeen: number;
  lastWrite: number;
  dropped: number;
  writeErrors: number;
  components: Record<string, PartHealth>;
}

/**
 * Where the evidence writer thread puts what it found. Each batch is one transaction: all of it or
 * none, so a failed batch can be retried whole. A store that fails in a way it cannot recover from
 * by itself (a damaged file) reopens on the next call.
 *
 * Besides the rows, the writer keeps roll-ups as it writes (blocked attempts per hour by group and
 * category, per day by device) so that nothing a page or report totals has to scan raw rows.
 *
 * Change counter (for shipping to a central store): every row of the tables a central store takes
 * (blocked attempts, signals, access aggregates, and both roll-ups) carries `seq`, an integer set
 * from one monotonic counter per database when the row is inserted AND again every time it is
 * updated (a repeat collapsed onto a blocked row, a signal or aggregate counted up, a roll-up
 * bumped), indexed. A shipper sends the rows with seq > its cursor, in seq order, and the central
 * store upserts them by (node, local id) — the row id, or the key of a table without one (access
 * aggregates: hour, client, domain; roll-ups: their primary key) — keeping GREATEST of counts and
 * last times and LEAST of first times, so a row sent twice or out of order does no harm. Rows
 * deleted by retention are not shipped (the central store applies its own retention).
 */
export interface EvidenceWriter {
  write(rows: Rows, now?: number): Promise<void>;
  /** Records that the daemon is alive (every few seconds). */
  heartbeat(h: Heartbeat): Promise<void>;
  /**
   * Deletes rows past their retention and gives the space back, a bounded batch per step: each
   * step is its own short transaction and the writer yields between them (`pause`), so a purge of
   * millions of rows never holds up the batches being written meanwhile.
   */
  purge(now: number, retention: Retention, pause?: () => Promise<void>): Promise<PurgeResult>;
}
