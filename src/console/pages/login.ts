import { randomBytes } from 'node:crypto';
import { LOGIN_CSRF_COOKIE, SESSION_COOKIE, type Route } from '../app.js';
import { audit, param, type RequestContext } from '../context.js';
import { html, page } from '../html.js';
import { cookie, parseCookies, redirect, sendHtml } from '../http.js';
import { DUMMY_HASH, verifyPassword } from '../../accounts/passwords.js';
import { auditedName, waitText } from '../../accounts/sign-in-words.js';
import { addressKey } from '../client-address.js';
import { loginLimits } from '../../storage/sign-in-throttle.js';

/** The origin relative targets are resolved against (only its path is ever sent back). */
const ORIGIN = 'http://console.invalid';

/**
 * Where to go after sign-in: a path on this console, never another site. `next` is resolved with
 * the URL parser browsers use, against the console's origin, and must stay on it; control
 * characters (a tab or newline that browsers strip, e.g. `/\t/evil.example`) are refused outright.
 */
export function safeNext(next: string): string {
  if (/[\u0000-\u001f\u007f]/.test(next) || !next.startsWith('/')) return '/';
  try {
    const u = new URL(next, ORIGIN);
    return u.origin === ORIGIN ? u.pathname + u.search + u.hash : '/';
  } catch {
    return '/';
  }
}

export { auditedName };

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
  const from = addressKey(ctx.ip);
  const user = name ? await env.storage.accounts.findUser(name) : null;
  const who = auditedName(name, user !== null);
  const limits = loginLimits(env.loaded.config.console.login_attempts);
  // With shared, the trust's count in PostgreSQL: unreachable, the sign-in is refused (503), never let through uncounted.
  const blocked = await env.logins.held(name, from, limits);
  if (blocked) {
    await audit(ctx, 'sign-in-failed', who, `refused: too many failures for this ${blocked.why} from this address`, who);
    const what = blocked.why === 'account' ? 'this account from this address' : 'this network address';
    return loginPage(
      ctx,
      429,
      `Too many failed sign-ins for ${what}. Try again in ${waitText(blocked.waitMs)}.`,
      user ? name : '',
    );
  }
  // Always verify against a hash (a dummy for unknown users) so timing does not reveal who exists.
  const ok = await verifyPassword(password, (user && (await env.storage.accounts.passwordHash(user.id))) || DUMMY_HASH);
  if (!user || !ok || user.disabledAt !== null) {
    await env.logins.fail(name, from, limits);
    const detail = !user ? 'unknown user' : user.disabledAt !== null ? 'account disabled' : 'wrong password';
    await audit(ctx, 'sign-in-failed', who, detail, who);
    // An unknown name is not echoed back into the form either (it may be a password).
    return loginPage(ctx, 401, 'That user name and password do not match an active account.', user ? name : '');
  }
  await env.logins.succeed(name, from);
  const { token } = await env.sessions.create(user.id, user.name, user.role, ctx.now);
  await audit(ctx, 'sign-in', user.name, `role ${user.role}`, user.name);
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
    handler: async (ctx) => {
      await audit(ctx, 'sign-out', ctx.session.user);
      await ctx.env.sessions.end(parseCookies(ctx.req.headers.cookie)[SESSION_COOKIE]);
      redirect(ctx.res, '/login', { 'set-cookie': cookie(SESSION_COOKIE, '', { secure: ctx.env.secure, maxAgeS: 0 }) });
    },
  },
];
