/** End-to-end over HTTP: the review console's user filter and column (a user named by the identity feed). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RCODE } from '../../src/dns/constants.js';
import { PASSWORDS, request, signIn, startConsoleDaemon } from '../helpers/console-client.js';
import { udpQuery } from '../helpers/dns-client.js';
import { until } from '../helpers/wait.js';
import { header, query } from '../helpers/wire-builder.js';

const TOKEN = 'console-test-token-0123456789';

test('blocked attempts and signals: a User column, and a user filter', async () => {
  const c = await startConsoleDaemon({
    extra: 'identity: { feed: { enabled: true, token_file: token } }',
    files: { token: `${TOKEN}\n` },
  });
  try {
    const fed = await fetch(`http://${c.d.metrics}/identity`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ address: '127.0.0.10', user: 'k.jones', group: 'not-a-group' }),
    });
    assert.is(fed.status, 200);
    for (const name of ['www.facebook.com', 'dns.google']) {
      const r = await udpQuery(c.d.port, query(name), { localAddress: '127.0.0.10' });
      assert.is(header(r!).rcode, RCODE.NXDOMAIN, `${name}: blocked for the students (the user's group is not configured)`);
    }
    const s = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer);
    const page = await until(async () => {
      const res = await request(c.base, '/blocked?since=1h&user=k.jones', { cookie: s.cookie });
      return res.body.includes('www.facebook.com') ? res : undefined;
    }, 'the blocked attempt on the page');
    assert.is(page.status, 200);
    assert.match(page.body, /<th>User<\/th>/);
    assert.match(page.body, /<td data-label="User"[^>]*>k\.jones<\/td>/);
    assert.match(page.body, /name="user"\s+value="k\.jones"/, 'the form keeps the filter');
    const none = await request(c.base, '/blocked?since=1h&user=someone.else', { cookie: s.cookie });
    assert.not.match(none.body, /www\.facebook\.com/);
    assert.match(none.body, /No blocked attempts match/);
    const signals = await until(async () => {
      const res = await request(c.base, '/signals?since=1h&user=k.jones', { cookie: s.cookie });
      return res.body.includes('dns.google') ? res : undefined;
    }, 'the signal on the page');
    assert.match(signals.body, /<td data-label="User"[^>]*>k\.jones<\/td>/);
  } finally {
    await c.stop();
  }
});

test.run();
