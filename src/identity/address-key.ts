import { maskBytes } from '../net/cidr.js';
import { parseIp } from '../net/ip.js';

/**
 * What an identity is attached to: one IPv4 address, one IPv6 address, or an IPv6 prefix (a
 * Framed-IPv6-Prefix, or a /64 given to the feed). `key` is the canonical text the index stores:
 * an address exactly as a socket reports it (RFC 5952 for IPv6), or "network/len" for a prefix.
 */
export interface AddressKey {
  key: string;
  family: 4 | 6;
  /** 32 or 128 for an address, else the prefix length. */
  prefix: number;
  /** Masked network bytes. */
  bytes: Uint8Array;
}

/** Shortest IPv6 prefix an identity may cover (a /0 would name everybody). */
export const MIN_IPV6_PREFIX = 32;

/** IPv6 bytes as RFC 5952 text (lower case, the first longest run of two or more zero words as "::"), as inet_ntop writes it. */
export function formatIPv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestAt < 0) return hex(words);
  return `${hex(words.slice(0, bestAt))}::${hex(words.slice(bestAt + bestLen))}`;
}

/** Key of an address or prefix from its bytes; host bits beyond `prefix` are cleared. */
export function keyFromBytes(family: 4 | 6, bytes: Uint8Array, prefix: number): AddressKey {
  const max = family === 4 ? 32 : 128;
  const masked = maskBytes(bytes, prefix);
  const text = family === 4 ? Array.from(masked).join('.') : formatIPv6(masked);
  return { key: prefix === max ? text : `${text}/${prefix}`, family, prefix, bytes: masked };
}

/**
 * Parses "10.20.3.4", "2001:DB8::5" or "2001:db8:1:2::/64" into its canonical key. Throws an Error
 * saying what is wrong: IPv4 takes single addresses only; IPv6 prefixes are /32 to /128 and have no
 * host bits set.
 */
export function parseAddressKey(text: string): AddressKey {
  const slash = text.indexOf('/');
  const ip = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  if (!ip) throw new Error(`"${text}" is not an IP address (e.g. 10.20.3.4, 2001:db8::5 or 2001:db8:1:2::/64)`);
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    prefix = /^\d{1,3}$/.test(p) ? Number(p) : -1;
    if (ip.family === 4 && prefix !== 32) throw new Error(`"${text}": an IPv4 identity is one address, not a network`);
    if (prefix < MIN_IPV6_PREFIX || prefix > 128)
      throw new Error(`"${text}": an IPv6 prefix must be /${MIN_IPV6_PREFIX} to /128`);
  }
  const k = keyFromBytes(ip.family, ip.bytes, prefix);
  if (!k.bytes.every((b, i) => b === ip.bytes[i])) throw new Error(`"${text}" has host bits set after /${prefix}`);
  return k;
}
