/**
 * Every table of a shared store's `public` schema with its rows and bytes (indexes included), a
 * partitioned one summed over its month partitions: what bench:shipping-rate and
 * bench:evidence-postgres report as the store's size.
 */
export async function pgTableSizes(
  q: (sql: string) => Promise<Record<string, string>[]>,
): Promise<{ t: string; n: number; bytes: number }[]> {
  const rels = await q(`SELECT relname AS t, relkind AS k FROM pg_class
    WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY relname`);
  const out = [];
  for (const r of rels) {
    const [b] = await q(
      r.k === 'p'
        ? `SELECT coalesce(sum(pg_total_relation_size(relid)), 0) AS bytes FROM pg_partition_tree('${r.t}')`
        : `SELECT pg_total_relation_size('${r.t}') AS bytes`,
    );
    const [c] = await q(`SELECT count(*) AS n FROM ${r.t}`);
    out.push({ t: r.t, n: Number(c.n), bytes: Number(b.bytes) });
  }
  return out;
}
