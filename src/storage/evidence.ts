/**
 * Evidence as the store takes it: the rows the evidence processor makes, written in batches by the
 * writer thread through an EvidenceWriter. Times are ms since the Unix epoch.
 */

export interface BlockedRow {
  ts: number;
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
 */
export interface EvidenceWriter {
  write(rows: Rows, now?: number): Promise<void>;
  /** Records that the daemon is alive (every few seconds). */
  heartbeat(h: Heartbeat): Promise<void>;
  /** Deletes rows past their retention and gives the space back. */
  purge(now: number, retention: Retention): Promise<PurgeResult>;
}
