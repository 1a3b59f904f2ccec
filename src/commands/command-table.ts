import type { Argv, CommandModule } from 'yargs';

/** The options every command has (declared in src/cli.ts). */
export interface GlobalArgs {
  config: string;
  json: boolean;
}

/** A command's module once loaded: a whole command, or the builder of a group of subcommands. */
export type LoadedCommand = CommandModule<GlobalArgs, any> | ((y: Argv<GlobalArgs>) => Argv<GlobalArgs>);

/**
 * A command as --help lists it, and how to load it. Why: importing every command's module at start
 * (the daemon, the console, both storage backends, the report) cost ~0.5 s of CPU on every run, even
 * `webfilter --version` (issue 25). The CLI declares each command from this table and imports only
 * the modules of the commands named on the command line. `command` and `describe` must equal the
 * module's own (test/unit/cli-command-table.test.ts checks).
 */
export interface LazyCommand {
  /** The word on the command line that runs it. */
  name: string;
  /** Usage as yargs shows it (positionals included). */
  command: string;
  describe: string;
  load: () => Promise<LoadedCommand>;
}

/** In the order --help lists them. */
export const LAZY_COMMANDS: readonly LazyCommand[] = [
  {
    name: 'exception',
    command: 'exception',
    describe: 'Approved, temporary exceptions (add, list, revoke)',
    load: async () => (await import('./exception.js')).exceptionCommands,
  },
  {
    name: 'identity',
    command: 'identity',
    describe: 'Who is at which address (RADIUS accounting, the identity feed)',
    load: async () => (await import('./identity.js')).identityCommands,
  },
  {
    name: 'request',
    command: 'request',
    describe: "Teachers' permission requests (add, list, approve, decline)",
    load: async () => (await import('./request.js')).requestCommands,
  },
  {
    name: 'check',
    command: 'check <domain>',
    describe: 'Explain what the filter does with a name: group, list entry, exception, answer',
    load: async () => (await import('./check.js')).checkCommand,
  },
  {
    name: 'logs',
    command: 'logs <what>',
    describe: 'Review the evidence (blocked attempts, circumvention signals, access log) or the access audit',
    load: async () => (await import('./logs.js')).logsCommand,
  },
  {
    name: 'report',
    command: 'report',
    describe: 'Summary for the online safety officer: blocks, devices, circumvention, exceptions, unusual days',
    load: async () => (await import('./report.js')).reportCommand,
  },
  {
    name: 'export',
    command: 'export',
    describe: 'Everything stored about one device or person (subject access request), as JSON or CSV',
    load: async () => (await import('./export.js')).exportCommand,
  },
  {
    name: 'status',
    command: 'status',
    describe: 'Is the daemon up and whole? Exit 0 healthy, 1 degraded, 2 not running',
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    name: 'lists',
    command: 'lists',
    describe: 'Blocklists loaded from the config',
    load: async () => (await import('./lists.js')).listsCommand,
  },
  {
    name: 'user',
    command: 'user',
    describe: 'Review console accounts (add, passwd, disable, groups, list)',
    load: async () => (await import('./user.js')).userCommands,
  },
  {
    name: 'shared',
    command: 'shared',
    describe: 'The shared PostgreSQL store of several filters (migrate, status)',
    load: async () => (await import('./shared.js')).sharedCommands,
  },
  {
    name: 'alerts',
    command: 'alerts',
    describe: 'Safeguarding alerts (e-mail, webhook): send a test',
    load: async () => (await import('./alerts.js')).alertsCommands,
  },
  {
    name: 'signal',
    command: 'signal',
    describe: 'Circumvention signals: record what was done (review)',
    load: async () => (await import('./signal.js')).signalCommands,
  },
];

/**
 * Declares the table's commands on `y`: the real module for each command named in `words` (the
 * command line's words that are not options; a word that is really an option's value only costs a
 * load), a bare entry for --help for the others. yargs runs only a named command, so a bare entry is
 * never run.
 */
export async function declareCommands(y: Argv<GlobalArgs>, words: ReadonlySet<string>): Promise<Argv<GlobalArgs>> {
  const loaded = await Promise.all(LAZY_COMMANDS.map((c) => (words.has(c.name) ? c.load() : undefined)));
  LAZY_COMMANDS.forEach((c, i) => {
    const m = loaded[i];
    if (m === undefined) y = y.command(c.command, c.describe);
    else if (typeof m === 'function') y = y.command(c.command, c.describe, m);
    else y = y.command(m);
  });
  return y;
}
