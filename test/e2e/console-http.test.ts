/** End-to-end over HTTP: the review console's access rules — sign-in, roles, CSRF, limits, 404s, escaping. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import https from 'node:https';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ROUTES } from '../../src/console/routes.js';
import type { Route } from '../../src/console/app.js';
import type { Config } from '../../src/config/schema.js';
import { may, ROLES } from '../../src/roles/roles.js';
import { TYPE } from '../../src/dns/constants.js';
import { cli } from '../helpers/cli.js';
import {
  cookiesOf,
  csrfOf,
  PASSWORDS,
  request,
  signIn,
  startConsoleDaemon,
  throttle,
  type ConsoleDaemon,
  auditRows as auditTrailRows,
  USERS,
} from '../helpers/console-client.js';
import { udpQuery } from '../helpers/dns-client.js';
import { header, query } from '../helpers/wire-builder.js';
import { needTool } from '../helpers/tools.js';

let c: ConsoleDaemon;
test.before(async () => {
  c = await startConsoleDaemon();
});
test.after(async () => {
  await c.stop();
});

/** A concrete path for each route (patterns get a sample id). */
const pathOf = (p: string | RegExp) =>
  typeof p === 'string'
    ? p
    : p.source
        .replace(/^\^|\$$/g, '')
        .replace(/\(\\d\{1,9\}\)/g, '1')
        .replace(/\\\//g, '/');
/** A role whose table entry lets it use a route (the route's first permission). */
const roleFor = (r: Route): keyof typeof USERS => {
  if (r.access === 'public' || r.access === 'user') return 'ict';
  const needs = typeof r.access === 'string' ? [r.access] : r.access;
  const loaded = { requests: { ict_may_approve: false } } as unknown as Config;
  return ROLES.find((role) => needs.some((p) => may(role, p, loaded)))!;
};
const auditRows = () => auditTrailRows(c.d);

test('without a session every route (and any other path) sends the browser to sign in', async () => {
  const routes = ROUTES.filter((r) => r.access !== 'public');
  assert.ok(routes.length >= 12, `${routes.length} routes`);
  for (const r of routes) {
    const res = await request(c.base, pathOf(r.path), r.method === 'POST' ? { form: { _csrf: 'x' } } : {});
    assert.is(res.status, 303, `${r.method} ${pathOf(r.path)}`);
    assert.match(String(res.headers.location), /^\/login/, `${r.method} ${pathOf(r.path)}`);
  }
  for (const p of ['/nope', '/device?client=127.0.0.10', '/../etc/passwd']) {
    assert.is((await request(c.base, p)).status, 303, p);
  }
  assert.is((await request(c.base, '/login')).status, 200);
});

test('every state-changing route rejects a missing or wrong CSRF token (sign-in included)', async () => {
  const sessions = new Map<string, string>();
  for (const r of ROUTES.filter((x) => x.method === 'POST')) {
    // Signed in as a role that may use the route, so only the token is wrong.
    const role = roleFor(r);
    const [user, password] = USERS[role];
    if (!sessions.has(role)) sessions.set(role, (await signIn(c.base, user, password)).cookie);
    const cookie = r.access === 'public' ? cookiesOf(await request(c.base, '/login')) : sessions.get(role)!;
    for (const token of [undefined, 'forged-token']) {
      const form: Record<string, string> = {
        user: 'ict.admin',
        password: PASSWORDS.ict,
        reason: 'r',
        group: 'students',
        category: 'instagram',
        for: '10m',
        approved_by: 'h',
      };
      if (token) form._csrf = token;
      const res = await request(c.base, pathOf(r.path), { cookie, form });
      assert.is(res.status, 403, `${pathOf(r.path)} with ${token ?? 'no'} token`);
      assert.match(res.body, /security token/);
    }
  }
  assert.ok(!(await auditRows()).some((r) => /^(exception|request)-/.test(r.action)), 'nothing was added');
  const page = await request(c.base, '/exceptions', { cookie: sessions.get('ict') });
  assert.not.match(page.body, /Exception \d+ added/);
});

test('roles on every route: each role is refused (403) every route its table entry does not allow, by the server', async () => {
  const signedIn = Object.fromEntries(
    await Promise.all(Object.entries(USERS).map(async ([role, [u, pw]]) => [role, await signIn(c.base, u, pw)] as const)),
  );
  const config = { requests: { ict_may_approve: false } } as unknown as Config;
  let refused = 0;
  for (const r of ROUTES.filter((x) => x.access !== 'public' && x.access !== 'user')) {
    const needs = typeof r.access === 'string' ? [r.access] : (r.access as string[]);
    for (const role of ROLES) {
      const { cookie, csrf } = signedIn[role];
      const allowed = needs.some((p) => may(role, p as never, config));
      if (r.method === 'POST') {
        if (allowed) continue; // covered by the tests of each action
        const res = await request(c.base, pathOf(r.path), {
          cookie,
          form: {
            _csrf: csrf,
            group: 'sixth-form',
            category: 'instagram',
            lesson: '',
            until: '10m',
            for: '10m',
            reason: 'r',
            approved_by: 'h',
            note: '',
          },
        });
        assert.is(res.status, 403, `${role} POST ${pathOf(r.path)}`);
        assert.match(res.body, new RegExp(`Your role \\(${role}\\) cannot do this`));
        refused++;
      } else {
        const res = await request(c.base, pathOf(r.path), { cookie });
        // Allowed: the page answers (a download without its format says 400), never 403 or the sign-in page.
        if (allowed) assert.ok(res.status !== 403 && res.status !== 303, `${role} GET ${pathOf(r.path)}: ${res.status}`);
        else if (pathOf(r.path) === '/') {
          assert.is(res.status, 303, `${role} GET /: sent to their own start page`);
          assert.is(res.headers.location, '/requests');
        } else {
          assert.is(res.status, 403, `${role} GET ${pathOf(r.path)}`);
          refused++;
        }
      }
    }
  }
  assert.ok(refused >= 30, `${refused} refusals`);
  const rows = await auditRows();
  assert.ok(!rows.some((r) => /^(exception|request)-/.test(r.action) && r.detail.includes('sixth-form')), 'nothing was written');
  // The navigation shows each role only what it may open.
  const nav = async (role: keyof typeof USERS) => {
    const home = await request(c.base, role === 'teacher' || role === 'approver' ? '/requests' : '/', {
      cookie: signedIn[role].cookie,
    });
    return [...home.body.matchAll(/<a href="([^"]+)" class="[^"]*">/g)].map((m) => m[1]);
  };
  assert.equal(await nav('teacher'), ['/requests']);
  assert.equal(await nav('approver'), ['/requests', '/exceptions']);
  assert.equal(await nav('reviewer'), ['/', '/signals', '/blocked', '/devices', '/requests', '/exceptions', '/reports']);
  assert.equal(await nav('ict'), ['/', '/signals', '/blocked', '/devices', '/requests', '/exceptions', '/reports', '/audit']);
});

test('security headers, cookie attributes, and no caching of personal data', async () => {
  const login = await request(c.base, '/login');
  assert.match(String(login.headers['content-security-policy']), /default-src 'none'/);
  assert.is(login.headers['x-frame-options'], 'DENY');
  assert.is(login.headers['cache-control'], 'no-store');
  const { response } = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer);
  const session = (response.headers['set-cookie'] ?? []).find((s) => s.startsWith('wf_session='))!;
  assert.match(session, /HttpOnly/);
  assert.match(session, /SameSite=Strict/);
  assert.not.match(session, /Secure/, 'plain HTTP here: Secure only over HTTPS');
});

test('a reviewer can look but not change: exception add/revoke and the audit page are refused by the server', async () => {
  const add = await cli([
    'exception',
    'add',
    '--group',
    'students',
    '--category',
    'instagram',
    '--for',
    '1h',
    '--reason',
    'media',
    '--approved-by',
    'Head',
    '--config',
    c.d.configFile,
  ]);
  assert.is(add.code, 0, add.stderr);
  const r = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer);
  const page = await request(c.base, '/exceptions', { cookie: r.cookie });
  assert.is(page.status, 200);
  assert.not.match(page.body, /Add an exception/, 'no form for reviewers');
  const revoke = await request(c.base, '/exceptions/1/revoke', { cookie: r.cookie, form: { _csrf: r.csrf, reason: 'no' } });
  assert.is(revoke.status, 403);
  const addWeb = await request(c.base, '/exceptions', {
    cookie: r.cookie,
    form: { _csrf: r.csrf, group: 'students', category: 'facebook', for: '1h', reason: 'x', approved_by: 'y' },
  });
  assert.is(addWeb.status, 403);
  assert.is((await request(c.base, '/audit', { cookie: r.cookie })).status, 403);
  const list = await cli(['exception', 'list', '--json', '--config', c.d.configFile]);
  const active = JSON.parse(list.stdout) as { id: number; state: string }[];
  assert.equal(
    active.map((e) => [e.id, e.state]),
    [[1, 'active']],
    'still in force',
  );
});

test('ict: the add form validates with the CLI’s rules, each message next to its field; a good one is stored and audited', async () => {
  const r = await signIn(c.base, 'ict.admin', PASSWORDS.ict);
  const bad = await request(c.base, '/exceptions', {
    cookie: r.cookie,
    form: { _csrf: r.csrf, group: 'students', category: 'illegal', for: '90d', reason: '', approved_by: '' },
  });
  assert.is(bad.status, 400);
  assert.match(bad.body, /id="category-error">Category &quot;illegal&quot;: no such category/);
  assert.match(bad.body, /id="for-error">For 90d is longer than exceptions.max_duration/);
  assert.match(bad.body, /id="reason-error">Reason is required/);
  assert.match(bad.body, /id="approved_by-error">Approved by is required/);
  const good = await request(c.base, '/exceptions', {
    cookie: r.cookie,
    form: {
      _csrf: r.csrf,
      group: 'sixth-form',
      category: 'facebook',
      for: '20m',
      reason: 'Careers lesson',
      approved_by: 'Mrs Patel',
    },
  });
  assert.is(good.status, 303);
  assert.match(String(good.headers.location), /^\/exceptions\?added=\d+$/);
  const id = String(good.headers.location).split('=')[1];
  const revoke = await request(c.base, `/exceptions/${id}/revoke`, {
    cookie: r.cookie,
    form: { _csrf: r.csrf, reason: 'Lesson moved' },
  });
  assert.is(revoke.status, 303);
  const audit = (await auditRows()).filter((a) => a.actor === 'ict.admin');
  assert.ok(
    audit.some(
      (a) =>
        a.action === 'exception-add' && a.target === `exception ${id}` && /Careers lesson/.test(a.detail) && a.ip === '127.0.0.1',
    ),
  );
  assert.ok(audit.some((a) => a.action === 'exception-revoke' && a.target === `exception ${id}` && a.detail === 'Lesson moved'));
  const list = await cli(['exception', 'list', '--all', '--json', '--config', c.d.configFile]);
  const e = (JSON.parse(list.stdout) as { id: number; created_by: string; revoked_by: string }[]).find(
    (x) => String(x.id) === id,
  )!;
  assert.equal([e.created_by, e.revoked_by], ['ict.admin (console)', 'ict.admin (console)']);
});

test('unknown devices and ids get a friendly 404; bad filters get a message next to the field', async () => {
  const r = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer);
  for (const p of [
    '/device?client=10.99.99.99',
    '/device?name=nobody',
    '/device',
    '/device/export.json?client=10.99.99.99',
    '/no-such-page',
  ]) {
    const res = await request(c.base, p, { cookie: r.cookie });
    assert.is(res.status, 404, p);
    assert.not.match(res.body, /\w+Error|\bat .+:\d+:\d+\)/, 'no stack trace');
  }
  const ict = await signIn(c.base, 'ict.admin', PASSWORDS.ict);
  const gone = await request(c.base, '/exceptions/999/revoke', { cookie: ict.cookie, form: { _csrf: ict.csrf, reason: 'x' } });
  assert.is(gone.status, 404);
  const bad = await request(c.base, '/signals?since=yesterday-ish&group=nope&kind=magic', { cookie: r.cookie });
  assert.is(bad.status, 400);
  assert.match(bad.body, /id="since-error">use a duration/);
  assert.match(bad.body, /id="group-error">no such group/);
  assert.match(bad.body, /id="kind-error">no such kind/);
});

test('a hostile qname stored by the DNS path is shown as text everywhere', async () => {
  const evil = '<script>alert(1)</script>.facebook.com';
  const ans = await udpQuery(c.d.port, query(evil, TYPE.A), { localAddress: '127.0.0.10' });
  assert.ok(ans);
  await new Promise((res) => setTimeout(res, 300));
  const r = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer);
  for (const p of ['/blocked?since=1h', '/device?client=127.0.0.10', '/reports']) {
    const res = await request(c.base, p, { cookie: r.cookie });
    assert.not.match(res.body, /<script>alert/, p);
  }
  const overview = await request(c.base, '/', { cookie: r.cookie });
  assert.match(
    overview.body,
    /<rect class="b" x="\d+" y="\d+" width="\d+" height="[1-9]\d*"\s*><title>\d\d:00–\d\d:00: [1-9]\d* blocked/,
    'the hour chart has a bar',
  );
  const blocked = await request(c.base, '/blocked?since=1h', { cookie: r.cookie });
  assert.match(blocked.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;\.facebook\.com/);
  const dl = await request(c.base, '/reports/download?format=html&since=1h', { cookie: r.cookie });
  assert.not.match(dl.body, /<script>alert/);
  assert.match(String(dl.headers['content-disposition']), /attachment/);
});

test('sign-in is throttled per account and address with a clear message; failures and refusals are audited', async () => {
  for (let i = 0; i < 5; i++) {
    const bad = await signIn(c.base, 'oso.jones', `wrong-password-${i}`);
    assert.is(bad.response.status, 401);
    assert.match(bad.response.body, /do not match an active account/);
  }
  await throttle(c.base, 'oso.jones', '127.0.0.1', 4);
  const locked = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer);
  assert.is(locked.response.status, 429, 'from the same address, the next try waits (the wait doubles with each failure)');
  assert.match(locked.response.body, /Too many failed sign-ins for this account from this address\. Try again in \d+ seconds?\./);
  assert.is(locked.cookie, '');
  const other = await signIn(c.base, 'ict.admin', PASSWORDS.ict);
  assert.ok(other.cookie, 'another account is not affected');
  const failed = (await auditRows()).filter((a) => a.action === 'sign-in-failed' && a.target === 'oso.jones');
  assert.ok(failed.filter((a) => a.detail === 'wrong password').length >= 5);
  assert.ok(failed.some((a) => /too many failures/.test(a.detail)));
  const viaCli = await cli(['logs', 'audit', '--action', 'sign-in-failed', '--json', '--config', c.d.configFile]);
  assert.ok((JSON.parse(viaCli.stdout) as unknown[]).length >= 6, 'webfilter logs audit shows them too');
});

test('a disabled account is signed out at its next request and cannot sign in', async () => {
  const add = await cli(
    ['user', 'add', 'temp.user', '--role', 'reviewer', '--password-stdin', '--config', c.d.configFile],
    {},
    'temporary-password\n',
  );
  assert.is(add.code, 0, add.stderr);
  const r = await signIn(c.base, 'temp.user', 'temporary-password');
  assert.is((await request(c.base, '/', { cookie: r.cookie })).status, 200);
  const dis = await cli(['user', 'disable', 'temp.user', '--config', c.d.configFile]);
  assert.is(dis.code, 0, dis.stderr);
  assert.is((await request(c.base, '/', { cookie: r.cookie })).status, 303);
  assert.is((await signIn(c.base, 'temp.user', 'temporary-password')).response.status, 401);
  const short = await cli(
    ['user', 'add', 'x.user', '--role', 'ict', '--password-stdin', '--config', c.d.configFile],
    {},
    'short\n',
  );
  assert.is(short.code, 1);
  assert.match(short.stderr, /at least 12 characters/);
  const role = await cli(
    ['user', 'add', 'y.user', '--role', 'admin', '--password-stdin', '--config', c.d.configFile],
    {},
    'long-enough-password\n',
  );
  assert.is(role.code, 2);
  assert.match(role.stderr, /reviewer, ict|Choices/);
});

test('console.tls: served over HTTPS with the given certificate; the session cookie is Secure', async () => {
  needTool('openssl');
  const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-tls-'));
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { encoding: 'utf8' },
  );
  assert.is(made.status, 0, made.stderr);
  const t = await startConsoleDaemon({ tls: { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') } });
  try {
    assert.match(t.base, /^https:\/\//);
    const res = await new Promise<{ status: number; cookie: string; cert: string; hsts: string }>((resolve, reject) => {
      https
        .get(`${t.base}/login`, { rejectUnauthorized: false, agent: false }, (r) => {
          const cert = (r.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? '';
          r.resume();
          r.on('end', () =>
            resolve({
              status: r.statusCode ?? 0,
              cookie: String(r.headers['set-cookie'] ?? ''),
              cert,
              hsts: String(r.headers['strict-transport-security']),
            }),
          );
        })
        .on('error', reject);
    });
    assert.is(res.status, 200);
    assert.is(res.cert, 'localhost');
    assert.match(res.cookie, /; Secure/);
    assert.is(res.hsts, 'max-age=31536000', 'HSTS over HTTPS');
  } finally {
    await t.stop();
  }
});

test.run();
