import { formatShort } from '../../time/local-time.js';
import type { Route } from '../app.js';
import { param, type RequestContext } from '../context.js';
import { dataTable, html, page } from '../html.js';
import { sendHtml } from '../http.js';
import { deviceLink, userOf } from './shared.js';
import { readsOf, siteControl, siteQuery } from '../reads.js';
import type { DeviceSummary } from '../../storage/review.js';

/** Rows shown at most; the search narrows them. */
const LIMIT = 500;

/**
 * The devices page: every device name and address the evidence has, most recently seen first, with
 * a search that matches any part of a name in any case ("y9" finds Y9-LT-07) or the start of an
 * address ("10.20.12."). Each links to its device page.
 */
async function devices(ctx: RequestContext): Promise<void> {
  const q = param(ctx, 'q').slice(0, 100);
  const reads = readsOf(ctx);
  const rows = await reads.review.devices(q, LIMIT);
  const body = html`<h1>Devices</h1>
    <form class="filters" method="get" action="/devices">
      <label>Search <input name="q" value="${q}" placeholder="name or address, e.g. y9 or 10.20." /></label>
      ${siteControl(reads)}
      <button class="primary">Search</button>
    </form>
    <p class="muted">
      ${rows.length}${rows.length === LIMIT ? '+' : ''}
      ${rows.length === 1 ? 'device' : 'devices'}${q ? html` matching “${q}”` : ''}, most recently seen first.
    </p>
    ${dataTable(
      rows,
      {
        ...(reads.trustWide ? { Site: (r: DeviceSummary) => r.site ?? '' } : {}),
        Device: (r) => deviceLink(r.device, r.client, r.site),
        Address: (r) => html`<a href="/device?client=${encodeURIComponent(r.client)}${siteQuery(r.site)}">${r.client}</a>`,
        Group: (r) => r.group,
        'Last seen': (r) => (r.last_seen ? formatShort(Date.parse(r.last_seen)) : ''),
        Blocked: (r) => r.blocked,
        Signals: (r) => r.signals,
      },
      q ? 'No device matches.' : 'No devices recorded yet.',
    )}`;
  sendHtml(ctx.res, 200, page('Devices', body, userOf(ctx), '/devices'));
}

export const devicesRoutes: Route[] = [{ method: 'GET', path: '/devices', access: 'evidence', handler: devices }];
