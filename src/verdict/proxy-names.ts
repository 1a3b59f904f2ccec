import { domainToASCII, domainToUnicode } from 'node:url';
import { normaliseDomain } from '../dns/name.js';

/**
 * Web proxies that carry the site they show in their own hostname, reversibly: a student opens
 * `www-facebook-com.translate.goog` and sees www.facebook.com. The policy is applied to the decoded
 * name (policy stage, `webfilter check`), so a blocked platform stays blocked through them.
 *
 * One entry per proxy: the suffix its names sit directly under, who runs it (for explanations),
 * and the decoder of the first label. Another proxy with a reversible encoding is one more entry.
 * Checked against each service's own documentation (2026-11-30):
 * - Google Translate's website proxy — developers.google.com/search/docs/appearance/ad-network-and-translation
 *   ("Convert the Google Translate URL to the original URL");
 * - the AMP caches registered in the AMP project's caches.json (Google, Bing, Cloudflare — the last
 *   retired), which all use the AMP cache subdomain format — amp.dev "AMP Cache URL format".
 * - the Google SXG Cache (signed exchanges Google Search prefetches; Cloudflare makes them for any
 *   of its customers' sites that ticks "Automatic Signed Exchanges"), which uses the AMP cache
 *   subdomain format under webpkgcache.com — developers.google.com/search/docs/appearance/signed-exchange
 *   ("Debug the Google SXG cache").
 * Proxies that take the site in the URL's path or query (translatetheweb.com, Yandex's
 * translated.turbopages.org, archive.org, web proxies) cannot be decoded from DNS; the web-proxy
 * sites' own names are in the vpn-proxy list.
 */
export interface ProxyDecoder {
  /** Names of the form LABEL.suffix are decoded. */
  suffix: string;
  /** Who runs it, for `check` and the README. */
  service: string;
  /** The host LABEL stands for (lower-case, punycode), or null when it is not a valid encoding. */
  decode(label: string): string | null;
}

/**
 * Google Translate (`_x_tr_enc` flags cannot be seen in DNS, so they are read off the label): a
 * leading `1-` marks a host too long to carry whole (the label then holds its tail, which still
 * ends in the blocked domain), a leading `0-` an internationalised name whose `xn--` was left out;
 * then each single `-` between letters or digits was a dot, and each `--` a hyphen.
 */
export function decodeTranslateGoog(label: string): string | null {
  let rest = label;
  if (rest.startsWith('1-') && !rest.startsWith('1--')) rest = rest.slice(2);
  let idn = false;
  if (rest.startsWith('0-') && !rest.startsWith('0--')) {
    rest = rest.slice(2);
    idn = true;
  }
  const host = rest.replace(/\b-\b/g, '.').replace(/--/g, '-');
  return validHost(idn ? `xn--${host}` : host);
}

/**
 * The AMP cache subdomain (amp.dev): the publisher's domain in Unicode, each `-` doubled, each `.`
 * made `-`, wrapped in `0-`…`-0` when that put `--` at the third and fourth characters, then
 * punycoded. Hash-based fallback labels (for names too long) decode to no valid host and are left.
 */
export function decodeAmpCache(label: string): string | null {
  let text = label.startsWith('xn--') ? domainToUnicode(label) : label;
  if (text === '') return null;
  if (text.startsWith('0-') && text.endsWith('-0')) text = text.slice(2, -2);
  const host = text
    .split('--')
    .map((part) => part.replace(/-/g, '.'))
    .join('-');
  return validHost(domainToASCII(host));
}

/** A decoded name only counts when it is a plain host name of two labels or more. */
function validHost(name: string): string | null {
  if (name === '' || !name.includes('.')) return null;
  const n = normaliseDomain(name);
  return typeof n === 'string' && !n.split('.').some((l) => l.startsWith('-') || l.endsWith('-')) ? n : null;
}

export const PROXY_DECODERS: readonly ProxyDecoder[] = [
  { suffix: 'translate.goog', service: "Google Translate's website proxy", decode: decodeTranslateGoog },
  { suffix: 'cdn.ampproject.org', service: 'the Google AMP Cache', decode: decodeAmpCache },
  { suffix: 'bing-amp.com', service: 'the Bing AMP Cache', decode: decodeAmpCache },
  { suffix: 'amp.cloudflare.com', service: 'the Cloudflare AMP Cache', decode: decodeAmpCache },
  { suffix: 'webpkgcache.com', service: 'the Google SXG Cache', decode: decodeAmpCache },
];

const DOTTED = PROXY_DECODERS.map((d) => `.${d.suffix}`);

/** How many proxies deep a name is followed (a proxy of a proxy of …). */
const MAX_DEPTH = 4;

/** What a proxy name stands for: each proxy it goes through and the host it shows, outermost first. */
export interface ProxyPath {
  /** The services, outermost first. */
  services: string[];
  /** The decoded names: hosts[i] is what the i-th proxy shows; the last is the site itself. */
  hosts: string[];
}

/**
 * The site a proxy name shows, or null for any other name (the common case costs a few
 * `endsWith` on the query name). Only names directly under a proxy's suffix are decoded.
 */
export function decodeProxyName(qname: string): ProxyPath | null {
  let path: ProxyPath | null = null;
  let name = qname;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    // A plain loop: findIndex's callback would be a closure made for every query.
    let i = DOTTED.length - 1;
    while (i >= 0 && !name.endsWith(DOTTED[i])) i--;
    if (i < 0) break;
    const label = name.slice(0, name.length - DOTTED[i].length);
    if (label.includes('.')) break;
    const host = PROXY_DECODERS[i].decode(label);
    if (host === null) break;
    path ??= { services: [], hosts: [] };
    path.services.push(PROXY_DECODERS[i].service);
    path.hosts.push(host);
    name = host;
  }
  return path;
}
