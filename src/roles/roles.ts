import type { Config } from '../config/schema.js';

/**
 * The one table of console roles and what each may do. Every console route names the permission it
 * needs and the server checks it on every request; pages show only what the role may use; the CLI's
 * `user add --role` takes its choices from here. A role says *what* someone may do; *which* records
 * is the account's scope (a teacher's groups today; a trust's sites later), checked where the records
 * are read or written.
 */

/** What a route or an action needs. */
export const PERMISSIONS = {
  evidence: 'see the evidence: overview, signals, devices, blocked attempts, reports',
  audit: 'see the access audit',
  'exceptions.view': 'see the exceptions, with who asked and who approved',
  'exceptions.change': 'add and revoke exceptions',
  'requests.make': 'ask for a category for one of their own groups',
  'requests.view': 'see every permission request (others see their own)',
  'requests.decide': 'approve or decline permission requests',
  'signals.review': 'record what was done about a circumvention signal (a review: changes no policy)',
} as const;

export type Permission = keyof typeof PERMISSIONS;

export const ROLES = ['reviewer', 'ict', 'teacher', 'approver'] as const;
export type Role = (typeof ROLES)[number];

interface RoleInfo {
  /** For `user add --help` and the README. */
  describe: string;
  /** Where the role lands after signing in. */
  home: string;
  may: readonly Permission[];
  /** Permissions the config grants or withholds (e.g. `requests.ict_may_approve`). */
  mayIf?: Partial<Record<Permission, (config: Config) => boolean>>;
  /** The account must be given groups (`--groups`), and acts only for them. */
  needsGroups?: boolean;
}

export const ROLE_TABLE: Readonly<Record<Role, RoleInfo>> = {
  reviewer: {
    describe: 'the online safety officer: sees the evidence, exceptions and requests; changes nothing',
    home: '/',
    may: ['evidence', 'exceptions.view', 'requests.view', 'signals.review'],
  },
  ict: {
    describe: 'ICT: also adds and revokes exceptions and sees the access audit',
    home: '/',
    may: ['evidence', 'audit', 'exceptions.view', 'exceptions.change', 'requests.view', 'signals.review'],
    mayIf: { 'requests.decide': (c) => c.requests.ict_may_approve },
  },
  teacher: {
    describe: 'a teacher: asks for a category for their own groups (--groups), sees their requests',
    home: '/requests',
    may: ['requests.make'],
    needsGroups: true,
  },
  approver: {
    describe: 'the Headteacher or a named deputy: approves or declines requests, sees exceptions',
    home: '/requests',
    may: ['requests.view', 'requests.decide', 'exceptions.view'],
  },
};

export function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}

/** Whether `role` may do `permission` under `config`. */
export function may(role: Role, permission: Permission, config: Config): boolean {
  const info = ROLE_TABLE[role];
  if (!info) return false;
  const conditional = info.mayIf?.[permission];
  return conditional ? conditional(config) : info.may.includes(permission);
}

/** The page a role starts on. */
export function homeOf(role: Role): string {
  return ROLE_TABLE[role]?.home ?? '/';
}

/** The roles that have a permission under `config` (e.g. who is told of a pending request). */
export function rolesWith(permission: Permission, config: Config): Role[] {
  return ROLES.filter((r) => may(r, permission, config));
}
