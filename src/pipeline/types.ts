import type { ParsedQuery } from '../dns/query.js';
import type { StoredAnswer } from '../dns/relay.js';
import type { ClientInfo } from '../policy/clients.js';
import type { CategoryInfo } from '../policy/categories.js';
import type { CompiledGroup } from '../policy/policy.js';
import type { SignalKind } from '../signals/kinds.js';

/** Why an answer is what it is (one metric/log label value each). */
// New kinds go at the end: the event codec numbers kinds by their place in this list.
export const ANSWER_KINDS = ['forwarded', 'cached', 'blocked', 'exception', 'refused', 'error', 'local'] as const;
export type AnswerKind = (typeof ANSWER_KINDS)[number];

/** An answer ready to send, with the reason it was given. */
export interface Answer {
  wire: Buffer;
  kind: AnswerKind;
  /**
   * Low-cardinality reason: the category for blocks, "acl" for refusals, the rcode name for errors,
   * "record" or "special-use" for local answers.
   */
  reason: string;
  /** The list entry that matched, for blocks. */
  entry?: string;
  /** What a synthesised block said ("NXDOMAIN", "0.0.0.0", …). */
  response?: string;
  /** The category that blocked, with its signal kind for circumvention rules. */
  category?: CategoryInfo;
  /** For a block found in the answer's CNAME/DNAME/HTTPS chain or behind a proxy name: "query → … → listed name". */
  via?: string;
  /** The circumvention signal to record when it is not the category's own (web-proxy). */
  signal?: SignalKind;
  /** Set on forwarded answers: the upstream's answer as the cache stores it. */
  stored?: StoredAnswer;
  /** On forwarded and cached answers: the names the answer leads through (ReplyFacts.chain), or "". */
  chain?: string;
  upstream?: string;
}

/** One query on its way through the chain. */
export interface QueryContext {
  readonly raw: Buffer;
  readonly transport: 'udp' | 'tcp';
  /** Client address as text ("10.20.3.4", "fd00::5"), IPv4-mapped IPv6 already unwrapped. */
  readonly address: string;
  readonly q: ParsedQuery;
  /** Set by the client stage. */
  client?: ClientInfo;
  /** Set by the policy stage: the client's group as the timetable makes it now, and that time. */
  group?: CompiledGroup;
  at?: number;
  /**
   * Longest TTL the answer may carry (seconds), when an exception or a timetable change ends the
   * answer's validity sooner; set by the policy stage, applied where the answer is built.
   */
  ttlCap?: number;
}

/** The rest of the chain after a stage. */
export type Next = (ctx: QueryContext) => Answer | Promise<Answer>;

/**
 * A stage does one job and either answers or hands on to `next`. It returns synchronously when it
 * can (a cache hit allocates no promise) and throws to fail: the server edge maps errors to rcodes.
 */
export type Stage = (ctx: QueryContext, next: Next) => Answer | Promise<Answer>;

/** Builds the chain once: each stage's `next` is fixed at build time, so no closure is made per query. */
export function compose(stages: readonly Stage[]): Next {
  let next: Next = () => {
    throw new Error('query fell off the end of the chain');
  };
  for (let i = stages.length - 1; i >= 0; i--) {
    const stage = stages[i];
    const after = next;
    next = (ctx) => stage(ctx, after);
  }
  return next;
}
