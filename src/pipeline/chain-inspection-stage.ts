import { capTtls } from '../dns/reply.js';
import { evaluate } from '../verdict/evaluate.js';
import type { Policy } from '../policy/policy.js';
import type { Timetable } from '../policy/timetable.js';
import { categoryAnswer, type BlockResponse } from './block-answer.js';
import type { ExceptionsHolder } from './policy-stage.js';
import type { Answer, QueryContext, Stage } from './types.js';

/**
 * CNAME inspection: a forwarded or cached answer is checked name by name along its chain — the
 * owners and targets of its CNAME and DNAME records and the TargetNames of its HTTPS/SVCB records
 * (ReplyFacts.chain, worked out once when the answer came from the upstream and kept with it in the
 * cache) — with the same policy as the question (evaluate: the client's group as the timetable
 * makes it now, its exceptions, locked categories). `cloak.example CNAME www.facebook.com` is
 * anyone's to set up; without this it would reach a blocked site.
 *
 * The first name blocked turns the answer into the block answer for its category, recorded with
 * `via` = the chain from the question to that name. A name an exception opens, or that the next
 * timetable change will block, caps the answer's TTLs as it would for the question itself.
 */
export function chainInspectionStage(
  policy: Policy,
  timetable: Timetable,
  response: BlockResponse,
  ttl: number,
  exceptions: ExceptionsHolder,
): Stage {
  const inspect = (ctx: QueryContext, a: Answer): Answer => {
    if (!a.chain || (a.kind !== 'forwarded' && a.kind !== 'cached')) return a;
    const group = ctx.group ?? ctx.client!.group;
    const t = ctx.at ?? Date.now();
    const names = a.chain.split(' ');
    let capMs = Infinity;
    let upcoming: ReturnType<Timetable['upcoming']> | undefined;
    for (let i = 0; i < names.length; i++) {
      const v = evaluate(policy, exceptions.current, group, ctx.address, names[i], t);
      if (v.decision.action === 'allow') {
        if (upcoming === undefined) upcoming = timetable.upcoming(ctx.client!.group, t);
        if (upcoming && policy.decide(upcoming.group, names[i]).action !== 'allow') capMs = Math.min(capMs, upcoming.at - t);
        continue;
      }
      if (v.exception) {
        capMs = Math.min(capMs, v.exception.record.expiresAt - t);
        continue;
      }
      const category = v.decision.category;
      const { wire, response: said } = categoryAnswer(ctx.raw, ctx.q, category, response, ttl);
      return {
        wire,
        kind: 'blocked',
        reason: category.name,
        entry: v.decision.entry,
        response: said,
        category,
        via: [ctx.q.qname, ...names.slice(0, i + 1)].join(' → '),
      };
    }
    if (capMs < Infinity) capTtls(a.wire, ctx.q.questionEnd, Math.max(1, Math.floor(capMs / 1000)));
    return a;
  };
  return (ctx, next) => {
    const result = next(ctx);
    return result instanceof Promise ? result.then((a) => inspect(ctx, a)) : inspect(ctx, result);
  };
}
