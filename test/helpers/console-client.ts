/** A daemon with the review console on, its users, and a small HTTP client with cookies, for console tests. */
import http from 'node:http';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from './daemon-process.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { cli } from './cli.js';
import { reply, rr } from './wire-builder.js';
import { loadConfig } from '../../src/config/load.js';
import { auditTrail } from '../../src/review/audit-trail.js';
import type { AuditEntry } from '../../src/storage/accounts.js';
import { loadStorage, storageLocation } from '../../src/storage/open.js';
import { TRUST_SCOPE } from '../../src/storage/scope.js';

export const PASSWORDS = {
  reviewer: 'reviewer-password-1',
  ict: 'ict-password-12345',
  teacher: 'teacher-password-1',
  approver: 'approver-password-1',
};

/** The account of each role that startConsoleDaemon makes, and its password. */
export const USERS = {
  reviewer: ['oso.jones', PASSWORDS.reviewer],
  ict: ['ict.admin', PASSWORDS.ict],
  teacher: ['t.smith', PASSWORDS.teacher],
  approver: ['head.patel', PASSWORDS.approver],
} as const;

export interface ConsoleDaemon {
  d: DaemonProcess;
  up: FakeUpstream;
  /** "http://127.0.0.1:PORT" */
  base: string;
  stop(): Promise<void>;
}

/**
 * Daemon (console on an ephemeral port) + fake upstream + users oso.jones (reviewer), ict.admin
 * (ict), t.smith (teacher of `teacherGroups`, default sixth-form) and head.patel (approver).
 */
export async function startConsoleDaemon(
  opts: {
    tls?: { cert: string; key: string };
    /** More keys of the console section, e.g. "max_connections: 5". */
    console?: string;
    /** More top-level config (e.g. "timezone: Europe/London"). */
    extra?: string;
    /** The groups section (testConfig's form); clients then may be any of 127.0.0.0/8. */
    groups?: string;
    /** The teacher's groups (--groups). */
    teacherGroups?: string;
    /** Extra environment for the daemon and the CLI runs here, e.g. { TZ: 'UTC' } or a fake clock. */
    env?: Record<string, string>;
    /** Files the extra config names (e.g. an identity feed token). */
    files?: Record<string, string>;
  } = {},
): Promise<ConsoleDaemon> {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const config = testConfig({
    upstreams: [up.port],
    database: 'flush_ms: 20',
    groups: opts.groups,
    server: opts.groups ? '  listen: ["127.0.0.1:0"]\n  allowed_clients: [127.0.0.0/8]' : undefined,
    extra: `console: { enabled: true, listen: "127.0.0.1:0", login_attempts: { per_account: 5, per_address: 50, window_minutes: 15 }${opts.console ? `, ${opts.console}` : ''}${opts.tls ? `, tls: { cert: "${opts.tls.cert}", key: "${opts.tls.key}" }` : ''} }
circumvention:
  encrypted_dns: { lists: [doh.txt] }
clients:
  names: { "127.0.0.10": Y9-LT-07 }`,
  });
  const d = await startDaemon(
    `${config}\n${opts.extra ?? ''}\n`,
    { ...LISTS, 'doh.txt': 'dns.google\n', ...opts.files },
    { env: opts.env },
  );
  const listening = d.logs.find((l) => l.msg === 'webfilter listening')!;
  if (!listening.console) {
    const why = d.logs.filter((l) => /console/i.test(JSON.stringify(l)));
    await d.stop();
    throw new Error(`the console did not start with the daemon: ${JSON.stringify(why)}`);
  }
  const base = String(listening.console).replace(/\/$/, '');
  // Filters sharing a store: the first ict account is made by root alone, every later one as it (--account).
  const shared = /^shared:/m.test(opts.extra ?? '');
  const users = [...Object.entries(USERS).filter(([r]) => r === 'ict'), ...Object.entries(USERS).filter(([r]) => r !== 'ict')];
  for (const [role, [name, pw]] of users) {
    const groups = role === 'teacher' ? ['--groups', opts.teacherGroups ?? 'sixth-form'] : [];
    const as = shared && role !== 'ict' ? ['--account', USERS.ict[0]] : [];
    const r = await cli(
      ['user', 'add', name, '--role', role, ...groups, ...as, '--password-stdin', '--config', d.configFile],
      opts.env ?? {},
      as.length ? `${USERS.ict[1]}\n${pw}\n` : `${pw}\n`,
    );
    if (r.code !== 0) throw new Error(`user add ${name}: ${r.stderr}`);
  }
  return {
    d,
    up,
    base,
    stop: async () => {
      await d.stop();
      await up.close();
    },
  };
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection; `form` is sent url-encoded as a POST. */
export function request(
  base: string,
  path: string,
  opts: {
    cookie?: string;
    form?: Record<string, string | string[]>;
    /** Source address to connect from (a 127.x address plays another client). */
    localAddress?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const body = opts.form
    ? new URLSearchParams(
        Object.entries(opts.form).flatMap(([k, v]): [string, string][] =>
          Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v]],
        ),
      ).toString()
    : undefined;
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: body === undefined ? 'GET' : 'POST',
        agent: false,
        localAddress: opts.localAddress,
        headers: {
          ...opts.headers,
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
          ...(body !== undefined
            ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }
            : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The name=value pairs of Set-Cookie headers, as a Cookie header. */
export function cookiesOf(r: Response): string {
  return (r.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
}

/** The CSRF token in a page's forms. */
export function csrfOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
}

/** Signs in through the form; returns the session cookie and the session's CSRF token. */
export async function signIn(
  base: string,
  user: string,
  password: string,
  opts: { localAddress?: string; headers?: Record<string, string>; next?: string } = {},
): Promise<{ cookie: string; csrf: string; response: Response }> {
  const form = await request(base, '/login', { localAddress: opts.localAddress, headers: opts.headers });
  const loginCookie = cookiesOf(form);
  const response = await request(base, '/login', {
    cookie: loginCookie,
    localAddress: opts.localAddress,
    headers: opts.headers,
    form: { _csrf: csrfOf(form.body), user, password, next: opts.next ?? '/' },
  });
  const cookie = cookiesOf(response)
    .split('; ')
    .filter((c) => c.startsWith('wf_session='))
    .join('');
  if (!cookie) return { cookie: '', csrf: '', response };
  let home = await request(base, '/', { cookie });
  // A role without the overview (teacher, approver) is sent to its own start page.
  if (home.status === 303) home = await request(base, String(home.headers.location), { cookie });
  return { cookie, csrf: csrfOf(home.body), response };
}

/**
 * The access audit of a daemon's store as the Audit page shows it (accounts' rows and exception
 * changes), oldest first.
 */
export async function auditRows(d: DaemonProcess): Promise<AuditEntry[]> {
  const storage = await loadStorage(storageLocation(await loadConfig(d.configFile)), 'read-only');
  try {
    // Far ahead: a daemon under libfaketime (helpers/faketime.ts) writes rows in its own time.
    return (await auditTrail(storage, { since: 0, until: Number.MAX_SAFE_INTEGER, scope: TRUST_SCOPE }, undefined)).reverse();
  } finally {
    await storage.close();
  }
}

/**
 * Fails sign-in for `user` from `localAddress` until the console asks for a wait of at least
 * `seconds` (the wait doubles with each counted failure; tries during a wait are refused, not
 * counted). Returns the last refusal. A wait that long outlasts the next request however slow the
 * machine, so a test can then show the right password refused from there.
 */
export async function throttle(base: string, user: string, localAddress: string, seconds: number): Promise<Response> {
  const deadline = Date.now() + 60_000;
  for (let i = 0; Date.now() < deadline; i++) {
    const r = await signIn(base, user, `wrong-password-${i}`, { localAddress });
    const wait = /Try again in (\d+) second/.exec(r.response.body);
    if (r.response.status === 429 && wait && Number(wait[1]) >= seconds) return r.response;
    if (r.response.status !== 401 && r.response.status !== 429) throw new Error(`sign-in answered ${r.response.status}`);
  }
  throw new Error(`no wait of ${seconds} s within a minute`);
}
