/**
 * End to end: the console of a filter sharing its exceptions (a real, throwaway PostgreSQL): an
 * exception added or revoked there is written to the shared store with its audit row (who, from
 * where); with the store stopped the console says so and nothing is changed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PASSWORDS, request, signIn, startConsoleDaemon, type ConsoleDaemon } from '../helpers/console-client.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';

let pg: PgCluster;
let c: ConsoleDaemon;

test.before(async () => {
  pg = await startPostgres();
  const url = await pg.createDatabase('console');
  c = await startConsoleDaemon({
    extra: `site: kshs\nnode: dns1\nshared: { postgres: { url: "${url}", connect_timeout_ms: 1000, query_timeout_ms: 1000 } }`,
  });
});
test.after(async () => {
  await c?.stop();
  await pg?.destroy();
});

test('the console started', () => {
  assert.match(
    c.base,
    /^http:\/\/127\.0\.0\.1:\d+$/,
    JSON.stringify(c.d.logs.filter((l) => l.component === 'console' || /console/.test(String(l.msg)))),
  );
});

test('console add and revoke go to the shared store with their audit rows; with it stopped: a clear 503, nothing changed', async () => {
  const ict = await signIn(c.base, 'ict.admin', PASSWORDS.ict);
  assert.ok(ict.cookie, `signed in: ${ict.response.status} ${ict.response.body.slice(0, 300)}`);
  const form = { _csrf: ict.csrf, group: 'students', domain: 'youtube.com', for: '20m', reason: 'Assembly', approved_by: 'Head' };
  const added = await request(c.base, '/exceptions', { cookie: ict.cookie, form });
  assert.is(added.status, 303, added.body);
  const id = Number(/added=(\d+)/.exec(String(added.headers.location))?.[1]);
  assert.ok(id > 0, `redirected to ${added.headers.location}`);
  const rows = await pg.query<{ site: string; node: string; created_by: string }>(
    `SELECT site, node, created_by FROM exceptions WHERE id = ${id}`,
    'console',
  );
  assert.equal(
    [...rows].map((r) => [r.site, r.node, r.created_by]),
    [['kshs', 'dns1', 'ict.admin (console)']],
  );

  await pg.stop();
  try {
    const refused = await request(c.base, '/exceptions', { cookie: ict.cookie, form: { ...form, domain: 'vimeo.com' } });
    // The accounts and sessions are in the shared store too: the console cannot tell who asks (503).
    assert.is(refused.status, 503);
    assert.match(refused.body, /The trust's shared store is unreachable/);
    assert.match(refused.body, /DNS filtering is unaffected/);
    // The store's address and the driver's error go to the log, not to whoever reaches the page.
    assert.not.match(refused.body, /postgres@|127\.0\.0\.1:\d|ECONNREFUSED/);
    const notRevoked = await request(c.base, `/exceptions/${id}/revoke`, {
      cookie: ict.cookie,
      form: { _csrf: ict.csrf, reason: 'done' },
    });
    assert.is(notRevoked.status, 503);
    assert.match(notRevoked.body, /The trust's shared store is unreachable/);
  } finally {
    await pg.start();
  }
  const revoked = await request(c.base, `/exceptions/${id}/revoke`, {
    cookie: ict.cookie,
    form: { _csrf: ict.csrf, reason: 'done' },
  });
  assert.is(revoked.status, 303, revoked.body);
  const audit = await pg.query<{ action: string; actor: string; ip: string }>(
    'SELECT action, actor, ip FROM exception_audit ORDER BY id',
    'console',
  );
  assert.equal(
    [...audit].map((r) => [r.action, r.actor, r.ip]),
    [
      ['added', 'ict.admin', '127.0.0.1'],
      ['revoked', 'ict.admin', '127.0.0.1'],
    ],
  );
  assert.equal([...(await pg.query('SELECT 1 FROM exceptions', 'console'))].length, 1, 'nothing added while it was down');
});

test.run();
