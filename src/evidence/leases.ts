/** DHCP lease file parsers: IP → MAC and hostname, so evidence rows name the device, not just an address. */

export interface Lease {
  mac: string;
  hostname: string;
}

/**
 * dnsmasq's leases file: one lease per line, `expiry mac ip hostname client-id` (hostname "*" when
 * unknown). IPv6 lines (with "duid" header lines) carry an IAID instead of a MAC and are kept by IP.
 */
export function parseDnsmasqLeases(text: string): Map<string, Lease> {
  const out = new Map<string, Lease>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[0] === 'duid') continue;
    const [, mac, ip, host] = f;
    out.set(ip, { mac: mac.toLowerCase(), hostname: host === '*' ? '' : host });
  }
  return out;
}

/**
 * ISC dhcpd's dhcpd.leases: `lease IP { ... hardware ethernet MAC; client-hostname "NAME"; ... }`.
 * Later entries for the same IP replace earlier ones (the file is an append log); `binding state
 * free` leases are dropped.
 */
export function parseIscLeases(text: string): Map<string, Lease> {
  const out = new Map<string, Lease>();
  const re = /lease\s+([0-9a-fA-F.:]+)\s*\{([^}]*)\}/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = m[2];
    const mac = /hardware\s+ethernet\s+([0-9a-fA-F:]+)\s*;/.exec(body)?.[1]?.toLowerCase() ?? '';
    const host = /client-hostname\s+"([^"]*)"\s*;/.exec(body)?.[1] ?? '';
    if (/binding\s+state\s+free\s*;/.test(body)) out.delete(m[1]);
    else out.set(m[1], { mac, hostname: host });
  }
  return out;
}
