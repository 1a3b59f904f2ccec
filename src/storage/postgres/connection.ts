import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { StorageError } from '../storage.js';
import type { SharedLocation } from '../shared.js';
import { SharedUnavailableError } from '../shared-errors.js';
import { guardDriverRejections } from './driver-guard.js';

/** The client (porsager/postgres): tagged-template queries, parameters sent separately, never spliced. */
export type Sql = postgres.Sql;
/** A transaction's handle (`sql.begin`). */
export type TxSql = postgres.TransactionSql;

/** Error codes that mean "cannot reach the server now" rather than "the server said no". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
]);

function unreachable(e: unknown): boolean {
  const code = String((e as { code?: unknown }).code ?? '');
  return UNREACHABLE.has(code) || code.startsWith('08');
}

/** The URL to connect with: `url_file` (read now), else `url`, else undefined (the PG* environment). */
function connectionUrl(loc: SharedLocation): string | undefined {
  if (loc.urlFile) {
    try {
      return readFileSync(loc.urlFile, 'utf8').trim();
    } catch (e) {
      throw new StorageError(
        `cannot read shared.postgres.url_file ${loc.urlFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  return loc.postgres.url;
}

/**
 * One process's connections to the shared PostgreSQL store. Every statement has a deadline
 * (`query_timeout_ms`): a paused or unreachable server turns into SharedUnavailableError, the pool is
 * dropped and the next use connects afresh. Messages name the server as user@host:port/database,
 * never with its password.
 */
export class PostgresConnection {
  private sql: Sql | null = null;
  private described: string | null = null;

  constructor(readonly location: SharedLocation) {
    guardDriverRejections();
  }

  /** user@host:port/database, for messages. */
  get target(): string {
    if (this.described === null) this.pool();
    return this.described!;
  }

  /** Runs `fn` against the pool, within the statement deadline; errors become StorageErrors that say why. */
  async run<T>(what: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
    const sql = this.pool();
    const ms = this.location.postgres.query_timeout_ms;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
    });
    try {
      // When the deadline wins, the pool is dropped and PostgreSQL's statement_timeout ends the
      // statement on the server too.
      return await Promise.race([fn(sql), deadline]);
    } catch (e) {
      throw this.explain(what, e);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `fn` in one transaction (all or nothing), within the statement deadline. */
  async transaction<T>(what: string, fn: (tx: TxSql) => Promise<T>): Promise<T> {
    return this.run(what, (sql) => sql.begin((tx) => fn(tx)) as Promise<T>);
  }

  /**
   * A dedicated connection that LISTENs on `channel`. `onClose` is called once when it is lost; the
   * caller decides when to listen again (after it has caught up). Resolves when listening.
   */
  async listen(channel: string, onNotify: (payload: string) => void, onClose: () => void): Promise<{ close(): Promise<void> }> {
    let closed = false;
    const conn = postgres(
      connectionUrl(this.location) as string,
      {
        ...this.options(),
        max: 1,
        idle_timeout: 0,
        max_lifetime: null,
        onnotify: (c: string, payload: string) => c === channel && onNotify(payload),
        onclose: () => {
          if (!closed) {
            closed = true;
            onClose();
          }
        },
      } as postgres.Options<{}>,
    );
    const end = async () => {
      closed = true;
      await conn.end({ timeout: 0 }).catch(() => {});
    };
    const ms = this.location.postgres.query_timeout_ms;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        conn.unsafe(`LISTEN "${channel.replace(/"/g, '""')}"`),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
        }),
      ]);
    } catch (e) {
      await end();
      throw this.explain('listen for changes', e);
    } finally {
      clearTimeout(timer);
    }
    return { close: end };
  }

  /** Drops the pool at once (open statements fail); the next use connects again. */
  async reset(): Promise<void> {
    const sql = this.sql;
    this.sql = null;
    await sql?.end({ timeout: 0 }).catch(() => {});
  }

  async close(): Promise<void> {
    const sql = this.sql;
    this.sql = null;
    await sql?.end({ timeout: 1 }).catch(() => {});
  }

  private options(): postgres.Options<{}> {
    const p = this.location.postgres;
    return {
      max: p.max_connections,
      connect_timeout: p.connect_timeout_ms / 1000,
      idle_timeout: 60,
      onnotice: () => {},
      connection: {
        application_name: `webfilter ${this.location.site}/${this.location.node}`,
        // The server ends a statement that outlives the client's deadline, so a change the CLI or
        // console reported as failed cannot commit later behind its back.
        statement_timeout: p.query_timeout_ms,
      },
    };
  }

  private pool(): Sql {
    if (this.sql) return this.sql;
    const url = connectionUrl(this.location);
    const sql = url === undefined ? postgres(this.options()) : postgres(url, this.options());
    const o = sql.options;
    const hosts = o.host.map((h, i) => `${h}:${o.port[i] ?? o.port[0]}`).join(',');
    this.described = `${o.user}@${hosts}/${o.database}`;
    this.sql = sql;
    return sql;
  }

  /** `e` as a StorageError naming the server; SharedUnavailableError when it could not be reached. */
  private explain(what: string, e: unknown): StorageError {
    // The caller's own refusals (no such exception, …) pass as they are; only the driver's errors are explained.
    if (e instanceof StorageError || (e as { code?: unknown }).code === undefined) return e as StorageError;
    const message = (e as Error).message;
    if (unreachable(e)) {
      // A half-dead pool (a paused server) would keep failing: start afresh next time.
      void this.reset();
      return Object.assign(
        new SharedUnavailableError(`PostgreSQL at ${this.target} is unreachable (${message}): could not ${what}`),
        {
          cause: e,
        },
      );
    }
    return Object.assign(new StorageError(`PostgreSQL at ${this.target}: could not ${what}: ${message}`), { cause: e });
  }
}
