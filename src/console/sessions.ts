import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../storage/accounts.js';

/** A signed-in user's session. Only a hash of its token is kept, so a memory dump cannot replay it. */
export interface Session {
  userId: number;
  user: string;
  role: Role;
  /** Sent with every form; checked on every state-changing request. */
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Sessions in memory (a restart signs everyone out, which is the safe direction). A session ends
 * after `idleMs` without a request or `absoluteMs` after sign-in, whichever comes first.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private limits: SessionLimits) {}

  setLimits(limits: SessionLimits): void {
    this.limits = limits;
  }

  /** Starts a session; returns the token for the cookie. */
  create(userId: number, user: string, role: Role, now: number): { token: string; session: Session } {
    this.sweep(now);
    const token = randomBytes(32).toString('base64url');
    const session: Session = { userId, user, role, csrf: randomBytes(24).toString('base64url'), createdAt: now, lastSeen: now };
    this.sessions.set(hash(token), session);
    return { token, session };
  }

  /** The live session for a cookie token (refreshing its idle timer), or null. */
  get(token: string | undefined, now: number): Session | null {
    if (!token) return null;
    const key = hash(token);
    const s = this.sessions.get(key);
    if (!s) return null;
    if (this.expired(s, now)) {
      this.sessions.delete(key);
      return null;
    }
    s.lastSeen = now;
    return s;
  }

  end(token: string | undefined): void {
    if (token) this.sessions.delete(hash(token));
  }

  /** Ends every session of a user (account disabled or password changed). */
  endUser(userId: number): void {
    for (const [k, s] of this.sessions) if (s.userId === userId) this.sessions.delete(k);
  }

  private sweep(now: number): void {
    for (const [k, s] of this.sessions) if (this.expired(s, now)) this.sessions.delete(k);
  }

  /** Idle too long, or signed in too long ago. */
  private expired(s: Session, now: number): boolean {
    return now - s.lastSeen > this.limits.idleMs || now - s.createdAt > this.limits.absoluteMs;
  }
}

/** Constant-time comparison of a submitted CSRF token with the expected one. */
export function tokensMatch(submitted: unknown, expected: string): boolean {
  if (typeof submitted !== 'string' || submitted.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(submitted), Buffer.from(expected));
}
