import { existsSync } from 'node:fs';
import os from 'node:os';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { SchemaTooNewError } from '../evidence/schema.js';
import { EvidenceStore } from '../evidence/store.js';
import { CommandError } from './errors.js';

/** The config file the CLI uses: --config, else $WEBFILTER_CONFIG, else the production path. */
export const DEFAULT_CONFIG = process.env.WEBFILTER_CONFIG ?? '/etc/webfilter/webfilter.yaml';

/** Loads the config for a CLI command; an invalid one is a CommandError listing its problems. */
export async function loadForCli(file: string): Promise<LoadedConfig> {
  try {
    return await loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError)
      throw new CommandError(
        `${e.file}: the config has problems (run: webfilter config check ${e.file})\n  ${e.problems.join('\n  ')}`,
      );
    throw e;
  }
}

/**
 * Opens the evidence database named by the config: for writing (ICT's commands; an older database
 * is migrated, a newer one refused), or `readOnly` for the review commands, which need only read
 * access to the file (group webfilter-review) and never change it.
 */
export function openStore(loaded: LoadedConfig, opts: { readOnly?: boolean } = {}): EvidenceStore {
  if (opts.readOnly && !existsSync(loaded.databasePath)) {
    throw new CommandError(`no database at ${loaded.databasePath} yet: the daemon creates it when it first starts`);
  }
  try {
    return opts.readOnly ? EvidenceStore.openReadOnly(loaded.databasePath) : EvidenceStore.open(loaded.databasePath);
  } catch (e) {
    if (e instanceof SchemaTooNewError) throw new CommandError(`${loaded.databasePath}: ${e.message}`);
    throw new CommandError(`cannot open the database ${loaded.databasePath}: ${(e as Error).message}`);
  }
}

/** Who is running the command, for the audit trail (the real user behind sudo). */
export function actor(): string {
  return process.env.SUDO_USER || os.userInfo().username;
}

/** Writes to stdout. */
export function out(text: string): void {
  process.stdout.write(text);
}
