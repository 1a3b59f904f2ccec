import type { Forwarder } from '../upstream/forwarder.js';
import type { Stage } from './types.js';

/** Last stage: forwards the client's query bytes and relays the reply with the client's ID put back. */
export function upstreamStage(forwarder: Forwarder): Stage {
  return async (ctx) => {
    const { reply, facts, upstream } = await forwarder.forward(ctx.raw, ctx.q.questionEnd);
    reply.writeUInt16BE(ctx.q.id, 0);
    return { wire: reply, kind: 'forwarded', reason: '', facts, upstream };
  };
}
