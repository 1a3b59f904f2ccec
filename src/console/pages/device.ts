import { json } from '../../format/output.js';
import type { BlockedEntry, SignalEntry } from '../../storage/review.js';
import { describeSignals } from '../../review/signal-count.js';
import { exportCsv, exportData } from '../../review/export.js';
import { formatShort } from '../../time/local-time.js';
import { messagePage, type Route } from '../app.js';
import { audit, param, type RequestContext } from '../context.js';
import { readFilter } from '../filters.js';
import { dataTable, html } from '../html.js';
import { sendDownload } from '../http.js';
import { reviewCell } from './signal-review.js';
import { readsOf, siteFields, siteQuery, type PageReads } from '../reads.js';
import { filterForm, SIGNAL_COLUMNS, TIME_FIELDS, sendFilteredPage } from './shared.js';

const when = (iso: string) => formatShort(Date.parse(iso));

/** The device a page is about: `?name=` (device name) or `?client=` (address); null when neither or unknown. */
function subject(ctx: RequestContext): { key: 'device' | 'client'; value: string } | null {
  const name = param(ctx, 'name');
  const client = param(ctx, 'client');
  if (name && !client) return { key: 'device', value: name };
  if (client && !name) return { key: 'client', value: client };
  return null;
}

/** True when anything at all is stored about the device (else the page is a 404). */
function known(reads: PageReads, s: { key: 'device' | 'client'; value: string }): Promise<boolean> {
  return reads.review.deviceKnown(s.key === 'device' ? { device: s.value } : { client: s.value });
}

function notFound(ctx: RequestContext): void {
  messagePage(
    ctx,
    404,
    'No such device',
    'Nothing is stored about that device (it may never have been seen, or its records have passed their retention period).',
  );
}

async function device(ctx: RequestContext): Promise<void> {
  const s = subject(ctx);
  const reads = readsOf(ctx);
  if (!s || !(await known(reads, s))) return notFound(ctx);
  const f = readFilter(ctx, ['since', 'until', 'site'], '30d');
  const filter = { ...f.filter, [s.key]: s.value, limit: 1000 };
  const { review } = reads;
  const sig = await review.signals(filter);
  const blk = await review.blocked(filter);
  const blockedTotal = await review.blockedCount({ since: filter.since, until: filter.until, [s.key]: s.value });
  const access = await review.accessHourly({ ...filter, limit: 100_000 });
  const byDomain = new Map<string, number>();
  for (const a of access) byDomain.set(a.domain, (byDomain.get(a.domain) ?? 0) + a.count);
  const top = [...byDomain].sort((a, b) => b[1] - a[1]).slice(0, 50);
  const addresses = [...new Set([...sig.map((r) => r.client), ...blk.map((r) => r.client), ...access.map((r) => r.client)])];
  const names = [...new Set([...sig, ...blk, ...access].map((r) => r.device).filter(Boolean))];
  const sites = [...new Set([...sig, ...blk, ...access].map((r) => r.site ?? '').filter(Boolean))].sort();
  await audit(
    ctx,
    'view-device',
    `${s.key} ${s.value}${reads.site ? ` at ${reads.site}` : ''}`,
    `${f.values.since || '30d'}${f.values.until ? ` to ${f.values.until}` : ''}`,
  );
  const q = `${s.key === 'device' ? 'name' : 'client'}=${encodeURIComponent(s.value)}&since=${encodeURIComponent(f.values.since || '30d')}${f.values.until ? `&until=${encodeURIComponent(f.values.until)}` : ''}${siteQuery(reads.site)}`;
  const body = html`<h1>Device ${s.value}</h1>
    <p>
      ${reads.trustWide ? html`Site: ${sites.join(', ') || '—'}. ` : ''}${names.length ? html`Names: ${names.join(', ')}. ` : ''}Addresses:
      ${addresses.join(', ') || '—'}. Export (subject access request): <a href="/device/export.json?${q}" download>JSON</a> ·
      <a href="/device/export.csv?${q}" download>CSV</a>.
    </p>
    ${filterForm(
      '/device',
      [
        { name: s.key === 'device' ? 'name' : 'client', label: s.key === 'device' ? 'Device' : 'Address' },
        ...TIME_FIELDS,
        ...siteFields(reads),
      ],
      {
        ...f,
        values: { ...f.values, [s.key === 'device' ? 'name' : 'client']: s.value },
      },
    )}
    <div class="cards">
      <div class="card">
        <b
          >${describeSignals(
            sig.length,
            sig.reduce((a, r) => a + r.count, 0),
          )}</b
        >circumvention
      </div>
      <div class="card"><b>${blockedTotal}</b>blocked attempts</div>
      <div class="card"><b>${byDomain.size}</b>sites used</div>
    </div>
    <h2>Circumvention signals</h2>
    ${dataTable(
      sig,
      {
        First: (r) => when(r.first_seen),
        Last: (r) => when(r.last_seen),
        ...(reads.trustWide ? { Site: (r: SignalEntry) => r.site ?? '' } : {}),
        ...SIGNAL_COLUMNS,
        '#': (r) => r.id,
        Review: (r) => reviewCell(ctx, r),
      },
      'No circumvention signals in this period.',
    )}
    <h2>Blocked attempts</h2>
    ${dataTable(
      blk,
      {
        Time: (r) => when(r.time),
        Times: (r) => (r.count > 1 ? `${r.count} (to ${when(r.last_time)})` : '1'),
        ...(reads.trustWide ? { Site: (r: BlockedEntry) => r.site ?? '' } : {}),
        Name: (r) => r.qname,
        Type: (r) => r.qtype,
        Category: (r) => r.category,
        Via: (r) => r.via,
        Group: (r) => r.group,
        Answer: (r) => r.response,
      },
      'No blocked attempts in this period.',
    )}
    <h2>Sites used (access summary)</h2>
    ${dataTable(top, { Site: ([d]) => d, Lookups: ([, n]) => n }, 'No access recorded in this period.')}`;
  sendFilteredPage(ctx, f, `Device ${s.value}`, body);
}

function exportDevice(format: 'json' | 'csv') {
  return async (ctx: RequestContext): Promise<void> => {
    const s = subject(ctx);
    const reads = readsOf(ctx);
    if (!s || !(await known(reads, s))) return notFound(ctx);
    const f = readFilter(ctx, ['since', 'until'], '3650d');
    if (Object.keys(f.errors).length) return messagePage(ctx, 400, 'Bad period', Object.values(f.errors).join('; '));
    const data = await exportData(reads.review, { ...f.filter, limit: undefined, [s.key]: s.value }, ctx.now);
    await audit(
      ctx,
      'export',
      `${s.key} ${s.value}${reads.site ? ` at ${reads.site}` : ''}`,
      `${format}, since ${f.values.since || 'everything kept'}`,
    );
    const file = `webfilter-${s.value}-${new Date(ctx.now).toISOString().slice(0, 10)}.${format}`;
    if (format === 'json') sendDownload(ctx.res, file, 'application/json; charset=utf-8', json(data));
    else sendDownload(ctx.res, file, 'text/csv; charset=utf-8', exportCsv(data));
  };
}

export const deviceRoutes: Route[] = [
  { method: 'GET', path: '/device', access: 'evidence', handler: device },
  { method: 'GET', path: '/device/export.json', access: 'evidence', handler: exportDevice('json') },
  { method: 'GET', path: '/device/export.csv', access: 'evidence', handler: exportDevice('csv') },
];
