import type { Role } from '../roles/roles.js';

/**
 * A console session as stored: keyed by a hash of its cookie's token (never the token itself, so a
 * copy of the store cannot replay it). Times are ms since the Unix epoch.
 */
export interface StoredSession {
  userId: number;
  user: string;
  role: Role;
  /** Sent with every form; checked on every state-changing request. */
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

/** How long a session lives: `idleMs` without a request, `absoluteMs` after sign-in, whichever ends first. */
export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

/** A live session as found, with how long ago its last request was by the store's clock. */
export type LiveSession = StoredSession & { seenAgoMs: number };

/**
 * Console sessions kept where every filter's console reads them (`shared`: PostgreSQL), so a
 * cookie made at one console is valid at the others and signing out at one ends it at all. A
 * single box keeps its sessions in memory instead (console/sessions.ts).
 *
 * Whose clock: the shared store times sessions by PostgreSQL's now() (sign-in, last request, and the
 * idle and absolute expiry, checked in its query), never by the calling filter's clock, so a filter
 * whose clock is wrong can neither stretch nor cut anyone's session (issue 17, security finding 8).
 * The `now`/`at` arguments are the memory store's clock only.
 */
export interface SessionsRepository {
  /** Stores a new session (the shared store sets its created and last-seen times itself). */
  create(tokenHash: string, s: StoredSession): Promise<void>;
  /** The session of a token hash while it is live under `limits` (an expired one is deleted), or null. */
  live(tokenHash: string, limits: SessionLimits, now: number): Promise<LiveSession | null>;
  /** Records a request (the idle timer starts again). */
  touch(tokenHash: string, at: number): Promise<void>;
  end(tokenHash: string): Promise<void>;
  /** Ends every session of an account (disabled, password changed). */
  endUser(userId: number): Promise<void>;
  /** Deletes the sessions past `limits`. */
  sweep(limits: SessionLimits, now: number): Promise<void>;
}
