import type { AnswerCache } from '../cache/answer-cache.js';
import type { ParsedQuery } from '../dns/query.js';
import { thenAnswer, type Answer, type Stage } from './types.js';

/** Answers from the cache, or asks the rest of the chain and stores what it forwarded. */
export function cacheStage(cache: AnswerCache): Stage {
  return (ctx, next) => {
    const hit = cache.get(ctx.q, ctx.raw, ctx.ttlCap);
    if (hit) return { wire: hit, kind: 'cached', reason: '', chain: cache.hitChain };
    return thenAnswer(next(ctx), store, ctx.q);
  };
  function store(a: Answer, q: ParsedQuery): Answer {
    if (a.kind === 'forwarded' && a.stored) cache.set(q, a.stored);
    return a;
  }
}
