import { RCODE, TYPE } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import { addressResponse, errorResponse, negativeResponse } from '../dns/response.js';
import { parseIp } from '../net/ip.js';
import type { CategoryInfo } from '../policy/categories.js';

/** The configured `blocking.response`, compiled at load. */
export type BlockResponse =
  | { kind: 'nxdomain' }
  | { kind: 'refused' }
  | { kind: 'address'; v4: Buffer | null; v6: Buffer | null; v4Text: string; v6Text: string };

/** A synthesised answer and a short label of what it said, for the evidence store ("NXDOMAIN", "0.0.0.0"). */
export interface Synthesised {
  wire: Buffer;
  response: string;
}

/** Compiles `blocking.response`: nxdomain | null (0.0.0.0 and ::) | refused | an IPv4/IPv6 address. */
export function compileBlockResponse(text: string): BlockResponse {
  if (text === 'nxdomain' || text === 'refused') return { kind: text };
  if (text === 'null') return { kind: 'address', v4: Buffer.alloc(4), v6: Buffer.alloc(16), v4Text: '0.0.0.0', v6Text: '::' };
  const ip = parseIp(text);
  if (!ip) throw new Error(`"${text}" is not a block response`);
  const bytes = Buffer.from(ip.bytes);
  return ip.family === 4
    ? { kind: 'address', v4: bytes, v6: null, v4Text: text, v6Text: '' }
    : { kind: 'address', v4: null, v6: bytes, v4Text: '', v6Text: text };
}

/**
 * The synthesised answer for a blocked query. Address modes answer A/AAAA with the address and
 * every other type (HTTPS, SVCB, TXT, …) with NODATA, so no record of the blocked name leaks through.
 */
export function blockedAnswer(raw: Buffer, q: ParsedQuery, response: BlockResponse, ttl: number): Synthesised {
  switch (response.kind) {
    case 'nxdomain':
      return { wire: negativeResponse(raw, q, RCODE.NXDOMAIN, ttl), response: 'NXDOMAIN' };
    case 'refused':
      return { wire: errorResponse(raw, q, RCODE.REFUSED), response: 'REFUSED' };
    case 'address': {
      if (q.qtype === TYPE.A && response.v4)
        return { wire: addressResponse(raw, q, response.v4, ttl), response: response.v4Text };
      if (q.qtype === TYPE.AAAA && response.v6)
        return { wire: addressResponse(raw, q, response.v6, ttl), response: response.v6Text };
      return nodataAnswer(raw, q, ttl);
    }
  }
}

/** NXDOMAIN with a negative-caching SOA (answer rules that tell a client a name does not exist). */
export function nxdomainAnswer(raw: Buffer, q: ParsedQuery, ttl: number): Synthesised {
  return { wire: negativeResponse(raw, q, RCODE.NXDOMAIN, ttl), response: 'NXDOMAIN' };
}

/** NOERROR with no records and a negative-caching SOA. */
export function nodataAnswer(raw: Buffer, q: ParsedQuery, ttl: number): Synthesised {
  return { wire: negativeResponse(raw, q, RCODE.NOERROR, ttl), response: 'NODATA' };
}

/**
 * The answer for a name blocked by `category`: the answer rules' fixed steering answers (NXDOMAIN
 * for the DoH canary and Private Relay, NODATA for DDR), else the configured block answer.
 */
export function categoryAnswer(
  raw: Buffer,
  q: ParsedQuery,
  category: CategoryInfo,
  response: BlockResponse,
  ttl: number,
): Synthesised {
  if (category.answer === 'nxdomain') return nxdomainAnswer(raw, q, ttl);
  if (category.answer === 'nodata') return nodataAnswer(raw, q, ttl);
  return blockedAnswer(raw, q, response, ttl);
}
