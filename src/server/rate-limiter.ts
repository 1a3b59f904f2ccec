import { clientKey } from '../net/client-key.js';

/** `server.rate_limit` as the schema gives it. */
export interface RateLimitSettings {
  /** Sustained queries per second per client (or per client network); 0 turns limiting off. */
  qps: number;
  /** Queries a quiet client may send at once before the rate applies. */
  burst: number;
  /** Clients are counted per network of this size: 32 = each IPv4 address, 24 = each /24. */
  ipv4_prefix: number;
  /** Likewise for IPv6: 128 = each address, 56 = each home/site prefix. */
  ipv6_prefix: number;
  /** drop = no answer (the client retries later); refuse = REFUSED, header only (never larger than the query). */
  action: 'drop' | 'refuse';
  /** Most clients tracked at once; beyond it the table is cleared (fails open rather than blocking DNS). */
  max_clients: number;
}

const MAX_OFFENDERS = 1000;

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill. */
  at: number;
}

/**
 * A token bucket per client key (RFC-free; the dnsdist/unbound `ip-ratelimit` model): each key earns
 * `qps` tokens a second up to `burst`, and a query spends one. Keys are the address text itself for
 * /32 and /128 (no parsing per query), or the masked network for shorter prefixes.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private settings: RateLimitSettings;
  private lastSweep = 0;
  /** Limited queries per key since the last takeOffenders() (bounded: a log aid, not a table). */
  private readonly offenders = new Map<string, number>();
  /** Queries refused or dropped for being over the limit, since start. */
  limited = 0;
  /** Times the table was full and had to be cleared. */
  overflows = 0;

  constructor(settings: RateLimitSettings) {
    this.settings = settings;
  }

  /** Applies new settings (a reload) without forgetting the state of clients. */
  configure(settings: RateLimitSettings): void {
    this.settings = settings;
  }

  get enabled(): boolean {
    return this.settings.qps > 0;
  }

  get action(): 'drop' | 'refuse' {
    return this.settings.action;
  }

  /** Clients currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  /** Spends a token of this client's bucket: false when it is over the limit (and counts it). */
  allow(address: string, now = performance.now()): boolean {
    const s = this.settings;
    if (s.qps <= 0) return true;
    const key = this.key(address);
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= s.max_clients) this.makeRoom(now);
      b = { tokens: s.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(s.burst, b.tokens + ((now - b.at) * s.qps) / 1000);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    this.limited++;
    const n = this.offenders.get(key);
    if (n !== undefined || this.offenders.size < MAX_OFFENDERS) this.offenders.set(key, (n ?? 0) + 1);
    return false;
  }

  /** The clients (keys) limited most since the last call, most first, for the log; then forgets them. */
  takeOffenders(top = 5): { client: string; limited: number }[] {
    const out = [...this.offenders].sort((a, b) => b[1] - a[1]).slice(0, top);
    this.offenders.clear();
    return out.map(([client, limited]) => ({ client, limited }));
  }

  /** Forgets clients whose bucket has refilled (they are indistinguishable from new ones); clears all if that frees nothing. */
  private makeRoom(now: number): void {
    const s = this.settings;
    if (now - this.lastSweep >= 1000) {
      this.lastSweep = now;
      const fullAfter = (s.burst / s.qps) * 1000;
      for (const [k, b] of this.buckets) if (now - b.at >= fullAfter) this.buckets.delete(k);
    }
    if (this.buckets.size >= s.max_clients) {
      this.buckets.clear();
      this.overflows++;
    }
  }

  private key(address: string): string {
    return clientKey(address, this.settings.ipv4_prefix, this.settings.ipv6_prefix);
  }
}
