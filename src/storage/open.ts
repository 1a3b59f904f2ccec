import path from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { SqliteStorage } from './sqlite/sqlite-storage.js';
import type { Storage, StorageAccess, StorageLocation } from './storage.js';
import { sharedLocation } from './open-shared.js';
import { withSharedExceptions } from './shared-storage.js';
import { VERSION } from '../version.js';

/** Where the config puts the store (`database.max_size_mb` is the evidence writer's own limit: see evidence/settings.ts). */
export function storageLocation(loaded: LoadedConfig): StorageLocation {
  const shared = sharedLocation(loaded);
  return {
    evidencePath: loaded.databasePath,
    accountsPath: accountsPathFor(loaded.databasePath),
    ...(loaded.config.site ? { site: loaded.config.site } : {}),
    ...(shared ? { shared } : {}),
  };
}

/** The accounts file beside an evidence file: "/var/lib/webfilter/webfilter.db" → ".../webfilter-accounts.db". */
export function accountsPathFor(evidencePath: string): string {
  const { dir, name } = path.parse(evidencePath);
  return path.join(dir, `${name}-accounts.db`);
}

/**
 * The store for a location: the embedded SQLite one, with exceptions in the shared PostgreSQL store
 * when `shared` is set. Nothing is opened yet: call `open()` to learn at once whether it can be, or
 * let each repository open what it needs.
 */
export function openStorage(location: StorageLocation, access: StorageAccess): Storage {
  const local = new SqliteStorage(location, access);
  return location.shared ? withSharedExceptions(local, location.shared, location.evidencePath, access, VERSION) : local;
}
