/** Generated bench data (never committed): a synthetic blocklist, the peers' config for it, query files. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseList } from '../src/lists/list-parser.js';

const TLDS = ['com', 'net', 'org', 'co.uk', 'info', 'io', 'xyz', 'de'];

/** Synthetic listed domain number i: varied lengths and TLDs, like a real adult/gambling/malware list. */
export function listedDomain(i: number): string {
  const h = ((i * 2654435761) >>> 0).toString(36);
  return `${h.slice(0, 3 + (i % 9))}-${i.toString(36)}.${TLDS[i % TLDS.length]}`;
}

/** Shipped social lists' domains (blocked for the bench's group too), read by the daemon's list parser. */
export function socialDomains(root: string): string[] {
  return ['facebook', 'instagram', 'twitter-x'].flatMap((f) => {
    const file = path.join(root, 'blocklists/social-media', `${f}.txt`);
    return parseList(readFileSync(file, 'utf8'), file).entries.map((e) => e.domain);
  });
}

/** Writes the list in the three servers' forms and returns the file paths. */
export function writeLists(dir: string, size: number, social: string[]): { list: string; dnsmasq: string; unbound: string } {
  const domains = Array.from({ length: size }, (_, i) => listedDomain(i)).concat(social);
  const list = path.join(dir, `list-${size}.txt`);
  const dnsmasq = path.join(dir, `dnsmasq-${size}.conf`);
  const unbound = path.join(dir, `unbound-zones-${size}.conf`);
  writeFileSync(list, domains.join('\n') + '\n');
  writeFileSync(dnsmasq, domains.map((d) => `address=/${d}/`).join('\n') + '\n');
  writeFileSync(unbound, domains.map((d) => `local-zone: "${d}." always_nxdomain`).join('\n') + '\n');
  return { list, dnsmasq, unbound };
}

/** dnsperf query files: hot (1,000 names, cache hits), cold (unique), blocked (deep subdomains), mixed 70/20/10. */
export function writeQueries(dir: string, listSize: number, social: string[]): Record<string, string> {
  const hot = Array.from({ length: 1000 }, (_, i) => `www.hot${i}.example.org A`);
  const cold = Array.from({ length: 600_000 }, (_, i) => `u${i}.cold${i % 997}.example.net A`);
  const blocked = Array.from({ length: 20_000 }, (_, i) => {
    const base = i % 10 === 0 ? social[i % social.length] : listedDomain((i * 7919) % listSize);
    return `${i % 3 === 0 ? 'a.b.c.' : 'www.'}${base} ${i % 2 ? 'AAAA' : 'A'}`;
  });
  const mixed = Array.from({ length: 200_000 }, (_, i) =>
    i % 10 < 7 ? hot[i % 1000] : i % 10 < 9 ? `m${i}.mixed.example.net A` : blocked[i % blocked.length],
  );
  const files: Record<string, string> = {};
  for (const [name, lines] of Object.entries({ hot, cold, blocked, mixed })) {
    files[name] = path.join(dir, `q-${name}.txt`);
    writeFileSync(files[name], lines.join('\n') + '\n');
  }
  return files;
}

/**
 * The hot names the bench's upstream answers with a CNAME to a CDN-like edge name: 3 in 10, about
 * the share of aliased answers in school traffic (CDNs, Microsoft and Google services).
 */
export function hotCnames(): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < 1000; i++) if (i % 10 < 3) out[`www.hot${i}.example.org`] = `edge${i}.cdn.example.net`;
  return out;
}
