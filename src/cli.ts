#!/usr/bin/env node
import { DEFAULT_CONFIG } from './commands/default-config.js';
import { CommandError, UsageError } from './commands/errors.js';
import { declareCommands } from './commands/command-table.js';
import { StorageError } from './storage/storage.js';
import { VERSION } from './version.js';

// Only the modules of the commands named on the command line are imported (src/commands/command-table.ts).
/** Exit codes: 0 ok, 1 error, 2 usage. */
async function fail(e: unknown): Promise<never> {
  const { ExceptionRequestError } = await import('./exceptions/validate-exception.js');
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

/**
 * The config file of `serve --config FILE` (or `-c FILE`, `--config=FILE`) given alone: the way the
 * systemd unit and the Dockerfile start the daemon. That form goes straight to the daemon without
 * loading the command-line parser (yargs: ~120 ms of CPU of the daemon's start, bench/PROFILE.md
 * "Issue 21"); any other form, --help included, goes through yargs.
 */
function daemonStart(args: string[]): string | null {
  if (args[0] !== 'serve') return null;
  if (args.length === 3 && (args[1] === '--config' || args[1] === '-c') && !args[2].startsWith('-')) return args[2];
  if (args.length === 2 && args[1].startsWith('--config=') && args[1].length > '--config='.length) {
    return args[1].slice('--config='.length);
  }
  return null;
}

const daemonConfig = daemonStart(process.argv.slice(2));
if (daemonConfig !== null) {
  try {
    await (await import('./commands/serve.js')).serve(daemonConfig);
  } catch (e) {
    await fail(e);
  }
} else await parseCommandLine();

/** Every other command line: parsed by yargs, the named command's module imported. */
async function parseCommandLine(): Promise<void> {
  const [{ default: yargs }, { hideBin }] = await Promise.all([import('yargs'), import('yargs/helpers')]);
  const args = hideBin(process.argv);
  const words = new Set(args.filter((a) => !a.startsWith('-')));
  try {
    const cli = yargs(args)
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
        async (argv) => (await import('./commands/serve.js')).serve(argv.config),
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
              const { checkConfig } = await import('./commands/config-check.js');
              process.exitCode = await checkConfig(file, process.stdout, process.stderr, { as: argv.as });
            },
          )
          .demandCommand(1, 'Name a config command: check'),
      );
    const all = await declareCommands(cli, words);
    await all
      .demandCommand(1, 'Name a command (see --help)')
      .fail((msg, err, y) => {
        if (err) throw err; // to the catch below
        process.stderr.write(`${y.help()}\n\nwebfilter: ${msg}\n`);
        process.exit(2);
      })
      .help()
      .parseAsync();
  } catch (e) {
    await fail(e);
  }
}
