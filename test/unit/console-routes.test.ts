/**
 * The review console's route table in-process (test/helpers/console-inject.ts): every page asks for
 * a session, roles are checked by the server, forms need their CSRF token, sign-in makes a session
 * and audits it. The real server, its thread and TLS stay in the end-to-end tests.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { addUser } from '../../src/accounts/users.js';
import { createHandler, type Route } from '../../src/console/app.js';
import type { Html } from '../../src/console/html.js';
import { sendHtml } from '../../src/console/http.js';
import type { ConsoleEnv } from '../../src/console/context.js';
import { LoginLimiter } from '../../src/console/login-limiter.js';
import { ROUTES } from '../../src/console/routes.js';
import { SessionStore } from '../../src/console/sessions.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { Role } from '../../src/roles/roles.js';
import { loadStorage, storageLocation } from '../../src/storage/open.js';
import { LISTS, tempDir, testConfig } from '../helpers/daemon-process.js';
import { inject, setCookie } from '../helpers/console-inject.js';
import { TRUST_SCOPE } from '../../src/storage/scope.js';
import { formatShort } from '../../src/time/local-time.js';

const NOW = Date.UTC(2026, 10, 24, 10, 0, 0);
const PASSWORD = 'console-password-2026';

async function consoleEnv() {
  const dir = tempDir(LISTS);
  const file = path.join(dir, 'webfilter.yaml');
  writeFileSync(file, testConfig({ upstreams: [53] }));
  const loaded = await loadConfig(file);
  const storage = await loadStorage(storageLocation(loaded), 'write');
  const by = { actor: 'root', ip: 'cli', at: NOW - 60_000 };
  const users = {
    reviewer: await addUser(storage.accounts, 'oso.jones', 'reviewer', PASSWORD, by),
    ict: await addUser(storage.accounts, 'ict.smith', 'ict', PASSWORD, by),
    teacher: await addUser(storage.accounts, 't.smith', 'teacher', PASSWORD, by, ['students']),
  };
  const env: ConsoleEnv = {
    storage,
    loaded,
    sessions: new SessionStore({ idleMs: 3_600_000, absoluteMs: 8 * 3_600_000 }),
    logins: new LoginLimiter(() => NOW),
    proxies: [],
    secure: false,
    log: createLogger('silent'),
    now: () => NOW,
  };
  /** Echoes the scope a route handler is given (the review routes pass it to their queries). */
  const probe: Route = {
    method: 'GET',
    path: '/scope-probe',
    access: 'user',
    handler: (ctx) => sendHtml(ctx.res, 200, { text: JSON.stringify(ctx.scope) } as Html),
  };
  const handler = createHandler([...ROUTES, probe], env);
  /** A signed-in session of a role: its cookie header and CSRF token. */
  const as = async (role: Role & keyof typeof users) => {
    const u = users[role];
    const { token, session } = await env.sessions.create(u.id, u.name, u.role, NOW);
    return { cookie: `wf_session=${encodeURIComponent(token)}`, csrf: session.csrf };
  };
  return { env, handler, as, storage };
}

test('every page of the route table asks for a session first (nothing else is revealed)', async () => {
  const { handler, storage } = await consoleEnv();
  const pages = ROUTES.filter((r) => r.method === 'GET' && r.access !== 'public' && typeof r.path === 'string');
  assert.ok(pages.length >= 8, 'the table has the pages');
  for (const r of pages) {
    const res = await inject(handler, { url: r.path as string });
    assert.is(res.status, 303, String(r.path));
    assert.is(res.headers.location, `/login?next=${encodeURIComponent(r.path as string)}`, String(r.path));
  }
  const unknown = await inject(handler, { url: '/no/such/page' });
  assert.equal([unknown.status, unknown.headers.location], [303, '/login'], 'an unknown path says no more');
  await storage.close();
});

test('sign-in: the form’s token, a session cookie, the audit row; a wrong password gets 401 and no session', async () => {
  const { handler, storage } = await consoleEnv();
  const form = await inject(handler, { url: '/login' });
  assert.is(form.status, 200);
  const token = setCookie(form, 'wf_login')!;
  assert.ok(token && form.body.includes(`value="${token}"`), 'the CSRF token is in the cookie and the form');
  const post = (password: string) =>
    inject(handler, {
      method: 'POST',
      url: '/login',
      headers: { cookie: `wf_login=${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, user: 'oso.jones', password, next: '/signals' }).toString(),
      ip: '10.0.0.7',
    });
  const wrong = await post('not-the-password');
  assert.equal([wrong.status, setCookie(wrong, 'wf_session')], [401, undefined]);
  const ok = await post(PASSWORD);
  assert.equal([ok.status, ok.headers.location], [303, '/signals']);
  const session = setCookie(ok, 'wf_session')!;
  assert.ok(session);
  const page = await inject(handler, { url: '/signals', headers: { cookie: `wf_session=${encodeURIComponent(session)}` } });
  assert.is(page.status, 200);
  const audit = await storage.accounts.auditEntries({ since: NOW - 1, until: NOW + 1, scope: TRUST_SCOPE });
  assert.equal(audit.map((a) => [a.action, a.actor, a.ip]).sort(), [
    ['sign-in', 'oso.jones', '10.0.0.7'],
    ['sign-in-failed', 'oso.jones', '10.0.0.7'],
  ]);
  await storage.close();
});

test('roles are checked by the server: the audit page is ICT’s, the evidence is not a teacher’s', async () => {
  const { handler, as, storage } = await consoleEnv();
  const get = (url: string, who: Awaited<ReturnType<typeof as>>) => inject(handler, { url, headers: { cookie: who.cookie } });
  const reviewer = await as('reviewer');
  const ict = await as('ict');
  const teacher = await as('teacher');
  assert.is((await get('/', reviewer)).status, 200);
  assert.is((await get('/audit', reviewer)).status, 403);
  assert.is((await get('/audit', ict)).status, 200);
  // The detail's stored ISO UTC instants are shown in local time, as every other time on the page.
  const until = NOW + 5 * 3_600_000 + 30 * 60_000;
  await storage.accounts.audit({
    ts: NOW,
    actor: 'ict.smith',
    ip: '10.0.0.8',
    action: 'exception-add',
    target: 'exception 7',
    detail: `youtube for 10.20.1.0/24 until ${new Date(until).toISOString()}, approved by Head`,
  });
  const page = (await get(`/audit?since=${encodeURIComponent(new Date(NOW - 60_000).toISOString())}`, ict)).body;
  assert.ok(page.includes(`until ${formatShort(until)}, approved by Head`), 'the detail in local time');
  assert.not.ok(page.includes(new Date(until).toISOString()), 'no ISO UTC instant in the detail');
  assert.is((await get('/signals', teacher)).status, 403);
  const home = await get('/', teacher);
  assert.equal([home.status, home.headers.location], [303, '/requests'], 'a teacher’s start page is their own');
  assert.is((await get('/no/such/page', reviewer)).status, 404);
  assert.is((await inject(handler, { method: 'POST', url: '/signals', headers: { cookie: reviewer.cookie } })).status, 405);
  await storage.close();
});

test('a form without its session’s CSRF token changes nothing (403)', async () => {
  const { handler, as, storage } = await consoleEnv();
  const ict = await as('ict');
  const body = (csrf: string) =>
    new URLSearchParams({
      _csrf: csrf,
      group: 'students',
      categories: 'instagram',
      for: '50m',
      reason: 'Y9 project',
      approved_by: 'Head',
    }).toString();
  const forged = await inject(handler, {
    method: 'POST',
    url: '/exceptions',
    headers: { cookie: ict.cookie },
    body: body('forged'),
  });
  assert.is(forged.status, 403);
  assert.match(forged.body, /Form expired/);
  assert.equal(await storage.exceptions.all(), []);
  await storage.close();
});

test('every request carries the signed-in account’s scope to its handler (a single box: the whole store)', async () => {
  const { handler, as, storage } = await consoleEnv();
  for (const role of ['reviewer', 'ict', 'teacher'] as const) {
    const res = await inject(handler, { url: '/scope-probe', headers: { cookie: (await as(role)).cookie } });
    assert.equal([res.status, JSON.parse(res.body)], [200, { kind: 'trust' }], role);
  }
  await storage.close();
});

test.run();
