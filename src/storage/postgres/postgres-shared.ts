import { StorageError } from '../storage.js';
import type { SharedLocation, SharedStatus, SharedStore } from '../shared.js';
import { PostgresConnection } from './connection.js';
import { PostgresEvidenceInbox } from './evidence-inbox.js';
import { PostgresEvidenceRetention } from './evidence-retention.js';
import { PostgresExceptions } from './exceptions.js';
import { migratePostgres, pgSchemaVersion } from './migrate.js';
import { PG_LATEST } from './schema.js';

/** The longest a schema migration may take (moving a trust's evidence into month partitions). */
const MIGRATE_TIMEOUT_MS = 3_600_000;

/** The shared PostgreSQL store of one filter (its site and node), connected on first use. */
export class PostgresShared implements SharedStore {
  readonly conn: PostgresConnection;
  readonly exceptions: PostgresExceptions;
  readonly evidence: PostgresEvidenceInbox;
  /** The central retention, with `shared.retention` (the daemon's shipping runs it). */
  readonly retention: PostgresEvidenceRetention | undefined;

  constructor(readonly location: SharedLocation) {
    this.conn = new PostgresConnection(location);
    this.exceptions = new PostgresExceptions(this.conn, location.site, location.node);
    this.evidence = new PostgresEvidenceInbox(this.conn, location.site, location.node);
    this.retention = location.retention ? new PostgresEvidenceRetention(this.conn, location.retention) : undefined;
  }

  get target(): string {
    return this.conn.target;
  }

  async migrate(): Promise<{ from: number; to: number }> {
    const from = await this.conn.run('read the schema version', (sql) => pgSchemaVersion(sql));
    if (from >= PG_LATEST) return migratePostgres(this.conn);
    // A migration may move every evidence row (version 4 partitions the tables): it gets its own
    // connection whose statements may take far longer than query_timeout_ms.
    const long = new PostgresConnection({
      ...this.location,
      postgres: { ...this.location.postgres, query_timeout_ms: MIGRATE_TIMEOUT_MS },
    });
    try {
      return await migratePostgres(long);
    } finally {
      await long.close();
    }
  }

  async status(): Promise<SharedStatus> {
    const s: SharedStatus = {
      target: this.target,
      connected: false,
      error: null,
      serverVersion: null,
      latencyMs: null,
      schemaVersion: null,
      codeSchemaVersion: PG_LATEST,
      lastChange: null,
      nodes: [],
    };
    try {
      const t0 = performance.now();
      const [v] = await this.conn.run('connect', (sql) => sql<{ v: string }[]>`SELECT current_setting('server_version') AS v`);
      s.latencyMs = Math.round((performance.now() - t0) * 10) / 10;
      s.connected = true;
      s.serverVersion = v.v;
      s.schemaVersion = await this.conn.run('read the schema version', (sql) => pgSchemaVersion(sql));
      if (s.schemaVersion >= 1) {
        const site = this.location.site;
        const [m] = await this.conn.run(
          'read the last change',
          (sql) => sql<{ last: string }[]>`SELECT coalesce(max(change_seq), 0) AS last FROM exceptions WHERE site = ${site}`,
        );
        s.lastChange = Number(m.last);
        const nodes = await this.conn.run(
          'read the filters',
          (sql) =>
            sql<
              {
                node: string;
                last_seen: Date;
                applied_change: string;
                shipped_at: Date | null;
                backlog_rows: string | null;
                lag_seconds: number | null;
              }[]
            >`
            SELECT node, last_seen, applied_change, ${s.schemaVersion! >= 2 ? sql`shipped_at, backlog_rows, lag_seconds` : sql`NULL AS shipped_at`}
            FROM nodes WHERE site = ${site} ORDER BY node`,
        );
        s.nodes = nodes.map((n) => ({
          node: n.node,
          lastSeen: n.last_seen.getTime(),
          appliedChange: Number(n.applied_change),
          lagChanges: Math.max(0, s.lastChange! - Number(n.applied_change)),
          shipping: n.shipped_at
            ? { at: n.shipped_at.getTime(), backlogRows: Number(n.backlog_rows), lagSeconds: Number(n.lag_seconds) }
            : null,
        }));
      }
    } catch (e) {
      if (!(e instanceof StorageError)) throw e;
      s.error = e.message;
    }
    return s;
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}
