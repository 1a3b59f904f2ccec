import type { AccountsRepository, AuditEntry, AuditFilter, AuditRow, NewUser, Role, User } from '../accounts.js';
import { isoTime } from '../time-text.js';
import { TRUST_SCOPE } from '../scope.js';
import { StorageError, type StorageAccess } from '../storage.js';
import type { DatabaseFile } from './database-file.js';

interface Row {
  id: number;
  name: string;
  role: Role;
  scope_groups: string;
  password_hash: string;
  created_at: number;
  created_by: string;
  password_changed_at: number;
  disabled_at: number | null;
  disabled_by: string | null;
}

const fromRow = (r: Row): User => ({
  id: r.id,
  name: r.name,
  role: r.role,
  groups: JSON.parse(r.scope_groups) as string[],
  // A single box's store holds only its own records: every account sees all of them.
  scope: TRUST_SCOPE,
  createdAt: r.created_at,
  createdBy: r.created_by,
  passwordChangedAt: r.password_changed_at,
  disabledAt: r.disabled_at,
  disabledBy: r.disabled_by,
});

const SQL = {
  audit: 'INSERT INTO access_audit (ts, actor, ip, action, target, detail) VALUES (@ts, @actor, @ip, @action, @target, @detail)',
  byId: 'SELECT * FROM users WHERE id = ?',
};

/**
 * Console accounts and the access audit in their own SQLite file; each change with its audit row
 * in one transaction. Read-only, a file not made yet reads as no accounts and no audit.
 */
/** The row without `site`: a single box's audit has no site column (every row is this box's). */
const bare = ({ site: _site, ...row }: AuditRow): Omit<AuditRow, 'site'> => row;

export class SqliteAccounts implements AccountsRepository {
  constructor(
    private readonly file: DatabaseFile,
    private readonly access: StorageAccess,
  ) {}

  /** Nothing to read: read-only, and the file has not been made yet. */
  private get none(): boolean {
    return this.access === 'read-only' && !this.file.exists();
  }

  async addUser(u: NewUser, audit: AuditRow): Promise<User> {
    return this.file.transaction(() => {
      const id = Number(
        this.file
          .prepare(
            'INSERT INTO users (name, role, scope_groups, password_hash, created_at, created_by, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          )
          .run(u.name, u.role, JSON.stringify(u.groups), u.passwordHash, u.createdAt, u.createdBy, u.createdAt).lastInsertRowid,
      );
      this.file.prepare(SQL.audit).run(bare(audit));
      return fromRow(this.file.prepare(SQL.byId).get(id) as Row);
    });
  }

  async setPasswordHash(userId: number, hash: string, at: number, audit: AuditRow): Promise<void> {
    this.file.transaction(() => {
      this.file.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?').run(hash, at, userId);
      this.file.prepare(SQL.audit).run(bare(audit));
    });
  }

  async disableUser(userId: number, by: string, at: number, audit: AuditRow): Promise<void> {
    this.file.transaction(() => {
      this.file.prepare('UPDATE users SET disabled_at = ?, disabled_by = ? WHERE id = ?').run(at, by, userId);
      this.file.prepare(SQL.audit).run(bare(audit));
    });
  }

  async setGroups(userId: number, groups: string[], audit: AuditRow): Promise<void> {
    this.file.transaction(() => {
      this.file.prepare('UPDATE users SET scope_groups = ? WHERE id = ?').run(JSON.stringify(groups), userId);
      this.file.prepare(SQL.audit).run(bare(audit));
    });
  }

  async setScope(): Promise<void> {
    throw new StorageError(
      "a single filter's accounts see that filter's records and have no site scope: sites are for filters that share a store (set shared)",
    );
  }

  async findUser(name: string): Promise<User | null> {
    if (this.none) return null;
    const r = this.file.prepare('SELECT * FROM users WHERE name = ?').get(name) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  async userById(id: number): Promise<User | null> {
    if (this.none) return null;
    const r = this.file.prepare(SQL.byId).get(id) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  async listUsers(): Promise<User[]> {
    if (this.none) return [];
    return (this.file.prepare('SELECT * FROM users ORDER BY name').all() as Row[]).map(fromRow);
  }

  async passwordHash(userId: number): Promise<string | null> {
    const r = this.file.prepare('SELECT password_hash FROM users WHERE id = ?').get(userId) as
      { password_hash: string } | undefined;
    return r?.password_hash ?? null;
  }

  async audit(row: AuditRow): Promise<void> {
    this.file.prepare(SQL.audit).run(bare(row));
  }

  async auditEntries(f: AuditFilter): Promise<AuditEntry[]> {
    if (this.none) return [];
    const parts = ['ts >= @since', 'ts < @until'];
    const params: Record<string, unknown> = { since: f.since, until: f.until };
    if (f.actor) {
      parts.push('actor = @actor');
      params.actor = f.actor;
    }
    if (f.action) {
      parts.push('action = @action');
      params.action = f.action;
    }
    const rows = this.file
      .prepare(
        `SELECT ts, actor, ip, action, target, detail FROM access_audit WHERE ${parts.join(' AND ')}
         ORDER BY ts DESC, id DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
      )
      .all(params) as AuditRow[];
    return rows.map(({ ts, ...r }) => ({ time: isoTime(ts), ...r }));
  }
}
