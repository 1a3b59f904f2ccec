/** Console accounts and the access audit, as stored. Times are ms since the Unix epoch. */
import type { Role } from '../roles/roles.js';
import type { SiteScope } from './scope.js';

export type { Role };

/** A console account (the password hash is read only for sign-in, by `passwordHash`). */
export interface User {
  id: number;
  name: string;
  role: Role;
  /** The groups a teacher acts for (their scope); empty for other roles. */
  groups: string[];
  /**
   * Whose records this account may see and act on (issue 17): the sites it is scoped to, or the
   * whole trust. Pass it to every repository read and check it before every change of a site's
   * record. On a single box (no `shared`) it is always the whole trust: that store holds only this
   * box's records.
   */
  scope: SiteScope;
  createdAt: number;
  createdBy: string;
  passwordChangedAt: number;
  disabledAt: number | null;
  disabledBy: string | null;
}

/** An account to create, with its password already hashed (accounts/passwords.ts). */
export interface NewUser {
  name: string;
  role: Role;
  groups: string[];
  /** The sites it may see (absent: the whole trust); a single box's store keeps none (every account there sees that box's records). */
  scope?: SiteScope;
  passwordHash: string;
  createdAt: number;
  createdBy: string;
}

/** One access-audit row: who did what to which record, when, from where. */
export interface AuditRow {
  ts: number;
  actor: string;
  /** Client address, or 'cli'. */
  ip: string;
  action: string;
  target: string;
  detail: string;
  /**
   * The site the access was about (the shared store's `site` column): the site whose records were
   * viewed, exported or changed. Unset: this filter's own site (its console and CLI act on its own
   * site's exceptions, requests and evidence). A single box's store has no site column.
   */
  site?: string;
}

/** Actions recorded; the Audit page and `webfilter logs audit` filter by them. */
export const AUDIT_ACTIONS = [
  'sign-in',
  'sign-in-failed',
  'sign-out',
  'view-device',
  'export',
  'report-download',
  'exception-add',
  'exception-revoke',
  'request-add',
  'request-approve',
  'request-decline',
  'request-expire',
  'user-add',
  'user-passwd',
  'user-disable',
  'user-groups',
  'user-scope',
  'signal-review',
  'access-denied',
] as const;

export interface AuditFilter {
  since: number;
  until: number;
  actor?: string;
  action?: string;
  limit?: number;
  /**
   * Whose rows the reader may see: always the reader's scope (the console account's, the CLI's read
   * scope), never left out, so no page or command can read the trust's whole audit by forgetting it.
   * The shared store returns only rows about the scope's sites (AuditRow.site); a single box's store
   * holds only its own rows, all of which every account of that box sees.
   */
  scope: SiteScope;
}

/** An audit row as shown: its time as ISO-8601 UTC. */
export type AuditEntry = Omit<AuditRow, 'ts'> & { time: string };

/**
 * Console accounts and the access audit: the records only the service user may read (password
 * hashes; who looked at which device). An account change and its audit row are one transaction.
 */
export interface AccountsRepository {
  /** Creates an account; throws when the name is taken (case-insensitively). */
  addUser(u: NewUser, audit: AuditRow): Promise<User>;
  setPasswordHash(userId: number, hash: string, at: number, audit: AuditRow): Promise<void>;
  disableUser(userId: number, by: string, at: number, audit: AuditRow): Promise<void>;
  /** Replaces a teacher's groups. */
  setGroups(userId: number, groups: string[], audit: AuditRow): Promise<void>;
  /**
   * Replaces the sites an account may see (the shared store only: a single box's store refuses,
   * since every account there sees that box's records).
   */
  setScope(userId: number, scope: SiteScope, audit: AuditRow): Promise<void>;
  /** By name, case-insensitively; null when there is none. */
  findUser(name: string): Promise<User | null>;
  userById(id: number): Promise<User | null>;
  listUsers(): Promise<User[]>;
  /** The stored hash, for sign-in only. */
  passwordHash(userId: number): Promise<string | null>;
  /** Appends one row to the access audit. */
  audit(row: AuditRow): Promise<void>;
  /** Audit rows in the period, newest first. */
  auditEntries(f: AuditFilter): Promise<AuditEntry[]>;
}
