import { randomBytes } from 'node:crypto';
import { formatShort } from '../../time/local-time.js';
import { LOGIN_CSRF_COOKIE, SESSION_COOKIE, type Route } from '../app.js';
import { audit, param, type RequestContext } from '../context.js';
import { html, page } from '../html.js';
import { cookie, parseCookies, redirect, sendHtml } from '../http.js';
import { DUMMY_HASH, verifyPassword } from '../passwords.js';
import { findUser, passwordHash } from '../users.js';

/** Only local paths may be a redirect target after sign-in (no open redirect). */
function safeNext(next: string): string {
  return /^\/(?![/\\])/.test(next) ? next : '/';
}

function loginPage(ctx: RequestContext, status: number, message = '', name = ''): void {
  const token = parseCookies(ctx.req.headers.cookie)[LOGIN_CSRF_COOKIE] || randomBytes(24).toString('base64url');
  const next = safeNext(param(ctx, 'next') || ctx.form?.get('next') || '/');
  const body = html`<div class="login">
    <h1>Sign in</h1>
    ${message ? html`<p class="flash bad" role="alert">${message}</p>` : ''}
    <form method="post" action="/login" class="stack">
      <input type="hidden" name="_csrf" value="${token}" /><input type="hidden" name="next" value="${next}" />
      <label>User name <input name="user" autocomplete="username" required value="${name}" autofocus /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <button class="primary">Sign in</button>
    </form>
    <p class="muted">
      Accounts are made by ICT: <code>webfilter user add NAME --role reviewer</code>. Every sign-in is recorded.
    </p>
  </div>`;
  sendHtml(ctx.res, status, page('Sign in', body, null), {
    'set-cookie': cookie(LOGIN_CSRF_COOKIE, token, { secure: ctx.env.secure, maxAgeS: 3600 }),
  });
}

async function signIn(ctx: RequestContext): Promise<void> {
  const { env } = ctx;
  const name = (ctx.form.get('user') ?? '').trim().slice(0, 64);
  const password = ctx.form.get('password') ?? '';
  const blocked = env.logins.blockedUntil(name, ctx.ip, ctx.now);
  if (blocked) {
    audit(ctx, 'sign-in-failed', name, `refused: too many failures for this ${blocked.why}`, name);
    return loginPage(
      ctx,
      429,
      `Too many failed sign-ins for this ${blocked.why === 'account' ? 'account' : 'network address'}. Try again after ${formatShort(blocked.until)}.`,
      name,
    );
  }
  const user = name ? findUser(env.db, name) : null;
  // Always verify against a hash (a dummy for unknown users) so timing does not reveal who exists.
  const ok = await verifyPassword(password, (user && passwordHash(env.db, user.id)) || DUMMY_HASH);
  if (!user || !ok || user.disabledAt !== null) {
    env.logins.fail(name, ctx.ip, ctx.now);
    const detail = !user ? 'unknown user' : user.disabledAt !== null ? 'account disabled' : 'wrong password';
    audit(ctx, 'sign-in-failed', name, detail, name);
    return loginPage(ctx, 401, 'That user name and password do not match an active account.', name);
  }
  env.logins.succeed(name);
  const { token } = env.sessions.create(user.id, user.name, user.role, ctx.now);
  audit(ctx, 'sign-in', user.name, `role ${user.role}`, user.name);
  redirect(ctx.res, safeNext(ctx.form.get('next') ?? '/'), {
    'set-cookie': [
      cookie(SESSION_COOKIE, token, { secure: env.secure }),
      cookie(LOGIN_CSRF_COOKIE, '', { secure: env.secure, maxAgeS: 0 }),
    ],
  });
}

export const loginRoutes: Route[] = [
  { method: 'GET', path: '/login', access: 'public', handler: (ctx) => loginPage(ctx, 200) },
  { method: 'POST', path: '/login', access: 'public', handler: signIn },
  {
    method: 'POST',
    path: '/logout',
    access: 'user',
    handler: (ctx) => {
      audit(ctx, 'sign-out', ctx.session.user);
      ctx.env.sessions.end(parseCookies(ctx.req.headers.cookie)[SESSION_COOKIE]);
      redirect(ctx.res, '/login', { 'set-cookie': cookie(SESSION_COOKIE, '', { secure: ctx.env.secure, maxAgeS: 0 }) });
    },
  },
];
