import { useTimezone } from '../time/zone.js';
import os from 'node:os';
import { loadLastGood } from '../config/last-good.js';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { loadStorage, storageLocation } from '../storage/open.js';
import type { Storage } from '../storage/storage.js';
import { CommandError } from './errors.js';
import { formatLocal } from '../time/local-time.js';

export { DEFAULT_CONFIG } from './default-config.js';

/**
 * Loads the config for a CLI command; an invalid one is a CommandError listing its problems. With
 * `fallback` (the read-only commands and `status`), an invalid one is replaced by the last config the
 * daemon loaded, with a warning on stderr naming the problems, so the evidence stays readable after
 * a bad edit.
 */
export async function loadForCli(file: string, opts: { fallback?: boolean } = {}): Promise<LoadedConfig> {
  try {
    const loaded = await loadConfig(file);
    // Times typed and shown are the school's (config `timezone`), not the host's.
    useTimezone(loaded.config.timezone);
    return loaded;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const last = opts.fallback ? loadLastGood(file) : null;
    if (last) {
      useTimezone(last.loaded.config.timezone);
      process.stderr.write(
        `webfilter: warning: ${e.file} has problems (run: webfilter config check ${e.file}):\n  ${e.problems.join('\n  ')}\n` +
          `webfilter: using the last config the daemon loaded (saved ${formatLocal(last.savedAt)}) instead\n`,
      );
      return last.loaded;
    }
    throw new CommandError(
      `${e.file}: the config has problems (run: webfilter config check ${e.file})\n  ${e.problems.join('\n  ')}`,
    );
  }
}

/**
 * Opens the store named by the config: for writing (ICT's commands; an older database is upgraded, a
 * newer one refused), or `readOnly` for the review commands, which need only read access to the
 * files and never change them. A StorageError says what is wrong (the CLI prints it, exit 1).
 */
export async function openStore(loaded: LoadedConfig, opts: { readOnly?: boolean } = {}): Promise<Storage> {
  const storage = await loadStorage(storageLocation(loaded), opts.readOnly ? 'read-only' : 'write');
  try {
    await storage.open();
  } catch (e) {
    await storage.close();
    throw e;
  }
  return storage;
}

/** Who is running the command, for the audit trail (the real user behind sudo). */
export function actor(): string {
  return process.env.SUDO_USER || os.userInfo().username;
}

/** Writes to stdout. */
export function out(text: string): void {
  process.stdout.write(text);
}
