/**
 * A real resolver stack for end-to-end DNS tests: Knot DNS serving test zones (CNAME chains, DNAME,
 * HTTPS TargetNames, a ~60 KB answer; optionally DNSSEC-signed), and unbound resolving them as
 * webfilter's upstream (validating when signed, so it sets AD).
 */
import { startKnot, trustAnchors, type KnotServer } from './knot.js';
import { startUnbound, type Unbound } from './unbound.js';

const soa = (origin: string) =>
  `$ORIGIN ${origin}\n$TTL 300\n@ SOA ns.${origin} hostmaster.${origin} 1 3600 600 86400 300\n@ NS ns.${origin}\nns A 127.0.0.1\n`;

/** TXT records of `big.example.`: 230 × 250 characters, a ~60 KB answer (only over TCP). */
export const BIG_TXT_RECORDS = 230;

/** The test zones: apex → zone file. */
export const TEST_ZONES: Record<string, string> = {
  example: [
    soa('example.'),
    'www A 192.0.2.1',
    'www AAAA 2001:db8::1',
    'ok CNAME www.example.',
    'cloak CNAME www.facebook.com.',
    'hop1 CNAME hop2.example.',
    'hop2 CNAME www.facebook.com.',
    'd DNAME facebook.com.',
    'svc HTTPS 1 www.facebook.com. alpn=h2',
    'svc A 192.0.2.5',
    'alias HTTPS 0 www.facebook.com.',
    'doh CNAME dns.google.',
    'ig CNAME www.instagram.com.',
    ...Array.from({ length: BIG_TXT_RECORDS }, (_, i) => `big TXT "${String(i).padStart(4, '0')}${'x'.repeat(246)}"`),
  ].join('\n'),
  'facebook.com': [soa('facebook.com.'), '@ A 192.0.2.65', 'www A 192.0.2.66'].join('\n'),
  'instagram.com': [soa('instagram.com.'), 'www A 192.0.2.67'].join('\n'),
  'dns.google': [soa('dns.google.'), '@ A 192.0.2.88'].join('\n'),
  // Web proxies that carry the site in their hostname (issue 24): every name answers.
  'translate.goog': [soa('translate.goog.'), '* A 192.0.2.70'].join('\n'),
  'cdn.ampproject.org': [soa('cdn.ampproject.org.'), '* A 192.0.2.71'].join('\n'),
  'webpkgcache.com': [soa('webpkgcache.com.'), '* A 192.0.2.72'].join('\n'),
  // Platforms' alternative front-ends (issue 24): each answers at its apex and www.
  ...Object.fromEntries(
    ['xcancel.com', 'nitter.net', 'imginn.com', 'picuki.com'].map((apex) => [
      apex,
      [soa(`${apex}.`), '@ A 192.0.2.80', 'www A 192.0.2.80'].join('\n'),
    ]),
  ),
};

export interface StackOptions {
  /** Sign example. and validate it in unbound (AD=1 on its answers). */
  sign?: boolean;
  /** Knot answers DNS cookies. */
  cookies?: boolean;
  /** NSID of Knot and of unbound ("ascii_…" form for unbound's). */
  knotNsid?: string;
  unboundNsid?: string;
  /** Extra `server:` lines for unbound. */
  unboundExtra?: string[];
}

export interface ResolverStack {
  knot: KnotServer;
  unbound: Unbound;
  stop(): Promise<void>;
}

/** Starts Knot with the test zones, then unbound stubbed to it; stop() stops both. */
export async function startResolverStack(opts: StackOptions = {}): Promise<ResolverStack> {
  const knot = await startKnot({
    zones: Object.fromEntries(Object.entries(TEST_ZONES).map(([apex, text]) => [apex, text + '\n'])),
    sign: opts.sign,
    cookies: opts.cookies,
    nsid: opts.knotNsid,
  });
  try {
    const anchors = opts.sign ? trustAnchors(knot, ['example.']) : [];
    const unbound = await startUnbound({
      stubs: Object.fromEntries(Object.keys(TEST_ZONES).map((apex) => [apex, knot.at])),
      nsid: opts.unboundNsid,
      trustAnchors: anchors,
      extra: opts.unboundExtra,
    });
    return {
      knot,
      unbound,
      stop: async () => {
        await unbound.stop();
        await knot.stop();
      },
    };
  } catch (e) {
    await knot.stop();
    throw e;
  }
}
