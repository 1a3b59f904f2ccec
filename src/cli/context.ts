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

/** Opens the evidence database named by the config (migrating an older one; refusing a newer one). */
export function openStore(loaded: LoadedConfig): EvidenceStore {
  try {
    return EvidenceStore.open(loaded.databasePath);
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
