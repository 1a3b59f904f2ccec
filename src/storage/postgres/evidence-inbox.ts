import type { EvidenceInbox, ShipBatch, ShippingReport, ShipTable } from '../shipping.js';
import type { PostgresConnection } from './connection.js';
import { count } from '../../text/plural.js';
import { monthsOf, PARTITIONED_BY_TABLE } from './evidence-partitions.js';

/** The bigint columns (every other one is text): the arrays' types in the INSERT … SELECT FROM unnest. */
const BIGINT = new Set(['local_id', 'ts', 'last_ts', 'first_ts', 'count', 'hour', 'day', 'review_at', 'signal_local_id']);

interface Upsert {
  columns: readonly string[];
  /** What follows ON CONFLICT: the key (site, node, the local key) and what a row already there takes. */
  conflict: string;
}

const grow = (t: string, ...extra: string[]) =>
  [`count = GREATEST(${t}.count, excluded.count)`, ...extra].join(', ') +
  ` WHERE excluded.count > ${t}.count` +
  (extra.some((e) => e.startsWith('last_ts')) ? ` OR excluded.last_ts > ${t}.last_ts` : '') +
  (extra.some((e) => e.startsWith('first_ts')) ? ` OR excluded.first_ts < ${t}.first_ts` : '');

const LAST = (t: string) => `last_ts = GREATEST(${t}.last_ts, excluded.last_ts)`;
const FIRST = (t: string) => `first_ts = LEAST(${t}.first_ts, excluded.first_ts)`;
/** A review made in the shared store (the console) stays; the node's fills one not made yet. */
const REVIEW = ['review_outcome', 'review_note', 'review_by', 'review_at'].map(
  (c) => `${c} = CASE WHEN signals.review_at IS NULL THEN excluded.${c} ELSE signals.${c} END`,
);
/** The newest state of a signal's description wins (an older copy shipped again changes nothing). */
const NEWEST = ['severity', 'detail'].map(
  (c) => `${c} = CASE WHEN excluded.last_ts >= signals.last_ts THEN excluded.${c} ELSE signals.${c} END`,
);

/**
 * PostgreSQL refuses NUL (U+0000) in text; a name or detail holding one (a query name is any bytes)
 * would be refused with its whole batch again and again, and shipping would stall behind it. It
 * is shipped as U+FFFD (the replacement character), visibly not the original byte.
 */
function noNul(v: string | number | null | undefined): string | number | null {
  return typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '\uFFFD') : (v ?? null);
}

const UPSERTS: Record<ShipTable, Upsert> = {
  blocked: {
    columns: [
      'local_id',
      'ts',
      'last_ts',
      'count',
      'client',
      'device',
      'grp',
      'user_name',
      'qname',
      'qtype',
      'category',
      'entry',
      'response',
      'transport',
      'via',
    ],
    conflict: `(site, node, local_id, ts) DO UPDATE SET ${grow('blocked', LAST('blocked'))}`,
  },
  signals: {
    columns: [
      'local_id',
      'first_ts',
      'last_ts',
      'count',
      'client',
      'device',
      'grp',
      'user_name',
      'kind',
      'severity',
      'qname',
      'domain',
      'detail',
      'review_outcome',
      'review_note',
      'review_by',
      'review_at',
    ],
    conflict:
      `(site, node, local_id, first_ts) DO UPDATE SET ${[...NEWEST, ...REVIEW].join(', ')}, ${grow('signals', LAST('signals'))}` +
      ' OR (signals.review_at IS NULL AND excluded.review_at IS NOT NULL)',
  },
  access_hourly: {
    columns: ['hour', 'client', 'device', 'grp', 'user_name', 'domain', 'count', 'first_ts', 'last_ts'],
    conflict: `(site, node, hour, client, device, grp, user_name, domain) DO UPDATE SET ${grow('access_hourly', LAST('access_hourly'), FIRST('access_hourly'))}`,
  },
  access: {
    columns: ['local_id', 'ts', 'client', 'device', 'grp', 'user_name', 'qname', 'qtype', 'result'],
    conflict: '(site, node, local_id, ts) DO NOTHING',
  },
  blocked_hourly: {
    columns: ['hour', 'grp', 'category', 'count'],
    conflict: `(site, node, hour, grp, category) DO UPDATE SET ${grow('blocked_hourly')}`,
  },
  blocked_device_daily: {
    columns: ['day', 'client', 'device', 'grp', 'count', 'first_ts', 'last_ts'],
    conflict: `(site, node, day, client, device, grp) DO UPDATE SET ${grow('blocked_device_daily', LAST('blocked_device_daily'), FIRST('blocked_device_daily'))}`,
  },
  review_audit: {
    columns: ['local_id', 'ts', 'signal_local_id', 'actor', 'ip', 'detail'],
    conflict: '(site, node, local_id, ts) DO NOTHING',
  },
  access_audit: {
    columns: ['local_id', 'ts', 'actor', 'ip', 'action', 'target', 'detail'],
    conflict: '(site, node, local_id, ts) DO NOTHING',
  },
};

/**
 * The shared store's side of shipping: one multi-row INSERT … ON CONFLICT per batch, in one
 * transaction, keyed by (site, node, the row's local key). Counts only grow on a node, so a row
 * already there takes the larger count and last time and the smaller first time; shipping a batch
 * again changes nothing (and writes nothing: the update applies only when a value moves).
 */
export class PostgresEvidenceInbox implements EvidenceInbox {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly site: string,
    private readonly node: string,
  ) {}

  async upsert(batch: ShipBatch): Promise<void> {
    if (batch.rows.length === 0) return;
    const u = UPSERTS[batch.table];
    // One array per column (unnest): the statement's text and plan do not grow with the batch.
    const arrays = u.columns.map((c) => batch.rows.map((r) => noNul(r[c])));
    const casts = u.columns.map((c, i) => `$${i + 3}::${BIGINT.has(c) ? 'bigint' : 'text'}[]`);
    const text =
      `INSERT INTO ${batch.table} (site, node, ${u.columns.join(', ')}) ` +
      `SELECT $1, $2, * FROM unnest(${casts.join(', ')}) ON CONFLICT ${u.conflict}`;
    const params = [this.site, this.node, ...arrays];
    const part = PARTITIONED_BY_TABLE.get(batch.table);
    await this.conn.transaction(`ship ${count(batch.rows.length, `${batch.table} row`)}`, async (tx) => {
      // The month partitions the rows fall in, made first where missing (a new month, an old one again).
      if (part)
        await tx`SELECT webfilter_month_partition(${part.table}, ${part.unit}, m) FROM unnest(${monthsOf(part, batch.rows)}::bigint[]) m`;
      await tx.unsafe(text, params as never[]);
      if (batch.table === 'review_audit') {
        // The audit row names its signal by this store's id too, where the signal is here.
        await tx`
          UPDATE review_audit r SET signal_id = (
            SELECT s.id FROM signals s WHERE s.site = r.site AND s.node = r.node AND s.local_id = r.signal_local_id
            ORDER BY s.first_ts DESC LIMIT 1)
          WHERE r.site = ${this.site} AND r.node = ${this.node} AND r.signal_id IS NULL
            AND r.local_id = ANY(${batch.rows.map((r) => Number(r.local_id))}::bigint[])`;
      }
    });
  }

  async report(r: ShippingReport): Promise<void> {
    await this.conn.run(
      'record the shipping backlog',
      (sql) => sql`
        INSERT INTO nodes (site, node, last_seen, version, shipped_at, backlog_rows, lag_seconds)
        VALUES (${this.site}, ${this.node}, now(), ${r.version}, now(), ${r.backlogRows}, ${r.lagSeconds})
        ON CONFLICT (site, node) DO UPDATE SET last_seen = now(), shipped_at = now(),
          backlog_rows = excluded.backlog_rows, lag_seconds = excluded.lag_seconds`,
    );
  }
}
