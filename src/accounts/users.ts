import type Database from 'better-sqlite3';
import { hashPassword, passwordProblem } from './passwords.js';

export type Role = 'reviewer' | 'ict';
export const ROLES: readonly Role[] = ['reviewer', 'ict'];

/** A console account as stored (the hash stays in the database layer). */
export interface User {
  id: number;
  name: string;
  role: Role;
  createdAt: number;
  createdBy: string;
  passwordChangedAt: number;
  disabledAt: number | null;
  disabledBy: string | null;
}

interface Row {
  id: number;
  name: string;
  role: Role;
  password_hash: string;
  created_at: number;
  created_by: string;
  password_changed_at: number;
  disabled_at: number | null;
  disabled_by: string | null;
}

const fromRow = (r: Row): User => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  createdBy: r.created_by,
  passwordChangedAt: r.password_changed_at,
  disabledAt: r.disabled_at,
  disabledBy: r.disabled_by,
});

/** Thrown for a request the account rules refuse; the message says which rule. */
export class UserError extends Error {}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$/;

/** Creates an account. Refuses a bad name, an unknown role, a short password, or a name in use. */
export async function addUser(
  db: Database.Database,
  name: string,
  role: string,
  password: string,
  by: string,
  now: number,
): Promise<User> {
  if (!NAME_RE.test(name)) throw new UserError(`"${name}" is not a user name (2-64 of letters, digits, . _ @ -)`);
  if (!ROLES.includes(role as Role)) throw new UserError(`--role "${role}": no such role (roles: ${ROLES.join(', ')})`);
  const problem = passwordProblem(password);
  if (problem) throw new UserError(problem);
  if (findUser(db, name)) throw new UserError(`a user named "${name}" already exists (see: webfilter user list)`);
  const hash = await hashPassword(password);
  const id = Number(
    db
      .prepare(
        'INSERT INTO users (name, role, password_hash, created_at, created_by, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(name, role, hash, now, by, now).lastInsertRowid,
  );
  return fromRow(db.prepare('SELECT * FROM users WHERE id = ?').get(id) as Row);
}

/** Sets a new password (and re-enables nothing: a disabled account stays disabled). */
export async function setPassword(db: Database.Database, name: string, password: string, now: number): Promise<User> {
  const user = requireUser(db, name);
  const problem = passwordProblem(password);
  if (problem) throw new UserError(problem);
  db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?').run(
    await hashPassword(password),
    now,
    user.id,
  );
  return { ...user, passwordChangedAt: now };
}

/** Disables an account: it can no longer sign in, and its sessions end at their next request. */
export function disableUser(db: Database.Database, name: string, by: string, now: number): User {
  const user = requireUser(db, name);
  if (user.disabledAt !== null) throw new UserError(`"${user.name}" is already disabled`);
  db.prepare('UPDATE users SET disabled_at = ?, disabled_by = ? WHERE id = ?').run(now, by, user.id);
  return { ...user, disabledAt: now, disabledBy: by };
}

export function listUsers(db: Database.Database): User[] {
  return (db.prepare('SELECT * FROM users ORDER BY name').all() as Row[]).map(fromRow);
}

export function findUser(db: Database.Database, name: string): User | null {
  const r = db.prepare('SELECT * FROM users WHERE name = ?').get(name) as Row | undefined;
  return r ? fromRow(r) : null;
}

/** The stored hash, for sign-in only. */
export function passwordHash(db: Database.Database, userId: number): string | null {
  return (
    (db.prepare('SELECT password_hash FROM users WHERE id = ?').get(userId) as { password_hash: string } | undefined)
      ?.password_hash ?? null
  );
}

function requireUser(db: Database.Database, name: string): User {
  const user = findUser(db, name);
  if (!user) throw new UserError(`no user named "${name}" (see: webfilter user list)`);
  return user;
}
