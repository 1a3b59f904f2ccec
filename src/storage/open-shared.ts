import type { LoadedConfig } from '../config/load.js';
import { PostgresShared } from './postgres/postgres-shared.js';
import type { SharedLocation, SharedStore } from './shared.js';

/** The shared store the config names (`shared`, `site`, `node`), or null for a single box. */
export function sharedLocation(loaded: LoadedConfig): SharedLocation | null {
  const { config } = loaded;
  if (!config.shared || !config.site) return null;
  return {
    site: config.site,
    node: config.node,
    postgres: config.shared.postgres,
    urlFile: loaded.sharedUrlFile,
    retention: config.shared.retention,
  };
}

/** The shared store at `location` (PostgreSQL), connected on first use. */
export function openShared(location: SharedLocation): SharedStore {
  return new PostgresShared(location);
}
