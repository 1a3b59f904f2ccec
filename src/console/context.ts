import type http from 'node:http';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { Cidr } from '../net/cidr.js';
import type { User } from '../storage/accounts.js';
import type { SiteScope } from '../storage/scope.js';
import type { Storage } from '../storage/storage.js';
import type { Notification } from '../alerts/notifier.js';
import type { SignInThrottle } from '../storage/sign-in-throttle.js';
import type { Session, SessionStore } from './sessions.js';

/** What every console handler can use. */
export interface ConsoleEnv {
  /** The console thread's own connection to the store. */
  storage: Storage;
  /** The daemon's config (groups, categories, exception rules), replaced on reload. */
  loaded: LoadedConfig;
  sessions: SessionStore;
  /** Failed sign-ins: the shared store's count with `shared`, else this console's memory. */
  logins: SignInThrottle;
  /** `console.trusted_proxies`: peers whose X-Forwarded-For names the client. */
  proxies: Cidr[];
  /** Served over HTTPS: cookies get Secure, responses HSTS. */
  secure: boolean;
  log: Logger;
  now: () => number;
  /**
   * Tells people through the configured alert channels (e-mail, webhook), via the daemon's
   * notifier (alerts/notifier.ts): queued with retries; dropped when no channel is configured.
   */
  notify?: (n: Notification) => void;
}

/** One request on its way through the console. */
export interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  /** Client address (IPv4-mapped IPv6 unwrapped; from X-Forwarded-For behind a trusted proxy). */
  ip: string;
  now: number;
  env: ConsoleEnv;
  /** Set on routes that need a signed-in user. */
  session: Session;
  /** The signed-in account as stored now (role, a teacher's groups), read at every request. */
  account: User;
  /**
   * Whose records this request may see and change: the signed-in account's scope (its sites, or
   * the whole trust), as stored now, read at every request (a `user scope` change applies at the
   * next request). Every route handler passes it to the repositories it reads (they put it in
   * their queries' WHERE clause) and checks it before changing a site's record; never widen it
   * from a query parameter. On a single box it is the whole trust: the store holds only this box.
   */
  scope: SiteScope;
  /** The parsed body of a POST. */
  form: URLSearchParams;
}

/** Records who did what from where (the access audit); the actor is the signed-in user unless given (sign-in). */
export function audit(
  ctx: RequestContext,
  action: string,
  target: string,
  detail = '',
  actor = ctx.session?.user ?? '',
): Promise<void> {
  return ctx.env.storage.accounts.audit({ ts: ctx.now, actor, ip: ctx.ip, action, target, detail });
}

/** The value of a query parameter, trimmed ("" when absent). */
export function param(ctx: RequestContext, name: string): string {
  return (ctx.url.searchParams.get(name) ?? '').trim();
}
