import { AnswerCache } from '../cache/answer-cache.js';
import type { Answer, Stage } from './types.js';

/** Answers from the cache, or asks the rest of the chain and stores what it forwarded. */
export function cacheStage(cache: AnswerCache): Stage {
  return (ctx, next) => {
    const key = AnswerCache.key(ctx.q);
    const hit = cache.get(key, ctx.raw, ctx.q, ctx.ttlCap);
    if (hit) return { wire: hit, kind: 'cached', reason: '', chain: cache.hitChain };
    const store = (a: Answer): Answer => {
      if (a.kind === 'forwarded' && a.stored) cache.set(key, a.stored);
      return a;
    };
    const result = next(ctx);
    return result instanceof Promise ? result.then(store) : store(result);
  };
}
