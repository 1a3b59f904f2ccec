import type { SharedRetention } from '../../config/shared-schema.js';
import type { CentralRetention, CentralRetentionResult } from '../shipping.js';
import type { PostgresConnection } from './connection.js';
import { PARTITIONED, type PartitionedTable } from './evidence-partitions.js';
import { count } from '../../text/plural.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Serialises the claim of a run between filters (a transaction-scoped advisory lock). */
const RETENTION_LOCK = 0x77667274; // "wfrt"
/** Rows per DELETE of a month that straddles the cut (each one statement, well within the deadline). */
const DELETE_STEP = 5000;

/** [lo, hi) of a partition, in its key's unit, from pg_get_expr's "FOR VALUES FROM ('lo') TO ('hi')". */
function bounds(expr: string): [number, number] | null {
  const m = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(expr);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * What a run did, as the `maintenance` row keeps it (README: `SELECT … result FROM maintenance`):
 * "dropped 1 partition (blocked_p202509), deleted 1 row"; "dropped no partitions, deleted 0 rows".
 */
export function retentionText(r: CentralRetentionResult): string {
  const parts = r.droppedPartitions;
  const dropped = parts.length === 0 ? 'no partitions' : `${count(parts.length, 'partition')} (${parts.join(', ')})`;
  return `dropped ${dropped}, deleted ${count(r.deletedRows, 'row')}`;
}

/**
 * The central retention (issue 17): the shared store keeps evidence for `shared.retention`, as a box
 * keeps its own for `retention`. A month partition entirely older than the cut is dropped whole
 * (a signal's month only once none of its signals was seen since the cut: signals go by their last
 * time, as on a box); the month that straddles the cut loses its older rows by bounded DELETEs,
 * site by site on the (site, time) indexes. At most one filter of the trust runs it an hour: the run
 * is claimed in the `maintenance` row under an advisory lock.
 */
export class PostgresEvidenceRetention implements CentralRetention {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly days: SharedRetention,
    private readonly everyMs = HOUR,
  ) {}

  async runIfDue(now: number, stop: () => boolean = () => false): Promise<CentralRetentionResult | null> {
    const gap = this.everyMs / 1000;
    const claimed = await this.conn.transaction('claim the central retention', async (tx) => {
      const [lock] = await tx<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK}) AS ok`;
      if (!lock.ok) return false;
      const rows = await tx`
        INSERT INTO maintenance (task, last_run) VALUES ('retention', now())
        ON CONFLICT (task) DO UPDATE SET last_run = now() WHERE maintenance.last_run <= now() - make_interval(secs => ${gap})
        RETURNING task`;
      return rows.length > 0;
    });
    if (!claimed) return null;
    const result = await this.run(now, stop);
    const text = retentionText(result);
    await this.conn.run(
      'record the central retention',
      (sql) => sql`UPDATE maintenance SET result = ${text} WHERE task = 'retention'`,
    );
    return result;
  }

  /** The retention at `now` (ms), unconditionally; `stop` ends it between statements. */
  async run(now: number, stop: () => boolean = () => false): Promise<CentralRetentionResult> {
    const out: CentralRetentionResult = { droppedPartitions: [], deletedRows: 0 };
    const sites = (
      await this.conn.run('read the sites', (sql) => sql<{ site: string }[]>`SELECT DISTINCT site FROM nodes ORDER BY site`)
    ).map((r) => r.site);
    for (const p of PARTITIONED) {
      const cutMs = now - this.days[`${p.retention}_days`] * DAY;
      const cut = Math.floor(cutMs / p.unit);
      const parts = await this.conn.run(
        `list the partitions of ${p.table}`,
        (sql) => sql<{ name: string; bound: string }[]>`
          SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = ${p.table}::regclass ORDER BY c.relname`,
      );
      for (const part of parts) {
        if (stop()) return out;
        const b = bounds(part.bound);
        if (!b || b[0] >= cut) continue;
        if (b[1] <= cut && (p.cut === p.key || !(await this.anySince(part.name, p, cut)))) {
          await this.conn.run(`drop ${part.name}`, (sql) => sql.unsafe(`DROP TABLE IF EXISTS ${part.name}`));
          out.droppedPartitions.push(part.name);
        } else {
          out.deletedRows += await this.deleteBefore(part.name, p, cut, sites, stop);
        }
      }
    }
    return out;
  }

  /** Whether a partition holds a row at or after the cut (by the retention column). */
  private async anySince(name: string, p: PartitionedTable, cut: number): Promise<boolean> {
    const rows = await this.conn.run(`read ${name}`, (sql) =>
      sql.unsafe(`SELECT 1 FROM ${name} WHERE ${p.cut} >= $1 LIMIT 1`, [cut]),
    );
    return rows.length > 0;
  }

  /** Deletes a partition's rows older than the cut, site by site, a bounded step at a time. */
  private async deleteBefore(name: string, p: PartitionedTable, cut: number, sites: string[], stop: () => boolean) {
    let deleted = 0;
    for (const site of sites) {
      for (;;) {
        if (stop()) return deleted;
        const r = await this.conn.run(`delete old rows of ${name}`, (sql) =>
          sql.unsafe(
            `DELETE FROM ${name} WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM ${name} WHERE site = $1 AND ${p.cut} < $2 LIMIT ${DELETE_STEP}))`,
            [site, cut],
          ),
        );
        deleted += r.count;
        if (r.count < DELETE_STEP) break;
      }
    }
    return deleted;
  }
}
