import { ROLES, type AccountsRepository, type AuditRow, type Role, type User } from '../storage/accounts.js';
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

/** Creates an account (audited as user-add). Refuses a bad name, an unknown role, a short password, or a name in use. */
export async function addUser(
  accounts: AccountsRepository,
  name: string,
  role: string,
  password: string,
  by: AccountChangeBy,
): Promise<User> {
  if (!NAME_RE.test(name)) throw new UserError(`"${name}" is not a user name (2-64 of letters, digits, . _ @ -)`);
  if (!ROLES.includes(role as Role)) throw new UserError(`--role "${role}": no such role (roles: ${ROLES.join(', ')})`);
  const problem = passwordProblem(password);
  if (problem) throw new UserError(problem);
  if (await accounts.findUser(name)) throw new UserError(`a user named "${name}" already exists (see: webfilter user list)`);
  const passwordHash = await hashPassword(password);
  return accounts.addUser(
    { name, role: role as Role, passwordHash, createdAt: by.at, createdBy: by.actor },
    auditRow(by, 'user-add', name, `role ${role}`),
  );
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
