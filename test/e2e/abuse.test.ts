/** End-to-end: abuse protections — rate limit, TCP caps and slowloris, no amplification, RFC 8482 ANY. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { tcpQuery, udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { closedWithin, connectFrom } from '../helpers/tcp-socket.js';

const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });
const withServer = (config: string, keys: string) => config.replace('  allowed_clients:', `${keys}\n  allowed_clients:`);

test('rate limit: a client over its rate gets header-only REFUSED, others are unaffected, all counted', async () => {
  const up = await startFakeUpstream(answer);
  const config = withServer(testConfig({ upstreams: [up.port] }), '  rate_limit: { qps: 1, burst: 5, action: refuse }');
  const d = await startDaemon(config, LISTS);
  try {
    const rcodes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const q = query(`n${i}.example`, TYPE.A, { edns: {} });
      const r = await udpQuery(d.port, q, { localAddress: '127.0.0.10' });
      assert.ok(r, `reply ${i}`);
      rcodes.push(header(r!).rcode);
      if (header(r!).rcode === RCODE.REFUSED) assert.ok(r!.length <= q.length, 'REFUSED is never larger than the query');
    }
    const answered = rcodes.filter((c) => c === RCODE.NOERROR).length;
    assert.ok(answered >= 5 && answered <= 6, `burst of 5 (+1 refill) answered, got ${answered}: ${rcodes}`);
    const other = await udpQuery(d.port, query('other.example'), { localAddress: '127.0.0.20' });
    assert.is(header(other!).rcode, RCODE.NOERROR, 'another client still has its own bucket');
    // Also over TCP: the same bucket (the address is the key, not the transport).
    const [tcp] = await tcpQuery(d.port, [query('tcp.example')], { localAddress: '127.0.0.10' });
    assert.is(header(tcp).rcode, RCODE.REFUSED);
    const text = await (await fetch(`http://${d.metrics}/metrics`)).text();
    assert.is(sampleValue(parseExposition(text), 'webfilter_rate_limited_total'), 12 - answered + 1);
  } finally {
    await d.stop();
    await up.close();
  }
});

test('rate limit, drop: over-limit queries get no answer at all', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(
    withServer(testConfig({ upstreams: [up.port] }), '  rate_limit: { qps: 1, burst: 2, action: drop }'),
    LISTS,
  );
  try {
    const replies = [];
    for (let i = 0; i < 4; i++)
      replies.push(await udpQuery(d.port, query(`d${i}.example`), { localAddress: '127.0.0.10', timeoutMs: 300 }));
    assert.is(replies.filter((r) => r !== null).length, 2);
  } finally {
    await d.stop();
    await up.close();
  }
});

test('TCP: a per-client connection cap, and a message trickled in byte by byte is cut off (slowloris)', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(
    withServer(
      testConfig({ upstreams: [up.port] }),
      '  tcp: { idle_timeout_ms: 5000, read_timeout_ms: 400, max_connections: 100, max_connections_per_client: 2 }',
    ),
    LISTS,
  );
  try {
    const a = await connectFrom(d.port, '127.0.0.20');
    const b = await connectFrom(d.port, '127.0.0.20');
    const c = await connectFrom(d.port, '127.0.0.20');
    assert.ok(await closedWithin(c, 1000), "the client's third connection is closed");
    const other = await tcpQuery(d.port, [query('other.example')], { localAddress: '127.0.0.10' });
    assert.is(other.length, 1, 'another client still connects');
    a.destroy();
    b.destroy();

    // Slowloris: one byte every 100 ms keeps the idle timer (5 s) happy but not the read timeout.
    const slow = await connectFrom(d.port, '127.0.0.30');
    const msg = query('slow.example');
    const framed = Buffer.concat([Buffer.from([0, msg.length]), msg]);
    let i = 0;
    const drip = setInterval(() => {
      if (i < framed.length && !slow.destroyed) slow.write(framed.subarray(i, ++i));
    }, 100);
    const t0 = Date.now();
    const cut = await closedWithin(slow, 3000);
    clearInterval(drip);
    assert.ok(cut, 'trickling connection closed');
    assert.ok(Date.now() - t0 < 2000, `closed after the read timeout, not the idle one (${Date.now() - t0} ms)`);

    // A message split over two writes a little apart is normal TCP, and is answered.
    const split = await connectFrom(d.port, '127.0.0.30');
    const got = new Promise<Buffer>((resolve) => split.once('data', resolve));
    split.write(framed.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 150));
    split.write(framed.subarray(7));
    assert.is(header((await got).subarray(2)).rcode, RCODE.NOERROR);
    split.destroy();
  } finally {
    await d.stop();
    await up.close();
  }
});

test('outside allowed_clients: REFUSED, never larger than the query, whatever it asked', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(testConfig({ upstreams: [up.port] }), LISTS);
  try {
    const cookie: [number, Buffer][] = [[10, Buffer.alloc(8, 7)]];
    const probes = [
      query('example.com'),
      query('example.com', TYPE.ANY),
      query('example.com', TYPE.TXT, { edns: { udpSize: 4096, options: cookie } }),
      query('a.b.c.d.e.example.com', TYPE.ANY, { edns: { udpSize: 65535, do: true } }),
    ];
    for (const q of probes) {
      const r = await udpQuery(d.port, q, { localAddress: '127.0.0.99' });
      assert.ok(r);
      assert.is(header(r!).rcode, RCODE.REFUSED);
      assert.ok(r!.length <= q.length, `reply ${r!.length} bytes ≤ query ${q.length}`);
      assert.is(header(r!).ancount, 0);
    }
    assert.is(up.received.length, 0, 'nothing was forwarded for outsiders');
  } finally {
    await d.stop();
    await up.close();
  }
});

test('ANY: the minimal RFC 8482 answer, never forwarded; ANY for a blocked name is blocked', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(testConfig({ upstreams: [up.port] }), LISTS);
  try {
    const q = query('example.com', TYPE.ANY, { edns: {} });
    const r = await udpQuery(d.port, q, { localAddress: '127.0.0.20' });
    const h = header(r!);
    assert.is(h.rcode, RCODE.NOERROR);
    assert.is(h.ancount, 1);
    assert.ok(r!.includes(Buffer.from('\x07RFC8482\x00', 'latin1')), 'one HINFO "RFC8482"');
    assert.ok(r!.length <= q.length + 32, `small answer (${r!.length} bytes)`);
    const [tcp] = await tcpQuery(d.port, [query('example.com', TYPE.ANY)], { localAddress: '127.0.0.20' });
    assert.is(header(tcp).ancount, 1, 'the same over TCP');
    assert.is(up.received.length, 0, 'ANY never reaches the upstream');
    const blocked = await udpQuery(d.port, query('www.facebook.com', TYPE.ANY), { localAddress: '127.0.0.10' });
    assert.is(header(blocked!).rcode, RCODE.NXDOMAIN, 'students: facebook blocked, ANY or not');
  } finally {
    await d.stop();
    await up.close();
  }
});

test.run();
