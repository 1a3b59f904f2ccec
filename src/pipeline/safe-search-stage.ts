import dns2 from 'dns2';
import { CLASS_IN, FLAG, HEADER_SIZE, RCODE, TYPE } from '../dns/constants.js';
import { parseIp } from '../net/ip.js';
import { encodeName } from '../dns/name.js';
import { parseQuery, type ParsedQuery } from '../dns/query.js';
import type { Answer, Stage } from './types.js';

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
  return (ctx, next) => {
    const rewrites = rewritesByGroup.get(ctx.client!.group.name);
    const target = rewrites?.get(ctx.q.qname);
    if (!target) return next(ctx);
    if (ctx.q.qtype !== TYPE.A && ctx.q.qtype !== TYPE.AAAA) {
      return { wire: synthesise(ctx.raw, ctx.q, target, [], MAX_TTL, RCODE.NOERROR), kind: 'forwarded', reason: 'safe-search' };
    }
    const raw = targetQuery(target, ctx.q);
    const sub = next({
      raw,
      transport: 'tcp',
      address: ctx.address,
      q: parseQuery(raw),
      client: ctx.client,
      group: ctx.group,
      at: ctx.at,
      ttlCap: ctx.ttlCap,
    });
    const compose = (a: Answer): Answer => {
      if (a.kind === 'blocked') {
        // The endpoint's own answer led to a blocked name (CNAME inspection): the client gets no address.
        return { ...a, wire: synthesise(ctx.raw, ctx.q, target, [], MAX_TTL, a.wire.readUInt16BE(2) & 0xf) };
      }
      const parsed = dns2.Packet.parse(a.wire);
      const records = parsed.answers.filter((r) => r.type === ctx.q.qtype || r.type === TYPE.CNAME);
      const ttl = Math.min(MAX_TTL, ...records.map((r) => r.ttl));
      const rcode = a.wire.readUInt16BE(2) & 0xf;
      return {
        wire: synthesise(ctx.raw, ctx.q, target, records, ttl, rcode),
        kind: a.kind,
        reason: 'safe-search',
        upstream: a.upstream,
      };
    };
    return sub instanceof Promise ? sub.then(compose) : compose(sub);
  };
}

/** A recursive query for the endpoint, same type, class and EDNS as the client's. */
function targetQuery(target: string, q: ParsedQuery): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt16BE(FLAG.RD | (q.flags & FLAG.CD), 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(q.qtype, 0);
  tail.writeUInt16BE(q.qclass, 2);
  if (!q.edns) return Buffer.concat([header, encodeName(target), tail]);
  header.writeUInt16BE(1, 10);
  const opt = Buffer.from([0, 0, TYPE.OPT, 0x04, 0xd0, 0, 0, q.edns.dnssecOk ? 0x80 : 0, 0, 0, 0]);
  return Buffer.concat([header, encodeName(target), tail, opt]);
}

interface Rec {
  name: string;
  type: number;
  ttl: number;
  address?: string;
  domain?: string;
}

/** Header + the client's question + CNAME(qname → target) + the endpoint's records (+ OPT if asked). */
function synthesise(raw: Buffer, q: ParsedQuery, target: string, records: Rec[], ttl: number, rcode: number): Buffer {
  const rr = (owner: Buffer, type: number, t: number, rdata: Buffer) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(type, 0);
    fixed.writeUInt16BE(CLASS_IN, 2);
    fixed.writeUInt32BE(t, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    return Buffer.concat([owner, fixed, rdata]);
  };
  const answers = [rr(Buffer.from([0xc0, 0x0c]), TYPE.CNAME, ttl, encodeName(target))];
  for (const r of records) {
    const rdata = r.type === TYPE.CNAME ? encodeName(r.domain!) : Buffer.from(parseIp(r.address!)!.bytes);
    answers.push(rr(encodeName(r.name), r.type, Math.min(r.ttl, ttl), rdata));
  }
  const header = Buffer.alloc(HEADER_SIZE);
  raw.copy(header, 0, 0, 2);
  header.writeUInt16BE(FLAG.QR | (q.flags & (FLAG.RD | FLAG.CD)) | FLAG.RA | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(q.edns ? 1 : 0, 10);
  const opt = q.edns ? [Buffer.from([0, 0, TYPE.OPT, 0x04, 0xd0, 0, 0, q.edns.dnssecOk ? 0x80 : 0, 0, 0, 0])] : [];
  return Buffer.concat([header, raw.subarray(HEADER_SIZE, q.questionEnd), ...answers, ...opt]);
}
