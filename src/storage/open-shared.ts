import { PostgresShared } from './postgres/postgres-shared.js';
import type { SharedLocation, SharedStore } from './shared.js';

export { sharedLocation } from './shared-location.js';

/** The shared store at `location` (PostgreSQL), connected on first use. */
export function openShared(location: SharedLocation): SharedStore {
  return new PostgresShared(location);
}
