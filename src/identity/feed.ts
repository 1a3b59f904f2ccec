import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { z } from 'zod';
import { formatPath } from '../config/load.js';
import { canonicalAddress } from '../net/ip.js';
import { parseDuration } from '../time/duration.js';
import { parseAddressKey } from './address-key.js';
import type { FeedItem } from './identity-service.js';

/** Outcomes of feed requests (label values of webfilter_identity_feed_requests_total). */
export const FEED_OUTCOMES = ['accepted', 'unauthorized', 'rate_limited', 'bad_request'] as const;
export type FeedOutcome = (typeof FEED_OUTCOMES)[number];

export interface FeedOptions {
  /** The bearer token now in force (null: the feed is off). */
  token(): Buffer | null;
  requestsPerMinute(): number;
  maxTtlMs(): number;
  apply(items: FeedItem[], reporter: string): void;
  now?: () => number;
}

/** Largest request body read. */
const MAX_BODY = 256 * 1024;
/** A failed sign-in costs this many requests of the caller's allowance. */
const FAILED_AUTH_COST = 10;
/** Callers tracked by the rate limiter before it starts afresh. */
const MAX_CALLERS = 10_000;

const TEXT = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { message: 'has control characters' });

const itemSchema = z.strictObject({
  /** "10.20.3.4", "2001:db8::5" or an IPv6 prefix "2001:db8:1:2::/64". */
  address: z.string(),
  user: TEXT(128),
  group: TEXT(64).nullable().optional(),
  /** "8h" or seconds. */
  ttl: z.union([z.string(), z.number().int().positive()]).optional(),
  /** Remove this user's mapping at the address. */
  logoff: z.boolean().default(false),
});
const bodySchema = z.union([itemSchema, z.array(itemSchema).min(1).max(1000)]);

/**
 * `POST /identity`: a domain-controller event forwarder or a captive portal says who is at an
 * address. Bearer token compared in constant time (SHA-256 of both sides, so the length leaks
 * nothing either); each caller address has `requests_per_minute`, and a failed sign-in spends ten
 * of them, so guessing is slow. The token is checked before the body is read.
 */
export class IdentityFeed {
  readonly counts = Object.fromEntries(FEED_OUTCOMES.map((o) => [o, 0])) as Record<FeedOutcome, number>;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: FeedOptions) {
    this.now = opts.now ?? Date.now;
  }

  handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const caller = canonicalAddress(req.socket.remoteAddress ?? '');
    const reply = (status: number, outcome: FeedOutcome, body: unknown, headers: Record<string, string> = {}) => {
      this.counts[outcome]++;
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    const token = this.opts.token();
    if (token === null) return reply(404, 'bad_request', { error: 'the identity feed is not enabled (identity.feed.enabled)' });
    if (!this.spend(caller, 1)) {
      return reply(429, 'rate_limited', { error: 'too many requests' }, { 'retry-after': '60', connection: 'close' });
    }
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (!sameToken(given, token)) {
      this.spend(caller, FAILED_AUTH_COST - 1, true);
      return reply(
        401,
        'unauthorized',
        { error: 'missing or wrong token' },
        { 'www-authenticate': 'Bearer', connection: 'close' },
      );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) return void chunks.push(c);
      req.off('data', onData);
      req.resume(); // discard the rest; the connection closes after the reply
      reply(413, 'bad_request', { error: `body over ${MAX_BODY} bytes` }, { connection: 'close' });
    };
    req.on('data', onData);
    req.on('error', () => {});
    req.on('end', () => {
      if (res.writableEnded) return;
      const result = this.parse(Buffer.concat(chunks).toString('utf8'));
      if ('error' in result) return reply(400, 'bad_request', { error: result.error });
      this.opts.apply(result.items, caller);
      reply(200, 'accepted', { accepted: result.items.length });
    });
  };

  /** Validates a request body into feed items, or says what is wrong with it. */
  parse(text: string): { items: FeedItem[] } | { error: string } {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return { error: `not JSON: ${(e as Error).message}` };
    }
    const parsed = bodySchema.safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return { error: `${formatPath(i.path)}: ${i.message}` };
    }
    const list = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
    const items: FeedItem[] = [];
    for (const [n, it] of list.entries()) {
      const at = Array.isArray(parsed.data) ? `[${n}].` : '';
      let ttlMs: number | null = null;
      try {
        if (typeof it.ttl === 'number') ttlMs = it.ttl * 1000;
        else if (typeof it.ttl === 'string') ttlMs = parseDuration(it.ttl);
      } catch (e) {
        return { error: `${at}ttl: ${(e as Error).message}` };
      }
      if (ttlMs !== null && ttlMs > this.opts.maxTtlMs()) return { error: `${at}ttl: longer than identity.max_ttl` };
      try {
        items.push({ key: parseAddressKey(it.address), user: it.user, group: it.group ?? null, ttlMs, logoff: it.logoff });
      } catch (e) {
        return { error: `${at}address: ${(e as Error).message}` };
      }
    }
    return { items };
  }

  /** Token bucket per caller: `requests_per_minute` capacity, refilled evenly. */
  private spend(caller: string, cost: number, penalty = false): boolean {
    const rate = this.opts.requestsPerMinute();
    const now = this.now();
    let b = this.buckets.get(caller);
    if (!b) {
      if (this.buckets.size >= MAX_CALLERS) this.buckets.clear();
      this.buckets.set(caller, (b = { tokens: rate, at: now }));
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 60_000);
    b.at = now;
    if (penalty) b.tokens = Math.max(0, b.tokens - cost);
    if (penalty || b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }
}

/** Constant-time token comparison: equal-length digests, so neither content nor length leaks. */
function sameToken(given: string, token: Buffer): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}
