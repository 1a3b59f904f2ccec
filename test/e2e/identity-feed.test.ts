/**
 * End-to-end: the identity feed (`POST /identity` on the metrics listener) of the real daemon. A
 * wrong token changes nothing; a good one maps the address (or an IPv6 prefix) at once; failed
 * sign-ins use up the caller's allowance.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { RCODE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const TOKEN = 'feed-token-0123456789abcdef';

/** POSTs JSON to /identity from `localAddress`; resolves with the status and parsed body. */
function post(
  d: DaemonProcess,
  body: unknown,
  token: string | null,
  localAddress = '127.0.0.1',
): Promise<{ status: number; body: any }> {
  const [host, port] = d.metrics!.split(':');
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port: Number(port),
        path: '/identity',
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function facebook(d: DaemonProcess, from: string): Promise<number> {
  const v6 = from.includes(':');
  const port = v6 ? Number(d.addresses[1].split(':').pop()) : d.port;
  const r = await udpQuery(port, query('facebook.com'), { localAddress: from, host: v6 ? '::1' : '127.0.0.1' });
  assert.ok(r, `no DNS answer for ${from}`);
  return header(r!).rcode;
}

test('feed: a wrong token is refused and changes nothing; a good one maps addresses and IPv6 prefixes', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const d = await startDaemon(
    testConfig({
      upstreams: [up.port],
      server: '  listen: ["127.0.0.1:0", "[::1]:0"]\n  allowed_clients: [127.0.0.0/8, "::1/128"]',
      categories: '  facebook: [facebook.txt]',
      groups: '  staff: { block: [] }\n  default: { block: [facebook] }',
      extra: 'identity:\n  feed: { enabled: true, token_file: token, requests_per_minute: 60 }',
    }),
    { 'facebook.txt': 'facebook.com\n', token: `${TOKEN}\n` },
    { beforeStart: (dir) => chmodSync(path.join(dir, 'token'), 0o600) },
  );
  const mapping = { address: '127.0.0.41', user: 'j.smith', group: 'staff', ttl: '8h' };
  try {
    for (const bad of [null, 'wrong-token-0123456789abcdef', `${TOKEN}x`, '']) {
      const r = await post(d, mapping, bad);
      assert.is(r.status, 401, `token ${bad}`);
    }
    assert.is(await facebook(d, '127.0.0.41'), RCODE.NXDOMAIN, 'nothing mapped');

    assert.equal(await post(d, mapping, TOKEN), { status: 200, body: { accepted: 1 } });
    assert.is(await facebook(d, '127.0.0.41'), RCODE.NOERROR, 'j.smith is staff');
    assert.is(await facebook(d, '127.0.0.42'), RCODE.NXDOMAIN);

    assert.is(await facebook(d, '::1'), RCODE.NXDOMAIN);
    assert.equal(await post(d, [{ address: '::/64', user: 'k.jones', group: 'staff' }], TOKEN), {
      status: 200,
      body: { accepted: 1 },
    });
    assert.is(await facebook(d, '::1'), RCODE.NOERROR, 'the /64 covers ::1');

    const bad = await post(d, [mapping, { address: '10.0.0.0/24', user: 'x' }], TOKEN);
    assert.equal(bad, {
      status: 400,
      body: { error: '[1].address: "10.0.0.0/24": an IPv4 identity is one address, not a network' },
    });
    assert.is((await post(d, '{"address":', TOKEN)).status, 400);
    assert.is((await post(d, { ...mapping, extra: 1 }, TOKEN)).status, 400, 'unknown keys are refused');

    assert.equal((await post(d, { address: '127.0.0.41', user: 'j.smith', logoff: true }, TOKEN)).status, 200);
    assert.is(await facebook(d, '127.0.0.41'), RCODE.NXDOMAIN, 'logged off: the address group again');

    const metrics = parseExposition(await (await fetch(`http://${d.metrics}/metrics`)).text());
    const count = (outcome: string) => sampleValue(metrics, 'webfilter_identity_feed_requests_total', { outcome });
    assert.equal([count('unauthorized'), count('accepted'), count('bad_request')], [4, 3, 3]);

    // Failed sign-ins cost ten requests each: six from one address exhaust its 60 a minute, and
    // then even the right token waits; other callers are unaffected.
    for (let i = 0; i < 6; i++) assert.is((await post(d, mapping, 'guess-0123456789abcdef', '127.0.0.5')).status, 401);
    assert.is((await post(d, mapping, TOKEN, '127.0.0.5')).status, 429);
    assert.is((await post(d, mapping, TOKEN, '127.0.0.6')).status, 200);
  } finally {
    assert.is((await d.stop()).code, 0);
    await up.close();
  }
});

test.run();
