/** Output for people (aligned tables) and for scripts (JSON, CSV). */

export type Cell = string | number | boolean | null | undefined;

/** An aligned text table; `columns` maps header → row key. Long cells are not cut. */
export function table(rows: Record<string, Cell>[], columns: Record<string, string>): string {
  const heads = Object.keys(columns);
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((r) => heads.map((h) => text(r[columns[h]])));
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(heads), ...cells.map(line)].join('\n') + '\n';
}

/** RFC 4180 CSV with a header row. */
export function csv(rows: Record<string, Cell>[], columns?: string[]): string {
  const cols = columns ?? (rows.length > 0 ? Object.keys(rows[0]) : []);
  const esc = (v: Cell) => {
    const s = text(v);
    // A leading = + - @ would be run as a formula by spreadsheets (CSV injection from a hostile qname).
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => esc(r[c])).join(','))].join('\r\n') + '\r\n';
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

function text(v: Cell): string {
  return v === null || v === undefined ? '' : String(v);
}
