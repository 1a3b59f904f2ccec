import type { Argv } from 'yargs';
import type { LoadedConfig } from '../config/load.js';
import type { Role } from '../roles/roles.js';
import { sitesScope, type SiteScope } from '../storage/scope.js';
import type { Storage } from '../storage/storage.js';
import { auditRefusal, holdsFilter, osUser, signedInAccount, type AccountNeed, type OsUser } from './cli-account.js';

export { auditRefusal };
import { actor } from './context.js';
import { CommandError, UsageError } from './errors.js';

/** `--account` and `--password-stdin` of the CLI's changes (exceptions, requests). */
export interface AccountFlags {
  account?: string;
  'password-stdin'?: boolean;
}

/** The options of AccountFlags, for a change command. */
export function accountOptions<T>(y: Argv<T>) {
  return y
    .option('account', {
      type: 'string',
      describe: 'With shared: act as this console account (its password asked, or --password-stdin), with its scope',
    })
    .option('password-stdin', { type: 'boolean', describe: '--account’s password from the first line of stdin' });
}

/** Who a CLI change is made by: the audit's actor, the exception's "recorded as", the scope it may act in. */
export interface CliActor {
  actor: string;
  recordedAs: string;
  /** Undefined: no account limits it (a single box). */
  scope?: SiteScope;
  /** The console account's role and groups, when acting as one (request decisions check the role). */
  role?: Role;
  groups?: string[];
}

/**
 * Who makes a change from the CLI on filters sharing a store (issue 17, security finding 4). On a
 * single box: the OS user (the real one behind sudo), unlimited, as always. With `shared`:
 *  - `--account NAME`: that console account, after its password, if its role may do `need`; it acts
 *    with its scope. An unreachable store refuses (the check is never skipped).
 *  - no `--account`: root or the service user (who hold this filter's PostgreSQL credential anyway)
 *    act for this filter's own site, as ICT on their own box always have; anyone else is refused.
 *    SUDO_USER is only the audit's detail of who it was; it is never looked up as an account.
 * Each refusal is an access-audit row access-denied naming `what` (the command), when the store can
 * take it.
 */
export async function cliActor(
  store: Storage,
  loaded: LoadedConfig,
  a: AccountFlags,
  need: AccountNeed,
  what: string,
  os: OsUser = osUser(),
): Promise<CliActor> {
  const who = actor();
  const { shared, site } = loaded.config;
  if (!shared || !site) {
    if (a.account !== undefined) throw new UsageError('--account is for filters with shared set (see "Several filters")');
    return { actor: who, recordedAs: who };
  }
  if (a.account !== undefined) {
    const user = await signedInAccount(store, a.account, a['password-stdin'] === true, loaded.config, need, what);
    return {
      actor: user.name,
      recordedAs: `${user.name} (cli, ${who})`,
      scope: user.scope,
      role: user.role,
      groups: user.groups,
    };
  }
  if (!holdsFilter(os, loaded)) {
    await auditRefusal(store, who, what, `no --account, and ${os.name} is not root or the service user`);
    throw new CommandError(
      `${os.name} is not root or the service user: give --account NAME (a console account whose scope holds site ${site}) ` +
        'and its password',
    );
  }
  return { actor: who, recordedAs: who, scope: sitesScope([site]) };
}
