import type { Argv } from 'yargs';
import { actor, loadForCli, openStore, out } from './context.js';
import { CommandError } from './errors.js';
import { json, table } from '../format/output.js';
import { addUser, disableUser, setPassword, UserError, type AccountChangeBy } from '../accounts/users.js';
import { ROLES, type AccountsRepository, type User } from '../storage/accounts.js';
import { formatShort } from '../time/local-time.js';

interface Common {
  config: string;
  json: boolean;
}

/**
 * The new password: the first line of stdin with --password-stdin (for scripts), else asked twice
 * on the terminal without echo.
 */
async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
  }
  if (!process.stdin.isTTY) throw new CommandError('no terminal to ask for the password: give --password-stdin and pipe it in');
  const first = await ask('New password: ');
  const second = await ask('Again: ');
  if (first !== second) throw new CommandError('the two passwords differ; nothing was changed');
  return first;
}

/** Reads a line from the terminal without echoing it. */
function ask(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(text);
        }
        if (ch === '\u0003') process.exit(130);
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

const userJson = (u: User) => ({
  name: u.name,
  role: u.role,
  created_at: new Date(u.createdAt).toISOString(),
  created_by: u.createdBy,
  password_changed_at: new Date(u.passwordChangedAt).toISOString(),
  disabled_at: u.disabledAt === null ? null : new Date(u.disabledAt).toISOString(),
  disabled_by: u.disabledBy,
});

/**
 * One account change: opens the store, applies `fn` as the OS user from the CLI (the change and its
 * access-audit row are one transaction; the account rules' refusals become a clear error), and
 * prints the result.
 */
async function accountChange(
  a: Common,
  fn: (accounts: AccountsRepository, by: AccountChangeBy) => Promise<User>,
  message: (u: User) => string,
): Promise<void> {
  const loaded = await loadForCli(a.config);
  const store = await openStore(loaded);
  try {
    let u: User;
    try {
      u = await fn(store.accounts, { actor: actor(), ip: 'cli', at: Date.now() });
    } catch (e) {
      if (e instanceof UserError) throw new CommandError(e.message);
      throw e;
    }
    out(a.json ? json(userJson(u)) : message(u));
  } finally {
    await store.close();
  }
}

/** `webfilter user add|passwd|disable|list`: review console accounts (ICT, on the appliance). */
export function userCommands(y: Argv<Common>): Argv<Common> {
  return y
    .command(
      'add <name>',
      'Create a console account: reviewer (looks) or ict (also changes exceptions, sees the audit)',
      (c) =>
        c
          .positional('name', { type: 'string', demandOption: true, describe: 'User name (e.g. j.smith)' })
          .option('role', {
            type: 'string',
            demandOption: true,
            choices: ROLES as unknown as string[],
            describe: 'reviewer or ict',
          })
          .option('password-stdin', {
            type: 'boolean',
            default: false,
            describe: 'Read the password from stdin (else asked twice)',
          })
          .example('$0 user add oso.jones --role reviewer', 'The online safety officer (asks for a password)')
          .example('printf "%s\\n" "$PW" | $0 user add ict.admin --role ict --password-stdin', 'From a script'),
      async (a) => {
        const password = await readPassword(a['password-stdin']);
        await accountChange(
          a,
          (accounts, by) => addUser(accounts, a.name, a.role, password, by),
          (u) => `User ${u.name} added with role ${u.role}. They sign in at the review console.\n`,
        );
      },
    )
    .command(
      'passwd <name>',
      "Set a user's password (their open sessions end)",
      (c) =>
        c.positional('name', { type: 'string', demandOption: true }).option('password-stdin', {
          type: 'boolean',
          default: false,
          describe: 'Read the password from stdin (else asked twice)',
        }),
      async (a) => {
        const password = await readPassword(a['password-stdin']);
        await accountChange(
          a,
          (accounts, by) => setPassword(accounts, a.name, password, by),
          (u) => `Password of ${u.name} changed; their open sessions have ended.\n`,
        );
      },
    )
    .command(
      'disable <name>',
      'Stop an account signing in (kept for the audit trail; its sessions end)',
      (c) => c.positional('name', { type: 'string', demandOption: true }),
      async (a) =>
        accountChange(
          a,
          (accounts, by) => disableUser(accounts, a.name, by),
          (u) => `User ${u.name} disabled.\n`,
        ),
    )
    .command(
      'list',
      'Console accounts with their roles',
      (c) => c,
      async (a) => {
        const loaded = await loadForCli(a.config);
        const store = await openStore(loaded, { readOnly: true });
        const users = await store.accounts.listUsers();
        await store.close();
        if (a.json) return out(json(users.map(userJson)));
        out(
          table(
            users.map((u) => ({
              name: u.name,
              role: u.role,
              created: `${formatShort(u.createdAt)} by ${u.createdBy}`,
              password: formatShort(u.passwordChangedAt),
              state: u.disabledAt === null ? 'active' : `disabled ${formatShort(u.disabledAt)} by ${u.disabledBy}`,
            })),
            { NAME: 'name', ROLE: 'role', CREATED: 'created', 'PASSWORD SET': 'password', STATE: 'state' },
          ),
        );
      },
    )
    .demandCommand(1, 'Name a user command: add, passwd, disable or list');
}
