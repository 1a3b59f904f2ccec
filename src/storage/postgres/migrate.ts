import { StorageError } from '../storage.js';
import type { PostgresConnection, Sql, TxSql } from './connection.js';
import { PG_LATEST, PG_MIGRATIONS, type PgMigration } from './schema.js';

/** Serialises migrations between filters starting at once (a transaction-scoped advisory lock). */
const MIGRATE_LOCK = 0x77656266; // "webf"

/** The shared store's schema version (0: none yet). */
export async function pgSchemaVersion(sql: Sql | TxSql): Promise<number> {
  const [t] = await sql<{ exists: boolean }[]>`SELECT to_regclass('webfilter_schema') IS NOT NULL AS exists`;
  if (!t.exists) return 0;
  const [row] = await sql<{ version: number }[]>`SELECT max(version)::int AS version FROM webfilter_schema`;
  return row?.version ?? 0;
}

/**
 * Brings the shared store up to this code's schema, each migration in its own transaction under an
 * advisory lock, the version read again under it: filters starting together apply each once.
 * Refuses a store newer than this code.
 */
export async function migratePostgres(
  conn: PostgresConnection,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<{ from: number; to: number }> {
  const latest = migrations[migrations.length - 1].version;
  const from = await conn.run('read the schema version', (sql) => pgSchemaVersion(sql));
  if (from > latest) throw tooNew(conn, from, latest);
  for (const m of migrations) {
    if (m.version <= from) continue;
    await conn.transaction(`apply schema migration ${m.version}`, async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATE_LOCK})`;
      await tx`CREATE TABLE IF NOT EXISTS webfilter_schema (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
      const now = await pgSchemaVersion(tx);
      if (now > latest) throw tooNew(conn, now, latest);
      if (now >= m.version) return;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO webfilter_schema (version) VALUES (${m.version})`;
    });
  }
  return { from, to: latest };
}

/** Throws unless the store is at exactly this code's version (for commands that do not migrate). */
export async function requireCurrentSchema(conn: PostgresConnection): Promise<void> {
  const version = await conn.run('read the schema version', (sql) => pgSchemaVersion(sql));
  if (version > PG_LATEST) throw tooNew(conn, version, PG_LATEST);
  if (version < PG_LATEST)
    throw new StorageError(
      `the shared store at ${conn.target} has schema version ${version}, older than this webfilter (${PG_LATEST}): run webfilter shared migrate (or start the daemon once)`,
    );
}

function tooNew(conn: PostgresConnection, version: number, latest: number): StorageError {
  return new StorageError(
    `the shared store at ${conn.target} has schema version ${version}, newer than this webfilter understands (${latest}): upgrade webfilter`,
  );
}
