import type { AuditEntry, AuditFilter } from '../accounts.js';
import type { ChangedBy, ExceptionRecord } from '../exceptions.js';
import {
  dueAt,
  RequestChangeError,
  type Approval,
  type NewRequest,
  type PermissionRequest,
  type RequestFilter,
  type RequestsRepository,
  type RequestState,
} from '../requests.js';
import { isoTime } from '../time-text.js';
import { formatLocal } from '../../time/local-time.js';
import type { DatabaseFile } from './database-file.js';
import type { SqliteExceptions } from './exceptions.js';

interface Row {
  id: number;
  grp: string;
  categories: string;
  starts_at: number | null;
  expires_at: number;
  lesson: string | null;
  reason: string;
  requested_by: string;
  requested_at: number;
  state: RequestState;
  decided_by: string | null;
  decided_at: number | null;
  note: string;
  exception_id: number | null;
}

const fromRow = (r: Row): PermissionRequest => ({
  id: r.id,
  group: r.grp,
  categories: JSON.parse(r.categories) as string[],
  startsAt: r.starts_at,
  expiresAt: r.expires_at,
  lesson: r.lesson,
  reason: r.reason,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  state: r.state,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  note: r.note,
  exceptionId: r.exception_id,
});

/** The audit row's actions, as the access audit names them. */
const ACTION = {
  requested: 'request-add',
  approved: 'request-approve',
  declined: 'request-decline',
  expired: 'request-expire',
} as const;

/** Who expiry is recorded as: nobody decided, the time ran out. */
const EXPIRY_ACTOR = { actor: 'webfilter', ip: 'daemon' };

const SQL = {
  insert: `INSERT INTO requests (grp, categories, starts_at, expires_at, lesson, reason, requested_by, requested_at, state)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
  byId: 'SELECT * FROM requests WHERE id = ?',
  decide: `UPDATE requests SET state = ?, decided_by = ?, decided_at = ?, note = ?, exception_id = ? WHERE id = ? AND state = 'pending'`,
  audit: 'INSERT INTO request_audit (ts, request_id, action, actor, ip, detail) VALUES (?, ?, ?, ?, ?, ?)',
  due: `SELECT * FROM requests WHERE state = 'pending' AND coalesce(starts_at, expires_at) <= ? ORDER BY id`,
};

/** What a request asks for, in one line for the audit. */
function describe(r: NewRequest | PermissionRequest): string {
  const when = r.lesson
    ? `lesson ${r.lesson}`
    : `${r.startsAt === null ? 'from approval' : `from ${isoTime(r.startsAt)}`} until ${isoTime(r.expiresAt)}`;
  return `${r.categories.join(', ')} for group ${r.group}, ${when}: ${r.reason}`;
}

/** Permission requests and their audit in the evidence file, beside the exceptions they become. */
export class SqliteRequests implements RequestsRepository {
  constructor(
    private readonly file: DatabaseFile,
    private readonly exceptions: SqliteExceptions,
  ) {}

  async add(
    r: NewRequest,
    by: ChangedBy,
    standing?: { approval: Approval; by: ChangedBy },
  ): Promise<{ request: PermissionRequest; exception: ExceptionRecord | null }> {
    return this.file.transaction(() => {
      const id = Number(
        this.file
          .prepare(SQL.insert)
          .run(r.group, JSON.stringify(r.categories), r.startsAt, r.expiresAt, r.lesson, r.reason, r.requestedBy, by.at)
          .lastInsertRowid,
      );
      const detail = r.requestedBy === by.actor ? describe(r) : `${describe(r)} (for ${r.requestedBy})`;
      this.file.prepare(SQL.audit).run(by.at, id, 'requested', by.actor, by.ip, detail);
      if (!standing) return { request: this.get(id)!, exception: null };
      return this.approveNow(id, standing.approval, standing.by);
    });
  }

  async approve(
    id: number,
    approval: Approval,
    by: ChangedBy,
  ): Promise<{ request: PermissionRequest; exception: ExceptionRecord }> {
    return this.file.transaction(() => this.approveNow(id, approval, by));
  }

  async decline(id: number, note: string, by: ChangedBy): Promise<PermissionRequest> {
    return this.file.transaction(() => {
      this.pending(id, by.at);
      this.file.prepare(SQL.decide).run('declined', by.actor, by.at, note, null, id);
      this.file.prepare(SQL.audit).run(by.at, id, 'declined', by.actor, by.ip, note);
      return this.get(id)!;
    });
  }

  async expireDue(now: number): Promise<PermissionRequest[]> {
    const due = (this.file.prepare(SQL.due).all(now) as Row[]).map(fromRow);
    if (due.length === 0) return [];
    return this.file.transaction(() => {
      const out: PermissionRequest[] = [];
      for (const r of due) {
        const at = dueAt(r);
        const changed = this.file.prepare(SQL.decide).run('expired', null, at, '', null, r.id).changes;
        if (changed === 0) continue; // decided meanwhile by another connection
        const why = r.startsAt === null ? 'its end passed while it was pending' : 'its start passed while it was pending';
        this.file.prepare(SQL.audit).run(at, r.id, 'expired', EXPIRY_ACTOR.actor, EXPIRY_ACTOR.ip, `${why}: ${describe(r)}`);
        out.push(this.get(r.id)!);
      }
      return out;
    });
  }

  async byId(id: number): Promise<PermissionRequest | null> {
    return this.get(id);
  }

  async list(f: RequestFilter): Promise<PermissionRequest[]> {
    const parts: string[] = [];
    const params: Record<string, unknown> = {};
    if (f.state) {
      parts.push('state = @state');
      params.state = f.state;
    }
    if (f.requestedBy) {
      parts.push('requested_by = @requestedBy');
      params.requestedBy = f.requestedBy;
    }
    if (f.since !== undefined) {
      // Made, decided, or running in the period.
      parts.push('(requested_at >= @since OR decided_at >= @since OR expires_at > @since)');
      params.since = f.since;
    }
    if (f.until !== undefined) {
      parts.push('requested_at < @until');
      params.until = f.until;
    }
    const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    return (
      this.file
        .prepare(`SELECT * FROM requests ${where} ORDER BY id DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`)
        .all(params) as Row[]
    ).map(fromRow);
  }

  async auditEntries(f: AuditFilter): Promise<AuditEntry[]> {
    const parts = ['ts >= @since', 'ts < @until'];
    const params: Record<string, unknown> = { since: f.since, until: f.until };
    if (f.actor) {
      parts.push('actor = @actor');
      params.actor = f.actor;
    }
    if (f.action) {
      const action = Object.entries(ACTION).find(([, a]) => a === f.action)?.[0];
      if (!action) return [];
      parts.push('action = @action');
      params.action = action;
    }
    const rows = this.file
      .prepare(
        `SELECT ts, actor, ip, action, request_id, detail FROM request_audit WHERE ${parts.join(' AND ')}
         ORDER BY ts DESC, id DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
      )
      .all(params) as {
      ts: number;
      actor: string;
      ip: string;
      action: keyof typeof ACTION;
      request_id: number;
      detail: string;
    }[];
    return rows.map((r) => ({
      time: isoTime(r.ts),
      actor: r.actor,
      ip: r.ip,
      action: ACTION[r.action],
      target: `request ${r.request_id}`,
      detail: r.detail,
    }));
  }

  async unnotified(): Promise<PermissionRequest[]> {
    return (
      this.file.prepare("SELECT * FROM requests WHERE state = 'pending' AND notified_at IS NULL ORDER BY id").all() as Row[]
    ).map(fromRow);
  }

  async markNotified(ids: number[], at: number): Promise<void> {
    this.file.transaction(() => {
      for (const id of ids) this.file.prepare('UPDATE requests SET notified_at = ? WHERE id = ?').run(at, id);
    });
  }

  /** Approves inside the caller's transaction: re-checks the request, stores the exception through the exceptions repository, links both. */
  private approveNow(id: number, a: Approval, by: ChangedBy): { request: PermissionRequest; exception: ExceptionRecord } {
    const r = this.pending(id, by.at);
    const exception = this.exceptions.insert(a.exception, by, { requestId: id, requestedBy: r.requestedBy });
    this.file.prepare(SQL.decide).run('approved', a.decidedBy, by.at, a.note, exception.id, id);
    const detail = `${describe(r)} → exception ${exception.id}${a.note ? `; note: ${a.note}` : ''}`;
    this.file.prepare(SQL.audit).run(by.at, id, 'approved', by.actor, by.ip, detail);
    return { request: this.get(id)!, exception };
  }

  /** The request, if it can still be decided at `at`; RequestChangeError saying why not otherwise. */
  private pending(id: number, at: number): PermissionRequest {
    const r = this.get(id);
    if (!r) throw new RequestChangeError(`no request with id ${id} (see: webfilter request list --all)`);
    if (r.state !== 'pending') {
      throw new RequestChangeError(
        `request ${id} was already ${r.state}${r.decidedBy ? ` by ${r.decidedBy}` : ''} at ${formatLocal(r.decidedAt ?? r.requestedAt)}`,
      );
    }
    if (dueAt(r) <= at) {
      throw new RequestChangeError(
        `request ${id} can no longer be approved: ${r.startsAt === null ? 'its end' : 'its start'} (${formatLocal(dueAt(r))}) has passed`,
      );
    }
    return r;
  }

  private get(id: number): PermissionRequest | null {
    const r = this.file.prepare(SQL.byId).get(id) as Row | undefined;
    return r ? fromRow(r) : null;
  }
}
