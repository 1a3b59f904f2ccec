import { RCODE } from '../dns/constants.js';
import { errorResponse } from '../dns/response.js';
import type { ClientDirectory } from '../policy/clients.js';
import type { Stage } from './types.js';

/**
 * Identifies the client: REFUSED outside `server.allowed_clients` (no open resolver; the answer is
 * header + question, never larger than the query), otherwise attaches its group for the policy stage.
 */
export function clientStage(directory: ClientDirectory): Stage {
  return (ctx, next) => {
    const client = directory.resolve(ctx.address);
    if (!client.allowed) {
      return { wire: errorResponse(ctx.raw, ctx.q, RCODE.REFUSED), kind: 'refused', reason: 'acl' };
    }
    ctx.client = client;
    return next(ctx);
  };
}
