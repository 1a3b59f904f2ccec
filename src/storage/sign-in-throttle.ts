/**
 * Sign-in throttling (the console's sign-in, the CLI's `--account`). Failures are counted per
 * account *and address* (an attacker elsewhere cannot lock the real user out) and per address (one
 * address trying many accounts). The first `perAccount` / `perIp` failures cost nothing; each one
 * after that doubles the wait before the next attempt from that key (1 s, 2 s, 4 s, … up to the
 * window). A key is forgotten once the window passes without a failure, and a successful sign-in
 * clears its account+address key. Addresses are keys from `addressKey` (IPv6 by /64), or `cli` for
 * the command line.
 *
 * A single box counts in memory (console/login-limiter.ts). Filters sharing a store count in
 * PostgreSQL by its clock (issue 17, security finding 6), so every console and CLI of the trust sees
 * one count: thirty consoles do not give thirty times the guesses. An unreachable store throws, and
 * the caller refuses the sign-in (fails closed), never lets it through uncounted.
 */
export interface LoginLimits {
  perAccount: number;
  perIp: number;
  windowMs: number;
}

/** Why, and for how much longer, a sign-in must wait. */
export interface SignInHold {
  waitMs: number;
  why: 'account' | 'address';
}

export interface SignInThrottle {
  /** While this account from this address (or this address) must wait: for how long and why, else null. */
  held(account: string, address: string, limits: LoginLimits): Promise<SignInHold | null>;
  /** Counts a failed sign-in of this account from this address (and of the address). */
  fail(account: string, address: string, limits: LoginLimits): Promise<void>;
  /** A successful sign-in clears the account's failures from that address (not the address's). */
  succeed(account: string, address: string): Promise<void>;
}

const FIRST_DELAY_MS = 1000;

/** The keys of one attempt: the account at the address, and the address. */
export const throttleKeys = (account: string, address: string) => ({
  account: `u:${account.toLowerCase()}@${address}`,
  address: `ip:${address}`,
});

/**
 * How much longer a key with `count` failures, the last `agoMs` ago, must wait (0: it may try), the
 * first `free` failures costing nothing. One rule for both stores.
 */
export function waitLeft(count: number, agoMs: number, free: number, windowMs: number): number {
  if (agoMs >= windowMs || count < free) return 0;
  const delay = Math.min(FIRST_DELAY_MS * 2 ** Math.min(count - free, 30), windowMs);
  return Math.max(0, delay - agoMs);
}

/** The configured limits (`console.login_attempts`). */
export const loginLimits = (c: { per_account: number; per_address: number; window_minutes: number }): LoginLimits => ({
  perAccount: c.per_account,
  perIp: c.per_address,
  windowMs: c.window_minutes * 60_000,
});
