/**
 * Filters' stores sharing one PostgreSQL database, for repository tests: each opened store is one
 * filter (`site`, `node`) with its own SQLite files in `dir` and the shared store at `url`.
 */
import path from 'node:path';
import { postgresSchema } from '../../src/config/shared-schema.js';
import { loadStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';

export function sharedStores(url: string, dir: string): (site: string, node: string) => Promise<Storage> {
  return (site, node) =>
    loadStorage(
      {
        evidencePath: path.join(dir, `${node}.db`),
        accountsPath: path.join(dir, `${node}-accounts.db`),
        shared: { site, node, postgres: postgresSchema.parse({ url }), urlFile: null },
      },
      'write',
    );
}
