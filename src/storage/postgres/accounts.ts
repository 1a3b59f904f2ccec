import type { AccountsRepository, AuditEntry, AuditFilter, AuditRow, NewUser, Role, User } from '../accounts.js';
import { sitesScope, TRUST_SCOPE, type SiteScope } from '../scope.js';
import { StorageError } from '../storage.js';
import { isoTime } from '../time-text.js';
import type { PostgresConnection, TxSql } from './connection.js';

interface Row {
  id: string;
  name: string;
  role: Role;
  groups: string[];
  sites: string[] | null;
  created_at: string;
  created_by: string;
  password_changed_at: string;
  disabled_at: string | null;
  disabled_by: string | null;
}

const COLUMNS = 'id, name, role, groups, sites, created_at, created_by, password_changed_at, disabled_at, disabled_by';

const fromRow = (r: Row): User => ({
  id: Number(r.id),
  name: r.name,
  role: r.role,
  groups: r.groups,
  scope: r.sites === null ? TRUST_SCOPE : sitesScope(r.sites),
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
  passwordChangedAt: Number(r.password_changed_at),
  disabledAt: r.disabled_at === null ? null : Number(r.disabled_at),
  disabledBy: r.disabled_by,
});

/** NULL for the whole trust, else the sites. */
const sitesOf = (scope: SiteScope | undefined): string[] | null => (!scope || scope.kind === 'trust' ? null : [...scope.sites]);

/**
 * The console accounts of the whole trust in the shared store, and the access audit rows they and
 * the consoles write (into `access_audit`, with this filter's site and node and no local id). Each
 * change and its audit row are one transaction. `ready` brings the schema up to date (once).
 */
export class PostgresAccounts implements AccountsRepository {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly site: string,
    private readonly node: string,
    private readonly ready: () => Promise<void>,
  ) {}

  private async change(what: string, fn: (tx: TxSql) => Promise<void>, audit: AuditRow): Promise<void> {
    await this.ready();
    await this.conn.transaction(what, async (tx) => {
      await fn(tx);
      await this.insertAudit(tx, audit);
    });
  }

  private async insertAudit(tx: TxSql, a: AuditRow): Promise<void> {
    await tx`INSERT INTO access_audit (site, node, local_id, ts, actor, ip, action, target, detail)
             VALUES (${a.site ?? this.site}, ${this.node}, NULL, ${a.ts}, ${a.actor}, ${a.ip}, ${a.action}, ${a.target}, ${a.detail})`;
  }

  async addUser(u: NewUser, audit: AuditRow): Promise<User> {
    await this.ready();
    try {
      return await this.conn.transaction('add the account', async (tx) => {
        const sites = sitesOf(u.scope);
        const [row] = await tx<Row[]>`
          INSERT INTO users (name, role, groups, sites, password_hash, created_at, created_by, created_site, password_changed_at)
          VALUES (${u.name}, ${u.role}, ${tx.json(u.groups)}, ${sites === null ? null : tx.json(sites)}, ${u.passwordHash},
                  ${u.createdAt}, ${u.createdBy}, ${this.site}, ${u.createdAt})
          RETURNING *`;
        await this.insertAudit(tx, audit);
        return fromRow(row);
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      if (cause?.code === '23505') throw new StorageError(`a user named "${u.name}" already exists in the shared store`);
      throw e;
    }
  }

  setPasswordHash(userId: number, hash: string, at: number, audit: AuditRow): Promise<void> {
    return this.change(
      'set the password',
      async (tx) => {
        await tx`UPDATE users SET password_hash = ${hash}, password_changed_at = ${at} WHERE id = ${userId}`;
        await tx`DELETE FROM console_sessions WHERE user_id = ${userId}`;
      },
      audit,
    );
  }

  disableUser(userId: number, by: string, at: number, audit: AuditRow): Promise<void> {
    return this.change(
      'disable the account',
      async (tx) => {
        await tx`UPDATE users SET disabled_at = ${at}, disabled_by = ${by} WHERE id = ${userId}`;
        await tx`DELETE FROM console_sessions WHERE user_id = ${userId}`;
      },
      audit,
    );
  }

  setGroups(userId: number, groups: string[], audit: AuditRow): Promise<void> {
    return this.change(
      'set the groups',
      async (tx) => void (await tx`UPDATE users SET groups = ${tx.json(groups)} WHERE id = ${userId}`),
      audit,
    );
  }

  setScope(userId: number, scope: SiteScope, audit: AuditRow): Promise<void> {
    return this.change(
      'set the scope',
      async (tx) => {
        const sites = sitesOf(scope);
        await tx`UPDATE users SET sites = ${sites === null ? null : tx.json(sites)} WHERE id = ${userId}`;
      },
      audit,
    );
  }

  private async one(what: string, where: string, value: unknown): Promise<User | null> {
    await this.ready();
    const rows = await this.conn.run(what, (sql) =>
      sql.unsafe<Row[]>(`SELECT ${COLUMNS} FROM users WHERE ${where}`, [value as string]),
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  findUser(name: string): Promise<User | null> {
    return this.one('find the account', 'lower(name) = lower($1)', name);
  }

  userById(id: number): Promise<User | null> {
    return this.one('read the account', 'id = $1', id);
  }

  async listUsers(): Promise<User[]> {
    await this.ready();
    const rows = await this.conn.run('list the accounts', (sql) =>
      sql.unsafe<Row[]>(`SELECT ${COLUMNS} FROM users ORDER BY lower(name), name`),
    );
    return rows.map(fromRow);
  }

  async passwordHash(userId: number): Promise<string | null> {
    await this.ready();
    const rows = await this.conn.run(
      'read the password hash',
      (sql) => sql<{ password_hash: string }[]>`SELECT password_hash FROM users WHERE id = ${userId}`,
    );
    return rows[0]?.password_hash ?? null;
  }

  async audit(row: AuditRow): Promise<void> {
    await this.ready();
    await this.conn.run('record the access', (sql) => this.insertAudit(sql as unknown as TxSql, row));
  }

  async auditEntries(f: AuditFilter): Promise<AuditEntry[]> {
    await this.ready();
    const sites = f.scope.kind === 'sites' ? [...f.scope.sites] : null;
    const rows = await this.conn.run(
      'read the access audit',
      (sql) => sql<AuditRow[]>`
        SELECT ts, actor, ip, action, target, detail FROM access_audit
        WHERE ts >= ${f.since} AND ts < ${f.until}
          ${sites ? sql`AND site = ANY(${sites})` : sql``}
          ${f.actor ? sql`AND actor = ${f.actor}` : sql``}
          ${f.action ? sql`AND action = ${f.action}` : sql``}
        ORDER BY ts DESC, id DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
    );
    return rows.map(({ ts, ...r }) => ({ time: isoTime(Number(ts)), ...r }));
  }
}
