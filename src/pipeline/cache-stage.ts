import type { AnswerCache } from '../cache/answer-cache.js';
import type { Answer, Stage } from './types.js';

/** Answers from the cache, or asks the rest of the chain and stores what it forwarded. */
export function cacheStage(cache: AnswerCache): Stage {
  return (ctx, next) => {
    const hit = cache.get(ctx.q, ctx.raw, ctx.ttlCap);
    if (hit) return { wire: hit, kind: 'cached', reason: '', chain: cache.hitChain };
    const store = (a: Answer): Answer => {
      if (a.kind === 'forwarded' && a.stored) cache.set(ctx.q, a.stored);
      return a;
    };
    const result = next(ctx);
    return result instanceof Promise ? result.then(store) : store(result);
  };
}
