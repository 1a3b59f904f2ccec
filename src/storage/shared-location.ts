import type { LoadedConfig } from '../config/load.js';
import type { SharedLocation } from './shared.js';

/**
 * The shared store the config names (`shared`, `site`, `node`), or null for a single box. Apart from
 * the PostgreSQL implementation (open-shared.ts) so that a box without `shared` never loads it.
 */
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
