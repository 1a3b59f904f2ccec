import type { Answer, AnswerKind, QueryContext } from '../pipeline/types.js';

/**
 * What happened to one query, as the evidence store reads it. The DNS path never makes this object:
 * the edge hands its context and answer to a QueryLog, which encodes them (event-codec.ts); the
 * writer thread decodes them into these.
 */
export interface QueryEvent {
  /** Epoch milliseconds when the query arrived. */
  at: number;
  transport: 'udp' | 'tcp';
  client: string;
  /** Group name, or "" when the client was refused or the packet unreadable. */
  group: string;
  qname: string;
  qtype: number;
  kind: AnswerKind;
  /** Category, "acl", or an rcode name for errors ("formerr", "notimp", "servfail"). */
  reason: string;
  entry: string;
  /** Response code sent (0 NOERROR, 3 NXDOMAIN, …), or -1 when nothing was sent. */
  rcode: number;
  /** Seconds from receipt to reply. */
  duration: number;
  /** Upstream that answered a forwarded query, or "". */
  upstream: string;
  /** What a block answered ("NXDOMAIN", "0.0.0.0", …), or "". */
  response: string;
  /** Circumvention signal kind of the rule that matched, or "". */
  signal: string;
  /** Whether the evidence store keeps a blocked-attempt row for this block (answer rules only signal). */
  recordBlocked: boolean;
  /**
   * For a block found in a forwarded answer's CNAME/DNAME/HTTPS chain: the names from the query to
   * the listed one ("cloak.example → www.facebook.com"); "" when the name asked was itself listed.
   */
  via: string;
  /** The person at the client address (RADIUS accounting or the identity feed), or "". */
  user: string;
}

/**
 * Where the server edge hands every answered query (the evidence store's queue, or a worker's channel
 * to it). Called on the DNS path after the reply is sent: it must be quick, never throw, and drop and
 * count rather than grow without bound.
 */
export interface QueryLog {
  /** `at` epoch ms of arrival, `duration` seconds to the reply, `rcode` as sent. */
  record(at: number, duration: number, ctx: QueryContext, a: Answer, rcode: number): void;
}
