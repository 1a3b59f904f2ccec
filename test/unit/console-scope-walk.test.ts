/**
 * The scope walk (issue 17): a console of a filter with `shared` set, reading two schools' evidence
 * from a real PostgreSQL store. A reviewer scoped to site A walks every route of the route table
 * that reads evidence — the pages, a device's page, its JSON and CSV exports, the report and its
 * downloads, the audit, a review posted to a signal — also with direct URLs carrying site B's
 * devices, addresses, users, signal numbers and site name, and is never shown a trace of site B
 * (every name of site B carries "kshsecret"). A trust-wide reviewer sees both, each row with its site.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { addUser } from '../../src/accounts/users.js';
import { createHandler } from '../../src/console/app.js';
import type { ConsoleEnv } from '../../src/console/context.js';
import { LoginLimiter } from '../../src/console/login-limiter.js';
import { ROUTES } from '../../src/console/routes.js';
import { SessionStore } from '../../src/console/sessions.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { User } from '../../src/storage/accounts.js';
import { sitesScope, TRUST_SCOPE, type SiteScope } from '../../src/storage/scope.js';
import { LISTS, tempDir, testConfig } from '../helpers/daemon-process.js';
import { inject } from '../helpers/console-inject.js';
import { NOW, SITE_A, SITE_B, TAG, twoSites, type TwoSites } from '../helpers/evidence-sites.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';

const PASSWORD = 'console-password-2026';
const B = TAG[SITE_B];
const A = TAG[SITE_A];

let pg: PgCluster;
let s: TwoSites;

test.before(async () => {
  pg = await startPostgres();
  s = await twoSites(pg, 'scope_walk');
  // An access-audit row written at site B's filter (a sign-in there, a device viewed there).
  await pg.query(
    `INSERT INTO access_audit (site, node, local_id, ts, actor, ip, action, target, detail)
     VALUES ('${SITE_B}', 'dns1', NULL, ${NOW - 3_600_000}, '${B}.ict', '10.20.1.9', 'view-device', '${B}-lt-1', '')`,
    'scope_walk',
  );
});

test.after(async () => {
  await s?.close();
  await pg?.destroy();
});

/** The console of site A's filter (shared set), with accounts of the given scopes. */
async function consoleOf(scopes: Record<string, { role: 'reviewer' | 'ict'; scope: SiteScope }>) {
  const dir = tempDir(LISTS);
  const file = path.join(dir, 'webfilter.yaml');
  writeFileSync(
    file,
    testConfig({ upstreams: [53], extra: `site: ${SITE_A}\nnode: dns1\nshared: { postgres: { url: "${s.url}" } }` }),
  );
  const loaded = await loadConfig(file);
  const by = { actor: 'root', ip: 'cli', at: NOW - 60_000 };
  // The accounts of the shared store (PostgreSQL), each with its scope.
  const users: Record<string, User> = {};
  for (const [name, u] of Object.entries(scopes))
    users[name] = await addUser(
      s.shared.accounts,
      `${name}.${Object.keys(users).length}.${Date.now() % 1e6}`,
      u.role,
      PASSWORD,
      by,
      [],
      u.scope,
    );
  const env: ConsoleEnv = {
    storage: s.shared,
    loaded,
    sessions: new SessionStore({ idleMs: 3_600_000, absoluteMs: 8 * 3_600_000 }, s.shared.sessions),
    logins: new LoginLimiter(() => NOW),
    proxies: [],
    secure: false,
    log: createLogger('silent'),
    now: () => NOW,
  };
  const handler = createHandler(ROUTES, env);
  const as = async (name: string) => {
    const u = users[name];
    const { token, session } = await env.sessions.create(u.id, u.name, u.role, NOW);
    return { cookie: `wf_session=${encodeURIComponent(token)}`, csrf: session.csrf };
  };
  return { handler, as };
}

/** Query strings a reader might try on each page: none, site B's names, addresses, users, site filter. */
const PROBES = [
  '',
  `?since=30d`,
  `?since=30d&site=${SITE_B}`,
  `?since=30d&name=${B}-lt-1`,
  `?since=30d&name=${B}-pc-2&site=${SITE_B}`,
  `?since=30d&client=10.20.1.6`,
  `?since=30d&client=10.20.1.5&site=${SITE_B}`,
  `?since=30d&device=${B}`,
  `?since=30d&user=${B}.pupil`,
  `?since=30d&q=${B}`,
  `?since=30d&format=html`,
  `?since=30d&format=csv&site=${SITE_B}`,
  `?since=30d&format=html&site=${SITE_B}`,
];

/** The body with what the URL itself typed taken out (a filter field shows its value back). */
function shown(body: string, probe: string): string {
  let out = body;
  for (const v of new URLSearchParams(probe).values()) if (v.length > 3) out = out.split(v).join('');
  return out;
}

const EVIDENCE_GETS = ROUTES.filter((r) => r.method === 'GET' && typeof r.path === 'string' && r.access !== 'public');

test('a reviewer of site A walks every page, export and download, with site B’s names in the URL, and never sees site B', async () => {
  const { handler, as } = await consoleOf({ oso: { role: 'ict', scope: sitesScope([SITE_A]) } });
  const who = await as('oso');
  const walked = new Set<string>();
  let sawA = 0;
  for (const r of EVIDENCE_GETS) {
    for (const probe of PROBES) {
      const res = await inject(handler, { url: `${r.path}${probe}`, headers: { cookie: who.cookie } });
      assert.ok(res.status < 500, `${r.path}${probe}: ${res.status}`);
      const body = shown(res.body, probe);
      assert.not.ok(
        body.includes(B),
        `${r.path}${probe} shows site B: …${body.slice(Math.max(0, body.indexOf(B) - 200), body.indexOf(B) + 100)}…`,
      );
      if (body.includes(A)) sawA++;
      walked.add(r.path as string);
    }
  }
  for (const p of [
    '/',
    '/signals',
    '/blocked',
    '/devices',
    '/device',
    '/device/export.json',
    '/device/export.csv',
    '/reports',
    '/reports/download',
    '/audit',
  ])
    assert.ok(walked.has(p), `walked ${p}`);
  // Not vacuous: the same walk shows site A's own rows (pages, device page, exports, report).
  assert.ok(sawA > 20, `site A's rows were shown (${sawA})`);
  const own = await inject(handler, { url: `/device/export.json?name=${A}-lt-1`, headers: { cookie: who.cookie } });
  assert.is(own.status, 200);
  assert.match(own.body, `${A}-dns.example`);
  const other = await inject(handler, {
    url: `/device/export.csv?name=${B}-lt-1&site=${SITE_B}`,
    headers: { cookie: who.cookie },
  });
  assert.is(other.status, 404, 'site B’s device is no device to a reviewer of site A');
});

test('a reviewer of site A cannot review site B’s signal by its number (404, nothing written)', async () => {
  const { handler, as } = await consoleOf({ oso: { role: 'reviewer', scope: sitesScope([SITE_A]) } });
  const who = await as('oso');
  const trust = s.shared.reads({ scope: TRUST_SCOPE }).review;
  const signalB = (await trust.signals({ since: 0, until: NOW + 1 })).find((x) => x.site === SITE_B)!;
  const res = await inject(handler, {
    method: 'POST',
    url: `/signals/${signalB.id}/review`,
    headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: who.csrf, outcome: 'sanction', note: 'not mine', back: '/signals' }).toString(),
  });
  assert.is(res.status, 404);
  assert.not.ok(res.body.includes(B));
  const after = await s.shared.reads({ scope: TRUST_SCOPE }).signalReviews.signal(signalB.id);
  assert.is(after!.review, null);
});

test('an ICT account of site B at site A’s console: site B’s evidence only, and none of this filter’s exceptions or requests', async () => {
  const { handler, as } = await consoleOf({ ictb: { role: 'ict', scope: sitesScope([SITE_B]) } });
  const who = await as('ictb');
  const get = (url: string) => inject(handler, { url, headers: { cookie: who.cookie } });
  const signals = (await get('/signals?since=30d')).body;
  assert.ok(signals.includes(B) && !signals.includes(`${A}-`), 'the Signals page shows site B only');
  for (const url of ['/exceptions', '/requests']) assert.is((await get(url)).status, 403, url);
  const add = await inject(handler, {
    method: 'POST',
    url: '/exceptions',
    headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      _csrf: who.csrf,
      group: 'students',
      categories: 'instagram',
      for: '50m',
      reason: 'r',
      approved_by: 'h',
    }).toString(),
  });
  assert.is(add.status, 403, 'nor may it add an exception at site A');
});

test('a trust-wide reviewer sees both schools, with a site column and a site filter', async () => {
  const { handler, as } = await consoleOf({ head: { role: 'reviewer', scope: TRUST_SCOPE } });
  const who = await as('head');
  const get = async (url: string) => (await inject(handler, { url, headers: { cookie: who.cookie } })).body;
  for (const page of ['/signals?since=30d', '/blocked?since=30d', '/devices']) {
    const body = await get(page);
    assert.ok(body.includes(A) && body.includes(B), `${page} shows both sites`);
    assert.match(body, /<th>Site<\/th>/, `${page} has a site column`);
    assert.match(body, /name="site"/, `${page} has a site filter`);
  }
  const onlyB = await get(`/signals?since=30d&site=${SITE_B}`);
  assert.ok(onlyB.includes(B) && !onlyB.includes(`${A}-dns`), 'the site filter narrows to site B');
  const device = await get(`/device?name=${B}-lt-1&site=${SITE_B}&since=30d`);
  assert.match(device, `${B}-dns.example`);
});

test.run();
