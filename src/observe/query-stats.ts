import { TYPE } from '../dns/constants.js';

/** Query types that get their own label value; everything else is "other" (bounded cardinality). */
export const QTYPES = [
  'A',
  'AAAA',
  'HTTPS',
  'SVCB',
  'CNAME',
  'MX',
  'TXT',
  'PTR',
  'SRV',
  'NS',
  'SOA',
  'DS',
  'DNSKEY',
  'ANY',
] as const;
/** Label slots per protocol: the QTYPES and "other". */
export const QTYPE_SLOTS = QTYPES.length + 1;
/** Values of the `result` label: answer kinds, with errors split by rcode. */
export const RESULTS = [
  'forwarded',
  'cached',
  'blocked',
  'exception',
  'local',
  'refused',
  'upstream-refused',
  'servfail',
  'formerr',
  'notimp',
  'badvers',
] as const;
/** Upper bounds (seconds) of webfilter_request_duration_seconds. */
export const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Why a TCP connection was refused or cut off (the `reason` label of webfilter_tcp_rejected_total). */
export const TCP_REJECT_REASONS = ['not_allowed', 'client_limit', 'max_connections', 'slow_reader'] as const;
export type TcpRejectReason = (typeof TCP_REJECT_REASONS)[number];
/** The `group` label of queries from refused clients and unreadable packets. */
export const NO_GROUP = 'none';

const RESULT_INDEX = new Map<string, number>(RESULTS.map((r, i) => [r, i]));
/** qtype → its slot in QTYPES, or QTYPES.length ("other"): one array read per query. */
const QTYPE_SLOT = new Uint8Array(65536).fill(QTYPES.length);
QTYPES.forEach((t, i) => (QTYPE_SLOT[TYPE[t]] = i));

/** The index of a `result` label value (answer kind, or the error's reason), or -1. */
export function resultIndex(kindOrReason: string): number {
  return RESULT_INDEX.get(kindOrReason) ?? -1;
}

/** Counts of one client group, in flat arrays. */
export interface GroupCounts {
  /** [protocol (0 udp, 1 tcp) × QTYPE_SLOTS + qtype slot] */
  queries: Float64Array;
  /** [result index] */
  responses: Float64Array;
  /** [category index in QueryStats.categories], grown as categories appear */
  blocked: Float64Array;
}

/** Everything QueryStats holds, as plain data: what a worker process hands the primary. */
export interface QueryStatsSnapshot {
  groups: [string, GroupCounts][];
  categories: string[];
  /** [result × (buckets + 1)]: counts per bucket (not cumulative), the last one above every bound */
  durationBuckets: Float64Array;
  /** [result] sum of seconds */
  durationSums: Float64Array;
  /** Packets dropped unanswered (unreadable, or responses): counted for the summary log only. */
  dropped: number;
  /** [TCP_REJECT_REASONS index] */
  tcpRejected: Float64Array;
}

const NB = DURATION_BUCKETS.length + 1;

/**
 * The per-query counters behind webfilter_queries_total, webfilter_responses_total,
 * webfilter_blocked_total and webfilter_request_duration_seconds, counted on the DNS path in plain
 * typed arrays (a few array increments per query, nothing allocated) and handed to prom-client only
 * when /metrics is scraped. prom-client's own counters hash a label object on every increment, which
 * cost more per query than the policy lookup.
 */
export class QueryStats {
  private readonly byGroup = new Map<string, GroupCounts>();
  readonly categories: string[] = [];
  private readonly categoryIndex = new Map<string, number>();
  readonly durationBuckets = new Float64Array(RESULTS.length * NB);
  readonly durationSums = new Float64Array(RESULTS.length);
  dropped = 0;
  readonly tcpRejected = new Float64Array(TCP_REJECT_REASONS.length);
  // The last group counted: consecutive queries of one group skip the map probe.
  private lastName = '';
  private last: GroupCounts | null = null;

  /** A group's counters (created at zero on first use). */
  group(name: string): GroupCounts {
    if (name === this.lastName && this.last !== null) return this.last;
    let g = this.byGroup.get(name);
    if (g === undefined) {
      g = {
        queries: new Float64Array(2 * QTYPE_SLOTS),
        responses: new Float64Array(RESULTS.length),
        blocked: new Float64Array(Math.max(8, this.categories.length)),
      };
      this.byGroup.set(name, g);
    }
    this.lastName = name;
    this.last = g;
    return g;
  }

  /** A category's index in `categories` (added on first use). */
  category(name: string): number {
    let i = this.categoryIndex.get(name);
    if (i === undefined) {
      i = this.categories.length;
      this.categories.push(name);
      this.categoryIndex.set(name, i);
    }
    return i;
  }

  /** Creates the series of these groups and categories at zero (so they exist before the first query). */
  declare(groups: readonly string[], categories: readonly string[]): void {
    for (const c of categories) this.category(c);
    for (const g of [...groups, NO_GROUP]) this.growBlocked(this.group(g));
  }

  /** Counts a query with a readable question (`protocol` 0 UDP, 1 TCP). */
  query(group: GroupCounts, protocol: number, qtype: number): void {
    group.queries[protocol * QTYPE_SLOTS + QTYPE_SLOT[qtype & 0xffff]]++;
  }

  /** Counts an answer sent: its result (resultIndex) and how long it took. */
  response(group: GroupCounts, result: number, seconds: number): void {
    group.responses[result]++;
    let b = 0;
    while (b < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[b]) b++;
    this.durationBuckets[result * NB + b]++;
    this.durationSums[result] += seconds;
  }

  /** Counts a blocked answer's category. */
  blocked(group: GroupCounts, category: string): void {
    const i = this.category(category);
    if (i >= group.blocked.length) this.growBlocked(group);
    group.blocked[i]++;
  }

  /** A TCP connection refused or cut off (from the TCP listener). */
  readonly onTcpRejected = (reason: TcpRejectReason): void => {
    this.tcpRejected[TCP_REJECT_REASONS.indexOf(reason)]++;
  };

  snapshot(): QueryStatsSnapshot {
    return {
      groups: [...this.byGroup].map(([name, g]) => [
        name,
        { queries: g.queries.slice(), responses: g.responses.slice(), blocked: g.blocked.slice() },
      ]),
      categories: [...this.categories],
      durationBuckets: this.durationBuckets.slice(),
      durationSums: this.durationSums.slice(),
      dropped: this.dropped,
      tcpRejected: this.tcpRejected.slice(),
    };
  }

  /** Adds another process's counts to these (the primary summing its workers' for /metrics). */
  add(s: QueryStatsSnapshot): void {
    for (const [name, src] of s.groups) {
      const g = this.group(name);
      addInto(g.queries, src.queries);
      addInto(g.responses, src.responses);
      for (let i = 0; i < src.blocked.length; i++) {
        if (src.blocked[i] === 0) continue;
        const c = this.category(s.categories[i]);
        if (c >= g.blocked.length) this.growBlocked(g);
        g.blocked[c] += src.blocked[i];
      }
    }
    for (const c of s.categories) this.category(c);
    addInto(this.durationBuckets, s.durationBuckets);
    addInto(this.durationSums, s.durationSums);
    this.dropped += s.dropped;
    addInto(this.tcpRejected, s.tcpRejected);
  }

  /** Every group's counters, in the order first seen. */
  groups(): IterableIterator<[string, GroupCounts]> {
    return this.byGroup.entries();
  }

  /** Answers sent per result (all groups), and the dropped packets: for the summary log. */
  totals(): { responses: Float64Array; dropped: number } {
    const responses = new Float64Array(RESULTS.length);
    for (const g of this.byGroup.values()) addInto(responses, g.responses);
    return { responses, dropped: this.dropped };
  }

  private growBlocked(g: GroupCounts): void {
    if (g.blocked.length >= this.categories.length) return;
    const bigger = new Float64Array(Math.max(this.categories.length, 2 * g.blocked.length));
    bigger.set(g.blocked);
    g.blocked = bigger;
  }
}

function addInto(into: Float64Array, from: Float64Array): void {
  for (let i = 0; i < from.length && i < into.length; i++) into[i] += from[i];
}
