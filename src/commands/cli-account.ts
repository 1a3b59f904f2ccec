import { userInfo } from 'node:os';
import { verifyPassword } from '../accounts/passwords.js';
import type { LoadedConfig } from '../config/load.js';
import { may, type Permission, type Role } from '../roles/roles.js';
import type { User } from '../storage/accounts.js';
import { SharedUnavailableError } from '../storage/shared-errors.js';
import type { Storage } from '../storage/storage.js';
import { CommandError } from './errors.js';
import { readLine } from './secret-line.js';

/** What the `--account` of a command must be able to do: a permission of its role, or a role itself. */
export type AccountNeed = Permission | { role: Role };

/**
 * The console account named by `--account`, after checking its password (the first line of stdin
 * with `--password-stdin`, else asked on the terminal) and that it may do `need`. With `shared`,
 * a shell on a filter does not make anyone a reviewer or an administrator of the trust: the CLI acts
 * as a console account of the shared store, which is what the scope rules are about. A
 * CommandError names what is wrong (for a wrong name or password, never which of the two); an
 * unreachable store is a CommandError too: the check is refused, never skipped.
 */
export async function signedInAccount(
  store: Storage,
  name: string,
  fromStdin: boolean,
  config: LoadedConfig['config'],
  need: AccountNeed,
): Promise<User> {
  const password = await readLine(`Password for ${name}: `, fromStdin);
  let user: User | null | undefined;
  let ok = false;
  try {
    user = await store.accounts.findUser(name);
    const hash = user ? await store.accounts.passwordHash(user.id) : null;
    ok = hash !== null && (await verifyPassword(password, hash));
  } catch (e) {
    if (e instanceof SharedUnavailableError)
      throw new CommandError(
        `${e.message}\n--account ${name} cannot be checked while the shared store is unreachable: nothing was changed.`,
      );
    throw e;
  }
  if (!user || !ok || user.disabledAt !== null) throw new CommandError(`--account ${name}: wrong account name or password`);
  if (typeof need === 'string' ? !may(user.role, need, config) : user.role !== need.role)
    throw new CommandError(
      typeof need === 'string'
        ? need === 'evidence'
          ? `--account ${name}: the role ${user.role} does not see the evidence`
          : `--account ${name}: the role ${user.role} may not do this (${need})`
        : `--account ${name}: the role ${user.role} may not do this; it needs an ${need.role} account`,
    );
  return user;
}

/** The OS user running a command, as the rules about root see it. */
export interface OsUser {
  uid: number;
  name: string;
}

export const osUser = (): OsUser => ({ uid: process.getuid!(), name: userInfo().username });

/**
 * Whether the OS user is root or the daemon's service user (config `server.user`): the people who
 * hold this filter's PostgreSQL credential anyway, and who act for this filter's own site without
 * `--account`.
 */
export function holdsFilter(os: OsUser, loaded: LoadedConfig): boolean {
  return os.uid === 0 || (loaded.config.server.user !== undefined && os.name === loaded.config.server.user);
}
