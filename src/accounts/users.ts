import { isRole, ROLE_TABLE, ROLES } from '../roles/roles.js';
import type { AccountsRepository, AuditRow, User } from '../storage/accounts.js';
import { describeScope, type SiteScope } from '../storage/scope.js';
import { hashPassword, passwordProblem } from './passwords.js';

/** Thrown for a request the account rules refuse; the message says which rule. */
export class UserError extends Error {}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$/;

/** Who makes an account change and from where: its access-audit row. */
export interface AccountChangeBy {
  actor: string;
  /** Client address, or "cli". */
  ip: string;
  at: number;
}

const auditRow = (by: AccountChangeBy, action: string, target: string, detail: string): AuditRow => ({
  ts: by.at,
  actor: by.actor,
  ip: by.ip,
  action,
  target,
  detail,
});

/**
 * Creates an account (audited as user-add). Refuses a bad name, an unknown role, a short password,
 * a name in use, and groups missing for a role that acts for groups (a teacher) or given to one that
 * does not. `groups` must already be checked against the config (the caller has it).
 */
export async function addUser(
  accounts: AccountsRepository,
  name: string,
  role: string,
  password: string,
  by: AccountChangeBy,
  groups: string[] = [],
  scope?: SiteScope,
): Promise<User> {
  if (!NAME_RE.test(name)) throw new UserError(`"${name}" is not a user name (2-64 of letters, digits, . _ @ -)`);
  if (!isRole(role)) throw new UserError(`--role "${role}": no such role (roles: ${ROLES.join(', ')})`);
  groupsProblem(role, groups);
  if (scope) scopeProblem(role, scope);
  const problem = passwordProblem(password);
  if (problem) throw new UserError(problem);
  if (await accounts.findUser(name)) throw new UserError(`a user named "${name}" already exists (see: webfilter user list)`);
  const passwordHash = await hashPassword(password);
  const unique = [...new Set(groups)];
  return accounts.addUser(
    { name, role, groups: unique, scope, passwordHash, createdAt: by.at, createdBy: by.actor },
    auditRow(
      by,
      'user-add',
      name,
      `role ${role}${unique.length ? `, groups ${unique.join(', ')}` : ''}${scope ? `, ${describeScope(scope)}` : ''}`,
    ),
  );
}

/** Sets the groups a teacher acts for (audited as user-groups); their open sessions use them at once. */
export async function setGroups(
  accounts: AccountsRepository,
  name: string,
  groups: string[],
  by: AccountChangeBy,
): Promise<User> {
  const user = await requireUser(accounts, name);
  groupsProblem(user.role, groups);
  const unique = [...new Set(groups)];
  await accounts.setGroups(user.id, unique, auditRow(by, 'user-groups', user.name, `groups ${unique.join(', ')}`));
  return { ...user, groups: unique };
}

/**
 * Sets the sites an account sees (audited as user-scope; filters sharing a store only). Its open
 * sessions use the new scope at their next request.
 */
export async function setScope(accounts: AccountsRepository, name: string, scope: SiteScope, by: AccountChangeBy): Promise<User> {
  const user = await requireUser(accounts, name);
  scopeProblem(user.role, scope);
  await accounts.setScope(user.id, scope, auditRow(by, 'user-scope', user.name, describeScope(scope)));
  return { ...user, scope };
}

/** A teacher's groups are one site's: their scope is that one site. */
function scopeProblem(role: keyof typeof ROLE_TABLE, scope: SiteScope): void {
  if (ROLE_TABLE[role].needsGroups === true && !(scope.kind === 'sites' && scope.sites.length === 1))
    throw new UserError(`role ${role} acts for groups of one site: give one site with --sites (default: this filter's)`);
}

function groupsProblem(role: keyof typeof ROLE_TABLE, groups: string[]): void {
  const needs = ROLE_TABLE[role].needsGroups === true;
  if (needs && groups.length === 0)
    throw new UserError(`role ${role} acts for groups: give them with --groups (e.g. --groups room-12,y9-media)`);
  if (!needs && groups.length > 0) throw new UserError(`role ${role} does not act for groups: leave out --groups`);
}

/** Sets a new password (audited as user-passwd); a disabled account stays disabled. */
export async function setPassword(
  accounts: AccountsRepository,
  name: string,
  password: string,
  by: AccountChangeBy,
): Promise<User> {
  const user = await requireUser(accounts, name);
  const problem = passwordProblem(password);
  if (problem) throw new UserError(problem);
  await accounts.setPasswordHash(user.id, await hashPassword(password), by.at, auditRow(by, 'user-passwd', user.name, ''));
  return { ...user, passwordChangedAt: by.at };
}

/** Disables an account (audited as user-disable): it can no longer sign in, and its sessions end at their next request. */
export async function disableUser(accounts: AccountsRepository, name: string, by: AccountChangeBy): Promise<User> {
  const user = await requireUser(accounts, name);
  if (user.disabledAt !== null) throw new UserError(`"${user.name}" is already disabled`);
  await accounts.disableUser(user.id, by.actor, by.at, auditRow(by, 'user-disable', user.name, ''));
  return { ...user, disabledAt: by.at, disabledBy: by.actor };
}

async function requireUser(accounts: AccountsRepository, name: string): Promise<User> {
  const user = await accounts.findUser(name);
  if (!user) throw new UserError(`no user named "${name}" (see: webfilter user list)`);
  return user;
}
