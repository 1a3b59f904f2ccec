import { ExceptionChangeError, ExceptionScopeError, type ChangedBy, type ExceptionRecord } from '../../storage/exceptions.js';
import { ExceptionRequestError, validateException, type ExceptionRequest } from '../../exceptions/validate-exception.js';
import { LockedNames } from '../../exceptions/locked-names.js';
import type { LoadedConfig } from '../../config/load.js';
import { categoryInfos } from '../../policy/categories.js';
import { formatDuration } from '../../time/duration.js';
import { formatShort } from '../../time/local-time.js';
import { messagePage, refusedPage, type Route } from '../app.js';
import { param, type RequestContext } from '../context.js';
import { dataTable, fieldError, html, page } from '../html.js';
import { redirect, sendHtml } from '../http.js';
import { userOf } from './shared.js';
import { may } from '../../roles/roles.js';
import { requestsTable } from './requests.js';
import { SharedUnavailableError } from '../../storage/shared-errors.js';

/** Form field and its label for each CLI flag named in a validation message (the validation is the CLI's, shared). */
const FIELDS: Record<string, [field: string, label: string]> = {
  group: ['group', 'Group'],
  client: ['client', 'Address'],
  category: ['category', 'Category'],
  domain: ['domain', 'Domain'],
  for: ['for', 'For'],
  until: ['until', 'Until'],
  reason: ['reason', 'Reason'],
  'approved-by': ['approved_by', 'Approved by'],
};

/** Puts each problem next to the field its flag names, worded for the form. */
function problemsByField(problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problems) {
    const flag = /--([a-z-]+)/.exec(p)?.[1] ?? 'reason';
    const field = FIELDS[flag]?.[0] ?? 'reason';
    const text = p.replace(/--([a-z-]+)( [A-Z|]+(?=\b))?/g, (_, f: string) => FIELDS[f]?.[1] ?? f);
    out[field] = out[field] ? `${out[field]}; ${text}` : text;
  }
  return out;
}

function state(e: ExceptionRecord, now: number): string {
  if (e.revokedAt !== null) return `revoked ${formatShort(e.revokedAt)} by ${e.revokedBy}: ${e.revokeReason}`;
  if (e.expiresAt <= now) return 'expired';
  return `in force, ${formatDuration(e.expiresAt - now)} left`;
}

async function listPage(
  ctx: RequestContext,
  status = 200,
  form: Record<string, string | string[]> = {},
  errors: Record<string, string> = {},
): Promise<void> {
  const ict = may(ctx.session.role, 'exceptions.change', ctx.env.loaded.config);
  const all = param(ctx, 'all') === '1';
  const rows = (await ctx.env.storage.exceptions.all()).filter((e) => all || (e.revokedAt === null && e.expiresAt > ctx.now));
  const openable = categoryInfos(ctx.env.loaded.config).filter((c) => !c.locked && !c.signal);
  const chosen = new Set(([] as string[]).concat(form.category ?? []));
  const v = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : '');
  const text = (name: string, label: string, placeholder: string) =>
    html`<label
      >${label} <input name="${name}" value="${v(name)}" placeholder="${placeholder}" />${fieldError(errors, name)}</label
    >`;
  const added = param(ctx, 'added');
  const revoked = param(ctx, 'revoked');
  const body = html`<h1>Exceptions</h1>
    ${added ? html`<p class="flash" role="status">Exception ${added} added. The filter applies it within a second.</p>` : ''}
    ${revoked ? html`<p class="flash" role="status">Exception ${revoked} revoked.</p>` : ''}
    <p>
      <a href="/exceptions${all ? '' : '?all=1'}">${all ? 'Show only those in force' : 'Show all, with expired and revoked'}</a>
    </p>
    ${dataTable(
      rows,
      {
        ID: (e) => e.id,
        For: (e) => `${e.targetKind} ${e.target}`,
        Opens: (e) => [...e.categories, ...e.domains].join(', '),
        From: (e) => formatShort(e.startsAt),
        Until: (e) => formatShort(e.expiresAt),
        'Approved by': (e) => e.approvedBy,
        'Asked by': (e) =>
          e.requestId === null
            ? ''
            : html`${e.requestedBy} (<a href="/requests#request-${e.requestId}">request ${e.requestId}</a>)`,
        Reason: (e) => e.reason,
        'Added by': (e) => e.createdBy,
        State: (e) => state(e, ctx.now),
        '': (e) =>
          ict && e.revokedAt === null && e.expiresAt > ctx.now
            ? html`<form method="post" action="/exceptions/${e.id}/revoke">
                <input type="hidden" name="_csrf" value="${ctx.session.csrf}" /><input
                  name="reason"
                  placeholder="Why end it now?"
                  required
                  aria-label="Reason to revoke exception ${e.id}"
                />
                <button class="danger">Revoke</button>
              </form>`
            : '',
      },
      all ? 'No exceptions yet.' : 'No exceptions in force.',
    )}
    <h2>Permission requests, last 7 days</h2>
    <p class="muted">
      Teachers ask for their classes; the Headteacher or a deputy decides. An approved request is the exception above with “Asked
      by”. <a href="/requests">All requests</a>
    </p>
    ${requestsTable(await ctx.env.storage.requests.list({ since: ctx.now - 7 * 86_400_000 }), ctx.now)}
    ${
      ict
        ? html`<h2>Add an exception</h2>
            <p class="muted">Only with the Headteacher's permission. It closes by itself at its expiry time.</p>
            <form method="post" action="/exceptions" class="stack" novalidate>
              <input type="hidden" name="_csrf" value="${ctx.session.csrf}" />
              <label
                >Group
                <select name="group">
                  <option value="">—</option>
                  ${Object.keys(ctx.env.loaded.config.groups).map((g) => html`<option ${g === v('group') ? html`selected` : ''}>${g}</option>`)}</select
                >${fieldError(errors, 'group')}</label
              >
              ${text('client', 'or one device or network (address or CIDR)', '10.20.12.34 or 10.20.12.0/24')}
              <fieldset>
                <legend>Categories to open</legend>
                ${openable.map((c) => html`<label style="flex-direction:row;gap:.4rem"><input type="checkbox" name="category" value="${c.name}" ${chosen.has(c.name) ? html`checked` : ''} /> ${c.name}</label>`)}${fieldError(errors, 'category')}
              </fieldset>
              <label
                >and/or domains (one per line)
                <textarea name="domain" rows="2" placeholder="youtube.com">${v('domain')}</textarea
                >${fieldError(errors, 'domain')}</label
              >
              ${text('for', 'For', '50m, 2h, 1d')} ${text('until', 'or until', '15:30 or 2026-12-01T15:30')}
              ${text('reason', 'Reason', 'Y9 media project')} ${text('approved_by', 'Approved by', 'Mrs Patel (Headteacher)')}
              <button class="primary">Add exception</button>
            </form>`
        : html`<p class="muted">Your role (${ctx.session.role}) can see exceptions; ICT adds and revokes them.</p>`
    }`;
  sendHtml(ctx.res, status, page('Exceptions', body, userOf(ctx), '/exceptions'));
}

/** The locked names of each loaded config, read once (only the locked categories' lists). */
const lockedByConfig = new WeakMap<LoadedConfig, Promise<LockedNames>>();
function lockedNames(loaded: LoadedConfig): Promise<LockedNames> {
  let p = lockedByConfig.get(loaded);
  if (!p) lockedByConfig.set(loaded, (p = LockedNames.load(loaded)));
  return p;
}

/** The signed-in user, from this address: recorded with the change (the exception says "(console)"). */
function changedBy(ctx: RequestContext): ChangedBy {
  return { actor: ctx.session.user, ip: ctx.ip, at: ctx.now, recordedAs: `${ctx.session.user} (console)`, scope: ctx.scope };
}

async function add(ctx: RequestContext): Promise<void> {
  const f = ctx.form;
  const opt = (k: string) => {
    const s = (f.get(k) ?? '').trim();
    return s === '' ? undefined : s;
  };
  const req: ExceptionRequest = {
    group: opt('group'),
    client: opt('client'),
    categories: f.getAll('category'),
    domains: (f.get('domain') ?? '').split(/[\s,]+/).filter(Boolean),
    for: opt('for'),
    until: opt('until'),
    reason: f.get('reason') ?? '',
    approvedBy: f.get('approved_by') ?? '',
  };
  try {
    const e = validateException(req, ctx.env.loaded, ctx.now, await lockedNames(ctx.env.loaded));
    const { id } = await ctx.env.storage.exceptions.add(e, changedBy(ctx));
    redirect(ctx.res, `/exceptions?added=${id}`);
  } catch (err) {
    if (err instanceof SharedUnavailableError) return unreachable(ctx, err, 'added');
    if (err instanceof ExceptionChangeError) return refusedPage(ctx, err.message);
    if (!(err instanceof ExceptionRequestError)) throw err;
    const form: Record<string, string | string[]> = Object.fromEntries([...f.keys()].map((k) => [k, f.get(k) ?? '']));
    form.category = f.getAll('category');
    await listPage(ctx, 400, form, problemsByField(err.problems));
  }
}

/** Filters sharing a store: it cannot be reached, so nothing was changed on any of them (503). */
function unreachable(ctx: RequestContext, e: SharedUnavailableError, what: 'added' | 'revoked'): Promise<void> | void {
  return messagePage(
    ctx,
    503,
    'Shared store unreachable',
    `${e.message}. Nothing was ${what}. Try again when it is back; to open something on one filter only meanwhile, ICT can run webfilter exception add … --local on that filter.`,
  );
}

async function revoke(ctx: RequestContext, match: string[]): Promise<void> {
  const id = Number(match[0]);
  const reason = (ctx.form.get('reason') ?? '').trim();
  if (!reason)
    return messagePage(ctx, 400, 'Reason needed', 'Say why the exception is ended early: go back and fill in the reason.');
  try {
    await ctx.env.storage.exceptions.revoke(id, reason, changedBy(ctx));
  } catch (e) {
    if (e instanceof SharedUnavailableError) return unreachable(ctx, e, 'revoked');
    if (!(e instanceof ExceptionChangeError)) throw e;
    if (e instanceof ExceptionScopeError) return refusedPage(ctx, e.message);
    return messagePage(ctx, 404, 'Cannot revoke', e.message);
  }
  redirect(ctx.res, `/exceptions?revoked=${id}`);
}

export const exceptionRoutes: Route[] = [
  { method: 'GET', path: '/exceptions', access: 'exceptions.view', handler: (ctx) => listPage(ctx) },
  { method: 'POST', path: '/exceptions', access: 'exceptions.change', handler: add },
  { method: 'POST', path: /^\/exceptions\/(\d{1,9})\/revoke$/, access: 'exceptions.change', handler: revoke },
];
