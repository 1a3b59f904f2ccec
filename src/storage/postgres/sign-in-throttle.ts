import { throttleKeys, waitLeft, type LoginLimits, type SignInHold, type SignInThrottle } from '../sign-in-throttle.js';
import type { PostgresConnection } from './connection.js';

/**
 * The trust's sign-in throttle in the shared store (the rule: storage/sign-in-throttle.ts): every
 * console and CLI reads and adds to one count per key, timed by PostgreSQL's now(). An unreachable
 * store throws (SharedUnavailableError): the caller refuses the sign-in.
 */
export class PostgresSignInThrottle implements SignInThrottle {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly ready: () => Promise<void>,
  ) {}

  async held(account: string, address: string, limits: LoginLimits): Promise<SignInHold | null> {
    await this.ready();
    const keys = throttleKeys(account, address);
    const rows = await this.conn.run(
      'read the failed sign-ins',
      (sql) =>
        sql<{ key: string; failures: number; ago_ms: number }[]>`
        SELECT key, failures, (extract(epoch FROM now() - last_at) * 1000)::float8 AS ago_ms
        FROM sign_in_failures WHERE key IN (${keys.account}, ${keys.address})`,
    );
    const left = (key: string, free: number) => {
      const r = rows.find((x) => x.key === key);
      return r ? waitLeft(r.failures, Math.max(0, r.ago_ms), free, limits.windowMs) : 0;
    };
    const a = left(keys.account, limits.perAccount);
    if (a > 0) return { waitMs: Math.ceil(a), why: 'account' };
    const i = left(keys.address, limits.perIp);
    if (i > 0) return { waitMs: Math.ceil(i), why: 'address' };
    return null;
  }

  async fail(account: string, address: string, limits: LoginLimits): Promise<void> {
    await this.ready();
    const keys = throttleKeys(account, address);
    const windowS = limits.windowMs / 1000;
    await this.conn.run(
      'count the failed sign-in',
      (sql) => sql`
        WITH gone AS (
          DELETE FROM sign_in_failures
          WHERE last_at < now() - make_interval(secs => ${windowS}) AND key NOT IN (${keys.account}, ${keys.address})
        )
        INSERT INTO sign_in_failures AS f (key, failures, last_at)
        VALUES (${keys.account}, 1, now()), (${keys.address}, 1, now())
        ON CONFLICT (key) DO UPDATE SET
          failures = CASE WHEN f.last_at <= now() - make_interval(secs => ${windowS}) THEN 1 ELSE f.failures + 1 END,
          last_at = now()`,
    );
  }

  async succeed(account: string, address: string): Promise<void> {
    await this.ready();
    const key = throttleKeys(account, address).account;
    await this.conn.run('clear the failed sign-ins', (sql) => sql`DELETE FROM sign_in_failures WHERE key = ${key}`);
  }
}
