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
  /** Set by the client stage (a stage that `needs: ['client']` may read it with `!`: compose() checked). */
  client?: ClientInfo;
  /** Set by the policy stage (fact `group`): the client's group as the timetable makes it now, and that time. */
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

/** What a stage leaves on the context for later stages: `client` (client stage), `group` and `at` (policy stage). */
export type ContextFact = 'client' | 'group';

/** A stage's name and the facts it reads from the context and leaves on it, checked by compose(). */
export interface StageFacts {
  readonly name: string;
  readonly needs: readonly ContextFact[];
  readonly gives: readonly ContextFact[];
}

/**
 * A stage does one job and either answers or hands on to `next`. It returns synchronously when it
 * can (a cache hit allocates no promise) and throws to fail: the server edge maps errors to rcodes.
 * A stage that reads or leaves context facts says so (`facts`, see declareStage).
 */
export type Stage = ((ctx: QueryContext, next: Next) => Answer | Promise<Answer>) & { readonly facts?: StageFacts };

/** A stage with the context facts it needs from earlier stages and gives to later ones. */
export function declareStage(
  facts: { name: string; needs?: readonly ContextFact[]; gives?: readonly ContextFact[] },
  run: (ctx: QueryContext, next: Next) => Answer | Promise<Answer>,
): Stage {
  return Object.assign(run, { facts: { name: facts.name, needs: facts.needs ?? [], gives: facts.gives ?? [] } });
}

/**
 * `f(answer, arg)` for an answer that may still be on its way: at once when it is there (no promise
 * made on the synchronous path), else when it arrives. `arg` spares the caller a closure per query.
 */
export function thenAnswer<A>(
  result: Answer | Promise<Answer>,
  f: (a: Answer, arg: A) => Answer,
  arg: A,
): Answer | Promise<Answer> {
  return result instanceof Promise ? result.then((a) => f(a, arg)) : f(result, arg);
}

/**
 * Builds the chain once: each stage's `next` is fixed at build time, so no closure is made per query.
 * The order is checked here, once: a stage that needs a context fact (e.g. the client) must come
 * after one that gives it, so stages may read `ctx.client!` without checking per query.
 */
export function compose(stages: readonly Stage[]): Next {
  const known = new Set<ContextFact>();
  for (const s of stages) {
    for (const need of s.facts?.needs ?? []) {
      if (!known.has(need)) throw new Error(`pipeline stage ${s.facts!.name} needs the ${need}, which no stage before it gives`);
    }
    for (const give of s.facts?.gives ?? []) known.add(give);
  }
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
