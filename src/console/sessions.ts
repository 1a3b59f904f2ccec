import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../storage/accounts.js';
import type { LiveSession, SessionLimits, SessionsRepository, StoredSession } from '../storage/sessions.js';

/** A signed-in user's session. Only a hash of its token is kept, so a memory dump cannot replay it. */
export type Session = StoredSession;

export type { SessionLimits };

/** A shared session's idle timer is written back at most this often (one write per minute, not per request). */
export const TOUCH_EVERY_MS = 60_000;

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A single box's sessions: in memory (a restart signs everyone out, which is the safe direction). */
export class MemorySessions implements SessionsRepository {
  private readonly sessions = new Map<string, StoredSession>();

  async create(tokenHash: string, s: StoredSession): Promise<void> {
    this.sessions.set(tokenHash, { ...s });
  }
  async live(tokenHash: string, limits: SessionLimits, now: number): Promise<LiveSession | null> {
    const s = this.sessions.get(tokenHash);
    if (!s) return null;
    if (expired(s, limits, now)) {
      this.sessions.delete(tokenHash);
      return null;
    }
    return { ...s, seenAgoMs: Math.max(0, now - s.lastSeen) };
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
  async sweep(limits: SessionLimits, now: number): Promise<void> {
    for (const [k, s] of this.sessions) if (expired(s, limits, now)) this.sessions.delete(k);
  }
}

/**
 * The console's sessions: in memory on a single box, in the shared store when filters share one
 * (`shared`), so one cookie works at every filter's console and signing out at one ends it at all.
 * A session ends after `idleMs` without a request or `absoluteMs` after sign-in, whichever comes
 * first, timed by the store's clock (the shared store's: PostgreSQL's, not this filter's). Errors of
 * the shared store (unreachable) reach the caller: the console answers 503.
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
    await this.store.sweep(this.limits, now);
    const token = randomBytes(32).toString('base64url');
    const session: Session = { userId, user, role, csrf: randomBytes(24).toString('base64url'), createdAt: now, lastSeen: now };
    await this.store.create(hash(token), session);
    return { token, session };
  }

  /** The live session for a cookie token (refreshing its idle timer), or null. */
  async get(token: string | undefined, now: number): Promise<Session | null> {
    if (!token) return null;
    const key = hash(token);
    const live = await this.store.live(key, this.limits, now);
    if (!live) return null;
    const { seenAgoMs, ...s } = live;
    if (seenAgoMs >= this.touchEvery) await this.store.touch(key, now);
    return { ...s, lastSeen: s.lastSeen + seenAgoMs };
  }

  async end(token: string | undefined): Promise<void> {
    if (token) await this.store.end(hash(token));
  }

  /** Ends every session of a user (account disabled or password changed). */
  endUser(userId: number): Promise<void> {
    return this.store.endUser(userId);
  }
}

/** Idle too long, or signed in too long ago. */
const expired = (s: StoredSession, limits: SessionLimits, now: number) =>
  now - s.lastSeen > limits.idleMs || now - s.createdAt > limits.absoluteMs;

/** Constant-time comparison of a submitted CSRF token with the expected one. */
export function tokensMatch(submitted: unknown, expected: string): boolean {
  if (typeof submitted !== 'string' || submitted.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(submitted), Buffer.from(expected));
}
