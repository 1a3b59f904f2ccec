import { AUDIT_ACTIONS } from '../../storage/accounts.js';
import { describeSignals } from '../../review/signal-count.js';
import { auditTrail } from '../../review/audit-trail.js';
import { buildReport } from '../../review/report.js';
import { reportCsv, reportHtml } from '../../review/report-render.js';
import { formatDuration } from '../../time/duration.js';
import { formatShort, localTimesIn } from '../../time/local-time.js';
import { messagePage, type Route } from '../app.js';
import { audit, type RequestContext } from '../context.js';
import { readFilter } from '../filters.js';
import { dataTable, html } from '../html.js';
import { sendDownload } from '../http.js';
import { deviceLink, filterForm, TIME_FIELDS, sendFilteredPage } from './shared.js';
import { boxInReads, readsOf, siteFields, siteQuery } from '../reads.js';

async function reports(ctx: RequestContext): Promise<void> {
  const f = readFilter(ctx, ['since', 'until', 'site'], '7d');
  const reads = readsOf(ctx);
  const { exceptions, requests } = boxInReads(ctx, reads);
  const r = await buildReport(reads.review, exceptions, requests, f.filter.since, f.filter.until, ctx.now, {
    signalGroups: false,
  });
  const q = `since=${encodeURIComponent(f.values.since || '7d')}${f.values.until ? `&until=${encodeURIComponent(f.values.until)}` : ''}${siteQuery(reads.site)}`;
  const body = html`<h1>Reports</h1>
    ${filterForm('/reports', [...TIME_FIELDS, ...siteFields(reads)], f)}
    <p>
      ${formatShort(r.from)} – ${formatShort(r.to)}. Download the full report:
      <a href="/reports/download?format=html&amp;${q}" download>HTML</a> (prints well) ·
      <a href="/reports/download?format=csv&amp;${q}" download>CSV</a>.
    </p>
    <div class="cards">
      <div class="card"><b>${r.totals.blocked}</b>blocked attempts</div>
      <div class="card"><b>${r.totals.devices}</b>devices blocked</div>
      <div class="card"><b>${describeSignals(r.totals.signals, r.totals.occurrences)}</b>circumvention</div>
      <div class="card"><b>${r.exceptions.length}</b>exceptions</div>
    </div>
    <h2>Devices with circumvention signals</h2>
    ${dataTable(
      r.signalsByDevice,
      {
        Device: (d) => deviceLink(d.device, d.client),
        Group: (d) => d.group,
        Signals: (d) => d.signalCount,
        Occurrences: (d) => d.occurrences,
        Kinds: (d) => d.kinds.join(', '),
      },
      'No circumvention signals in this period.',
    )}
    <h2>Permissions granted (teachers’ requests)</h2>
    ${dataTable(
      r.permissions.filter((p) => p.state === 'approved'),
      {
        Class: (p) => p.group,
        Opens: (p) => p.categories.join(', '),
        'Asked by': (p) => `${p.requestedBy}, ${formatShort(p.requestedAt)}`,
        'Approved by': (p) => p.decidedBy,
        From: (p) => formatShort(p.startsAt ?? p.decidedAt ?? p.requestedAt),
        For: (p) => formatDuration(p.expiresAt - (p.startsAt ?? p.decidedAt ?? p.requestedAt)),
        Reason: (p) => p.reason,
      },
      'No permissions granted in this period.',
    )}
    <h2>Top devices by blocked attempts</h2>
    ${dataTable(r.topDevices, { Device: (d) => deviceLink(d.device, d.client), Group: (d) => d.group, Attempts: (d) => d.blocked }, 'No blocked attempts.')}
    <h2>Day by day</h2>
    ${dataTable(r.days, {
      Day: (d) => d.day,
      Blocked: (d) => d.blocked,
      Signals: (d) => d.signals,
      Occurrences: (d) => d.occurrences,
      Unusual: (d) => d.unusual,
    })}`;
  sendFilteredPage(ctx, f, 'Reports', body, '/reports');
}

async function download(ctx: RequestContext): Promise<void> {
  const format = ctx.url.searchParams.get('format');
  if (format !== 'html' && format !== 'csv') return messagePage(ctx, 400, 'Unknown format', 'Choose HTML or CSV.');
  const f = readFilter(ctx, ['since', 'until'], '7d');
  if (Object.keys(f.errors).length) return messagePage(ctx, 400, 'Bad period', Object.values(f.errors).join('; '));
  const reads = readsOf(ctx);
  const { exceptions, requests } = boxInReads(ctx, reads);
  const r = await buildReport(reads.review, exceptions, requests, f.filter.since, f.filter.until, ctx.now);
  const where = reads.trustWide ? ` (${reads.site ? `site ${reads.site}` : 'all sites of the account'})` : '';
  await audit(ctx, 'report-download', `report ${formatShort(r.from)} – ${formatShort(r.to)}${where}`, format);
  const file = `webfilter-report-${new Date(r.from).toISOString().slice(0, 10)}.${format}`;
  if (format === 'html') sendDownload(ctx.res, file, 'text/html; charset=utf-8', reportHtml(r));
  else sendDownload(ctx.res, file, 'text/csv; charset=utf-8', reportCsv(r));
}

async function auditPage(ctx: RequestContext): Promise<void> {
  const f = readFilter(ctx, ['since', 'until'], '7d');
  const actor = (ctx.url.searchParams.get('actor') ?? '').trim().slice(0, 64);
  const action = (ctx.url.searchParams.get('action') ?? '').trim();
  if (action && !(AUDIT_ACTIONS as readonly string[]).includes(action))
    f.errors.action = `no such action (actions: ${AUDIT_ACTIONS.join(', ')})`;
  f.values.actor = actor;
  f.values.action = action;
  const { accounts, exceptions, requests } = ctx.env.storage;
  const rows = await auditTrail(
    { accounts, exceptions, requests, signalReviews: readsOf(ctx).signalReviews },
    {
      since: f.filter.since,
      until: f.filter.until,
      actor: actor || undefined,
      action: f.errors.action ? undefined : action || undefined,
      limit: 1000,
      // The shared store's account rows (sign-ins, views, account changes) of the reader's sites only.
      scope: ctx.scope,
    },
    ctx.env.loaded.config.shared ? ctx.env.loaded.config.site : undefined,
  );
  const body = html`<h1>Access audit</h1>
    <p class="muted">Who signed in, looked at a device, exported or changed something, and from where (console and CLI).</p>
    ${filterForm('/audit', [...TIME_FIELDS, { name: 'actor', label: 'Who' }, { name: 'action', label: 'Action', choices: ['', ...AUDIT_ACTIONS] }], f)}
    ${dataTable(
      rows,
      {
        Time: (r) => formatShort(Date.parse(r.time)),
        Who: (r) => r.actor,
        From: (r) => r.ip,
        Action: (r) => r.action,
        What: (r) => r.target,
        // As `logs audit` shows it: the stored text's ISO UTC instants in the config's zone.
        Detail: (r) => localTimesIn(r.detail),
      },
      'Nothing recorded in this period.',
    )}`;
  sendFilteredPage(ctx, f, 'Audit', body, '/audit');
}

export const reportRoutes: Route[] = [
  { method: 'GET', path: '/reports', access: 'evidence', handler: reports },
  { method: 'GET', path: '/reports/download', access: 'evidence', handler: download },
  { method: 'GET', path: '/audit', access: 'audit', handler: auditPage },
];
