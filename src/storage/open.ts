import path from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { SqliteStorage } from './sqlite/sqlite-storage.js';
import type { Storage, StorageAccess, StorageLocation } from './storage.js';

/** Where the config puts the store (`database.max_size_mb` is the evidence writer's own limit: see evidence/settings.ts). */
export function storageLocation(loaded: LoadedConfig): StorageLocation {
  return { evidencePath: loaded.databasePath, accountsPath: accountsPathFor(loaded.databasePath) };
}

/** The accounts file beside an evidence file: "/var/lib/webfilter/webfilter.db" → ".../webfilter-accounts.db". */
export function accountsPathFor(evidencePath: string): string {
  const { dir, name } = path.parse(evidencePath);
  return path.join(dir, `${name}-accounts.db`);
}

/**
 * The store for a location (today always the embedded SQLite one). Nothing is opened yet: call
 * `open()` to learn at once whether it can be, or let each repository open what it needs.
 */
export function openStorage(location: StorageLocation, access: StorageAccess): Storage {
  return new SqliteStorage(location, access);
}
