import { userInfo } from 'node:os';
import { DUMMY_HASH, verifyPassword } from '../accounts/passwords.js';
import { auditedName, waitText } from '../accounts/sign-in-words.js';
import type { LoadedConfig } from '../config/load.js';
import { may, type Permission, type Role } from '../roles/roles.js';
import type { User } from '../storage/accounts.js';
import { SharedUnavailableError } from '../storage/shared-errors.js';
import { loginLimits } from '../storage/sign-in-throttle.js';
import type { Storage } from '../storage/storage.js';
import { actor } from './context.js';
import { CommandError } from './errors.js';
import { readLine } from './secret-line.js';

/** What the `--account` of a command must be able to do: a permission of its role, or a role itself. */
export type AccountNeed = Permission | { role: Role };

/**
 * The address the CLI's `--account` tries count under in the sign-in throttle: one for every
 * filter's command line, so a shell on thirty filters does not get thirty times the guesses.
 */
export const CLI_ADDRESS = 'cli';

/**
 * The console account named by `--account`, after checking its password (the first line of stdin
 * with `--password-stdin`, else asked on the terminal) and that it may do `need`. With `shared`,
 * a shell on a filter does not make anyone a reviewer or an administrator of the trust: the CLI acts
 * as a console account of the shared store, which is what the scope rules are about. A
 * CommandError names what is wrong (for a wrong name or password, never which of the two); an
 * unreachable store is a CommandError too: the check is refused, never skipped.
 *
 * The tries are the console's sign-ins by another door, so they count in the same throttle (the
 * shared store's, address `cli`): past the free tries each must wait as at the console, and a try
 * during the wait is refused unchecked. Every refusal (throttled, wrong name or password, a role
 * that may not) is an access-audit row access-denied naming `what`, the command.
 */
export async function signedInAccount(
  store: Storage,
  name: string,
  fromStdin: boolean,
  config: LoadedConfig['config'],
  need: AccountNeed,
  what: string,
): Promise<User> {
  return checkAccount(store, name, await readLine(`Password for ${name}: `, fromStdin), config, need, what);
}

/** signedInAccount's check of a password already read (throttle, password, role; each refusal audited). */
export async function checkAccount(
  store: Storage,
  name: string,
  password: string,
  config: LoadedConfig['config'],
  need: AccountNeed,
  what: string,
): Promise<User> {
  const limits = loginLimits(config.console.login_attempts);
  const throttle = store.signIns;
  let user: User | null | undefined;
  let ok = false;
  try {
    const hold = throttle ? await throttle.held(name, CLI_ADDRESS, limits) : null;
    if (hold) {
      const typed = auditedName(name, (await store.accounts.findUser(name)) !== null);
      await auditRefusal(store, actor(), what, `--account ${typed}: refused, too many failed sign-ins for this ${hold.why}`);
      throw new CommandError(
        `--account ${name}: too many failed sign-ins ${hold.why === 'account' ? 'for this account ' : ''}from the command line; ` +
          `try again in ${waitText(hold.waitMs)}. Nothing was changed.`,
      );
    }
    user = await store.accounts.findUser(name);
    const hash = user ? await store.accounts.passwordHash(user.id) : null;
    // Always verify against a hash (a dummy for unknown names) so timing does not reveal who exists.
    ok = (await verifyPassword(password, hash ?? DUMMY_HASH)) && hash !== null;
    if (!user || !ok || user.disabledAt !== null) await throttle?.fail(name, CLI_ADDRESS, limits);
    else await throttle?.succeed(name, CLI_ADDRESS);
  } catch (e) {
    if (e instanceof SharedUnavailableError)
      throw new CommandError(
        `${e.message}\n--account ${name} cannot be checked while the shared store is unreachable: nothing was changed.`,
      );
    throw e;
  }
  if (!user || !ok || user.disabledAt !== null) {
    const why = !user ? 'unknown account' : user.disabledAt !== null ? 'account disabled' : 'wrong password';
    await auditRefusal(store, actor(), what, `--account ${auditedName(name, user !== null)}: ${why}`);
    throw new CommandError(`--account ${name}: wrong account name or password`);
  }
  if (typeof need === 'string' ? !may(user.role, need, config) : user.role !== need.role) {
    const message =
      typeof need === 'string'
        ? need === 'evidence'
          ? `--account ${name}: the role ${user.role} does not see the evidence`
          : `--account ${name}: the role ${user.role} may not do this (${need})`
        : `--account ${name}: the role ${user.role} may not do this; it needs an ${need.role} account`;
    await auditRefusal(store, actor(), what, message);
    throw new CommandError(message);
  }
  return user;
}

/**
 * Records a CLI refusal in the access audit (access-denied: who, `cli`, the command and why), as
 * the console records its 403s (security finding 5): by scope or role, a wrong `--account` password,
 * a missing `--account`. A store that cannot take the row does not hide the refusal: the command
 * still fails with its own message.
 */
export async function auditRefusal(store: Storage, who: string, what: string, why: string): Promise<void> {
  try {
    await store.accounts.audit({ ts: Date.now(), actor: who, ip: 'cli', action: 'access-denied', target: what, detail: why });
  } catch {
    // the refusal stands; the caller prints it
  }
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
