import type { IpAddress } from '../net/ip.js';

/** The PTR name of an address: 10.1.2.3 → 3.2.1.10.in-addr.arpa, fd00::1 → 1.0.0.…d.f.ip6.arpa (RFC 3596). */
export function reverseName(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return `${b[3]}.${b[2]}.${b[1]}.${b[0]}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((b[i] & 0xf).toString(16), (b[i] >> 4).toString(16));
  return `${nibbles.join('.')}.ip6.arpa`;
}
