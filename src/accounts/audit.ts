import type Database from 'better-sqlite3';

/** One access-audit row: who did what to which record, when, from where. */
export interface AuditRow {
  ts: number;
  actor: string;
  /** Client address, or 'cli'. */
  ip: string;
  action: string;
  target: string;
  detail: string;
}

/** Actions recorded; the Audit page and `webfilter logs audit` filter by them. */
export const AUDIT_ACTIONS = [
  'sign-in',
  'sign-in-failed',
  'sign-out',
  'view-device',
  'export',
  'report-download',
  'exception-add',
  'exception-revoke',
  'user-add',
  'user-passwd',
  'user-disable',
] as const;

export function recordAudit(db: Database.Database, row: AuditRow): void {
  db.prepare(
    'INSERT INTO access_audit (ts, actor, ip, action, target, detail) VALUES (@ts, @actor, @ip, @action, @target, @detail)',
  ).run(row);
}

export interface AuditFilter {
  since: number;
  until: number;
  actor?: string;
  action?: string;
  limit?: number;
}

/** Audit rows in the period, newest first, with ISO times. */
export function auditEntries(db: Database.Database, f: AuditFilter): (Omit<AuditRow, 'ts'> & { time: string })[] {
  const parts = ['ts >= @since', 'ts < @until'];
  if (f.actor) parts.push('actor = @actor');
  if (f.action) parts.push('action = @action');
  return db
    .prepare(
      `SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1000.0, 'unixepoch') AS time, actor, ip, action, target, detail
       FROM access_audit WHERE ${parts.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
    )
    .all(
      Object.fromEntries(
        Object.entries({ since: f.since, until: f.until, actor: f.actor, action: f.action }).filter(([, v]) => v !== undefined),
      ),
    ) as (Omit<AuditRow, 'ts'> & { time: string })[];
}
