import { csv, table } from '../format/output.js';
import { count } from '../text/plural.js';
import { describeSignals } from './signal-count.js';
import { groupNames, groupReviews, groupWhen, signalListCommand } from './signal-groups.js';
import { formatDuration } from '../time/duration.js';
import { formatLocal, formatShort } from '../time/local-time.js';
import type { ReportData } from './report.js';
import type { SignalEntry, SignalGroup } from '../storage/review.js';

const when = (iso: string) => formatShort(Date.parse(iso));

/** A signal's review in one cell: "sanction (oso.jones): Spoke to …", or "NOT REVIEWED". */
export function reviewCell(s: SignalEntry): string {
  return s.review ? `${s.review.outcome} (${s.review.by})${s.review.note ? `: ${s.review.note}` : ''}` : 'NOT REVIEWED';
}
/** A group's line in the text and HTML reports: the signal itself (id, detail, review) when it is one. */
function groupRow(g: SignalGroup) {
  return {
    when: groupWhen(g),
    kind: g.kind,
    severity: g.severity,
    signals: g.only ? `1 (#${g.only.id})` : g.signals,
    occurrences: g.occurrences,
    qname: groupNames(g),
    review: g.only ? reviewCell(g.only) : groupReviews(g),
    detail: g.only ? g.only.detail : '',
  };
}

const opens = (e: ReportData['exceptions'][number]) => [...e.categories, ...e.domains].join(', ');

/** When an exception stopped applying: its revocation if that came first, else its planned end. */
export function exceptionEnd(e: ReportData['exceptions'][number]): number {
  return e.revokedAt !== null && e.revokedAt < e.expiresAt ? e.revokedAt : e.expiresAt;
}

/** One exception as a table row (text and HTML). */
function exceptionRow(e: ReportData['exceptions'][number]) {
  return {
    id: e.id,
    target: `${e.targetKind} ${e.target}`,
    opens: opens(e),
    from: formatShort(e.startsAt),
    until: formatShort(e.expiresAt),
    approved: e.approvedBy,
    reason: e.reason,
    by: e.createdBy,
    revoked: e.revokedAt ? `revoked ${formatShort(e.revokedAt)} by ${e.revokedBy}: ${e.revokeReason}` : '',
  };
}

type Permission = ReportData['permissions'][number];

/** One granted permission: who asked, who approved, for which class, for how long. */
function permissionRow(p: Permission) {
  const start = p.startsAt ?? p.decidedAt ?? p.requestedAt;
  return {
    id: p.id,
    group: p.group,
    opens: p.categories.join(', '),
    asked: `${p.requestedBy} ${formatShort(p.requestedAt)}`,
    approved: p.decidedBy ?? '',
    from: formatShort(start),
    until: formatShort(p.expiresAt),
    long: formatDuration(p.expiresAt - start),
    lesson: p.lesson ?? '',
    reason: p.reason,
    exception: p.exceptionId ?? '',
  };
}

const granted = (r: ReportData) => r.permissions.filter((p) => p.state === 'approved');

/** "2 declined, 1 expired unapproved, 1 waiting" (empty when none). */
function otherRequests(r: ReportData): string {
  const n = (s: Permission['state']) => r.permissions.filter((p) => p.state === s).length;
  const parts = [
    [n('declined'), 'declined'],
    [n('expired'), 'expired unapproved'],
    [n('pending'), 'waiting for a decision'],
  ].filter(([k]) => (k as number) > 0);
  return parts.length ? `Other requests: ${parts.map(([k, w]) => `${k} ${w}`).join(', ')}.` : '';
}

const PERMISSION_COLUMNS = {
  CLASS: 'group',
  OPENS: 'opens',
  'ASKED BY': 'asked',
  'APPROVED BY': 'approved',
  FROM: 'from',
  UNTIL: 'until',
  FOR: 'long',
  REASON: 'reason',
};

/** Plain text, for the terminal or an email. */
export function reportText(r: ReportData): string {
  const parts = [
    `webfilter report: ${formatLocal(r.from)} – ${formatLocal(r.to)}`,
    `${count(r.totals.blocked, 'blocked attempt')} from ${count(r.totals.devices, 'device')}; circumvention: ${describeSignals(r.totals.signals, r.totals.occurrences)}.`,
    `${r.totals.unreviewed} not yet reviewed (listed first below).`,
    '',
    'Blocked attempts by group and category',
    table(r.byGroupCategory, { GROUP: 'group', CATEGORY: 'category', ATTEMPTS: 'count' }),
    'Top devices by blocked attempts',
    table(r.topDevices, { DEVICE: 'device', CLIENT: 'client', GROUP: 'group', ATTEMPTS: 'blocked' }),
    'Circumvention signals by device (not yet reviewed first)',
  ];
  if (r.signalsByDevice.length === 0) parts.push('(none)\n');
  for (const d of r.signalsByDevice) {
    parts.push(`${d.device || '(unnamed device)'} ${d.client} [${d.group}]: ${describeSignals(d.signalCount, d.occurrences)}`);
    parts.push(
      table(d.groups.map(groupRow), {
        WHEN: 'when',
        KIND: 'kind',
        SEVERITY: 'severity',
        SIGNALS: 'signals',
        OCCURRENCES: 'occurrences',
        NAMES: 'qname',
        REVIEW: 'review',
        DETAIL: 'detail',
      })
        .trimEnd()
        .replace(/^/gm, '  '),
    );
    parts.push(`  Each signal: ${signalListCommand(d.client, d.signalCount, r.from, r.to)}\n`);
  }
  parts.push('Permissions granted in the period (teachers’ requests)');
  parts.push(table(granted(r).map(permissionRow), PERMISSION_COLUMNS));
  const others = otherRequests(r);
  if (others) parts.push(`${others}\n`);
  parts.push('Exceptions in the period');
  parts.push(
    table(r.exceptions.map(exceptionRow), {
      ID: 'id',
      FOR: 'target',
      OPENS: 'opens',
      FROM: 'from',
      UNTIL: 'until',
      'APPROVED BY': 'approved',
      REASON: 'reason',
      '': 'revoked',
    }),
  );
  parts.push('Days');
  parts.push(
    table(r.days, { DAY: 'day', BLOCKED: 'blocked', SIGNALS: 'signals', OCCURRENCES: 'occurrences', UNUSUAL: 'unusual' }),
  );
  return parts.join('\n');
}

/** A local day's date ("2026-09-07") from its midnight. */
function dayText(ms: number): string {
  return formatShort(ms).slice(0, 10);
}

/** A group's reviews for CSV: "unreviewed 12", "no-action 3; unreviewed 2". */
function csvReviews(g: SignalGroup): string {
  const parts = Object.entries(g.outcomes).map(([o, n]) => `${o || 'reviewed'} ${n}`);
  if (g.unreviewed > 0) parts.push(`unreviewed ${g.unreviewed}`);
  return parts.sort().join('; ');
}

/** CSV: one table, one row per fact, with a `section` column. */
export function reportCsv(r: ReportData): string {
  const rows: Record<string, string | number>[] = [];
  for (const x of r.byGroupCategory) rows.push({ section: 'blocked', group: x.group, category: x.category, count: x.count });
  for (const x of r.topDevices)
    rows.push({ section: 'top-device', device: x.device, client: x.client, group: x.group, count: x.blocked });
  // One row per device, kind and local day (the report's grouping); each signal: `logs signals --csv`.
  for (const d of r.signalsByDevice) {
    for (const g of d.groups) {
      rows.push({
        section: 'signal',
        day: dayText(g.day),
        device: g.device,
        client: g.client,
        group: d.group,
        kind: g.kind,
        severity: g.severity,
        count: g.occurrences,
        signals: g.signals,
        unreviewed: g.unreviewed,
        first_seen: new Date(g.first).toISOString(),
        last_seen: new Date(g.last).toISOString(),
        domain: g.domains.join(' '),
        names: g.names.join(' '),
        id: g.only ? g.only.id : '',
        review: g.only ? (g.only.review ? g.only.review.outcome : 'unreviewed') : csvReviews(g),
        detail: g.only ? g.only.detail : '',
      });
    }
  }
  for (const e of r.exceptions) {
    rows.push({
      section: 'exception',
      id: e.id,
      // Each fact in its own column: a group in `group`, an address or network in `client`,
      // categories in `category`, names in `domain`.
      group: e.targetKind === 'group' ? e.target : '',
      client: e.targetKind === 'client' ? e.target : '',
      category: e.categories.join(' '),
      domain: e.domains.join(' '),
      starts_at: new Date(e.startsAt).toISOString(),
      // A revoked exception ended when it was revoked, not at its planned end.
      ends_at: new Date(exceptionEnd(e)).toISOString(),
      revoked_at: e.revokedAt === null ? '' : new Date(e.revokedAt).toISOString(),
      revoked_by: e.revokedBy ?? '',
      approved_by: e.approvedBy,
      created_by: e.createdBy,
      detail: e.revokedAt === null ? e.reason : `${e.reason} (revoked: ${e.revokeReason})`,
    });
  }
  for (const p of r.permissions) {
    rows.push({
      section: 'permission',
      id: p.id,
      group: p.group,
      category: p.categories.join(' '),
      starts_at: new Date(p.startsAt ?? p.decidedAt ?? p.requestedAt).toISOString(),
      ends_at: new Date(p.expiresAt).toISOString(),
      approved_by: p.decidedBy ?? '',
      requested_by: p.requestedBy,
      state: p.state,
      detail: p.note ? `${p.reason} (note: ${p.note})` : p.reason,
    });
  }
  for (const d of r.days)
    rows.push({
      section: 'day',
      day: d.day,
      count: d.blocked,
      signals: d.signals,
      occurrences: d.occurrences,
      detail: d.unusual,
    });
  const cols = [
    'section',
    'day',
    'group',
    'category',
    'device',
    'client',
    'kind',
    'severity',
    'count',
    'signals',
    'occurrences',
    'unreviewed',
    'first_seen',
    'last_seen',
    'domain',
    'names',
    'id',
    'starts_at',
    'ends_at',
    'revoked_at',
    'revoked_by',
    'approved_by',
    'created_by',
    'review',
    'detail',
    'requested_by',
    'state',
  ];
  return csv(rows, cols);
}

/** Escapes text for HTML: nothing from the database (a hostile qname included) is ever markup. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Fields holding DNS names: the only cells that may break inside a word (a name can outrun A4). */
const NAME_FIELDS = new Set(['domain', 'qname']);
/** Short fields kept on one line (a kind such as encrypted-dns would otherwise break at its hyphen). */
const KEEP_FIELDS = new Set(['kind', 'severity', 'day']);

/**
 * Dates and times in (escaped) cell text each kept on one line ("2026-11-" / "30" is no way to print
 * a date); a line may still break between the date and the time, so narrow columns stay narrow.
 */
function keepDates(escaped: string): string {
  return escaped.replace(/\d{4}-\d\d-\d\d|\d\d:\d\d(?: [A-Z]{2,5}\b)?/g, (d) => `<span class="keep">${d}</span>`);
}

function htmlTable(rows: Record<string, unknown>[], cols: Record<string, string>, empty = 'None.'): string {
  if (rows.length === 0) return `<p class="none">${esc(empty)}</p>`;
  const head = Object.keys(cols)
    .map((h) => `<th>${esc(h)}</th>`)
    .join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${Object.values(cols)
          .map(
            (k) =>
              `<td${NAME_FIELDS.has(k) ? ' class="dns"' : KEEP_FIELDS.has(k) ? ' class="keep"' : ''}>${keepDates(esc(r[k]))}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function dayChart(days: ReportData['days']): string {
  if (days.length === 0) return '';
  const max = Math.max(1, ...days.map((d) => d.blocked));
  const w = 40;
  const bars = days
    .map((d, i) => {
      const h = Math.round((d.blocked / max) * 100);
      return `<g><rect x="${i * w + 6}" y="${110 - h}" width="${w - 12}" height="${h}" class="${d.unusual ? 'bar hot' : 'bar'}"><title>${esc(d.day)}: ${d.blocked} blocked, ${count(d.signals, 'signal')}</title></rect><text x="${i * w + w / 2}" y="126" text-anchor="middle">${esc(d.day.slice(5))}</text></g>`;
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${days.length * w} 130" width="${days.length * w}" height="130" role="img" aria-label="Blocked attempts per day">${bars}</svg>`;
}

/** A single self-contained HTML page (no external assets) that prints well. */
export function reportHtml(r: ReportData): string {
  const devices = r.signalsByDevice
    .map(
      (
        d,
      ) => `<section class="device"><h3>${esc(d.device || '(unnamed device)')} <small>${esc(d.client)} · ${esc(d.group)} · ${esc(describeSignals(d.signalCount, d.occurrences))}</small></h3>
${htmlTable(
  // The review goes in the Detail cell (not a column of its own), so the table fits an A4 page.
  d.groups.map((g) => {
    const row = groupRow(g);
    return { ...row, detail: `${row.detail ? `${row.detail} — ` : ''}review: ${row.review}` };
  }),
  {
    When: 'when',
    Kind: 'kind',
    Severity: 'severity',
    Signals: 'signals',
    Occurrences: 'occurrences',
    Names: 'qname',
    Detail: 'detail',
  },
)}<p class="each">Each signal: <code>${keepDates(esc(signalListCommand(d.client, d.signalCount, r.from, r.to)))}</code></p></section>`,
    )
    .join('\n');
  const ex = r.exceptions.map(exceptionRow);
  const unusual = r.days.filter((d) => d.unusual);
  return `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>webfilter report ${esc(formatShort(r.from))} – ${esc(formatShort(r.to))}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1b1f24;margin:2rem auto;max-width:70rem;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:2px solid #d0d7de;padding-bottom:.2rem}
h3{font-size:1rem;margin:1rem 0 .3rem}small{color:#57606a;font-weight:normal}
.summary{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}.card{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:10rem}
.card b{display:block;font-size:1.6rem}table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td{overflow-wrap:normal;hyphens:none}td.dns{overflow-wrap:anywhere}.keep{white-space:nowrap}.chart{max-width:100%;height:auto}.none{color:#57606a;font-style:italic}.bar{fill:#0969da}.hot{fill:#cf222e}.chart text{font-size:10px;fill:#57606a}
.device td.dns{min-width:12em}.each{margin:-.6rem 0 1rem;color:#57606a;font-size:.9em}.unusual{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem 1rem}
@page{size:A4;margin:12mm}
@media print{body{margin:0;max-width:none;font-size:10px}th,td{padding:.15rem .3rem}h2{break-after:avoid}table,section.device{break-inside:avoid}a{color:inherit}}
</style></head><body>
<h1>webfilter report</h1>
<p>${esc(formatLocal(r.from))} – ${esc(formatLocal(r.to))}. Generated ${esc(formatLocal(r.generatedAt))}.</p>
<div class="summary"><div class="card"><b>${r.totals.blocked}</b>blocked attempts</div><div class="card"><b>${r.totals.devices}</b>devices blocked</div><div class="card"><b>${esc(describeSignals(r.totals.signals, r.totals.occurrences))}</b>circumvention</div><div class="card"><b>${r.totals.unreviewed}</b>not yet reviewed</div><div class="card"><b>${r.exceptions.length}</b>exceptions</div></div>
${unusual.length ? `<div class="unusual"><b>Days with unusual activity:</b> ${unusual.map((d) => `${esc(d.day)} (${esc(d.unusual)})`).join('; ')}</div>` : ''}
<h2>Circumvention signals by device</h2>
${devices || '<p class="none">No circumvention signals in this period.</p>'}
<h2>Blocked attempts by group and category</h2>
${htmlTable(r.byGroupCategory, { Group: 'group', Category: 'category', Attempts: 'count' })}
<h2>Top devices by blocked attempts</h2>
${htmlTable(r.topDevices, { Device: 'device', Client: 'client', Group: 'group', Attempts: 'blocked' })}
<h2>Permissions granted (teachers’ requests)</h2>
${htmlTable(granted(r).map(permissionRow), { Class: 'group', Opens: 'opens', 'Asked by': 'asked', 'Approved by': 'approved', From: 'from', Until: 'until', For: 'long', Lesson: 'lesson', Reason: 'reason', Exception: 'exception' }, 'No permissions granted in this period.')}
${otherRequests(r) ? `<p>${esc(otherRequests(r))}</p>` : ''}
<h2>Exceptions granted or in force</h2>
${htmlTable(ex, { ID: 'id', For: 'target', Opens: 'opens', From: 'from', Until: 'until', 'Approved by': 'approved', Reason: 'reason', 'Added by': 'by', Revoked: 'revoked' }, 'No exceptions in this period.')}
<h2>Day by day</h2>
${dayChart(r.days)}
${htmlTable(r.days, { Day: 'day', Blocked: 'blocked', Signals: 'signals', Occurrences: 'occurrences', Unusual: 'unusual' })}
<p><small>A day is marked unusual when it has more than twice the period's typical (median) day and at least ${20} blocked attempts (or 5 signal occurrences). A signal is one device, kind and domain within 10 minutes; its count is how often it happened. Signals are listed per device, kind and day (the day each was last seen), with every count exact; a day's line holding one signal shows it (#id, detail, review), and each device's signals are one command away (Each signal), or on the console's Signals page.</small></p>
</body></html>
`;
}
