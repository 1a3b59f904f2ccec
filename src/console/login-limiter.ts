/**
 * Failed sign-ins per account and per client address in a sliding window. Beyond the limit,
 * sign-in is refused (even with the right password) until the oldest failure leaves the window,
 * and the message says until when. Kept in memory; bounded by sweeping old entries.
 */
export interface LoginLimits {
  perAccount: number;
  perIp: number;
  windowMs: number;
}

const MAX_KEYS = 100_000;

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: LoginLimits) {}

  /** When sign-in is blocked for this account or address: the time it opens again, else null. */
  blockedUntil(account: string, ip: string, now: number): { until: number; why: 'account' | 'address' } | null {
    const a = this.recent(`u:${account.toLowerCase()}`, now);
    if (a.length >= this.limits.perAccount)
      return { until: a[a.length - this.limits.perAccount] + this.limits.windowMs, why: 'account' };
    const i = this.recent(`ip:${ip}`, now);
    if (i.length >= this.limits.perIp) return { until: i[i.length - this.limits.perIp] + this.limits.windowMs, why: 'address' };
    return null;
  }

  fail(account: string, ip: string, now: number): void {
    if (this.failures.size > MAX_KEYS) this.sweep(now);
    for (const key of [`u:${account.toLowerCase()}`, `ip:${ip}`]) this.failures.set(key, [...this.recent(key, now), now]);
  }

  /** A successful sign-in clears the account's failures (not the address's). */
  succeed(account: string): void {
    this.failures.delete(`u:${account.toLowerCase()}`);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.limits.windowMs);
  }

  private sweep(now: number): void {
    for (const [k, ts] of this.failures) if (ts.every((t) => now - t >= this.limits.windowMs)) this.failures.delete(k);
  }
}
