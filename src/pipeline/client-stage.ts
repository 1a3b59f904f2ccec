import { RCODE } from '../dns/constants.js';
import { errorResponse } from '../dns/response.js';
import type { IdentityIndex } from '../identity/identity-index.js';
import type { ClientDirectory } from '../policy/clients.js';
import { declareStage, type Stage } from './types.js';

/**
 * Identifies the client: REFUSED outside `server.allowed_clients` (no open resolver; the answer is
 * header + question, never larger than the query), otherwise attaches its group for the policy
 * stage, and its user when RADIUS accounting or the identity feed named one (whose group, when
 * configured, replaces the address's). The identity lookup is one Map probe, none when no
 * identities are known; the access control stays with the address, whoever is signed in.
 */
export function clientStage(directory: ClientDirectory, identities: IdentityIndex, now: () => number): Stage {
  return declareStage({ name: 'client', gives: ['client'] }, (ctx, next) => {
    const client = directory.resolve(ctx.address);
    if (!client.allowed) {
      return { wire: errorResponse(ctx.raw, ctx.q, RCODE.REFUSED), kind: 'refused', reason: 'acl' };
    }
    const id = identities.size === 0 ? undefined : identities.lookup(ctx.address, now());
    ctx.client = id === undefined ? client : directory.withIdentity(client, id);
    return next(ctx);
  });
}
