/** End-to-end: /metrics after a known mix of queries, /healthz and /readyz. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { tcpQuery, udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';

const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 300)] });

async function get(d: DaemonProcess, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${d.metrics}${path}`);
  return { status: res.status, body: await res.text() };
}

test('exact counters after a known mix of queries; no label is a client address or a queried name', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(testConfig({ upstreams: [up.port] }), LISTS);
  const clients = ['127.0.0.10', '127.0.0.20', '127.0.0.99'];
  const names = [
    'facebook.com',
    'www.facebook.com',
    'm.facebook.com',
    'news.example',
    'weather.example',
    'use-application-dns.net',
  ];
  try {
    const ask = async (name: string, client: string, type: number = TYPE.A) =>
      header((await udpQuery(d.port, query(name, type), { localAddress: client }))!);
    for (const n of names.slice(0, 3)) assert.is((await ask(n, '127.0.0.10')).rcode, RCODE.NXDOMAIN);
    assert.is((await ask('news.example', '127.0.0.20')).rcode, RCODE.NOERROR);
    assert.is((await ask('weather.example', '127.0.0.20', TYPE.AAAA)).rcode, RCODE.NOERROR);
    assert.is((await ask('news.example', '127.0.0.20')).rcode, RCODE.NOERROR); // cache hit
    const [tcp] = await tcpQuery(d.port, [query('news.example', TYPE.HTTPS)], { localAddress: '127.0.0.20' });
    assert.is(header(tcp).rcode, RCODE.NOERROR);
    assert.is((await ask('news.example', '127.0.0.99')).rcode, RCODE.REFUSED);
    const bad = query('x.example');
    bad.writeUInt16BE(2, 4);
    assert.is(header((await udpQuery(d.port, bad, { localAddress: '127.0.0.10' }))!).rcode, RCODE.FORMERR);
    assert.is((await ask('use-application-dns.net', '127.0.0.10')).rcode, RCODE.NXDOMAIN);

    // The signal is counted once the evidence writer has seen it.
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = (await get(d, '/metrics')).body;
      if (
        sampleValue(parseExposition(text), 'webfilter_circumvention_signals_total', { group: 'students', kind: 'doh-canary' }) ===
        1
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const samples = parseExposition(text);
    const v = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);
    assert.is(v('webfilter_blocked_total', { group: 'students', category: 'facebook' }), 3);
    assert.is(v('webfilter_blocked_total', { group: 'students', category: 'doh-canary' }), 1);
    assert.is(v('webfilter_responses_total', { group: 'students', result: 'blocked' }), 4);
    assert.is(v('webfilter_responses_total', { group: 'sixth-form', result: 'forwarded' }), 3);
    assert.is(v('webfilter_responses_total', { group: 'sixth-form', result: 'cached' }), 1);
    assert.is(v('webfilter_responses_total', { group: 'none', result: 'refused' }), 1);
    assert.is(v('webfilter_responses_total', { group: 'none', result: 'formerr' }), 1);
    assert.is(v('webfilter_queries_total', { protocol: 'udp', group: 'students', qtype: 'A' }), 4);
    assert.is(v('webfilter_queries_total', { protocol: 'udp', group: 'sixth-form', qtype: 'AAAA' }), 1);
    assert.is(v('webfilter_queries_total', { protocol: 'tcp', group: 'sixth-form', qtype: 'HTTPS' }), 1);
    assert.is(v('webfilter_request_duration_seconds_count', { result: 'blocked' }), 4);
    assert.is(v('webfilter_request_duration_seconds_count', { result: 'forwarded' }), 3);
    assert.is(v('webfilter_request_duration_seconds_bucket', { result: 'cached', le: '+Inf' }), 1);
    assert.is(v('webfilter_circumvention_signals_total', { group: 'students', kind: 'doh-canary' }), 1);
    assert.is(v('webfilter_cache_hits_total'), 1);
    assert.is(v('webfilter_cache_entries'), 3);
    assert.is(v('webfilter_blocklist_entries', { category: 'facebook' }), 3);
    assert.is(v('webfilter_blocklist_entries', { category: 'doh-canary' }), 1);
    assert.is(v('webfilter_upstream_requests_total', { upstream: `127.0.0.1:${up.port}`, outcome: 'ok' }) >= 3, true);
    assert.is(v('webfilter_config_reload_total', { outcome: 'success' }), 1);
    assert.is(v('webfilter_log_dropped_total'), 0);
    assert.ok(v('webfilter_last_reload_timestamp_seconds') > Date.now() / 1000 - 60);
    assert.ok(samples.some((s) => s.name === 'webfilter_build_info' && s.labels.node === process.versions.node));
    assert.ok(
      samples.some((s) => s.name === 'process_resident_memory_bytes'),
      'default process metrics',
    );
    for (const s of samples) {
      for (const value of Object.values(s.labels)) {
        for (const c of clients) assert.not.ok(value.includes(c), `${s.name} has a client address label: ${value}`);
        for (const n of names) assert.not.ok(value.includes(n), `${s.name} has a queried name label: ${value}`);
      }
    }

    // A failed reload is counted.
    writeFileSync(d.configFile, 'nonsense: [');
    d.child.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === 'reload rejected: keeping the previous config');
    assert.is(
      sampleValue(parseExposition((await get(d, '/metrics')).body), 'webfilter_config_reload_total', { outcome: 'failure' }),
      1,
    );
  } finally {
    await d.stop();
    await up.close();
  }
});

test('/healthz answers; /readyz is 200 once an upstream answered, 503 with a reason when none does', async () => {
  const good = await startFakeUpstream(answer);
  const d = await startDaemon(testConfig({ upstreams: [good.port] }), LISTS);
  try {
    const health = await get(d, '/healthz');
    assert.is(health.status, 200);
    assert.is(JSON.parse(health.body).status, 'ok');
    let ready = await get(d, '/readyz');
    for (let i = 0; i < 30 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await get(d, '/readyz');
    }
    assert.is(ready.status, 200, 'the start-up probe found the upstream');
    assert.is((await get(d, '/nope')).status, 404);
  } finally {
    await d.stop();
    await good.close();
  }
  const dead = await startFakeUpstream(() => null, { answerProbes: false });
  const d2 = await startDaemon(testConfig({ upstreams: [dead.port], metrics: 'upstream_fresh_seconds: 5' }), LISTS);
  try {
    const ready = await get(d2, '/readyz');
    assert.is(ready.status, 503);
    assert.match(JSON.parse(ready.body).reason, /no upstream has answered within 5 s \(last good answer: never\)/);
  } finally {
    await d2.stop();
    await dead.close();
  }
});

test.run();
