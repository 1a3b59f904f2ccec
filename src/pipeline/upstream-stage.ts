import { renderAnswer, storedAnswer, upstreamQuery } from '../dns/relay.js';
import type { Forwarder } from '../upstream/forwarder.js';
import type { UpstreamRoutes } from '../upstream/routes.js';
import type { Stage } from './types.js';

/**
 * Last stage: asks the upstream set the name routes to (the longest matching `upstream.zones`
 * entry's pool, else the main upstreams) with webfilter's own query (see relay.ts: the client's EDNS
 * options never leave), keeps the answer without its OPT for the cache, and builds the client's
 * reply from it.
 */
export function upstreamStage(routes: UpstreamRoutes<Forwarder>): Stage {
  return async (ctx) => {
    const route = routes.route(ctx.q.qname);
    // The local stage answers these; one that got this far anyway must still never leave the school.
    if (route.kind === 'local') throw new Error(`special-use name ${ctx.q.qname} reached the upstream stage`);
    const sent = upstreamQuery(ctx.raw, ctx.q);
    const askedAt = Date.now();
    const { reply, facts, upstream } = await route.value.forward(sent, ctx.q.questionEnd);
    const stored = storedAnswer(reply, facts);
    stored.askedAt = askedAt;
    const wire = renderAnswer(stored, ctx.raw, ctx.q, ctx.ttlCap ?? 0x7fffffff);
    return { wire, kind: 'forwarded', reason: '', stored, chain: facts.chain, upstream };
  };
}
