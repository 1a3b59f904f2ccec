import type { CategoryInfo } from '../policy/categories.js';
import type { Policy } from '../policy/policy.js';
import type { ParsedQuery } from '../dns/query.js';
import { blockedAnswer, nodataAnswer, nxdomainAnswer, type BlockResponse, type Synthesised } from './block-answer.js';
import type { Stage } from './types.js';

/**
 * Applies the client's group policy: a blocked name gets the configured synthesised answer; the
 * circumvention answer rules get their fixed steering answers (NXDOMAIN for the DoH canary and
 * Private Relay, NODATA for DDR). The answer carries the category and, where it has one, the signal.
 */
export function policyStage(policy: Policy, response: BlockResponse, ttl: number): Stage {
  const answerFor = (raw: Buffer, q: ParsedQuery, category: CategoryInfo): Synthesised => {
    if (category.answer === 'nxdomain') return nxdomainAnswer(raw, q, ttl);
    if (category.answer === 'nodata') return nodataAnswer(raw, q, ttl);
    return blockedAnswer(raw, q, response, ttl);
  };
  return (ctx, next) => {
    const decision = policy.decide(ctx.client!.group, ctx.q.qname);
    if (decision.action === 'block') {
      const { wire, response: said } = answerFor(ctx.raw, ctx.q, decision.category);
      return {
        wire,
        kind: 'blocked',
        reason: decision.category.name,
        entry: decision.entry,
        response: said,
        category: decision.category,
      };
    }
    return next(ctx);
  };
}
