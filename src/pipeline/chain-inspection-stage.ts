import { capTtls } from '../dns/reply.js';
import type { Policy } from '../policy/policy.js';
import type { Timetable } from '../policy/timetable.js';
import { evaluateNames } from '../verdict/evaluate-names.js';
import { categoryAnswer, type BlockResponse } from './block-answer.js';
import type { ExceptionsHolder } from './policy-stage.js';
import { declareStage, thenAnswer, type Answer, type QueryContext, type Stage } from './types.js';

/**
 * CNAME inspection: a forwarded or cached answer is checked name by name along its chain — the
 * owners and targets of its CNAME and DNAME records and the TargetNames of its HTTPS/SVCB records
 * (ReplyFacts.chain, worked out once when the answer came from the upstream and kept with it in the
 * cache) — with the same policy as the question (evaluateNames: the client's group as the timetable
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
  const inspect = (a: Answer, ctx: QueryContext): Answer => {
    if (!a.chain || (a.kind !== 'forwarded' && a.kind !== 'cached')) return a;
    const t = ctx.at ?? Date.now();
    const names = a.chain.split(' ');
    const v = evaluateNames(policy, exceptions.current, ctx.group!, ctx.address, names, t, () =>
      timetable.upcoming(ctx.client!.group, t),
    );
    if (v.blocked) {
      const { decision } = v.blocked;
      const { wire, response: said } = categoryAnswer(ctx.raw, ctx.q, decision.category, response, ttl);
      return {
        wire,
        kind: 'blocked',
        reason: decision.category.name,
        entry: decision.entry,
        response: said,
        category: decision.category,
        via: [ctx.q.qname, ...names.slice(0, v.blocked.index + 1)].join(' → '),
      };
    }
    if (v.validMs < Infinity) capTtls(a.wire, ctx.q.questionEnd, Math.max(1, Math.floor(v.validMs / 1000)));
    return a;
  };
  return declareStage({ name: 'chain inspection', needs: ['client', 'group'] }, (ctx, next) =>
    thenAnswer(next(ctx), inspect, ctx),
  );
}
