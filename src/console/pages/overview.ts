import type { ReviewRepository } from '../../storage/review.js';
import { describeSignals } from '../../review/signal-count.js';
import { formatShort } from '../../time/local-time.js';
import type { Route } from '../app.js';
import { barChart, type ChartPoint } from '../chart.js';
import type { RequestContext } from '../context.js';
import { dataTable, html, page } from '../html.js';
import { sendHtml } from '../http.js';
import { userOf } from './shared.js';
import { boxInReads, readsOf, siteControl, siteQuery } from '../reads.js';

const HOUR = 3_600_000;

/** Local midnight of the day `now` is in (the config's timezone: see time/zone.ts). */
function midnight(now: number, daysBack = 0): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - daysBack).getTime();
}

async function summary(review: ReviewRepository, since: number, now: number) {
  // Every row (at most groups × categories): the total below is their sum.
  const byGroupCategory = await review.blockedByGroupCategory(since, now + 1);
  const byKind = await review.signalsByKind(since);
  const blocked = byGroupCategory.reduce((a, r) => a + r.count, 0);
  const signals = byKind.reduce((a, r) => a + r.signals, 0);
  const occurrences = byKind.reduce((a, r) => a + r.n, 0);
  return { byGroupCategory, byKind, blocked, signals, occurrences };
}

function section(title: string, s: Awaited<ReturnType<typeof summary>>, sq: string) {
  return html`<section>
    <h2>${title}</h2>
    <div class="cards">
      <div class="card"><b>${s.blocked}</b>blocked attempts</div>
      <div class="card"><b>${describeSignals(s.signals, s.occurrences)}</b>circumvention</div>
    </div>
    <div class="grid">
      <div>
        <h3>Blocked attempts by group and category</h3>
        ${dataTable(
          s.byGroupCategory,
          {
            Group: (r) =>
              html`<a
                href="/blocked?group=${encodeURIComponent(r.group || 'none')}&amp;category=${encodeURIComponent(r.category)}&amp;since=${title === 'Today' ? '24h' : '7d'}${sq}"
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
              html`<a href="/signals?kind=${encodeURIComponent(r.kind)}&amp;since=${title === 'Today' ? '24h' : '7d'}${sq}"
                >${r.kind}</a
              >`,
            Signals: (r) => r.signals,
            Occurrences: (r) => r.n,
            Devices: (r) => r.devices,
          },
          'No circumvention signals.',
        )}
      </div>
    </div>
  </section>`;
}

async function overview(ctx: RequestContext): Promise<void> {
  const reads = readsOf(ctx);
  const { review } = reads;
  const today = midnight(ctx.now);
  const weekStart = midnight(ctx.now, 6);
  const hours = await review.activity(today, HOUR, 24);
  const hourPoints: ChartPoint[] = hours.blocked.map((b, i) => ({
    label: String(i).padStart(2, '0'),
    title: `${String(i).padStart(2, '0')}:00–${String(i + 1).padStart(2, '0')}:00`,
    blocked: b,
    signals: hours.signals[i],
  }));
  const dayStarts = Array.from({ length: 7 }, (_, i) => midnight(ctx.now, 6 - i));
  const dayPoints: ChartPoint[] = [];
  for (const [i, start] of dayStarts.entries()) {
    const end = i < 6 ? dayStarts[i + 1] : ctx.now + 1;
    const b = await review.activity(start, end - start, 1);
    const label = new Date(start).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric' });
    dayPoints.push({ label, title: label, blocked: b.blocked[0], signals: b.signals[0] });
  }
  const active = (await boxInReads(ctx, reads).exceptions.current(ctx.now)).filter((e) => e.startsAt <= ctx.now);
  // Signals of the last 30 days nobody has reviewed yet: the online safety officer's to-do list.
  const unreviewed = await reads.signalReviews.unreviewedCount(ctx.now - 30 * 86_400_000, ctx.now + 1);
  const sq = siteQuery(reads.site);
  const body = html`<h1>Overview</h1>
    <p class="muted">
      As of ${formatShort(ctx.now)}${reads.trustWide ? `, ${reads.site ? `site ${reads.site}` : 'all your sites'}` : ''}.
    </p>
    ${
      reads.trustWide
        ? html`<form class="filters" method="get" action="/">${siteControl(reads)}<button class="primary">Show</button></form>`
        : ''
    }
    <div class="cards">
      <a class="card${unreviewed > 0 ? ' attention' : ''}" href="/signals?since=30d&amp;review=unreviewed${sq}"
        ><b>${unreviewed}</b>${unreviewed === 1 ? 'signal' : 'signals'} not yet reviewed (30 days)</a
      >
    </div>
    ${barChart(hourPoints, 'Today, per hour.', 2)} ${section('Today', await summary(review, today, ctx.now), sq)}
    ${barChart(dayPoints, 'The last 7 days, per day.')} ${section('Last 7 days', await summary(review, weekStart, ctx.now), sq)}
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

export const overviewRoutes: Route[] = [{ method: 'GET', path: '/', access: 'evidence', handler: overview }];
