import type { Argv } from 'yargs';
import { actor, loadForCli, openStore, out } from './context.js';
import { CommandError, UsageError } from './errors.js';
import { auditRefusal, holdsFilter, osUser, signedInAccount } from './cli-account.js';
import { describeScope, scopeIncludes, type SiteScope } from '../storage/scope.js';
import type { Storage } from '../storage/storage.js';
import { readPassword } from './password-prompt.js';
import { SCOPE_OPTIONS, scopeOption, scopeText } from './user-scope.js';
import { SharedUnavailableError } from '../storage/shared-errors.js';
import { json, table } from '../format/output.js';
import { addUser, disableUser, setGroups, setPassword, setScope, UserError, type AccountChangeBy } from '../accounts/users.js';
import type { LoadedConfig } from '../config/load.js';
import { ROLE_TABLE, ROLES } from '../roles/roles.js';
import type { AccountsRepository, User } from '../storage/accounts.js';
import { formatShort } from '../time/local-time.js';

interface Common {
  config: string;
  json: boolean;
}

const userJson = (u: User) => ({
  name: u.name,
  role: u.role,
  groups: u.groups,
  scope: u.scope.kind === 'trust' ? 'trust' : u.scope.sites,
  created_at: new Date(u.createdAt).toISOString(),
  created_by: u.createdBy,
  password_changed_at: new Date(u.passwordChangedAt).toISOString(),
  disabled_at: u.disabledAt === null ? null : new Date(u.disabledAt).toISOString(),
  disabled_by: u.disabledBy,
});

/** `--account` of an account change, and what the change touches (for a site-scoped ict's limits). */
interface ChangeAs {
  account?: string;
  'password-stdin'?: boolean;
  /** The account changed. */
  target: string;
  /** The scope the change gives it (user add, user scope). */
  gives?: SiteScope;
  /** The command, as a refusal's access-audit row names it (`user add dsl.khan`). */
  command: string;
}

/**
 * One account change: opens the store, applies `fn` (the change and its access-audit row are one
 * transaction; the account rules' refusals become a clear error), and prints the result.
 *
 * With `shared` (issue 17, security finding 3), the accounts are the whole trust's, so a shell on one
 * filter does not make anyone their administrator: the change is made as `--account NAME`, an `ict`
 * console account, after its password. A site-scoped one manages only accounts whose scope is within
 * its own and never gives a wider scope; a trust-wide one may do anything. Without `--account` only
 * the very first ict account of the store is made (by root or the service user), so the trust can
 * start. `newPassword` reads the new password after the account's (stdin's second line then).
 */
async function accountChange(
  a: Common & ChangeAs,
  fn: (
    accounts: AccountsRepository,
    by: AccountChangeBy,
    loaded: LoadedConfig,
    newPassword: () => Promise<string>,
  ) => Promise<User>,
  message: (u: User, loaded: LoadedConfig) => string,
): Promise<void> {
  const loaded = await loadForCli(a.config);
  const store = await openStore(loaded);
  try {
    let u: User;
    try {
      const acting = await actingAdmin(store, loaded, a);
      let line = a.account !== undefined ? 1 : 0;
      const newPassword = () => readPassword(a['password-stdin'] === true, line++);
      u = await fn(store.accounts, { actor: acting, ip: 'cli', at: Date.now() }, loaded, newPassword);
    } catch (e) {
      if (e instanceof UserError) throw new CommandError(e.message);
      if (e instanceof SharedUnavailableError) throw unreachable(e);
      throw e;
    }
    out(a.json ? json(userJson(u)) : message(u, loaded));
  } finally {
    await store.close();
  }
}

/** The audit's actor of an account change, after the checks above (a CommandError if refused). */
async function actingAdmin(store: Storage, loaded: LoadedConfig, a: ChangeAs): Promise<string> {
  if (!loaded.config.shared) {
    if (a.account !== undefined) throw new UsageError('--account is for filters with shared set (see "Several filters")');
    return actor();
  }
  if (a.account === undefined) {
    const users = await store.accounts.listUsers();
    if (holdsFilter(osUser(), loaded) && !users.some((u) => u.role === 'ict' && u.disabledAt === null)) return actor();
    await auditRefusal(store, actor(), a.command, 'no --account (an ict account is needed)');
    throw new CommandError(
      "the console accounts are the whole trust's (shared): give --account NAME, an ict account, and its password " +
        '(asked, or the first line of stdin with --password-stdin)',
    );
  }
  const admin = await signedInAccount(store, a.account, a['password-stdin'] === true, loaded.config, { role: 'ict' }, a.command);
  if (admin.scope.kind === 'trust') return admin.name;
  const mine = admin.scope;
  const within = (s: SiteScope) => s.kind === 'sites' && s.sites.every((x) => scopeIncludes(mine, x));
  const target = await store.accounts.findUser(a.target);
  const refuse = async (why: string) => {
    await auditRefusal(store, admin.name, a.command, why);
    return new CommandError(why);
  };
  if (target && !within(target.scope))
    throw await refuse(
      `--account ${admin.name} sees ${describeScope(mine)}; ${target.name} sees ${describeScope(target.scope)}, beyond it: nothing was changed`,
    );
  if (a.gives && !within(a.gives))
    throw await refuse(
      `--account ${admin.name} sees ${describeScope(mine)} and cannot give ${describeScope(a.gives)}: nothing was changed`,
    );
  return admin.name;
}

/**
 * The shared store is down: the accounts of every filter are there, so a change was not made
 * ('change'), or the list could not be read ('read': nothing was going to change).
 */
function unreachable(e: SharedUnavailableError, what: 'change' | 'read' = 'change'): CommandError {
  const outcome = what === 'change' ? 'nothing was changed' : 'they cannot be listed until it is back';
  return new CommandError(
    `${e.message}\nThe console accounts of every filter are kept in the trust's shared store: ${outcome}. ` +
      'DNS filtering is unaffected. Try again when it is back (webfilter shared status).',
  );
}

/** The groups of `--groups a,b` (or repeated), each checked against the config's groups. */
function groupsOption(value: string[] | undefined, loaded: LoadedConfig): string[] {
  const groups = (value ?? [])
    .flatMap((g) => g.split(','))
    .map((g) => g.trim())
    .filter(Boolean);
  const known = Object.keys(loaded.config.groups);
  const unknown = groups.filter((g) => !known.includes(g));
  if (unknown.length > 0)
    throw new CommandError(`--groups: no such group ${unknown.map((g) => `"${g}"`).join(', ')} (groups: ${known.join(', ')})`);
  return groups;
}

const ACCOUNT_OPTION = {
  type: 'string',
  describe: 'With shared: make the change as this ict console account (its password asked, or --password-stdin)',
} as const;
const PASSWORD_STDIN = {
  type: 'boolean',
  default: false,
  describe: 'Read the password from stdin (else asked twice); with --account, its password first, one a line',
} as const;
const ACCOUNT_PASSWORD_STDIN = { type: 'boolean', default: false, describe: '--account’s password from stdin' } as const;

const ROLE_HELP = ROLES.map((r) => `${r}: ${ROLE_TABLE[r].describe}`).join('; ');

/** `webfilter user add|passwd|disable|groups|scope|list`: review console accounts (ICT, on the appliance). */
export function userCommands(y: Argv<Common>): Argv<Common> {
  return y
    .command(
      'add <name>',
      'Create a console account: reviewer, ict, teacher (with --groups) or approver',
      (c) =>
        c
          .positional('name', { type: 'string', demandOption: true, describe: 'User name (e.g. j.smith)' })
          .option('role', {
            type: 'string',
            demandOption: true,
            choices: ROLES as unknown as string[],
            describe: ROLE_HELP,
          })
          .option('groups', {
            type: 'string',
            array: true,
            describe: 'For a teacher: the groups they may ask permission for (comma-separated or repeated)',
          })
          .options(SCOPE_OPTIONS)
          .option('account', ACCOUNT_OPTION)
          .option('password-stdin', PASSWORD_STDIN)
          .example('$0 user add oso.jones --role reviewer', 'The online safety officer (asks for a password)')
          .example('$0 user add t.smith --role teacher --groups room-12,y9-media', 'A teacher who may ask for those groups')
          .example('$0 user add head.patel --role approver', 'The Headteacher, who approves requests')
          .example('printf "%s\\n" "$PW" | $0 user add ict.admin --role ict --password-stdin', 'From a script')
          .example(
            '$0 user add dsl.khan --role reviewer --sites carres-grammar,kshs',
            'Filters sharing a store: sees two schools',
          )
          .example(
            '$0 user add trust.dsl --role reviewer --trust --account ict.trust',
            'Filters sharing a store: sees every school',
          )
          .example(
            'printf "%s\\n%s\\n" "$ICT_PW" "$PW" | $0 user add dsl.khan --role reviewer --account ict.trust --password-stdin',
            'Filters sharing a store, from a script: the account’s password, then the new one',
          ),
      async (a) => {
        // The scope is checked before the password is asked for.
        const gives = scopeOption(a, await loadForCli(a.config), 'own-site') ?? undefined;
        await accountChange(
          { ...a, target: a.name, gives, command: `user add ${a.name}` },
          async (accounts, by, loaded, newPassword) =>
            addUser(
              accounts,
              a.name,
              a.role,
              await newPassword(),
              by,
              groupsOption(a.groups, loaded),
              scopeOption(a, loaded, 'own-site') ?? undefined,
            ),
          (u, loaded) =>
            `User ${u.name} added with role ${u.role}${u.groups.length ? ` for ${u.groups.join(', ')}` : ''}` +
            `${loaded.config.shared ? `, seeing ${scopeText(u, loaded)}` : ''}. They sign in at the review console.\n`,
        );
      },
    )
    .command(
      'passwd <name>',
      "Set a user's password (their open sessions end)",
      (c) =>
        c
          .positional('name', { type: 'string', demandOption: true })
          .option('account', ACCOUNT_OPTION)
          .option('password-stdin', PASSWORD_STDIN),
      async (a) => {
        await accountChange(
          { ...a, target: a.name, command: `user passwd ${a.name}` },
          async (accounts, by, _loaded, newPassword) => setPassword(accounts, a.name, await newPassword(), by),
          (u) => `Password of ${u.name} changed; their open sessions have ended.\n`,
        );
      },
    )
    .command(
      'disable <name>',
      'Stop an account signing in (kept for the audit trail; its sessions end)',
      (c) =>
        c
          .positional('name', { type: 'string', demandOption: true })
          .option('account', ACCOUNT_OPTION)
          .option('password-stdin', ACCOUNT_PASSWORD_STDIN),
      async (a) =>
        accountChange(
          { ...a, target: a.name, command: `user disable ${a.name}` },
          (accounts, by) => disableUser(accounts, a.name, by),
          (u) => `User ${u.name} disabled.\n`,
        ),
    )
    .command(
      'groups <name>',
      'Set the groups a teacher may ask permission for (replaces their list)',
      (c) =>
        c
          .positional('name', { type: 'string', demandOption: true })
          .option('groups', { type: 'string', array: true, demandOption: true, describe: 'Groups (comma-separated or repeated)' })
          .option('account', ACCOUNT_OPTION)
          .option('password-stdin', ACCOUNT_PASSWORD_STDIN)
          .example('$0 user groups t.smith --groups room-12,room-14', 'Room 14 added, y9-media dropped'),
      async (a) =>
        accountChange(
          { ...a, target: a.name, command: `user groups ${a.name}` },
          (accounts, by, loaded) => setGroups(accounts, a.name, groupsOption(a.groups, loaded), by),
          (u) => `${u.name} may now ask for: ${u.groups.join(', ')}.\n`,
        ),
    )
    .command(
      'scope <name>',
      'Filters sharing a store: set the sites an account sees (replaces them; audited)',
      (c) =>
        c
          .positional('name', { type: 'string', demandOption: true })
          .options(SCOPE_OPTIONS)
          .option('account', ACCOUNT_OPTION)
          .option('password-stdin', ACCOUNT_PASSWORD_STDIN)
          .example('$0 user scope dsl.khan --sites carres-grammar,kshs', 'Sees those two schools from their next page')
          .example('$0 user scope trust.dsl --trust', 'Sees every school of the trust'),
      async (a) =>
        accountChange(
          {
            ...a,
            target: a.name,
            gives: scopeOption(a, await loadForCli(a.config), 'required') ?? undefined,
            command: `user scope ${a.name}`,
          },
          (accounts, by, loaded) => setScope(accounts, a.name, scopeOption(a, loaded, 'required')!, by),
          (u, loaded) => `${u.name} now sees ${scopeText(u, loaded)} (from their next page).\n`,
        ),
    )
    .command(
      'list',
      'Console accounts with their roles',
      (c) => c,
      async (a) => {
        const loaded = await loadForCli(a.config, { fallback: true });
        const store = await openStore(loaded, { readOnly: true });
        let users: User[];
        try {
          users = await store.accounts.listUsers();
        } catch (e) {
          if (e instanceof SharedUnavailableError) throw unreachable(e, 'read');
          throw e;
        } finally {
          await store.close();
        }
        if (a.json) return out(json(users.map(userJson)));
        out(
          table(
            users.map((u) => ({
              name: u.name,
              role: u.role,
              groups: u.groups.join(', '),
              scope: scopeText(u, loaded),
              created: `${formatShort(u.createdAt)} by ${u.createdBy}`,
              password: formatShort(u.passwordChangedAt),
              state: u.disabledAt === null ? 'active' : `disabled ${formatShort(u.disabledAt)} by ${u.disabledBy}`,
            })),
            {
              NAME: 'name',
              ROLE: 'role',
              GROUPS: 'groups',
              SCOPE: 'scope',
              CREATED: 'created',
              'PASSWORD SET': 'password',
              STATE: 'state',
            },
          ),
        );
      },
    )
    .demandCommand(1, 'Name a user command: add, passwd, disable, groups, scope or list');
}
