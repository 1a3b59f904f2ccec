import { parseIPv4, parseIPv6 } from './ip.js';

/**
 * The key a client is counted by when limits apply per network rather than per address: the address
 * itself for /32 and /128 (no parsing), else its masked network ("167772160/24", "fd00…/56"). One
 * device behind a /24 of privacy addresses or an IPv6 /56 cannot multiply its allowance by changing
 * address. Used by the rate limiter and the TCP per-client connection cap (server.rate_limit's prefixes).
 */
export function clientKey(address: string, ipv4Prefix: number, ipv6Prefix: number): string {
  const v6 = address.includes(':');
  if (v6 ? ipv6Prefix >= 128 : ipv4Prefix >= 32) return address;
  if (!v6) {
    const n = parseIPv4(address);
    if (n < 0) return address;
    const mask = ipv4Prefix === 0 ? 0 : (0xffffffff << (32 - ipv4Prefix)) >>> 0;
    return `${(n & mask) >>> 0}/${ipv4Prefix}`;
  }
  const bytes = parseIPv6(address);
  if (bytes === null) return address;
  let key = '';
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, ipv6Prefix - i * 8));
    key += (bytes[i] & (0xff << (8 - bits)) & 0xff).toString(16).padStart(2, '0');
  }
  return `${key}/${ipv6Prefix}`;
}
