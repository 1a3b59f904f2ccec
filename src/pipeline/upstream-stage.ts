import type { Forwarder } from '../upstream/forwarder.js';
import type { UpstreamRoutes } from '../upstream/routes.js';
import type { Stage } from './types.js';

/**
 * Last stage: forwards the client's query bytes to the upstream set its name routes to (the longest
 * matching `upstream.zones` entry's pool, else the main upstreams) and relays the reply with the
 * client's ID put back.
 */
export function upstreamStage(routes: UpstreamRoutes<Forwarder>): Stage {
  return async (ctx) => {
    const route = routes.route(ctx.q.qname);
    // The local stage answers these; one that got this far anyway must still never leave the school.
    if (route.kind === 'local') throw new Error(`special-use name ${ctx.q.qname} reached the upstream stage`);
    const { reply, facts, upstream } = await route.value.forward(ctx.raw, ctx.q.questionEnd);
    reply.writeUInt16BE(ctx.q.id, 0);
    return { wire: reply, kind: 'forwarded', reason: '', facts, upstream };
  };
}
