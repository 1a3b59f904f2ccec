import type { Policy } from '../policy/policy.js';
import { blockedAnswer, type BlockResponse } from './block-answer.js';
import type { Stage } from './types.js';

/** Applies the client's group policy: a blocked name gets the configured synthesised answer. */
export function policyStage(policy: Policy, response: BlockResponse, ttl: number): Stage {
  return (ctx, next) => {
    const decision = policy.decide(ctx.client!.group, ctx.q.qname);
    if (decision.action === 'block') {
      return {
        wire: blockedAnswer(ctx.raw, ctx.q, response, ttl),
        kind: 'blocked',
        reason: decision.category,
        entry: decision.entry,
      };
    }
    return next(ctx);
  };
}
