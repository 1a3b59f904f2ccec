import type http from 'node:http';
import { clientAddress } from './client-address.js';
import { audit, type ConsoleEnv, type RequestContext } from './context.js';
import { html, page, type Html, type PageUser } from './html.js';
import type { User } from '../storage/accounts.js';
import { BodyTooLarge, parseCookies, readForm, redirect, sendHtml } from './http.js';
import { tokensMatch } from './sessions.js';
import { homeOf, may, type Permission, type Role } from '../roles/roles.js';
import type { Config } from '../config/schema.js';
import { SharedUnavailableError } from '../storage/shared-errors.js';

/**
 * Who may use a route: anyone (sign-in), any signed-in user (sign-out), or the users whose role has
 * a permission (the one table of what each role may do: roles/roles.ts).
 */
export type Access = 'public' | 'user' | Permission | readonly Permission[];

export interface Route {
  method: 'GET' | 'POST';
  /** Exact path, or a pattern whose groups are passed to the handler. */
  path: string | RegExp;
  access: Access;
  handler: (ctx: RequestContext, match: string[]) => void | Promise<void>;
}

export const SESSION_COOKIE = 'wf_session';
/** Double-submit token for the sign-in form (there is no session yet to hold one). */
export const LOGIN_CSRF_COOKIE = 'wf_login';

/**
 * A 403 for a role or scope refusal (issue 17, security finding 5): recorded in the access audit
 * (access-denied: who, from where, the method and path, and why) before the page is sent, so
 * attempts at other sites' records or at pages beyond a role are seen on the Audit page. A store
 * that cannot take the row does not turn the refusal into an error page: the 403 is sent anyway.
 */
export async function refusedPage(ctx: RequestContext, why: string, title = 'Not allowed'): Promise<void> {
  try {
    await audit(ctx, 'access-denied', `${ctx.req.method ?? ''} ${ctx.url.pathname}`, why);
  } catch (e) {
    ctx.env.log.warn({ err: (e as Error).message }, 'console: access-denied not recorded');
  }
  messagePage(ctx, 403, title, why);
}

/** A page with a message, e.g. 403, 404. */
export function messagePage(ctx: RequestContext, status: number, title: string, message: Html | string): void {
  const user = ctx.session ? pageUser(ctx) : null;
  sendHtml(
    ctx.res,
    status,
    page(
      title,
      html`<h1>${title}</h1>
        <p>${message}</p>
        <p><a href="/">Back to the overview</a></p>`,
      user,
    ),
  );
}

/**
 * The console's request handling, in order: find the route; no session → sign-in page (for every
 * route but sign-in itself, whatever the path, so nothing is revealed); wrong role → 403 (a server
 * check, not a hidden button); POST → read the form and check its CSRF token; then the handler.
 * Errors become a 500 page and a log line; they never reach the client as a stack trace.
 */
export function createHandler(routes: Route[], env: ConsoleEnv) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const ctx = {
      req,
      res,
      url: new URL(req.url ?? '/', 'http://console.invalid'),
      ip: clientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], env.proxies),
      now: env.now(),
      env,
    } as RequestContext;
    // Over HTTPS the browser is told to use nothing else for a year (behind a proxy, the proxy says it).
    if (env.secure) res.setHeader('strict-transport-security', 'max-age=31536000');
    try {
      const cookies = parseCookies(req.headers.cookie);
      let session = await env.sessions.get(cookies[SESSION_COOKIE], ctx.now);
      // An account disabled, or a password changed, by ICT's CLI ends its sessions at their next request.
      const account = session ? await accountStillValid(env, session.userId, session.createdAt) : null;
      if (session && !account) {
        await env.sessions.endUser(session.userId);
        session = null;
      }
      if (session && account) {
        // The role as it is now, too.
        ctx.session = { ...session, user: account.name, role: account.role };
        session = ctx.session;
        // The account as it is now (a teacher's groups may have changed since sign-in).
        ctx.account = account;
        ctx.scope = account.scope;
      }
      let match: string[] = [];
      const candidates = routes.filter((r) => {
        if (typeof r.path === 'string') return r.path === ctx.url.pathname;
        const m = r.path.exec(ctx.url.pathname);
        if (m) match = m.slice(1);
        return m !== null;
      });
      const route = candidates.find((r) => r.method === req.method);
      const isPublic = route?.access === 'public';
      if (!isPublic && !session) {
        const next = req.method === 'GET' && route ? `?next=${encodeURIComponent(ctx.url.pathname + ctx.url.search)}` : '';
        return redirect(res, `/login${next}`);
      }
      if (!route) {
        if (candidates.length > 0) return messagePage(ctx, 405, 'Not allowed', `${req.method} is not used here.`);
        return messagePage(ctx, 404, 'Not found', 'There is no such page.');
      }
      if (!isPublic && !allowed(route.access, session!.role, env.loaded.config)) {
        // The start page of a role without the evidence (a teacher, an approver) is their own page.
        if (req.method === 'GET' && ctx.url.pathname === '/') return redirect(res, homeOf(session!.role));
        return await refusedPage(ctx, `Your role (${session!.role}) cannot do this; ask ICT.`);
      }
      if (req.method === 'POST') {
        ctx.form = await readForm(req);
        const expected = isPublic ? cookies[LOGIN_CSRF_COOKIE] : session!.csrf;
        if (!expected || !tokensMatch(ctx.form.get('_csrf'), expected)) {
          return messagePage(
            ctx,
            403,
            'Form expired',
            'The form was missing its security token or has expired. Go back, reload the page and try again.',
          );
        }
      }
      await route.handler(ctx, match);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        // The rest of the body is not read: the connection closes once the answer is sent.
        res.setHeader('connection', 'close');
        return messagePage(ctx, 413, 'Too large', 'The form was larger than 64 KB.');
      }
      if (e instanceof SharedUnavailableError) return sharedUnreachable(ctx, e);
      env.log.error({ err: e, path: ctx.url.pathname }, 'console request failed');
      if (!res.headersSent) messagePage(ctx, 500, 'Something went wrong', 'The error was logged. Try again, or ask ICT.');
      else res.end();
    }
  };
}

/**
 * Filters sharing a store keep their accounts and sessions there: while it cannot be reached nobody
 * can sign in or be recognised (503), but DNS filtering, which never waits on it, goes on. The page
 * is for anyone who reaches the console, signed in or not: it says only that much; the error (the
 * store's user, host, port and database, the driver's reason) goes to the log for ICT.
 */
function sharedUnreachable(ctx: RequestContext, e: SharedUnavailableError): void {
  ctx.env.log.warn({ err: e.message, path: ctx.url.pathname }, 'console: shared store unreachable');
  if (ctx.res.headersSent) return void ctx.res.end();
  sendHtml(
    ctx.res,
    503,
    page(
      'Shared store unreachable',
      html`<h1>The trust's shared store is unreachable</h1>
        <p>
          The console accounts and sessions of every filter are kept in the trust's shared PostgreSQL store, which cannot be
          reached now, so nobody can sign in here. DNS filtering is unaffected: every filter goes on answering and enforcing its
          policy and the exceptions it knows.
        </p>
        <p>Try again in a minute; if it persists, ask ICT to check the shared store (<code>webfilter shared status</code>).</p>`,
      null,
    ),
    { 'retry-after': '60' },
  );
}

/** Whether a signed-in role may use a route: `user` routes anyone, else any one of the route's permissions. */
function allowed(access: Access, role: Role, config: Config): boolean {
  if (access === 'public' || access === 'user') return true;
  return (typeof access === 'string' ? [access] : access).some((p) => may(role, p, config));
}

/** The session's account, or null when it has been disabled or its password changed since `since`. */
async function accountStillValid(env: ConsoleEnv, userId: number, since: number): Promise<User | null> {
  const user = await env.storage.accounts.userById(userId);
  return user !== null && user.disabledAt === null && user.passwordChangedAt <= since ? user : null;
}

/** The signed-in user as the page header shows them, with what their role may use (for the navigation). */
export function pageUser(ctx: RequestContext): PageUser {
  const { user, role, csrf } = ctx.session;
  return { user, role, csrf, may: (p) => may(role, p, ctx.env.loaded.config) };
}
