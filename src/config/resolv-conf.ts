import { readFile } from 'node:fs/promises';
import { parseIp } from '../net/ip.js';
import type { HostPort } from './host-port.js';

/**
 * The nameservers of a resolv.conf, as default upstreams, minus any that would be this daemon itself
 * (a loopback or listened-on address on a port we listen on): forwarding to ourselves would loop.
 */
export async function defaultUpstreams(file: string, listen: HostPort[]): Promise<HostPort[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const out: HostPort[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = m[1].replace(/%.*$/, '');
    const ip = parseIp(host);
    if (!ip) continue;
    const candidate: HostPort = { host, port: 53, family: host.includes(':') ? 6 : 4 };
    if (!isSelf(candidate, listen)) out.push(candidate);
  }
  return out;
}

function isSelf(c: HostPort, listen: HostPort[]): boolean {
  const loopback = c.host.startsWith('127.') || c.host === '::1';
  return listen.some((l) => l.port === c.port && (l.host === c.host || ((l.host === '0.0.0.0' || l.host === '::') && loopback)));
}
