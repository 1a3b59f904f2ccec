import type Database from 'better-sqlite3';

/** An exception as stored. Times are ms since the Unix epoch. */
export interface ExceptionRecord {
  id: number;
  targetKind: 'group' | 'client';
  target: string;
  categories: string[];
  domains: string[];
  startsAt: number;
  expiresAt: number;
  reason: string;
  approvedBy: string;
  createdBy: string;
  createdAt: number;
  revokedAt: number | null;
  revokedBy: string | null;
  revokeReason: string | null;
}

export type NewException = Pick<
  ExceptionRecord,
  'targetKind' | 'target' | 'categories' | 'domains' | 'startsAt' | 'expiresAt' | 'reason' | 'approvedBy'
>;

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
  };
}

/** One line for the access audit: what it opens, for whom, until when, on whose approval and why. */
export function describeException(e: NewException): string {
  return `${[...e.categories, ...e.domains].join(', ')} for ${e.targetKind} ${e.target} until ${new Date(e.expiresAt).toISOString()}, approved by ${e.approvedBy}: ${e.reason}`;
}

/** Stores a validated exception and its audit row in one transaction; returns its id. */
export function insertException(db: Database.Database, e: NewException, actor: string, now: number): number {
  return db.transaction(() => {
    const id = Number(
      db
        .prepare(
          `INSERT INTO exceptions (target_kind, target, categories, domains, starts_at, expires_at, reason, approved_by, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          e.targetKind,
          e.target,
          JSON.stringify(e.categories),
          JSON.stringify(e.domains),
          e.startsAt,
          e.expiresAt,
          e.reason,
          e.approvedBy,
          actor,
          now,
        ).lastInsertRowid,
    );
    const what = [...e.categories.map((c) => `category ${c}`), ...e.domains.map((d) => `domain ${d}`)].join(', ');
    db.prepare('INSERT INTO exception_audit (ts, exception_id, action, actor, detail) VALUES (?, ?, ?, ?, ?)').run(
      now,
      id,
      'added',
      actor,
      `${what} for ${e.targetKind} ${e.target} until ${new Date(e.expiresAt).toISOString()}, approved by ${e.approvedBy}: ${e.reason}`,
    );
    return id;
  })();
}

/** Revokes an exception (recorded with who, when and why). Throws when it does not exist or is already revoked. */
export function revokeException(db: Database.Database, id: number, reason: string, actor: string, now: number): ExceptionRecord {
  return db.transaction(() => {
    const row = db.prepare('SELECT * FROM exceptions WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new Error(`no exception with id ${id} (see: webfilter exception list --all)`);
    if (row.revoked_at !== null)
      throw new Error(`exception ${id} was already revoked by ${row.revoked_by} at ${new Date(row.revoked_at).toISOString()}`);
    db.prepare('UPDATE exceptions SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?').run(
      now,
      actor,
      reason,
      id,
    );
    db.prepare('INSERT INTO exception_audit (ts, exception_id, action, actor, detail) VALUES (?, ?, ?, ?, ?)').run(
      now,
      id,
      'revoked',
      actor,
      reason,
    );
    return fromRow({ ...row, revoked_at: now, revoked_by: actor, revoke_reason: reason });
  })();
}

/** Exceptions that are not revoked and not yet expired at `now` (including ones starting later). */
export function currentExceptions(db: Database.Database, now: number): ExceptionRecord[] {
  return (db.prepare('SELECT * FROM exceptions WHERE revoked_at IS NULL AND expires_at > ? ORDER BY id').all(now) as Row[]).map(
    fromRow,
  );
}

/** Every exception, newest first (for `exception list --all`). */
export function allExceptions(db: Database.Database): ExceptionRecord[] {
  return (db.prepare('SELECT * FROM exceptions ORDER BY id DESC').all() as Row[]).map(fromRow);
}

/** Exceptions created, or in force, between two times (for reports). */
export function exceptionsBetween(db: Database.Database, from: number, to: number): ExceptionRecord[] {
  return (
    db
      .prepare('SELECT * FROM exceptions WHERE created_at < ? AND (expires_at > ? OR created_at >= ?) ORDER BY created_at')
      .all(to, from, from) as Row[]
  ).map(fromRow);
}
