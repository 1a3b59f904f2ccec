import { TYPE } from '../dns/constants.js';
import { anyResponse } from '../dns/response.js';
import type { Stage } from './types.js';

/** TTL of the RFC 8482 answer (the RFC suggests a long one; unbound and Cloudflare use about an hour). */
const ANY_TTL = 3600;

/**
 * ANY queries get the minimal RFC 8482 answer (one HINFO "RFC8482") instead of being forwarded: a
 * forwarded ANY can come back as every record of the name, the classic amplification query. Only
 * the ANY type is touched; the answer is "refused" in the metrics, with reason "any".
 */
export function anyStage(): Stage {
  return (ctx, next) => {
    if (ctx.q.qtype !== TYPE.ANY) return next(ctx);
    return { wire: anyResponse(ctx.raw, ctx.q, ANY_TTL), kind: 'refused', reason: 'any' };
  };
}
