/**
 * End-to-end over HTTP against the real daemon: the console's connection caps and header timeout,
 * sign-in throttling that never locks the real user out, trusted proxies, the redirect after
 * sign-in, unknown names in the audit, undecodable cookies and oversized forms.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import {
  PASSWORDS,
  cookiesOf,
  csrfOf,
  request,
  signIn,
  startConsoleDaemon,
  throttle,
  type ConsoleDaemon,
  auditRows as auditTrailRows,
} from '../helpers/console-client.js';

let c: ConsoleDaemon;
test.before(async () => {
  c = await startConsoleDaemon({
    console: 'trusted_proxies: [127.0.0.1/32], max_connections: 8, max_connections_per_address: 3, headers_timeout_ms: 1000',
  });
});
test.after(async () => {
  await c.stop();
});

const port = () => Number(new URL(c.base).port);
const auditRows = () => auditTrailRows(c.d);

/** Opens a connection that sends nothing; resolves once connected, with a promise of its close. */
function silent(localAddress: string): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port: port(), localAddress });
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - opened)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Whether the server closes this connection within `ms` (it is closed by us afterwards either way). */
async function closedWithin(conn: { socket: net.Socket; closed: Promise<number> }, ms: number): Promise<boolean> {
  const t = await Promise.race([conn.closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
  conn.socket.destroy();
  return t !== null;
}

test('connections: capped per address and in total; silent ones are closed by the header timeout', async () => {
  const first = await Promise.all([1, 2, 3].map(() => silent('127.0.0.1')));
  const extra = await silent('127.0.0.1');
  // Trusted proxies are exempt from the per-address cap: 127.0.0.1 is one here, so use another address.
  const a = await Promise.all([1, 2, 3].map(() => silent('127.0.0.2')));
  const overPerAddress = await silent('127.0.0.2');
  assert.ok(await closedWithin(overPerAddress, 2000), 'a 4th connection from one address is closed at once');
  const b = await Promise.all([1, 2].map(() => silent('127.0.0.3')));
  const overTotal = await silent('127.0.0.4');
  assert.ok(await closedWithin(overTotal, 2000), 'a connection beyond the total is closed at once');
  // Every silent connection is closed by the server (headers_timeout_ms 1000, checked every second).
  for (const conn of [...first, extra, ...a, ...b]) assert.ok(await closedWithin(conn, 10_000), 'silent connection closed');
  assert.is((await request(c.base, '/login', { localAddress: '127.0.0.2' })).status, 200, 'and the console serves again');
});

test('sign-in: failures from another address never lock the real user out; from the same one they slow it down (unit tests: the wait ends)', async () => {
  for (let i = 0; i < 8; i++) {
    const r = await signIn(c.base, 'oso.jones', `guess-${i}`, { localAddress: '127.0.0.30' });
    assert.ok([401, 429].includes(r.response.status), String(r.response.status));
  }
  const real = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer, { localAddress: '127.0.0.31' });
  assert.ok(real.cookie, 'the right password from the OSO’s own address works at once');

  // From the guesser's own address the tries are slowed, not locked: each wait is twice the last.
  const refused = await throttle(c.base, 'ict.admin', '127.0.0.32', 4);
  assert.match(refused.body, /Too many failed sign-ins for this account from this address\. Try again in \d+ seconds\./);
  const held = await signIn(c.base, 'ict.admin', PASSWORDS.ict, { localAddress: '127.0.0.32' });
  assert.is(held.response.status, 429, 'during the wait even the right password waits');
  assert.ok((await signIn(c.base, 'ict.admin', PASSWORDS.ict, { localAddress: '127.0.0.33' })).cookie, 'not from elsewhere');
});

test('trusted proxies: X-Forwarded-For is the audited address from them only', async () => {
  await signIn(c.base, 'nobody.here', 'x', { localAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } });
  await signIn(c.base, 'nobody.else', 'x', { localAddress: '127.0.0.20', headers: { 'x-forwarded-for': '203.0.113.10' } });
  const ips = (await auditRows()).filter((a) => a.action === 'sign-in-failed').map((a) => a.ip);
  assert.ok(ips.includes('203.0.113.9'), 'behind the trusted proxy: the real client');
  assert.not.ok(ips.includes('203.0.113.10'), 'from anyone else the header is ignored');
  assert.ok(ips.includes('127.0.0.20'));
});

test('after sign-in: no open redirect, no 500 for a newline', async () => {
  for (const next of ['/\t/evil.example/phish', '/\n/evil.example', '//evil.example', '/\\evil.example']) {
    const r = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer, { localAddress: '127.0.0.40', next });
    assert.is(r.response.status, 303, JSON.stringify(next));
    assert.is(r.response.headers.location, '/', JSON.stringify(next));
  }
  const page = await request(c.base, '/login?next=%2F%09%2Fevil.example%2Fphish');
  assert.is(page.status, 200);
  assert.match(page.body, /name="next" value="\/"/);
  const ok = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer, { localAddress: '127.0.0.40', next: '/signals?kind=tunnel' });
  assert.is(ok.response.headers.location, '/signals?kind=tunnel');
});

test('audit: a password typed as the user name is not recorded or shown', async () => {
  const secret = 'MyRealPassword-2026!';
  const r = await signIn(c.base, secret, 'x', { localAddress: '127.0.0.41' });
  assert.is(r.response.status, 401);
  assert.not.ok(r.response.body.includes(secret), 'not echoed into the form');
  const rows = (await auditRows()).filter((a) => a.action === 'sign-in-failed');
  assert.not.ok(JSON.stringify(rows).includes(secret));
  assert.ok(rows.some((a) => /^unknown #[0-9a-f]{6} \(20 chars\)$/.test(a.target) && a.detail === 'unknown user'));
  const ict = await signIn(c.base, 'ict.admin', PASSWORDS.ict, { localAddress: '127.0.0.41' });
  const auditPage = await request(c.base, '/audit?since=1h', { cookie: ict.cookie });
  assert.is(auditPage.status, 200);
  assert.not.ok(auditPage.body.includes(secret), 'nor on the Audit page');
});

test('a malformed cookie is ignored; a form over 64 KB gets 413; no HSTS over plain HTTP', async () => {
  const bad = 'wf_session=%E0%A4%A';
  assert.is((await request(c.base, '/login', { cookie: bad })).status, 200);
  assert.is((await request(c.base, '/', { cookie: bad })).status, 303, 'to sign in, not a 500');
  const s = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer, { localAddress: '127.0.0.42' });
  assert.is((await request(c.base, '/', { cookie: `${bad}; ${s.cookie}` })).status, 200, 'the good cookie still works');
  const form = await request(c.base, '/login');
  const big = await request(c.base, '/login', {
    cookie: cookiesOf(form),
    form: { _csrf: csrfOf(form.body), user: 'x', password: 'y'.repeat(100_000) },
  });
  assert.is(big.status, 413);
  assert.match(big.body, /larger than 64 KB/);
  assert.is(form.headers['strict-transport-security'], undefined);
  // A body larger than its Content-Length promised is cut off the same way (read as it arrives).
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: port(),
        path: '/login',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(form) },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.write(`_csrf=${csrfOf(form.body)}&user=x&password=`);
    req.end('z'.repeat(70_000));
  });
  assert.is(chunked, 413);
});

test('exceptions: a domain a circumvention rule lists is refused on the console too, naming the rule', async () => {
  const r = await signIn(c.base, 'ict.admin', PASSWORDS.ict, { localAddress: '127.0.0.43' });
  const bad = await request(c.base, '/exceptions', {
    cookie: r.cookie,
    localAddress: '127.0.0.43',
    form: { _csrf: r.csrf, group: 'students', domain: 'dns.google', for: '20m', reason: 'r', approved_by: 'Head' },
  });
  assert.is(bad.status, 400);
  assert.match(bad.body, /id="domain-error">[^<]*dns.google&quot; is blocked by the circumvention rule encrypted-dns/);
  const good = await request(c.base, '/exceptions', {
    cookie: r.cookie,
    localAddress: '127.0.0.43',
    form: { _csrf: r.csrf, group: 'students', domain: 'google.com', for: '20m', reason: 'r', approved_by: 'Head' },
  });
  assert.is(good.status, 303, 'a name no locked list has is accepted');
});

test.run();
