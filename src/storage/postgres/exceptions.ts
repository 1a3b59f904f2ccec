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
import { ChangeFeed } from './change-feed.js';
import type { PostgresConnection, TxSql } from './connection.js';

/** The NOTIFY channel of exception changes; the payload is the site changed. */
export const EXCEPTIONS_CHANNEL = 'webfilter_exceptions';

/** Serialises exception changes, so that change numbers are committed in order (see changesSince). */
const CHANGE_LOCK = 0x77656278; // "webx"

interface Row {
  id: string;
  target_kind: 'group' | 'client';
  target: string;
  categories: string[];
  domains: string[];
  starts_at: Date;
  expires_at: Date;
  reason: string;
  approved_by: string;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  request_id: string | null;
  requested_by: string | null;
  change_seq: string;
}

function fromRow(r: Row): ExceptionRecord {
  return {
    id: Number(r.id),
    targetKind: r.target_kind,
    target: r.target,
    categories: r.categories,
    domains: r.domains,
    startsAt: r.starts_at.getTime(),
    expiresAt: r.expires_at.getTime(),
    reason: r.reason,
    approvedBy: r.approved_by,
    createdBy: r.created_by,
    createdAt: r.created_at.getTime(),
    revokedAt: r.revoked_at?.getTime() ?? null,
    revokedBy: r.revoked_by,
    revokeReason: r.revoke_reason,
    requestId: r.request_id === null ? null : Number(r.request_id),
    requestedBy: r.requested_by,
  };
}

const ACTION = { added: 'exception-add', revoked: 'exception-revoke' } as const;

/** One audit row of an exception, as it is pushed with a change first made on one box alone. */
export interface AuditRow {
  ts: number;
  action: 'added' | 'revoked';
  actor: string;
  ip: string | null;
  detail: string;
}

/**
 * Exceptions in the shared PostgreSQL store, seen by site: a filter reads and changes its own
 * site's. Each change (add, revoke) writes the exception, its audit row and a NOTIFY in one
 * transaction, numbered by `change_seq` under an advisory lock so that numbers commit in order.
 */
export class PostgresExceptions implements ExceptionsRepository {
  constructor(
    private readonly conn: PostgresConnection,
    readonly site: string,
    readonly node: string,
  ) {}

  async add(e: NewException, by: ChangedBy, link: RequestLink | null = null): Promise<ExceptionRecord> {
    return this.conn.transaction('add the exception', async (tx) => {
      const seq = await this.nextChange(tx);
      const [row] = await tx<Row[]>`
        INSERT INTO exceptions (site, node, target_kind, target, categories, domains, starts_at, expires_at, reason,
                                approved_by, created_by, created_at, request_id, requested_by, change_seq)
        VALUES (${this.site}, ${this.node}, ${e.targetKind}, ${e.target}, ${tx.json(e.categories)},
                ${tx.json(e.domains)}, ${new Date(e.startsAt)}, ${new Date(e.expiresAt)}, ${e.reason},
                ${e.approvedBy}, ${by.recordedAs}, ${new Date(by.at)}, ${link?.requestId ?? null}, ${link?.requestedBy ?? null}, ${seq})
        RETURNING *`;
      await this.audit(tx, Number(row.id), {
        ts: by.at,
        action: 'added',
        actor: by.actor,
        ip: by.ip,
        detail: describeException(e),
      });
      await this.notify(tx);
      return fromRow(row);
    });
  }

  /**
   * Stores an exception first made on this box alone (`--local`, or while the store was down), with
   * its original times, approval and audit rows. `origin` ("node/local id") makes it idempotent: a
   * second push of the same one changes nothing. Returns the shared record.
   */
  async push(record: ExceptionRecord, audit: AuditRow[], origin: string): Promise<ExceptionRecord> {
    return this.conn.transaction('push the exception', async (tx) => {
      const [found] = await tx<Row[]>`SELECT * FROM exceptions WHERE origin = ${origin}`;
      if (found) return fromRow(found);
      const seq = await this.nextChange(tx);
      const [row] = await tx<Row[]>`
        INSERT INTO exceptions (site, node, origin, target_kind, target, categories, domains, starts_at, expires_at, reason,
                                approved_by, created_by, created_at, revoked_at, revoked_by, revoke_reason, request_id,
                                requested_by, change_seq)
        VALUES (${this.site}, ${this.node}, ${origin}, ${record.targetKind}, ${record.target}, ${tx.json(record.categories)},
                ${tx.json(record.domains)}, ${new Date(record.startsAt)}, ${new Date(record.expiresAt)}, ${record.reason},
                ${record.approvedBy}, ${record.createdBy}, ${new Date(record.createdAt)},
                ${record.revokedAt === null ? null : new Date(record.revokedAt)}, ${record.revokedBy}, ${record.revokeReason},
                ${record.requestId}, ${record.requestedBy}, ${seq})
        RETURNING *`;
      for (const a of audit) await this.audit(tx, Number(row.id), a);
      await this.notify(tx);
      return fromRow(row);
    });
  }

  async revoke(id: number, reason: string, by: ChangedBy): Promise<ExceptionRecord> {
    return this.conn.transaction('revoke the exception', async (tx) => {
      const seq = await this.nextChange(tx);
      const [row] = await tx<Row[]>`SELECT * FROM exceptions WHERE id = ${id} AND site = ${this.site} FOR UPDATE`;
      if (!row) throw new ExceptionChangeError(`no exception with id ${id} (see: webfilter exception list --all)`);
      if (row.revoked_at !== null) {
        throw new ExceptionChangeError(
          `exception ${id} was already revoked by ${row.revoked_by} at ${formatLocal(row.revoked_at.getTime())}`,
        );
      }
      const [updated] = await tx<Row[]>`
        UPDATE exceptions SET revoked_at = ${new Date(by.at)}, revoked_by = ${by.recordedAs}, revoke_reason = ${reason},
                              change_seq = ${seq}
        WHERE id = ${id} RETURNING *`;
      await this.audit(tx, id, { ts: by.at, action: 'revoked', actor: by.actor, ip: by.ip, detail: reason });
      await this.notify(tx);
      return fromRow(updated);
    });
  }

  async all(): Promise<ExceptionRecord[]> {
    return this.rows('list exceptions', (sql) => sql<Row[]>`SELECT * FROM exceptions WHERE site = ${this.site} ORDER BY id DESC`);
  }

  async current(now: number): Promise<ExceptionRecord[]> {
    return this.rows(
      'read the exceptions in force',
      (sql) =>
        sql<
          Row[]
        >`SELECT * FROM exceptions WHERE site = ${this.site} AND revoked_at IS NULL AND expires_at > ${new Date(now)} ORDER BY id`,
    );
  }

  async between(from: number, to: number): Promise<ExceptionRecord[]> {
    return this.rows(
      'read exceptions',
      (sql) => sql<Row[]>`
        SELECT * FROM exceptions WHERE site = ${this.site} AND created_at < ${new Date(to)}
          AND (expires_at > ${new Date(from)} OR created_at >= ${new Date(from)}) ORDER BY created_at`,
    );
  }

  async changesSince(since: number): Promise<{ last: number; changed: ExceptionRecord[] }> {
    // One snapshot for both: the last number and the rows up to it.
    return this.conn.run('read exception changes', (sql) =>
      sql.begin('isolation level repeatable read read only', async (tx) => {
        const [m] = await tx<
          { last: string }[]
        >`SELECT coalesce(max(change_seq), 0) AS last FROM exceptions WHERE site = ${this.site}`;
        const rows = await tx<Row[]>`SELECT * FROM exceptions WHERE site = ${this.site} AND change_seq > ${since} ORDER BY id`;
        return { last: Number(m.last), changed: rows.map(fromRow) };
      }),
    );
  }

  async auditEntries(f: AuditFilter): Promise<AuditEntry[]> {
    const action = f.action ? Object.entries(ACTION).find(([, a]) => a === f.action)?.[0] : undefined;
    if (f.action && !action) return [];
    const rows = await this.conn.run(
      'read the exception audit',
      (sql) => sql<{ ts: Date; actor: string; ip: string; action: keyof typeof ACTION; exception_id: string; detail: string }[]>`
        SELECT ts, actor, ip, action, exception_id, detail FROM exception_audit
        WHERE site = ${this.site} AND ip IS NOT NULL AND ts >= ${new Date(f.since)} AND ts < ${new Date(f.until)}
          ${f.actor ? sql`AND actor = ${f.actor}` : sql``} ${action ? sql`AND action = ${action}` : sql``}
        ORDER BY ts DESC, id DESC LIMIT ${Math.max(1, f.limit ?? 1_000_000)}`,
    );
    return rows.map((r) => ({
      time: isoTime(r.ts.getTime()),
      actor: r.actor,
      ip: r.ip,
      action: ACTION[r.action],
      target: `exception ${r.exception_id}`,
      detail: r.detail,
    }));
  }

  /**
   * Which store this is: when its schema was first created (ms). A restored dump keeps it; a store
   * created anew gets another, so a node's copy of the old one is not mistaken for it.
   */
  async storeEpoch(): Promise<number> {
    const [r] = await this.conn.run(
      'identify the store',
      (sql) =>
        sql<
          { e: string }[]
        >`SELECT floor(extract(epoch FROM applied_at) * 1000)::bigint AS e FROM webfilter_schema WHERE version = 1`,
    );
    return Number(r?.e ?? 0);
  }

  /** Records that this node has applied changes up to `applied` (status shows each node's lag). */
  async reportApplied(applied: number, version: string): Promise<void> {
    await this.conn.run(
      'report this filter',
      (sql) => sql`
      INSERT INTO nodes (site, node, last_seen, applied_change, version) VALUES (${this.site}, ${this.node}, now(), ${applied}, ${version})
      ON CONFLICT (site, node) DO UPDATE SET last_seen = now(), applied_change = excluded.applied_change, version = excluded.version`,
    );
  }

  /** A change feed for this site: `wake` runs on every notification, reconnection and safety poll. */
  feed(wake: () => Promise<void>, events: { onError?: (e: Error) => void; onRecovered?: () => void } = {}): ChangeFeed {
    return new ChangeFeed(this.conn, EXCEPTIONS_CHANNEL, this.site, wake, events);
  }

  subscribe(listener: ExceptionsListener, onError: (e: Error) => void = () => {}): () => void {
    let last = -1;
    const feed = this.feed(
      async () => {
        const changes = await this.changesSince(Math.max(0, last));
        if (last === -1 || changes.changed.length > 0) listener(await this.current(Date.now()));
        last = changes.last;
      },
      { onError },
    );
    feed.start();
    return () => void feed.stop();
  }

  private async nextChange(tx: TxSql): Promise<number> {
    await tx`SELECT pg_advisory_xact_lock(${CHANGE_LOCK})`;
    const [r] = await tx<{ n: string }[]>`SELECT nextval('exception_change_seq') AS n`;
    return Number(r.n);
  }

  private async audit(tx: TxSql, id: number, a: AuditRow): Promise<void> {
    await tx`INSERT INTO exception_audit (site, node, ts, exception_id, action, actor, ip, detail)
             VALUES (${this.site}, ${this.node}, ${new Date(a.ts)}, ${id}, ${a.action}, ${a.actor}, ${a.ip}, ${a.detail})`;
  }

  private async notify(tx: TxSql): Promise<void> {
    await tx`SELECT pg_notify(${EXCEPTIONS_CHANNEL}, ${this.site})`;
  }

  private async rows(what: string, q: (sql: import('./connection.js').Sql) => Promise<Row[]>): Promise<ExceptionRecord[]> {
    return (await this.conn.run(what, q)).map(fromRow);
  }
}
