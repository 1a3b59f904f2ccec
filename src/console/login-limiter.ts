import { throttleKeys, waitLeft, type LoginLimits, type SignInHold, type SignInThrottle } from '../storage/sign-in-throttle.js';

export type { LoginLimits };

const MAX_KEYS = 100_000;

interface Failures {
  count: number;
  last: number;
}

/**
 * A single box's sign-in throttle (storage/sign-in-throttle.ts has the rule): kept in memory, by
 * this process's clock; bounded by sweeping old entries. Filters sharing a store count in
 * PostgreSQL instead, where every console of the trust sees the same count.
 */
export class LoginLimiter implements SignInThrottle {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly now: () => number = Date.now) {}

  async held(account: string, address: string, limits: LoginLimits): Promise<SignInHold | null> {
    const keys = throttleKeys(account, address);
    const a = this.waitFor(keys.account, limits.perAccount, limits.windowMs);
    if (a > 0) return { waitMs: a, why: 'account' };
    const i = this.waitFor(keys.address, limits.perIp, limits.windowMs);
    if (i > 0) return { waitMs: i, why: 'address' };
    return null;
  }

  async fail(account: string, address: string, limits: LoginLimits): Promise<void> {
    const now = this.now();
    if (this.failures.size > MAX_KEYS) this.sweep(now, limits.windowMs);
    const keys = throttleKeys(account, address);
    for (const key of [keys.account, keys.address]) {
      const f = this.failures.get(key);
      const count = f && now - f.last < limits.windowMs ? f.count : 0;
      this.failures.set(key, { count: count + 1, last: now });
    }
  }

  async succeed(account: string, address: string): Promise<void> {
    this.failures.delete(throttleKeys(account, address).account);
  }

  private waitFor(key: string, free: number, windowMs: number): number {
    const f = this.failures.get(key);
    return f ? waitLeft(f.count, this.now() - f.last, free, windowMs) : 0;
  }

  private sweep(now: number, windowMs: number): void {
    for (const [k, f] of this.failures) if (now - f.last >= windowMs) this.failures.delete(k);
  }
}
