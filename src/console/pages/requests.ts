import { categoryInfos } from '../../policy/categories.js';
import { decideRequest, makeRequest, RequestRefused, stateAt, type Acting } from '../../requests/permission-requests.js';
import { lessonSchedule } from '../../requests/request-times.js';
import { may } from '../../roles/roles.js';
import type { PermissionRequest } from '../../storage/requests.js';
import { formatDuration, parseDuration } from '../../time/duration.js';
import { lessonAt, lessonDays } from '../../time/lessons.js';
import { formatShort } from '../../time/local-time.js';
import { wallTime } from '../../time/zoned-time.js';
import { messagePage, refusedPage, type Route } from '../app.js';
import { param, type RequestContext } from '../context.js';
import { dataTable, fieldError, html, page, type Html } from '../html.js';
import { redirect, sendHtml } from '../http.js';
import { userOf } from './shared.js';

/**
 * The Requests page: a teacher asks for categories for one of their groups (for this lesson, the
 * same lesson another day, or times) and sees their requests; an approver sees what waits for a
 * decision and approves or declines it; the online safety officer and ICT see every request. What
 * each sees and may post is decided by the role table, and a teacher's groups by the server.
 */

/** How long a request runs, for people: "45m (until 11:00)". */
function when(r: PermissionRequest): string {
  const start = r.startsAt ?? (r.decidedAt && r.state === 'approved' ? r.decidedAt : r.requestedAt);
  const span = formatDuration(r.expiresAt - start);
  if (r.lesson) return `lesson ${r.lesson} (${span})`;
  return `${r.startsAt === null ? 'from approval' : formatShort(r.startsAt)} – ${formatShort(r.expiresAt)} (${span})`;
}

function stateText(r: PermissionRequest, now: number): Html | string {
  const state = stateAt(r, now);
  if (state === 'approved') {
    return html`approved by ${r.decidedBy}
    ${formatShort(r.decidedAt!)}${r.exceptionId !== null ? html` → exception ${r.exceptionId}` : ''}${r.note ? html`: ${r.note}` : ''}`;
  }
  if (state === 'declined')
    return html`declined by ${r.decidedBy} ${formatShort(r.decidedAt!)}${r.note ? html`: ${r.note}` : ''}`;
  if (state === 'expired') return 'expired, not approved in time';
  return 'waiting for a decision';
}

/** Requests as a table (also on the Exceptions page); with `decide`, pending ones get Approve/Decline forms. */
export function requestsTable(rows: PermissionRequest[], now: number, decide?: { csrf: string }): Html {
  return dataTable(
    rows,
    {
      ID: (r) => html`<span id="request-${r.id}">${r.id}</span>`,
      Class: (r) => r.group,
      Opens: (r) => r.categories.join(', '),
      When: (r) => when(r),
      Reason: (r) => r.reason,
      'Asked by': (r) => `${r.requestedBy}, ${formatShort(r.requestedAt)}`,
      State: (r) =>
        decide && stateAt(r, now) === 'pending'
          ? html`<form method="post" action="/requests/${r.id}/approve" class="decide">
              <input type="hidden" name="_csrf" value="${decide.csrf}" />
              <input name="note" placeholder="Note (optional)" aria-label="Note on request ${r.id}" />
              <button class="primary">Approve</button>
              <button class="danger" formaction="/requests/${r.id}/decline">Decline</button>
            </form>`
          : stateText(r, now),
    },
    'No requests.',
  );
}

/** The choices of the form's `lesson`: this lesson, and the same lesson (or a lesson) on coming days. */
function lessonChoices(ctx: RequestContext): { value: string; label: string }[] {
  const { loaded } = ctx.env;
  const s = lessonSchedule(loaded);
  const out = [{ value: '', label: 'Not a lesson: give the times below' }];
  if (!s) return out;
  const tz = loaded.config.timezone;
  const current = lessonAt(s, ctx.now, tz);
  if (current)
    out.push({
      value: 'current',
      label: `Until the end of this lesson (${current.window}, ends ${current.window.split('-')[1]})`,
    });
  const today = wallTime(ctx.now, tz).day;
  const horizon = Math.floor(parseDuration(loaded.config.requests.max_ahead) / 86_400_000);
  for (const day of lessonDays(s, today + 1, 10, horizon)) {
    const date = new Date(day * 86_400_000).toISOString().slice(0, 10);
    const label = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'short' }).format(
      new Date(day * 86_400_000),
    );
    out.push({
      value: date,
      label: current ? `This lesson on ${label} (${current.window})` : `A lesson on ${label} (give a time in it under “From”)`,
    });
  }
  return out;
}

async function requestsPage(
  ctx: RequestContext,
  status = 200,
  form: Record<string, string | string[]> = {},
  errors: Record<string, string> = {},
): Promise<void> {
  const { config } = ctx.env.loaded;
  const role = ctx.session.role;
  const asks = may(role, 'requests.make', config);
  const decides = may(role, 'requests.decide', config);
  const seesAll = may(role, 'requests.view', config);
  const v = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : '');
  const chosen = new Set(([] as string[]).concat(form.category ?? []));
  const flash = (() => {
    const asked = param(ctx, 'asked');
    if (asked)
      return html`<p class="flash" role="status">Request ${asked} sent. An approver will decide; you will see it here.</p>`;
    const granted = param(ctx, 'granted');
    if (granted)
      return html`<p class="flash" role="status">
        Request ${granted} approved at once (standing permission). The filter applies it within a second.
      </p>`;
    const approved = param(ctx, 'approved');
    if (approved)
      return html`<p class="flash" role="status">
        Request ${approved} approved: exception ${param(ctx, 'exception')}. The filter applies it within a second.
      </p>`;
    const declined = param(ctx, 'declined');
    if (declined) return html`<p class="flash" role="status">Request ${declined} declined.</p>`;
    return '';
  })();

  const mine = asks ? await ctx.env.storage.requests.list({ requestedBy: ctx.account.name, limit: 200 }) : [];
  const all = seesAll || decides ? await ctx.env.storage.requests.list({ limit: 500 }) : [];
  const pending = all.filter((r) => stateAt(r, ctx.now) === 'pending').reverse();
  const decided = all.filter((r) => stateAt(r, ctx.now) !== 'pending');
  const openable = categoryInfos(config).filter((c) => !c.locked && !c.signal);
  const lessons = lessonChoices(ctx);
  const text = (name: string, label: string, placeholder: string, hint = '') =>
    html`<label
      >${label} <input name="${name}" value="${v(name)}" placeholder="${placeholder}" aria-describedby="${name}-error" />${
        hint ? html`<small class="muted">${hint}</small>` : ''
      }${fieldError(errors, name)}</label
    >`;

  const askForm = html`<h2>Ask for permission for a class</h2>
    <p class="muted">
      The Headteacher or a deputy approves it; the filter then opens the categories for that class only, and closes them by itself
      at the end.
    </p>
    ${errors.request ? html`<p class="flash bad" role="alert">${errors.request}</p>` : ''}
    <form method="post" action="/requests" class="stack" novalidate>
      <input type="hidden" name="_csrf" value="${ctx.session.csrf}" />
      <label
        >Class (group)
        <select name="group">
          ${ctx.account.groups.map((g) => html`<option ${g === v('group') ? html`selected` : ''}>${g}</option>`)}</select
        >${fieldError(errors, 'group')}</label
      >
      <fieldset>
        <legend>Categories to open</legend>
        ${openable.map(
          (c) =>
            html`<label style="flex-direction:row;gap:.4rem"
              ><input type="checkbox" name="category" value="${c.name}" ${chosen.has(c.name) ? html`checked` : ''} />
              ${c.name}</label
            >`,
        )}${fieldError(errors, 'category')}
      </fieldset>
      <label
        >When
        <select name="lesson">
          ${lessons.map((l) => html`<option value="${l.value}" ${l.value === v('lesson') ? html`selected` : ''}>${l.label}</option>`)}</select
        >${fieldError(errors, 'lesson')}</label
      >
      ${text('from', 'From', '10:15 or 2026-12-01T10:15', 'optional: now if empty; with a lesson date, a time in that lesson')}
      ${text('until', 'Until', '15:30 or 50m', `not with a lesson; at most ${config.requests.max_duration}`)}
      ${text('reason', 'Reason', 'Y9 media studies: analysing adverts')}
      <button class="primary">Ask for permission</button>
    </form>
    <h2>Your requests</h2>
    ${requestsTable(mine, ctx.now)}`;

  const decideSection = html`<h2>Waiting for a decision</h2>
    <p class="muted">
      Approving opens the categories for that class until the time shown; it is recorded as approved by you. A request not decided
      before it starts expires.
    </p>
    ${requestsTable(pending, ctx.now, { csrf: ctx.session.csrf })}`;

  const body = html`<h1>Permission requests</h1>
    ${flash} ${asks ? askForm : ''} ${decides ? decideSection : ''}
    ${
      seesAll || decides
        ? html`<h2>${decides ? 'Decided and expired' : 'All requests'}</h2>
            ${requestsTable(decides ? decided : all, ctx.now)}`
        : ''
    }`;
  sendHtml(ctx.res, status, page('Requests', body, userOf(ctx), '/requests'));
}

/** The signed-in user acting from this address. */
function acting(ctx: RequestContext): Acting {
  return {
    name: ctx.account.name,
    role: ctx.account.role,
    groups: ctx.account.groups,
    ip: ctx.ip,
    at: ctx.now,
    recordedAs: `${ctx.account.name} (console)`,
    scope: ctx.scope,
  };
}

async function ask(ctx: RequestContext): Promise<void> {
  const f = ctx.form;
  const get = (k: string) => f.get(k) ?? '';
  try {
    const { request, exception } = await makeRequest(
      ctx.env.storage,
      ctx.env.loaded,
      {
        group: get('group'),
        categories: f.getAll('category'),
        lesson: get('lesson'),
        from: get('from'),
        until: get('until'),
        reason: get('reason'),
      },
      ctx.account,
      acting(ctx),
    );
    redirect(ctx.res, exception ? `/requests?granted=${request.id}` : `/requests?asked=${request.id}`);
  } catch (e) {
    if (!(e instanceof RequestRefused)) throw e;
    if (e.status === 403) return refusedPage(ctx, e.message);
    if (e.status !== 400) return messagePage(ctx, e.status, 'Not allowed', e.message);
    const form: Record<string, string | string[]> = Object.fromEntries([...f.keys()].map((k) => [k, get(k)]));
    form.category = f.getAll('category');
    await requestsPage(ctx, 400, form, e.problems as Record<string, string>);
  }
}

async function decide(ctx: RequestContext, match: string[], decision: 'approve' | 'decline'): Promise<void> {
  const id = Number(match[0]);
  try {
    const { request } = await decideRequest(
      ctx.env.storage,
      ctx.env.loaded,
      id,
      decision,
      ctx.form.get('note') ?? '',
      acting(ctx),
    );
    redirect(
      ctx.res,
      decision === 'approve' ? `/requests?approved=${id}&exception=${request.exceptionId}` : `/requests?declined=${id}`,
    );
  } catch (e) {
    if (!(e instanceof RequestRefused)) throw e;
    if (e.status === 403) return refusedPage(ctx, e.message);
    const title = e.status === 400 ? 'Cannot approve' : 'Cannot decide';
    return messagePage(ctx, e.status, title, e.message);
  }
}

export const requestRoutes: Route[] = [
  {
    method: 'GET',
    path: '/requests',
    access: ['requests.make', 'requests.view', 'requests.decide'],
    handler: (ctx) => requestsPage(ctx),
  },
  { method: 'POST', path: '/requests', access: 'requests.make', handler: ask },
  {
    method: 'POST',
    path: /^\/requests\/(\d{1,9})\/approve$/,
    access: 'requests.decide',
    handler: (ctx, m) => decide(ctx, m, 'approve'),
  },
  {
    method: 'POST',
    path: /^\/requests\/(\d{1,9})\/decline$/,
    access: 'requests.decide',
    handler: (ctx, m) => decide(ctx, m, 'decline'),
  },
];
