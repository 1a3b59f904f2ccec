import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../storage/accounts.js';
import type { SessionsRepository, StoredSession } from '../storage/sessions.js';

/** A signed-in user's session. Only a hash of its token is kept, so a memory dump cannot replay it. */
export type Session = StoredSession;

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

/** A shared session's idle timer is written back at most this often (one write per minute, not per request). */
export const TOUCH_EVERY_MS = 60_000;

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A single box's sessions: in memory (a restart signs everyone out, which is the safe direction). */
export class MemorySessions implements SessionsRepository {
  private readonly sessions = new Map<string, StoredSession>();

  async create(tokenHash: string, s: StoredSession): Promise<void> {
    this.sessions.set(tokenHash, { ...s });
  }
  async find(tokenHash: string): Promise<StoredSession | null> {
    const s = this.sessions.get(tokenHash);
    return s ? { ...s } : null;
  }
  async touch(tokenHash: string, at: number): Promise<void> {
    const s = this.sessions.get(tokenHash);
    if (s) s.lastSeen = Math.max(s.lastSeen, at);
  }
  async end(tokenHash: string): Promise<void> {
    this.sessions.delete(tokenHash);
  }
  async endUser(userId: number): Promise<void> {
    for (const [k, s] of this.sessions) if (s.userId === userId) this.sessions.delete(k);
  }
  async sweep(idleBefore: number, createdBefore: number): Promise<void> {
    for (const [k, s] of this.sessions) if (s.lastSeen < idleBefore || s.createdAt < createdBefore) this.sessions.delete(k);
  }
}

/**
 * The console's sessions: in memory on a single box, in the shared store when filters share one
 * (`shared`), so one cookie works at every filter's console and signing out at one ends it at all.
 * A session ends after `idleMs` without a request or `absoluteMs` after sign-in, whichever comes
 * first. Errors of the shared store (unreachable) reach the caller: the console answers 503.
 */
export class SessionStore {
  private readonly store: SessionsRepository;
  /** Whether the idle timer must be written back at every request (memory: cheap) or once a minute. */
  private readonly touchEvery: number;

  constructor(
    private limits: SessionLimits,
    store?: SessionsRepository,
  ) {
    this.store = store ?? new MemorySessions();
    this.touchEvery = store ? TOUCH_EVERY_MS : 0;
  }

  setLimits(limits: SessionLimits): void {
    this.limits = limits;
  }

  /** Starts a session; returns the token for the cookie. */
  async create(userId: number, user: string, role: Role, now: number): Promise<{ token: string; session: Session }> {
    await this.store.sweep(now - this.limits.idleMs, now - this.limits.absoluteMs);
    const token = randomBytes(32).toString('base64url');
    const session: Session = { userId, user, role, csrf: randomBytes(24).toString('base64url'), createdAt: now, lastSeen: now };
    await this.store.create(hash(token), session);
    return { token, session };
  }

  /** The live session for a cookie token (refreshing its idle timer), or null. */
  async get(token: string | undefined, now: number): Promise<Session | null> {
    if (!token) return null;
    const key = hash(token);
    const s = await this.store.find(key);
    if (!s) return null;
    if (this.expired(s, now)) {
      await this.store.end(key);
      return null;
    }
    if (now - s.lastSeen >= this.touchEvery) await this.store.touch(key, now);
    return { ...s, lastSeen: Math.max(s.lastSeen, now) };
  }

  async end(token: string | undefined): Promise<void> {
    if (token) await this.store.end(hash(token));
  }

  /** Ends every session of a user (account disabled or password changed). */
  endUser(userId: number): Promise<void> {
    return this.store.endUser(userId);
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
