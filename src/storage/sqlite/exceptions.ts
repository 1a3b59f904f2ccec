import type { AuditEntry, AuditFilter } from '../accounts.js';
import {
  describeException,
  ExceptionChangeError,
  type ChangedBy,
  type ExceptionRecord,
  type ExceptionsListener,
  type ExceptionsRepository,
  type NewException,
  type RequestLink,
} from '../exceptions.js';
import { isoTime } from '../time-text.js';
import { formatLocal } from '../../time/local-time.js';
import type { DatabaseFile } from './database-file.js';

interface Row {
  id: number;
  target_kind: 'group' | 'client';
  target: string;
  categories: string;
  domains: string;
  starts_at: number;
  expires_at: number;
  reason: string;
  approved_by: string;
  created_by: string;
  created_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  request_id: number | null;
  requested_by: string | null;
}

function fromRow(r: Row): ExceptionRecord {
  return {
    id: r.id,
    targetKind: r.target_kind,
    target: r.target,
    categories: JSON.parse(r.categories) as string[],
    domains: JSON.parse(r.domains) as string[],
    startsAt: r.starts_at,
    expiresAt: r.expires_at,
    reason: r.reason,
    approvedBy: r.approved_by,
    createdBy: r.created_by,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
    revokeReason: r.revoke_reason,
    requestId: r.request_id,
    requestedBy: r.requested_by,
  };
}

/** The audit row's actions, as the access audit names them. */
const ACTION = { added: 'exception-add', revoked: 'exception-revoke' } as const;

/**
 * How often a subscriber looks for changes. PRAGMA data_version changes when another connection
 * (the CLI, the console's thread) commits, so a change is seen within this long.
 */
const POLL_MS = 250;

const SQL = {
  insert: `INSERT INTO exceptions (target_kind, target, categories, domains, starts_at, expires_at, reason, approved_by, created_by, created_at,
                                   request_id, requested_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  audit: 'INSERT INTO exception_audit (ts, exception_id, action, actor, detail, ip) VALUES (?, ?, ?, ?, ?, ?)',
  byId: 'SELECT * FROM exceptions WHERE id = ?',
  revoke: 'UPDATE exceptions SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?',
};

/** Exceptions and their audit in the evidence file (readable by the review group: `exception list`, `check`). */
export class SqliteExceptions implements ExceptionsRepository {
  constructor(private readonly file: DatabaseFile) {}

  async add(e: NewException, by: ChangedBy): Promise<ExceptionRecord> {
    return this.file.transaction(() => this.insert(e, by, null));
  }

  /**
   * Writes an exception and its audit row; call inside a transaction. The requests repository uses
   * it to store an approval's exception in the approval's own transaction, linked to its request.
   */
  insert(e: NewException, by: ChangedBy, link: RequestLink | null): ExceptionRecord {
    const id = Number(
      this.file
        .prepare(SQL.insert)
        .run(
          e.targetKind,
          e.target,
          JSON.stringify(e.categories),
          JSON.stringify(e.domains),
          e.startsAt,
          e.expiresAt,
          e.reason,
          e.approvedBy,
          by.recordedAs,
          by.at,
          link?.requestId ?? null,
          link?.requestedBy ?? null,
        ).lastInsertRowid,
    );
    this.file.prepare(SQL.audit).run(by.at, id, 'added', by.actor, describeException(e), by.ip);
    return fromRow(this.file.prepare(SQL.byId).get(id) as Row);
  }

  async revoke(id: number, reason: string, by: ChangedBy): Promise<ExceptionRecord> {
    return this.file.transaction(() => {
      const row = this.file.prepare(SQL.byId).get(id) as Row | undefined;
      if (!row) throw new ExceptionChangeError(`no exception with id ${id} (see: webfilter exception list --all)`);
      if (row.revoked_at !== null) {
        throw new ExceptionChangeError(
          `exception ${id} was already revoked by ${row.revoked_by} at ${formatLocal(row.revoked_at)}`,
        );
      }
      this.file.prepare(SQL.revoke).run(by.at, by.recordedAs, reason, id);
      this.file.prepare(SQL.audit).run(by.at, id, 'revoked', by.actor, reason, by.ip);
      return fromRow({ ...row, revoked_at: by.at, revoked_by: by.recordedAs, revoke_reason: reason });
    });
  }

  async all(): Promise<ExceptionRecord[]> {
    return this.rows('SELECT * FROM exceptions ORDER BY id DESC');
  }

  async current(now: number): Promise<ExceptionRecord[]> {
    return this.rows('SELECT * FROM exceptions WHERE revoked_at IS NULL AND expires_at > ? ORDER BY id', now);
  }

  async between(from: number, to: number): Promise<ExceptionRecord[]> {
    return this.rows(
      'SELECT * FROM exceptions WHERE created_at < ? AND (expires_at > ? OR created_at >= ?) ORDER BY created_at',
      to,
      from,
      from,
    );
  }

  async changesSince(since: number): Promise<{ last: number; changed: ExceptionRecord[] }> {
    // Every change writes one audit row in its own transaction: the audit row's id numbers the changes.
    return this.file.transaction(() => ({
      last: (this.file.prepare('SELECT coalesce(max(id), 0) AS n FROM exception_audit').get() as { n: number }).n,
      changed: this.rows(
        'SELECT * FROM exceptions WHERE id IN (SELECT exception_id FROM exception_audit WHERE id > ?) ORDER BY id',
        since,
      ),
    }));
  }

  /** One exception's audit rows, oldest first (pushed with it to the shared store). */
  async auditOf(
    id: number,
  ): Promise<{ ts: number; action: 'added' | 'revoked'; actor: string; ip: string | null; detail: string }[]> {
    return this.file
      .prepare('SELECT ts, action, actor, ip, detail FROM exception_audit WHERE exception_id = ? ORDER BY id')
      .all(id) as { ts: number; action: 'added' | 'revoked'; actor: string; ip: string | null; detail: string }[];
  }

  async auditEntries(f: AuditFilter): Promise<AuditEntry[]> {
    const parts = ['ip IS NOT NULL', 'ts >= @since', 'ts < @until'];
    if (f.actor) parts.push('actor = @actor');
    if (f.action) {
      const action = Object.entries(ACTION).find(([, a]) => a === f.action)?.[0];
      if (!action) return [];
      parts.push(`action = '${action}'`);
    }
    const rows = this.file
      .prepare(
        `SELECT ts, actor, ip, action, exception_id, detail FROM exception_audit WHERE ${parts.join(' AND ')}
         ORDER BY ts DESC, id DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
      )
      .all({ since: f.since, until: f.until, ...(f.actor ? { actor: f.actor } : {}) }) as {
      ts: number;
      actor: string;
      ip: string;
      action: keyof typeof ACTION;
      exception_id: number;
      detail: string;
    }[];
    return rows.map((r) => ({
      time: isoTime(r.ts),
      actor: r.actor,
      ip: r.ip,
      action: ACTION[r.action],
      target: `exception ${r.exception_id}`,
      detail: r.detail,
    }));
  }

  subscribe(listener: ExceptionsListener, onError: (e: Error) => void = () => {}): () => void {
    let seen = -1;
    let last = 0;
    let failing = false;
    const poll = async () => {
      try {
        const version = this.file.connection().pragma('data_version', { simple: true }) as number;
        if (version === seen) return;
        const changes = await this.changesSince(last);
        const first = seen === -1;
        seen = version;
        failing = false;
        if (first || changes.changed.length > 0) {
          last = changes.last;
          listener(await this.current(Date.now()));
        }
      } catch (e) {
        if (!failing) onError(e as Error);
        failing = true;
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => clearInterval(timer);
  }

  private rows(sql: string, ...params: unknown[]): ExceptionRecord[] {
    return (this.file.prepare(sql).all(...params) as Row[]).map(fromRow);
  }
}
