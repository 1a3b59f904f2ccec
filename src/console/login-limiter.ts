/**
 * Sign-in throttling. Failures are counted per account *and address* (an attacker elsewhere cannot
 * lock the real user out) and per address (one address trying many accounts). The first
 * `perAccount` / `perIp` failures cost nothing; each one after that doubles the wait before the
 * next attempt from that key (1 s, 2 s, 4 s, … up to the window). A key is forgotten once the window
 * passes without a failure, and a successful sign-in clears its account+address key. Addresses are
 * keys from `addressKey` (IPv6 by /64). Kept in memory; bounded by sweeping old entries.
 */
export interface LoginLimits {
  perAccount: number;
  perIp: number;
  windowMs: number;
}

const MAX_KEYS = 100_000;
const FIRST_DELAY_MS = 1000;

interface Failures {
  count: number;
  last: number;
}

export class LoginLimiter {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly limits: LoginLimits) {}

  /** While this account+address (or address) must wait: when it may try again, else null. */
  blockedUntil(account: string, address: string, now: number): { until: number; why: 'account' | 'address' } | null {
    const a = this.waitUntil(accountKey(account, address), this.limits.perAccount, now);
    if (a > now) return { until: a, why: 'account' };
    const i = this.waitUntil(`ip:${address}`, this.limits.perIp, now);
    if (i > now) return { until: i, why: 'address' };
    return null;
  }

  fail(account: string, address: string, now: number): void {
    if (this.failures.size > MAX_KEYS) this.sweep(now);
    for (const key of [accountKey(account, address), `ip:${address}`]) {
      const f = this.current(key, now);
      this.failures.set(key, { count: (f?.count ?? 0) + 1, last: now });
    }
  }

  /** A successful sign-in clears the account's failures from that address (not the address's). */
  succeed(account: string, address: string): void {
    this.failures.delete(accountKey(account, address));
  }

  private waitUntil(key: string, free: number, now: number): number {
    const f = this.current(key, now);
    if (!f || f.count < free) return 0;
    const delay = Math.min(FIRST_DELAY_MS * 2 ** Math.min(f.count - free, 30), this.limits.windowMs);
    return f.last + delay;
  }

  private current(key: string, now: number): Failures | undefined {
    const f = this.failures.get(key);
    if (f && now - f.last >= this.limits.windowMs) {
      this.failures.delete(key);
      return undefined;
    }
    return f;
  }

  private sweep(now: number): void {
    for (const [k, f] of this.failures) if (now - f.last >= this.limits.windowMs) this.failures.delete(k);
  }
}

const accountKey = (account: string, address: string) => `u:${account.toLowerCase()}@${address}`;
