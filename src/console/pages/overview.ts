import type Database from 'better-sqlite3';
import { currentExceptions } from '../../exceptions/exception-store.js';
import { blockedByGroupCategory } from '../../review/report.js';
import { formatShort } from '../../time/local-time.js';
import type { Route } from '../app.js';
import { barChart, type ChartPoint } from '../chart.js';
import type { RequestContext } from '../context.js';
import { dataTable, html, page } from '../html.js';
import { sendHtml } from '../http.js';
import { userOf } from './shared.js';

const HOUR = 3_600_000;

/** Local midnight of the day `now` is in (the machine's timezone, as the CLI uses). */
function midnight(now: number, daysBack = 0): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - daysBack).getTime();
}

function summary(db: Database.Database, since: number, now: number) {
  // Every row (at most groups × categories): the total below is their sum.
  const byGroupCategory = blockedByGroupCategory(db, since, now + 1);
  const byKind = db
    .prepare(
      'SELECT kind, sum(count) AS n, count(DISTINCT client) AS devices FROM signals WHERE last_ts >= ? GROUP BY kind ORDER BY n DESC',
    )
    .all(since) as { kind: string; n: number; devices: number }[];
  const blocked = byGroupCategory.reduce((a, r) => a + r.count, 0);
  const signals = byKind.reduce((a, r) => a + r.n, 0);
  return { byGroupCategory, byKind, blocked, signals };
}

/** Counts per bucket of `size` ms from `start` (SQL does the bucketing: no row is loaded; JS numbers bind as REAL, hence the CAST). */
function buckets(db: Database.Database, start: number, size: number, n: number): { blocked: number[]; signals: number[] } {
  const blocked = new Array<number>(n).fill(0);
  const signals = new Array<number>(n).fill(0);
  const q = (sql: string) => db.prepare(sql).all({ start, size }) as { b: number; n: number }[];
  for (const r of q(
    'SELECT CAST((ts - @start) / @size AS INTEGER) AS b, count(*) AS n FROM blocked WHERE ts >= @start GROUP BY b',
  ))
    if (r.b < n) blocked[r.b] = r.n;
  for (const r of q(
    'SELECT CAST((first_ts - @start) / @size AS INTEGER) AS b, sum(count) AS n FROM signals WHERE first_ts >= @start GROUP BY b',
  ))
    if (r.b < n) signals[r.b] = r.n;
  return { blocked, signals };
}

function section(title: string, s: ReturnType<typeof summary>) {
  return html`<section>
    <h2>${title}</h2>
    <div class="cards">
      <div class="card"><b>${s.blocked}</b>blocked attempts</div>
      <div class="card"><b>${s.signals}</b>circumvention signals</div>
    </div>
    <div class="grid">
      <div>
        <h3>Blocked attempts by group and category</h3>
        ${dataTable(
          s.byGroupCategory,
          {
            Group: (r) =>
              html`<a
                href="/blocked?group=${encodeURIComponent(r.group || 'none')}&amp;category=${encodeURIComponent(r.category)}&amp;since=${title === 'Today' ? '24h' : '7d'}"
                >${r.group || '(none)'}</a
              >`,
            Category: (r) => r.category,
            Attempts: (r) => r.count,
          },
          'No blocked attempts.',
        )}
      </div>
      <div>
        <h3>Circumvention signals by kind</h3>
        ${dataTable(
          s.byKind,
          {
            Kind: (r) =>
              html`<a href="/signals?kind=${encodeURIComponent(r.kind)}&amp;since=${title === 'Today' ? '24h' : '7d'}"
                >${r.kind}</a
              >`,
            Signals: (r) => r.n,
            Devices: (r) => r.devices,
          },
          'No circumvention signals.',
        )}
      </div>
    </div>
  </section>`;
}

function overview(ctx: RequestContext): void {
  const { db } = ctx.env;
  const today = midnight(ctx.now);
  const weekStart = midnight(ctx.now, 6);
  const hours = buckets(db, today, HOUR, 24);
  const hourPoints: ChartPoint[] = hours.blocked.map((b, i) => ({
    label: String(i).padStart(2, '0'),
    title: `${String(i).padStart(2, '0')}:00–${String(i + 1).padStart(2, '0')}:00`,
    blocked: b,
    signals: hours.signals[i],
  }));
  const dayStarts = Array.from({ length: 7 }, (_, i) => midnight(ctx.now, 6 - i));
  const dayPoints: ChartPoint[] = dayStarts.map((start, i) => {
    const end = i < 6 ? dayStarts[i + 1] : ctx.now + 1;
    const b = buckets(db, start, end - start, 1);
    const label = new Date(start).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric' });
    return { label, title: label, blocked: b.blocked[0], signals: b.signals[0] };
  });
  const active = currentExceptions(db, ctx.now).filter((e) => e.startsAt <= ctx.now);
  const body = html`<h1>Overview</h1>
    <p class="muted">As of ${formatShort(ctx.now)}.</p>
    ${barChart(hourPoints, 'Today, per hour.', 2)} ${section('Today', summary(db, today, ctx.now))}
    ${barChart(dayPoints, 'The last 7 days, per day.')} ${section('Last 7 days', summary(db, weekStart, ctx.now))}
    <h2>Exceptions in force</h2>
    ${dataTable(
      active,
      {
        For: (e) => `${e.targetKind} ${e.target}`,
        Opens: (e) => [...e.categories, ...e.domains].join(', '),
        Until: (e) => formatShort(e.expiresAt),
        'Approved by': (e) => e.approvedBy,
        Reason: (e) => e.reason,
      },
      'No exceptions in force.',
    )}`;
  sendHtml(ctx.res, 200, page('Overview', body, userOf(ctx), '/'));
}

export const overviewRoutes: Route[] = [{ method: 'GET', path: '/', access: 'user', handler: overview }];
