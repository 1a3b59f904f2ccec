import type { Role } from '../accounts.js';
import type { SessionsRepository, StoredSession } from '../sessions.js';
import type { PostgresConnection } from './connection.js';

interface Row {
  user_id: string;
  user_name: string;
  role: Role;
  csrf: string;
  created_at: string;
  last_seen: string;
}

/**
 * The console sessions of the whole trust in the shared store: a cookie made at one filter's
 * console is found by the others; signing out (or a disabled account) deletes the row for all.
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
                   VALUES (${tokenHash}, ${s.userId}, ${s.user}, ${s.role}, ${s.csrf}, ${s.createdAt}, ${s.lastSeen}, ${this.site}, ${this.node})`,
    );
  }

  async find(tokenHash: string): Promise<StoredSession | null> {
    await this.ready();
    const [r] = await this.conn.run(
      'read the session',
      (sql) =>
        sql<
          Row[]
        >`SELECT user_id, user_name, role, csrf, created_at, last_seen FROM console_sessions WHERE token_hash = ${tokenHash}`,
    );
    return r
      ? {
          userId: Number(r.user_id),
          user: r.user_name,
          role: r.role,
          csrf: r.csrf,
          createdAt: Number(r.created_at),
          lastSeen: Number(r.last_seen),
        }
      : null;
  }

  async touch(tokenHash: string, at: number): Promise<void> {
    await this.conn.run(
      'refresh the session',
      (sql) => sql`UPDATE console_sessions SET last_seen = greatest(last_seen, ${at}) WHERE token_hash = ${tokenHash}`,
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

  async sweep(idleBefore: number, createdBefore: number): Promise<void> {
    await this.ready();
    await this.conn.run(
      'end old sessions',
      (sql) => sql`DELETE FROM console_sessions WHERE last_seen < ${idleBefore} OR created_at < ${createdBefore}`,
    );
  }
}
