/**
 * End-to-end list subscriptions with the real daemon, the real CLI and a real HTTPS list server on
 * loopback (its certificate from a private test CA, trusted through subscriptions.tls_ca, as a local
 * authority's list server would be): a subscribed name is blocked, `lists update` swaps a new copy
 * into the running daemon, and a restart without the server still enforces the stored copy.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RCODE } from '../../src/dns/constants.js';
import { cli } from '../helpers/cli.js';
import { startDaemon, testConfig, type DaemonProcess } from '../helpers/daemon-process.js';
import { udpQuery } from '../helpers/dns-client.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { startListServer } from '../helpers/list-server.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { makeTestCa } from '../helpers/test-ca.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const STUDENT = { localAddress: '127.0.0.10' };
const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });

async function rcode(d: DaemonProcess, name: string): Promise<number> {
  return header((await udpQuery(d.port, query(name), STUDENT))!).rcode;
}

async function metrics(d: DaemonProcess) {
  return parseExposition(await (await fetch(`http://${d.metrics}/metrics`)).text());
}

test('a subscribed list blocks end to end, updates in place, and survives a restart without its server', async () => {
  const ca = makeTestCa();
  const server = await startListServer(ca.issue('lists.test', { ip: ['127.0.0.1'] }));
  const up = await startFakeUpstream(answer);
  const url = server.url('/gambling.txt');
  server.set('/iwf.txt', { body: 'abuse.example\n' });
  server.set('/gambling.txt', {
    body: '# test gambling list\nbet-now.example\n||casino.example^\nslots.example\n',
    etag: '"g1"',
  });
  const config = testConfig({
    upstreams: [up.port],
    categories: `  facebook: [facebook.txt]\n  gambling: { lists: ["${url}", local-gambling.txt], refresh: 1h }\n  illegal: { lists: ["${server.url('/iwf.txt')}"], locked: true }`,
    groups: '  students: { clients: [127.0.0.10/32], block: [gambling] }\n  default: { block: [] }',
    extra: `subscriptions: { tls_ca: ${ca.certFile}, timeout_ms: 2000 }`,
  });
  const files = { 'facebook.txt': 'facebook.com\n', 'local-gambling.txt': 'local-bet.example\n' };
  let d = await startDaemon(config, files);
  try {
    // The first fetch runs once the daemon is up (after privileges are dropped), then swaps the policy.
    await d.waitForLog((l) => l.msg === 'lists updated: new policy in use');
    assert.is(await rcode(d, 'www.casino.example'), RCODE.NXDOMAIN, 'a name from the subscribed list');
    assert.is(await rcode(d, 'local-bet.example'), RCODE.NXDOMAIN, 'the category’s file still counts');
    assert.is(await rcode(d, 'news.example'), RCODE.NOERROR);
    // A locked subscribed list (an IWF feed): no exception may open a name in it.
    await d.waitForLog((l) => l.msg === 'list subscription updated: ' + `${server.url('/iwf.txt')}: updated, +1 −0 (1 entry)`);
    const ex = await cli([
      'exception',
      'add',
      '--client',
      '127.0.0.20',
      '--domain',
      'abuse.example',
      '--for',
      '1h',
      '--reason',
      'r',
      '--approved-by',
      'h',
      '--config',
      d.configFile,
    ]);
    assert.is(ex.code, 1, ex.stdout + ex.stderr);
    assert.match(ex.stderr, /locked/);
    assert.ok(ex.stderr.includes(`${server.url('/iwf.txt')}:1`), ex.stderr);
    let m = await metrics(d);
    assert.is(sampleValue(m, 'webfilter_list_entries', { category: 'gambling' }), 3);
    assert.is(sampleValue(m, 'webfilter_list_fetch_total', { category: 'gambling', result: 'updated' }), 1);
    assert.is(sampleValue(m, 'webfilter_list_refresh_seconds', { category: 'gambling' }), 3600);
    assert.ok(sampleValue(m, 'webfilter_list_age_seconds', { category: 'gambling' }) < 60);

    // A new version: `lists update` fetches it, prints the change, and the running daemon applies it.
    server.set('/gambling.txt', { body: 'bet-now.example\n||casino.example^\npoker.example\n', etag: '"g2"' });
    const seen = d.logs.length;
    const upd = await cli(['lists', 'update', 'gambling', '--config', d.configFile]);
    assert.is(upd.code, 0, upd.stderr);
    assert.match(upd.stdout, new RegExp(`gambling: ${url.replace(/[.]/g, '\\.')}: updated, \\+1 −1 \\(3 entries\\)`));
    await d.waitForLog((l) => l.msg === 'list subscription: a new copy was stored by another process');
    await d.waitForLog((l) => l.msg === 'lists updated: new policy in use' && d.logs.indexOf(l) >= seen);
    assert.is(await rcode(d, 'poker.example'), RCODE.NXDOMAIN, 'the added name is blocked');
    assert.is(await rcode(d, 'slots.example'), RCODE.NOERROR, 'the removed name is not');

    // Unchanged on the server: a conditional request, 304.
    const again = await cli(['lists', 'update', '--config', d.configFile]);
    assert.match(again.stdout, /no change \(3 entries, 304 Not Modified\)/);
    await d.stop();

    // Restart with the server gone: the stored copy is enforced, its age logged, the failure shown.
    await server.close();
    d = await startDaemon(config, files, { dir: d.dir });
    const loaded = await d.waitForLog((l) => l.msg === 'subscribed list copy loaded');
    assert.is(loaded.entries, 3);
    assert.ok(typeof loaded.copy_age === 'string');
    assert.is(await rcode(d, 'poker.example'), RCODE.NXDOMAIN, 'blocked from the stored copy, without the server');
    const failed = await cli(['lists', 'update', '--config', d.configFile]);
    assert.is(failed.code, 1);
    assert.match(failed.stdout, /fetch failed: connect ECONNREFUSED .*; keeping the last good copy \(3 entries\)/);
    assert.is(await rcode(d, 'poker.example'), RCODE.NXDOMAIN, 'still blocked');
    m = await metrics(d);
    assert.is(sampleValue(m, 'webfilter_list_entries', { category: 'gambling' }), 3);
    const show = await cli(['lists', 'show', 'gambling', '--config', d.configFile]);
    assert.is(show.code, 0, show.stderr);
    assert.match(show.stdout, /Subscriptions/);
    assert.ok(show.stdout.includes(url), show.stdout);
    assert.match(show.stdout, /"g2"/);
    assert.match(show.stdout, /ECONNREFUSED/);
    const js = JSON.parse((await cli(['lists', 'show', 'gambling', '--json', '--config', d.configFile])).stdout);
    assert.is(js[0].subscriptions[0].entries, 3);
    assert.is(js[0].subscriptions[0].etag, '"g2"');
    assert.is(js[0].subscriptions[0].last_result, 'error');
    assert.ok(js[0].subscriptions[0].age_seconds >= 0);
  } finally {
    await d.stop();
    await server.close().catch(() => {});
    up.close();
    ca.remove();
  }
});

test('a category whose list has never been fetched still starts; the age is +Inf until it is', async () => {
  const up = await startFakeUpstream(answer);
  const config = testConfig({
    upstreams: [up.port],
    categories: `  facebook: [facebook.txt]\n  adult: { lists: ["https://127.0.0.1:1/adult.txt"] }`,
    groups: '  default: { block: [adult] }',
    extra: 'subscriptions: { timeout_ms: 1000 }',
  });
  const d = await startDaemon(config, { 'facebook.txt': 'facebook.com\n' });
  try {
    await d.waitForLog((l) => l.msg === 'subscribed list not fetched yet: not enforced until it is');
    await d.waitForLog((l) => String(l.msg).startsWith('list subscription: fetch gave no copy'));
    const m = await metrics(d);
    assert.is(sampleValue(m, 'webfilter_list_age_seconds', { category: 'adult' }), Infinity);
    assert.is(sampleValue(m, 'webfilter_list_fetch_total', { category: 'adult', result: 'error' }), 1);
    assert.is(sampleValue(m, 'webfilter_list_entries', { category: 'adult' }), 0);
    assert.is(await rcode(d, 'news.example'), RCODE.NOERROR, 'DNS works meanwhile');
  } finally {
    await d.stop();
    up.close();
  }
});

test.run();
