import path from 'node:path';
import { PostgresShared } from './postgres/postgres-shared.js';
import type { SharedLocation, SharedStore } from './shared.js';
import { SharedExceptions } from './shared-exceptions.js';
import { SqliteExceptionCopy } from './sqlite/shared-copy.js';
import type { SqliteStorage } from './sqlite/sqlite-storage.js';
import type { Storage, StorageAccess } from './storage.js';

/** The copy of the shared exceptions beside the evidence file: ".../webfilter.db" → ".../webfilter-shared-copy.db". */
export function sharedCopyPath(evidencePath: string): string {
  const { dir, name } = path.parse(evidencePath);
  return path.join(dir, `${name}-shared-copy.db`);
}

/** A store whose exceptions are shared, and the shared store itself (status, migrations). */
export type SharedStorage = Storage & { readonly exceptions: SharedExceptions; readonly shared: SharedStore };

/**
 * The store of a filter that shares its state (`shared`): exceptions in PostgreSQL (with this box's
 * copy); every other repository is the embedded SQLite store's, as on a single box (reached through
 * the prototype, so a repository added to SqliteStorage is there too).
 */
export function withSharedExceptions(
  local: SqliteStorage,
  location: SharedLocation,
  evidencePath: string,
  access: StorageAccess,
  version: string,
): SharedStorage {
  const shared = new PostgresShared(location);
  const copy = new SqliteExceptionCopy(sharedCopyPath(evidencePath), access);
  const exceptions = new SharedExceptions({
    remote: shared.exceptions,
    local: local.exceptions,
    copy,
    migrate: () => shared.migrate(),
    node: location.node,
    version,
  });
  const storage = Object.create(local) as Storage;
  return Object.assign(storage, {
    exceptions,
    shared,
    open: () => local.open(),
    close: async () => {
      copy.close();
      await shared.close();
      await local.close();
    },
  });
}
