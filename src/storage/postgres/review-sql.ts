import { readSites, type ReadScope } from '../read-scope.js';
import type { ReviewFilter } from '../review.js';
import type { PostgresConnection } from './connection.js';

/**
 * Building the review's queries on the shared store: text with $n placeholders and the values
 * beside it (sent separately by the driver, never spliced into the text), and the reader's sites in
 * every WHERE clause.
 */
export class Params {
  readonly values: unknown[] = [];
  /** A placeholder for `v`. */
  p(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/**
 * The reader's sites as a condition on `col` ("site = ANY($1::text[])"); TRUE only for a trust-wide
 * read without a site filter, FALSE (nothing) for a site outside the scope.
 */
export function siteWhere(rs: ReadScope, ps: Params, col = 'site'): string {
  const sites = readSites(rs);
  if (sites === null) return 'TRUE';
  return `${col} = ANY(${ps.p(sites)}::text[])`;
}

/** A table's columns as the review filter names them. */
export interface Columns {
  ts: string;
  /** The row's end, for rows that span time: a row overlapping the period is in it. */
  end?: string;
  site: string;
  client: string;
  device: string;
  group: string;
  category?: string;
  kind?: string;
  user?: string;
  /** The DNS name, for the name search. */
  name?: string;
}

/** Text for LIKE taken literally. */
export const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The WHERE clause of a review filter (the SQLite one's translation) with the reader's sites in it. */
export function filterWhere(rs: ReadScope, f: ReviewFilter, c: Columns, ps: Params): string {
  const parts = [siteWhere(rs, ps, c.site), `${c.end ?? c.ts} >= ${ps.p(f.since)}`, `${c.ts} < ${ps.p(f.until)}`];
  const eq = (col: string | undefined, v: string | undefined) => {
    if (col !== undefined && v !== undefined) parts.push(`${col} = ${ps.p(v)}`);
  };
  eq(c.client, f.client);
  eq(c.device, f.device);
  if (f.deviceSearch !== undefined) parts.push(`${c.device} ILIKE ${ps.p(`%${likeEscape(f.deviceSearch)}%`)} ESCAPE '\\'`);
  eq(c.group, f.group);
  eq(c.category, f.category);
  eq(c.kind, f.kind);
  eq(c.user, f.user);
  if (c.name !== undefined && f.name) parts.push(`strpos(${c.name}, ${ps.p(f.name.toLowerCase())}) > 0`);
  return parts.join(' AND ');
}

/** Rows at most (the SQLite reads' bound). */
export const limitOf = (f: ReviewFilter) => Math.max(1, Math.floor(f.limit ?? 1_000_000));

/** Runs one read (a StorageError naming the server when it fails). */
export function query<T>(conn: PostgresConnection, what: string, text: string, ps: Params): Promise<T[]> {
  return conn.run(what, async (sql) => [...(await sql.unsafe(text, ps.values as never[]))] as T[]);
}
