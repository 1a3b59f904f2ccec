import { RCODE, TYPE } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import { addressResponse, errorResponse, negativeResponse } from '../dns/response.js';
import { parseIp } from '../net/ip.js';

/** The configured `blocking.response`, compiled at load. */
export type BlockResponse =
  { kind: 'nxdomain' } | { kind: 'refused' } | { kind: 'address'; v4: Buffer | null; v6: Buffer | null };

/** Compiles `blocking.response`: nxdomain | null (0.0.0.0 and ::) | refused | an IPv4/IPv6 address. */
export function compileBlockResponse(text: string): BlockResponse {
  if (text === 'nxdomain' || text === 'refused') return { kind: text };
  if (text === 'null') return { kind: 'address', v4: Buffer.alloc(4), v6: Buffer.alloc(16) };
  const ip = parseIp(text);
  if (!ip) throw new Error(`"${text}" is not a block response`);
  const bytes = Buffer.from(ip.bytes);
  return { kind: 'address', v4: ip.family === 4 ? bytes : null, v6: ip.family === 6 ? bytes : null };
}

/**
 * The synthesised answer for a blocked query. Address modes answer A/AAAA with the address and
 * every other type (HTTPS, SVCB, TXT, …) with NODATA, so no record of the blocked name leaks through.
 */
export function blockedAnswer(raw: Buffer, q: ParsedQuery, response: BlockResponse, ttl: number): Buffer {
  switch (response.kind) {
    case 'nxdomain':
      return negativeResponse(raw, q, RCODE.NXDOMAIN, ttl);
    case 'refused':
      return errorResponse(raw, q, RCODE.REFUSED);
    case 'address': {
      const addr = q.qtype === TYPE.A ? response.v4 : q.qtype === TYPE.AAAA ? response.v6 : null;
      return addr ? addressResponse(raw, q, addr, ttl) : negativeResponse(raw, q, RCODE.NOERROR, ttl);
    }
  }
}
