/** Rows the evidence processor produces and the store writes. Times are ms since the Unix epoch. */

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
}

export interface AccessRow {
  ts: number;
  client: string;
  device: string;
  grp: string;
  qname: string;
  qtype: string;
  result: string;
}

export interface Rows {
  blocked: BlockedRow[];
  signals: SignalRow[];
  accessHourly: AccessAggregate[];
  access: AccessRow[];
}

/** Same client + kind + domain within this long of the last one is merged into one signal row. */
export const SIGNAL_DEDUP_MS = 10 * 60 * 1000;
