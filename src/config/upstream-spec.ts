import { z } from 'zod';
import { parseIp } from '../net/ip.js';
import { formatHostPort, parseHostPort } from './host-port.js';

/**
 * One entry of `upstream.servers`: plain DNS (`10.0.0.1:53`, UDP with TCP on truncation), DNS over TLS
 * (`tls://1.1.1.3:853#family.cloudflare-dns.com`, RFC 7858) or DNS over HTTPS
 * (`https://1.1.1.3/dns-query#family.cloudflare-dns.com`, RFC 8484). The host is always an IP
 * literal (DNS must not depend on DNS); `#name` is the name the server's certificate must carry (and
 * the TLS SNI / HTTP authority). Without it the certificate must carry the address itself.
 */
export type UpstreamSpec =
  | { transport: 'udp'; host: string; port: number; family: 4 | 6; name: string }
  | { transport: 'tls'; host: string; port: number; family: 4 | 6; tlsName: string | null; name: string }
  | { transport: 'https'; host: string; port: number; family: 4 | 6; tlsName: string | null; path: string; name: string };

const NAME_RE = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

/** Parses an `upstream.servers` entry; throws an Error saying what is wrong and what would be right. */
export function parseUpstream(text: string): UpstreamSpec {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const hp = parseHostPort(text, 53);
    return { transport: 'udp', ...hp, name: formatHostPort(hp) };
  }
  const hash = text.indexOf('#');
  const base = hash < 0 ? text : text.slice(0, hash);
  const tlsName =
    hash < 0
      ? null
      : text
          .slice(hash + 1)
          .toLowerCase()
          .replace(/\.$/, '');
  if (tlsName !== null && !NAME_RE.test(tlsName) && !parseIp(tlsName)) {
    throw new Error(`"${text}": "#${tlsName}" is not a certificate name (e.g. #family.cloudflare-dns.com)`);
  }
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`"${text}" is not a URL (e.g. tls://1.1.1.3:853#family.cloudflare-dns.com)`);
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'tls' && scheme !== 'https') {
    throw new Error(`"${text}": ${scheme}:// is not an upstream transport (use host:port, tls://… or https://…)`);
  }
  if (url.username || url.password) throw new Error(`"${text}": an upstream URL takes no user or password`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const ip = parseIp(host);
  if (!ip) {
    const example = scheme === 'tls' ? `tls://1.1.1.3:853#${host}` : `https://1.1.1.3/dns-query#${host}`;
    throw new Error(
      `"${text}": give the server's IP address and its certificate name after #, e.g. ${example} (DNS must not depend on DNS)`,
    );
  }
  const family: 4 | 6 = host.includes(':') ? 6 : 4;
  const port = url.port ? Number(url.port) : scheme === 'tls' ? 853 : 443;
  if (scheme === 'tls') {
    if ((url.pathname !== '' && url.pathname !== '/') || url.search) throw new Error(`"${text}": a tls:// upstream has no path`);
    return { transport: 'tls', host, port, family, tlsName, name: `tls://${formatHostPort({ host, port })}` };
  }
  const path = (url.pathname || '/') + url.search;
  if (path === '/') throw new Error(`"${text}": give the DoH path, usually /dns-query (e.g. https://1.1.1.3/dns-query)`);
  return {
    transport: 'https',
    host,
    port,
    family,
    tlsName,
    path,
    name: `https://${formatHostPort({ host, port })}${path}`,
  };
}

/** A plain-DNS upstream from an address and port (resolv.conf's nameservers, conditional-forwarding zones). */
export function plainUpstream(hp: { host: string; port: number; family: 4 | 6 }): UpstreamSpec {
  return { transport: 'udp', host: hp.host, port: hp.port, family: hp.family, name: formatHostPort(hp) };
}

/** `upstream.servers[i]`: validated by parseUpstream, its message following the YAML path. */
export const upstreamServer = z.string().superRefine((s, ctx) => {
  try {
    parseUpstream(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});
