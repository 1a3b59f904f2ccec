#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { checkConfig } from './commands/config-check.js';
import { serve } from './commands/serve.js';
import { VERSION } from './version.js';

const DEFAULT_CONFIG = process.env.WEBFILTER_CONFIG ?? '/etc/webfilter/webfilter.yaml';

/** Exit codes: 0 ok, 1 error, 2 usage. */
await yargs(hideBin(process.argv))
  .scriptName('webfilter')
  .version(VERSION)
  .strict()
  .command(
    'serve',
    'Run the DNS filter daemon',
    (y) =>
      y
        .option('config', { alias: 'c', type: 'string', default: DEFAULT_CONFIG, describe: 'Config file (or $WEBFILTER_CONFIG)' })
        .example('$0 serve --config /etc/webfilter/webfilter.yaml', 'Run with the production config')
        .example('$0 serve --config config/example.yaml', 'Run on 127.0.0.1:5353 for a try-out'),
    async (argv) => {
      await serve(argv.config);
    },
  )
  .command('config', 'Work with config files', (y) =>
    y
      .command(
        'check <file>',
        'Validate a config and its lists; exit 0 if usable, 1 if not',
        (c) =>
          c
            .positional('file', { type: 'string', demandOption: true, describe: 'Config file to check' })
            .example('$0 config check /etc/webfilter/webfilter.yaml', 'Check before reloading the daemon'),
        async (argv) => {
          process.exitCode = await checkConfig(argv.file);
        },
      )
      .demandCommand(1, 'Name a config command: check'),
  )
  .demandCommand(1, 'Name a command: serve or config check')
  .fail((msg, err, y) => {
    if (err) {
      process.stderr.write(`webfilter: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`${y.help()}\n\nwebfilter: ${msg}\n`);
    process.exit(2);
  })
  .help()
  .parseAsync();
