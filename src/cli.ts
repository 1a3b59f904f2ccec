#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_CONFIG } from './commands/context.js';
import { CommandError, UsageError } from './commands/errors.js';
import { checkCommand } from './commands/check.js';
import { checkConfig } from './commands/config-check.js';
import { exceptionCommands } from './commands/exception.js';
import { userCommands } from './commands/user.js';
import { alertsCommands } from './commands/alerts.js';
import { requestCommands } from './commands/request.js';
import { signalCommands } from './commands/signal.js';
import { exportCommand } from './commands/export.js';
import { identityCommands } from './commands/identity.js';
import { listsCommand } from './commands/lists.js';
import { logsCommand } from './commands/logs.js';
import { reportCommand } from './commands/report.js';
import { serve } from './commands/serve.js';
import { sharedCommands } from './commands/shared.js';
import { statusCommand } from './commands/status.js';
import { ExceptionRequestError } from './exceptions/validate-exception.js';
import { StorageError } from './storage/storage.js';
import { VERSION } from './version.js';

/** Exit codes: 0 ok, 1 error, 2 usage. */
function fail(e: unknown): never {
  if (e instanceof UsageError) {
    process.stderr.write(`webfilter: ${e.message}\n(see webfilter --help)\n`);
    process.exit(2);
  }
  if (e instanceof ExceptionRequestError) {
    process.stderr.write(`webfilter: nothing was added:\n  ${e.problems.join('\n  ')}\n`);
    process.exit(1);
  }
  if (e instanceof CommandError || e instanceof StorageError) {
    process.stderr.write(`webfilter: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`webfilter: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
}

try {
  await yargs(hideBin(process.argv))
    .scriptName('webfilter')
    .version(VERSION)
    .strict()
    .wrap(Math.min(120, process.stdout.columns || 100))
    .option('config', {
      alias: 'c',
      type: 'string',
      default: DEFAULT_CONFIG,
      global: true,
      describe: 'Config file (or $WEBFILTER_CONFIG)',
    })
    .option('json', { type: 'boolean', default: false, global: true, describe: 'Machine-readable JSON output' })
    .command(
      'serve',
      'Run the DNS filter daemon',
      (y) =>
        y
          .example('$0 serve --config /etc/webfilter/webfilter.yaml', 'Run with the production config')
          .example('$0 serve --config config/example.yaml', 'Run on 127.0.0.1:5300 for a try-out'),
      async (argv) => serve(argv.config),
    )
    .command('config', 'Work with config files', (y) =>
      y
        .command(
          'check [file]',
          'Validate a config, its lists and the files the daemon needs; exit 0 if usable, 1 if not',
          (c) =>
            c
              .positional('file', { type: 'string', describe: 'Config file to check (default: --config)' })
              .option('as', {
                type: 'string',
                describe: 'Check file access as this user (default: server.user when run as root, else yourself)',
              })
              .example('$0 config check /etc/webfilter/webfilter.yaml', 'Check before reloading the daemon')
              .example('sudo $0 config check /etc/webfilter/webfilter.yaml --as webfilter', 'As the service user'),
          async (argv) => {
            // `config check` alone, or with --config like every other command, checks that file.
            const file = argv.file ?? (argv as { config?: string }).config!;
            process.exitCode = await checkConfig(file, process.stdout, process.stderr, { as: argv.as });
          },
        )
        .demandCommand(1, 'Name a config command: check'),
    )
    .command('exception', 'Approved, temporary exceptions (add, list, revoke)', exceptionCommands)
    .command('identity', 'Who is at which address (RADIUS accounting, the identity feed)', identityCommands)
    .command('request', "Teachers' permission requests (add, list, approve, decline)", requestCommands)
    .command(checkCommand)
    .command(logsCommand)
    .command(reportCommand)
    .command(exportCommand)
    .command(statusCommand)
    .command('lists', 'Blocklists loaded from the config', listsCommand)
    .command('user', 'Review console accounts (add, passwd, disable, groups, list)', userCommands)
    .command('shared', 'The shared PostgreSQL store of several filters (migrate, status)', sharedCommands)
    .command('alerts', 'Safeguarding alerts (e-mail, webhook): send a test', alertsCommands)
    .command('signal', 'Circumvention signals: record what was done (review)', signalCommands)
    .demandCommand(1, 'Name a command (see --help)')
    .fail((msg, err, y) => {
      if (err) fail(err);
      process.stderr.write(`${y.help()}\n\nwebfilter: ${msg}\n`);
      process.exit(2);
    })
    .help()
    .parseAsync();
} catch (e) {
  fail(e);
}
