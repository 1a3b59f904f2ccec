import { createRequire } from 'node:module';

/**
 * csv-parse is loaded on first use (only the windows-csv format needs it): the writer thread starts
 * before the database opens, and every module loaded at start delays that.
 */
let csvParse: typeof import('csv-parse/sync').parse | undefined;
const load = () => (csvParse ??= (createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync')).parse);
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

/**
 * Windows Server DHCP leases exported by `Get-DhcpServerv4Lease | Export-Csv` (Windows PowerShell
 * 5.1 or PowerShell 7; with or without `-NoTypeInformation`): a header row naming the columns, then
 * one row per lease. Reads IPAddress, ClientId (the MAC, "aa-bb-cc-dd-ee-ff") and HostName (a full
 * name, "Y9-LT-07.school.local": its first label is kept, as dnsmasq and dhcpd record names). Rows
 * whose AddressState is not Active… (Expired, Declined, Offered, InactiveReservation) are skipped.
 * Throws when the header has no IPAddress column (not such an export).
 */
export function parseWindowsCsvLeases(text: string): Map<string, Lease> {
  // Export-Csv without -NoTypeInformation starts with "#TYPE Microsoft.Management.Infrastructure...".
  const body = text.replace(/^\uFEFF?#TYPE[^\n]*\n/, '');
  const columns = (names: string[]) => {
    if (!names.includes('IPAddress')) throw new Error('not a Get-DhcpServerv4Lease export: no IPAddress column');
    return names;
  };
  const options = { columns, bom: true, skip_empty_lines: true, relax_column_count: true, trim: true };
  const rows = load()(body, options) as Record<string, string>[];
  const out = new Map<string, Lease>();
  for (const row of rows) {
    const state = row.AddressState ?? 'Active';
    if (!row.IPAddress || !state.startsWith('Active')) continue;
    const mac = (row.ClientId ?? '').toLowerCase().replace(/-/g, ':');
    out.set(row.IPAddress, { mac, hostname: (row.HostName ?? '').split('.')[0] });
  }
  return out;
}

/** A leases file's text: UTF-16 (PowerShell's `-Encoding Unicode`) or UTF-8/ASCII, BOM or not. */
export function leasesText(buf: Buffer): string {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.toString('utf16le', 2);
  return buf.toString('utf8');
}
