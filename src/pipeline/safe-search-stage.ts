import { FLAG, RCODE, TYPE } from '../dns/constants.js';
import { buildQuery } from '../dns/build-query.js';
import { parseQuery, type ParsedQuery } from '../dns/query.js';
import { answerRecords } from '../dns/reply.js';
import { cnameResponse } from '../dns/response.js';
import { declareStage, thenAnswer, type Answer, type QueryContext, type Stage } from './types.js';

/** Longest TTL given to a synthesised safe-search CNAME. */
const MAX_TTL = 3600;

/**
 * Safe search per group: a search engine's name is answered with a CNAME to its enforced-safe
 * endpoint (www.google.co.uk → forcesafesearch.google.com) plus that endpoint's addresses, which
 * are resolved through the rest of the chain (cache, then upstream). Other groups, other names and
 * other query types than A/AAAA (answered with the CNAME alone, for the client to follow) are
 * untouched by the lookup.
 */
export function safeSearchStage(rewritesByGroup: ReadonlyMap<string, ReadonlyMap<string, string>>): Stage {
  return declareStage({ name: 'safe search', needs: ['client'] }, (ctx, next) => {
    const rewrites = rewritesByGroup.get(ctx.client!.group.name);
    const target = rewrites?.get(ctx.q.qname);
    if (!target) return next(ctx);
    if (ctx.q.qtype !== TYPE.A && ctx.q.qtype !== TYPE.AAAA) {
      return {
        wire: cnameResponse(ctx.raw, ctx.q, target, [], MAX_TTL, RCODE.NOERROR),
        kind: 'forwarded',
        reason: 'safe-search',
      };
    }
    const raw = targetQuery(target, ctx.q);
    const q = parseQuery(raw);
    const sub = next({
      raw,
      transport: 'tcp',
      address: ctx.address,
      q,
      client: ctx.client,
      group: ctx.group,
      at: ctx.at,
      ttlCap: ctx.ttlCap,
    });
    return thenAnswer(sub, withEndpoint, { ctx, target, asked: q });
  });
}

/** The client's answer from the endpoint's: the CNAME, then the endpoint's records of the asked type (and its CNAMEs). */
function withEndpoint(a: Answer, { ctx, target, asked }: { ctx: QueryContext; target: string; asked: ParsedQuery }): Answer {
  const rcode = a.wire.readUInt16BE(2) & 0xf;
  if (a.kind === 'blocked') {
    // The endpoint's own answer led to a blocked name (CNAME inspection): the client gets no address.
    return { ...a, wire: cnameResponse(ctx.raw, ctx.q, target, [], MAX_TTL, rcode) };
  }
  // The endpoint's answer repeats the question webfilter asked it (`asked`).
  const records = answerRecords(a.wire, asked.questionEnd, [ctx.q.qtype, TYPE.CNAME]);
  const ttl = Math.min(MAX_TTL, ...records.map((r) => r.ttl));
  return {
    wire: cnameResponse(ctx.raw, ctx.q, target, records, ttl, rcode),
    kind: a.kind,
    reason: 'safe-search',
    upstream: a.upstream,
  };
}

/** A recursive query for the endpoint, same type, class, CD bit and EDNS (DO bit) as the client's. */
function targetQuery(target: string, q: ParsedQuery): Buffer {
  return buildQuery(target, q.qtype, {
    qclass: q.qclass,
    cd: (q.flags & FLAG.CD) !== 0,
    edns: q.edns ? { dnssecOk: q.edns.dnssecOk } : undefined,
  }).wire;
}
