/** Unit: the review console's building blocks — escaping, password hashing, sessions (sign-in limits: console-hardening.test.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { html, dataTable } from '../../src/console/html.js';
import { hashPassword, passwordProblem, verifyPassword, DUMMY_HASH } from '../../src/accounts/passwords.js';
import { SessionStore, tokensMatch } from '../../src/console/sessions.js';

const HOSTILE = `<script>alert("x")</script>'&`;

test('html: every interpolated value is escaped, fragments are not double-escaped', () => {
  const out = html`<p title="${HOSTILE}">${HOSTILE}${html`<b>${HOSTILE}</b>`}${[HOSTILE, html`<i>ok</i>`]}</p>`.text;
  assert.not.match(out, /<script>/);
  assert.match(out, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&#39;&amp;/);
  assert.match(out, /<b>&lt;script&gt;/);
  assert.match(out, /<i>ok<\/i>/);
  const table = dataTable([{ q: HOSTILE }], { Name: (r) => r.q }).text;
  assert.not.match(table, /<script>/);
});

test('passwords: scrypt hash with salt; the right password verifies, others and malformed hashes do not', async () => {
  const h1 = await hashPassword('correct horse battery');
  const h2 = await hashPassword('correct horse battery');
  assert.match(h1, /^scrypt\$32768\$8\$1\$/);
  assert.is.not(h1, h2, 'salted');
  assert.not.match(h1, /correct/);
  assert.ok(await verifyPassword('correct horse battery', h1));
  assert.not.ok(await verifyPassword('correct horse batterz', h1));
  assert.not.ok(await verifyPassword('anything', 'md5$abc'));
  assert.not.ok(await verifyPassword('anything', DUMMY_HASH));
  assert.ok(passwordProblem('short'));
  assert.is(passwordProblem('twelve chars'), null);
});

test('sessions: idle and absolute expiry; ending a user ends all their sessions', async () => {
  const s = new SessionStore({ idleMs: 1000, absoluteMs: 5000 });
  const a = await s.create(1, 'jo', 'reviewer', 0);
  assert.ok(await s.get(a.token, 900));
  assert.ok(await s.get(a.token, 1800), 'each request refreshes the idle timer');
  assert.is(await s.get(a.token, 2900), null, 'idle too long');
  const b = await s.create(1, 'jo', 'reviewer', 10_000);
  for (let t = 10_500; t < 15_000; t += 500) assert.ok(await s.get(b.token, t));
  assert.is(await s.get(b.token, 15_001), null, 'absolute limit, however active');
  const c = await s.create(2, 'al', 'ict', 20_000);
  const d = await s.create(2, 'al', 'ict', 20_000);
  await s.endUser(2);
  assert.is(await s.get(c.token, 20_001), null);
  assert.is(await s.get(d.token, 20_001), null);
  assert.is(await s.get('forged', 20_001), null);
  assert.ok(tokensMatch(c.session.csrf, c.session.csrf));
  assert.not.ok(tokensMatch('x', c.session.csrf));
  assert.not.ok(tokensMatch(undefined, c.session.csrf));
});

test.run();
