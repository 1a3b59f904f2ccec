import type { Role } from '../accounts.js';
import type { LiveSession, SessionLimits, SessionsRepository, StoredSession } from '../sessions.js';
import type { PostgresConnection } from './connection.js';

interface Row {
  user_id: string;
  user_name: string;
  role: Role;
  csrf: string;
  created_at: string;
  last_seen: string;
  seen_ago: string;
}

/**
 * The console sessions of the whole trust in the shared store: a cookie made at one filter's
 * console is found by the others; signing out (or a disabled account) deletes the row for all.
 * Every time here is PostgreSQL's now() (ms since the epoch, as the columns are), and the expiry is
 * checked in the query: the filters' own clocks, which may be wrong, play no part.
 */
export class PostgresSessions implements SessionsRepository {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly site: string,
    private readonly node: string,
    private readonly ready: () => Promise<void>,
  ) {}

  async create(tokenHash: string, s: StoredSession): Promise<void> {
    await this.ready();
    await this.conn.run(
      'start the session',
      (sql) => sql`INSERT INTO console_sessions (token_hash, user_id, user_name, role, csrf, created_at, last_seen, site, node)
                   SELECT ${tokenHash}, ${s.userId}, ${s.user}, ${s.role}, ${s.csrf}, t.ms, t.ms, ${this.site}, ${this.node}
                   FROM (SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms) t`,
    );
  }

  async live(tokenHash: string, limits: SessionLimits): Promise<LiveSession | null> {
    await this.ready();
    const { idleMs, absoluteMs } = limits;
    // The expired row is deleted by the same statement; the SELECT sees the snapshot before it and
    // leaves it out by the same test.
    const [r] = await this.conn.run(
      'read the session',
      (sql) =>
        sql<Row[]>`
        WITH t AS (SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms),
        gone AS (
          DELETE FROM console_sessions s USING t
          WHERE s.token_hash = ${tokenHash} AND (s.last_seen < t.ms - ${idleMs} OR s.created_at < t.ms - ${absoluteMs})
        )
        SELECT user_id, user_name, role, csrf, created_at, last_seen, greatest(t.ms - last_seen, 0) AS seen_ago
        FROM console_sessions, t
        WHERE token_hash = ${tokenHash} AND last_seen >= t.ms - ${idleMs} AND created_at >= t.ms - ${absoluteMs}`,
    );
    return r
      ? {
          userId: Number(r.user_id),
          user: r.user_name,
          role: r.role,
          csrf: r.csrf,
          createdAt: Number(r.created_at),
          lastSeen: Number(r.last_seen),
          seenAgoMs: Number(r.seen_ago),
        }
      : null;
  }

  async touch(tokenHash: string): Promise<void> {
    await this.conn.run(
      'refresh the session',
      (sql) =>
        sql`UPDATE console_sessions SET last_seen = greatest(last_seen, (extract(epoch FROM now()) * 1000)::bigint)
            WHERE token_hash = ${tokenHash}`,
    );
  }

  async end(tokenHash: string): Promise<void> {
    await this.ready();
    await this.conn.run('end the session', (sql) => sql`DELETE FROM console_sessions WHERE token_hash = ${tokenHash}`);
  }

  async endUser(userId: number): Promise<void> {
    await this.ready();
    await this.conn.run('end the sessions', (sql) => sql`DELETE FROM console_sessions WHERE user_id = ${userId}`);
  }

  async sweep(limits: SessionLimits): Promise<void> {
    await this.ready();
    await this.conn.run(
      'end old sessions',
      (sql) => sql`WITH t AS (SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms)
                   DELETE FROM console_sessions USING t
                   WHERE last_seen < t.ms - ${limits.idleMs} OR created_at < t.ms - ${limits.absoluteMs}`,
    );
  }
}
