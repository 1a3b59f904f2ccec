/**
 * Names that must never be sent to the public upstreams, answered NXDOMAIN here unless an
 * `upstream.zones` entry forwards them (to the school's own servers).
 *
 * - RFC 6761 (special-use names): `localhost`, `invalid`, `test`; RFC 6762: `local` (multicast DNS);
 *   RFC 8375: `home.arpa`.
 * - RFC 6303 (locally served zones): the reverse zones of private, loopback, link-local, unique-local
 *   and documentation addresses, and RFC 7793's shared address space (100.64.0.0/10). A PTR lookup
 *   for 10.1.2.3 tells the outside which private addresses a school uses and can never be answered
 *   by a public resolver anyway.
 */

const v4 = (octets: string, why: string): [string, string] => [`${octets}.in-addr.arpa`, why];
/** ip6.arpa zone of an IPv6 prefix given as its leading hex digits ("fd" → d.f.ip6.arpa). */
const v6 = (hex: string, why: string): [string, string] => [`${[...hex].reverse().join('.')}.ip6.arpa`, why];

export const SPECIAL_USE_ZONES: readonly (readonly [zone: string, why: string])[] = [
  ['localhost', 'RFC 6761 special-use name'],
  ['invalid', 'RFC 6761 special-use name'],
  ['test', 'RFC 6761 special-use name'],
  ['local', 'multicast DNS name (RFC 6762)'],
  ['home.arpa', 'home network name (RFC 8375)'],
  v4('10', 'private address (RFC 1918) reverse zone'),
  ...Array.from({ length: 16 }, (_, i) => v4(`${16 + i}.172`, 'private address (RFC 1918) reverse zone')),
  v4('168.192', 'private address (RFC 1918) reverse zone'),
  v4('127', 'loopback reverse zone (RFC 6303)'),
  v4('254.169', 'link-local reverse zone (RFC 6303)'),
  v4('0', '"this network" reverse zone (RFC 6303)'),
  v4('255.255.255.255', 'broadcast reverse zone (RFC 6303)'),
  v4('2.0.192', 'documentation address reverse zone (RFC 6303)'),
  v4('100.51.198', 'documentation address reverse zone (RFC 6303)'),
  v4('113.0.203', 'documentation address reverse zone (RFC 6303)'),
  ...Array.from({ length: 64 }, (_, i) => v4(`${64 + i}.100`, 'shared address space reverse zone (RFC 7793)')),
  v6('fc', 'unique-local address reverse zone (RFC 6303)'),
  v6('fd', 'unique-local address reverse zone (RFC 6303)'),
  v6('fe8', 'link-local address reverse zone (RFC 6303)'),
  v6('fe9', 'link-local address reverse zone (RFC 6303)'),
  v6('fea', 'link-local address reverse zone (RFC 6303)'),
  v6('feb', 'link-local address reverse zone (RFC 6303)'),
  v6('0'.repeat(31) + '1', 'loopback reverse zone (RFC 6303)'),
  v6('0'.repeat(32), 'unspecified address reverse zone (RFC 6303)'),
  v6('20010db8', 'documentation address reverse zone (RFC 6303)'),
];
