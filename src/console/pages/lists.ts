import { formatShort } from '../../time/local-time.js';
import { describeSignals } from '../../review/signal-count.js';
import type { Route } from '../app.js';
import type { BlockedEntry, SignalEntry } from '../../storage/review.js';
import type { RequestContext } from '../context.js';
import { SIGNAL_KIND_NAMES } from '../../signals/kinds.js';
import { groupChoices, readFilter } from '../filters.js';
import { dataTable, html } from '../html.js';

import { deviceLink, filterForm, SIGNAL_COLUMNS, TIME_FIELDS, sendFilteredPage } from './shared.js';
import { reviewCell } from './signal-review.js';
import { readsOf, siteFields } from '../reads.js';

const when = (iso: string) => formatShort(Date.parse(iso));
/** The person recorded with a row (RADIUS accounting, identity feed). */
const USER_FIELD = { name: 'user', label: 'User', placeholder: 'j.smith' };

async function signals(ctx: RequestContext): Promise<void> {
  const f = readFilter(ctx, ['since', 'until', 'kind', 'group', 'device', 'user', 'review', 'site']);
  const unreviewed = f.values.review === 'unreviewed';
  const reads = readsOf(ctx);
  const rows = await reads.review.signals({ ...f.filter, unreviewed: unreviewed || undefined });
  const body = html`<h1>Circumvention signals</h1>
    ${filterForm('/signals', [...TIME_FIELDS, ...siteFields(reads), { name: 'kind', label: 'Kind', choices: ['', ...SIGNAL_KIND_NAMES] }, { name: 'group', label: 'Group', choices: groupChoices(ctx) }, { name: 'device', label: 'Device', placeholder: 'name' }, USER_FIELD, { name: 'review', label: 'Review', choices: ['', 'unreviewed'] }], f)}
    <p class="muted">
      ${describeSignals(
        rows.length,
        rows.reduce((a, r) => a + r.count, 0),
      )}${rows.length === f.filter.limit ? ' (the newest; narrow the filter for all)' : ''},
      newest first.
    </p>
    ${dataTable(
      rows,
      {
        'Last seen': (r) => when(r.last_seen),
        ...(reads.trustWide ? { Site: (r: SignalEntry) => r.site ?? '' } : {}),
        Device: (r) => deviceLink(r.device, r.client, r.site),
        Address: (r) => r.client,
        Group: (r) => r.group,
        User: (r) => r.user ?? '',
        ...SIGNAL_COLUMNS,
        '#': (r) => r.id,
        Review: (r) => reviewCell(ctx, r),
      },
      'No circumvention signals match.',
    )}`;
  sendFilteredPage(ctx, f, 'Signals', body, '/signals');
}

async function blocked(ctx: RequestContext): Promise<void> {
  const f = readFilter(ctx, ['since', 'until', 'q', 'group', 'category', 'device', 'client', 'user', 'site']);
  const reads = readsOf(ctx);
  // The name search runs in the store (newest first, stopping at 500 rows); the total comes from the
  // roll-ups where the filter allows (period, group, category, device), else from the rows.
  const filter = { ...f.filter, name: f.values.q.toLowerCase() || undefined };
  const rows = await reads.review.blocked({ ...filter, limit: 500 });
  const total = await reads.review.blockedCount({ ...filter, limit: undefined });
  const categories = ['', ...Object.keys(ctx.env.loaded.config.categories)];
  const body = html`<h1>Blocked attempts</h1>
    ${filterForm('/blocked', [...TIME_FIELDS, ...siteFields(reads), { name: 'q', label: 'Name contains', placeholder: 'instagram' }, { name: 'group', label: 'Group', choices: groupChoices(ctx) }, { name: 'category', label: 'Category', choices: categories }, { name: 'device', label: 'Device', placeholder: 'name' }, { name: 'client', label: 'Address', placeholder: '10.20.3.4' }, USER_FIELD], f)}
    <p class="muted">
      ${total}
      ${total === 1 ? 'attempt' : 'attempts'}${rows.length === 500 ? ' (the newest 500 rows shown; narrow the filter for all)' : ''},
      newest first; repeats within a minute of each other are one row with their count.
    </p>
    ${dataTable(
      rows,
      {
        Time: (r) => when(r.time),
        Times: (r) => (r.count > 1 ? `${r.count} (to ${when(r.last_time)})` : '1'),
        ...(reads.trustWide ? { Site: (r: BlockedEntry) => r.site ?? '' } : {}),
        Device: (r) => deviceLink(r.device, r.client, r.site),
        Address: (r) => r.client,
        Group: (r) => r.group,
        User: (r) => r.user ?? '',
        Name: (r) => r.qname,
        Type: (r) => r.qtype,
        Category: (r) => r.category,
        'List entry': (r) => r.entry,
        Via: (r) => r.via,
        Answer: (r) => r.response,
      },
      'No blocked attempts match.',
    )}`;
  sendFilteredPage(ctx, f, 'Blocked attempts', body, '/blocked');
}

export const listRoutes: Route[] = [
  { method: 'GET', path: '/signals', access: 'evidence', handler: signals },
  { method: 'GET', path: '/blocked', access: 'evidence', handler: blocked },
];
