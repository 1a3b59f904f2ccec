import path from 'node:path';
import { PostgresAccounts } from './postgres/accounts.js';
import { requireCurrentSchema } from './postgres/migrate.js';
import { PostgresShared } from './postgres/postgres-shared.js';
import { PostgresSessions } from './postgres/sessions.js';
import { PostgresSignInThrottle } from './postgres/sign-in-throttle.js';
import { PostgresReview } from './postgres/review.js';
import { PostgresSignalReviews } from './postgres/signal-reviews.js';
import type { ReadScope, ScopedReads } from './read-scope.js';
import type { SharedLocation, SharedStore } from './shared.js';
import { SharedExceptions } from './shared-exceptions.js';
import { SqliteExceptionCopy } from './sqlite/shared-copy.js';
import { SqliteShipCursors } from './sqlite/ship-cursors.js';
import type { ShippingStores } from './shipping.js';
import type { SqliteStorage } from './sqlite/sqlite-storage.js';
import type { Storage, StorageAccess } from './storage.js';

/** The copy of the shared exceptions beside the evidence file: ".../webfilter.db" → ".../webfilter-shared-copy.db". */
export function sharedCopyPath(evidencePath: string): string {
  const { dir, name } = path.parse(evidencePath);
  return path.join(dir, `${name}-shared-copy.db`);
}

/** A store whose exceptions are shared, and the shared store itself (status, migrations). */
export type SharedStorage = Storage & {
  readonly exceptions: SharedExceptions;
  readonly shared: SharedStore;
  /** The evidence's way to the shared store (the writer thread ships; status reads the backlog). */
  readonly shipping: ShippingStores;
};

/** Runs `fn` once it has succeeded (a failure, e.g. an unreachable store, is tried again next time). */
function once(fn: () => Promise<unknown>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () =>
    (done ??= fn().then(
      () => undefined,
      (e: unknown) => {
        done = null;
        throw e;
      },
    ));
}

/**
 * The store of a filter that shares its state (`shared`): exceptions (with this box's copy), console
 * accounts, sessions and the access audit in PostgreSQL, and the review's reads (`reads`: the
 * console, the review commands) and signal reviews from the evidence every filter ships there,
 * within the reader's sites; every other repository is the embedded SQLite store's, as on a single
 * box (reached through the prototype, so a repository added to SqliteStorage is there too).
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
    site: location.site,
    node: location.node,
    version,
  });
  // Write access brings the schema up to date (as the daemon's start does); a read checks it is current.
  const ready = once(() => (access === 'write' ? shared.migrate() : requireCurrentSchema(shared.conn)));
  const cursors = new SqliteShipCursors(sharedCopyPath(evidencePath), access);
  const storage = Object.create(local) as Storage;
  return Object.assign(storage, {
    exceptions,
    accounts: new PostgresAccounts(shared.conn, location.site, location.node, ready),
    sessions: new PostgresSessions(shared.conn, location.site, location.node, ready),
    signIns: new PostgresSignInThrottle(shared.conn, ready),
    shared,
    shipping: { outbox: local.outbox, cursors, inbox: shared.evidence, retention: shared.retention },
    reads: (rs: ReadScope): ScopedReads => ({
      review: new PostgresReview(shared.conn, rs),
      signalReviews: new PostgresSignalReviews(shared.conn, rs),
      trustWide: true,
    }),
    open: () => local.open(),
    close: async () => {
      cursors.close();
      copy.close();
      await shared.close();
      await local.close();
    },
  });
}
