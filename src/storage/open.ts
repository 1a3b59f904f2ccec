import path from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { SqliteStorage } from './sqlite/sqlite-storage.js';
import type { Storage, StorageAccess, StorageLocation } from './storage.js';
import { sharedLocation } from './shared-location.js';
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
 * The store for any location: the embedded SQLite one, with exceptions, accounts and the review's
 * reads in the shared PostgreSQL store when `shared` is set. The PostgreSQL implementation (and its
 * driver) is imported only then, so a single box's commands never pay for loading it (issue 25:
 * ≈ 0.06 s of every `webfilter report`). Nothing is opened yet: call `open()` to learn at once
 * whether it can be, or let each repository open what it needs.
 */
export async function loadStorage(location: StorageLocation, access: StorageAccess): Promise<Storage> {
  if (!location.shared) return new SqliteStorage(location, access);
  const { withSharedExceptions } = await import('./shared-storage.js');
  return withSharedExceptions(new SqliteStorage(location, access), location.shared, location.evidencePath, access, VERSION);
}

/** The store of a location without `shared` (the embedded SQLite store alone), at once. */
export function openStorage(location: StorageLocation & { shared?: undefined }, access: StorageAccess): Storage {
  if (location.shared) throw new Error('openStorage: a shared location is opened with loadStorage');
  return new SqliteStorage(location, access);
}
