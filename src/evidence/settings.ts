import type { LoadedConfig } from '../config/load.js';
import { storageLocation } from '../storage/open.js';
import { VERSION } from '../version.js';
import type { WriterInit } from './writer-messages.js';

/** The evidence writer's settings, from a loaded config. */
export function writerInit(loaded: LoadedConfig, startedAt: number): WriterInit {
  const { config } = loaded;
  return {
    storage: { ...storageLocation(loaded), maxSizeMb: config.database.max_size_mb },
    processor: {
      access: config.log.access,
      circumvention: config.circumvention,
      collapseMs: config.database.collapse_seconds > 0 ? (config.database.collapse_seconds + config.blocking.ttl) * 1000 : 0,
    },
    devices: {
      names: config.clients.names,
      leases:
        config.clients.leases && loaded.leasesFile ? { file: loaded.leasesFile, format: config.clients.leases.format } : null,
      ptr: config.clients.names_from_ptr
        ? {
            zones: loaded.zones,
            localRecords: config.local_records,
            strategy: config.upstream.strategy,
            timeoutMs: config.upstream.timeout_ms,
          }
        : null,
    },
    version: VERSION,
    pid: process.pid,
    startedAt,
  };
}
