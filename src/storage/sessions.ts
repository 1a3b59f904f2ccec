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

/**
 * Console sessions kept where every filter's console reads them (`shared`: PostgreSQL), so a
 * cookie made at one console is valid at the others and signing out at one ends it at all. A
 * single box keeps its sessions in memory instead (console/sessions.ts).
 */
export interface SessionsRepository {
  create(tokenHash: string, s: StoredSession): Promise<void>;
  /** The session of a token hash, or null. */
  find(tokenHash: string): Promise<StoredSession | null>;
  /** Records a request at `at` (the idle timer starts again). */
  touch(tokenHash: string, at: number): Promise<void>;
  end(tokenHash: string): Promise<void>;
  /** Ends every session of an account (disabled, password changed). */
  endUser(userId: number): Promise<void>;
  /** Deletes the sessions idle since before `idleBefore` or made before `createdBefore`. */
  sweep(idleBefore: number, createdBefore: number): Promise<void>;
}
