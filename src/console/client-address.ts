import { maskBytes, parseCidr, type Cidr } from '../net/cidr.js';
import { canonicalAddress, parseIp } from '../net/ip.js';

/** Parses `console.trusted_proxies` (validated by the config schema). */
export function parseProxies(list: readonly string[]): Cidr[] {
  return list.map(parseCidr);
}

/** Whether `address` is inside one of the networks. */
export function inNetworks(address: string, nets: readonly Cidr[]): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  return nets.some((n) => n.family === ip.family && maskBytes(ip.bytes, n.prefix).every((b, i) => b === n.bytes[i]));
}

/**
 * The address of the person at the browser. The socket's peer, unless that peer is one of the
 * school's reverse proxies (`console.trusted_proxies`): then X-Forwarded-For is read from the right,
 * skipping further trusted proxies, and the first other address is the client. A header from any
 * other peer is ignored, so a client cannot choose the address the audit and the sign-in limits see.
 */
export function clientAddress(peer: string, forwardedFor: string | string[] | undefined, proxies: readonly Cidr[]): string {
  const direct = canonicalAddress(peer);
  if (proxies.length === 0 || forwardedFor === undefined || !inNetworks(direct, proxies)) return direct;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonicalAddress(hops[i].replace(/^\[(.*)\](:\d+)?$/, '$1'));
    if (!parseIp(hop)) return direct; // a malformed entry: trust nothing further left
    if (!inNetworks(hop, proxies)) return hop;
  }
  return direct;
}

/**
 * The key sign-in limits count by: the address, or for IPv6 its /64 (one device or home network
 * gets a whole /64 and can pick any address in it).
 */
export function addressKey(address: string): string {
  const ip = parseIp(address);
  if (!ip || ip.family === 4) return address;
  const b = maskBytes(ip.bytes, 64);
  const words: string[] = [];
  for (let i = 0; i < 8; i += 2) words.push(((b[i] << 8) | b[i + 1]).toString(16));
  return `${words.join(':')}::/64`;
}
