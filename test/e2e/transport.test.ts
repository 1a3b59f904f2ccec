/** End-to-end: TCP connection limits and timeouts, IPv6 listeners and groups. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { tcpQuery, udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import { closedWithin, connectFrom } from '../helpers/tcp-socket.js';

const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });

test('TCP: idle connections are closed, the connection cap holds, and a connection ends after its query limit', async () => {
  const up = await startFakeUpstream(answer);
  const config = testConfig({ upstreams: [up.port] }).replace(
    '  allowed_clients:',
    '  tcp: { idle_timeout_ms: 300, max_connections: 2, max_queries_per_connection: 3 }\n  allowed_clients:',
  );
  const d = await startDaemon(config, LISTS);
  try {
    const idle = await connectFrom(d.port, '127.0.0.20');
    assert.ok(await closedWithin(idle, 2000), 'idle connection closed by the server');

    const a = await connectFrom(d.port, '127.0.0.20');
    const b = await connectFrom(d.port, '127.0.0.20');
    const c = await connectFrom(d.port, '127.0.0.20');
    assert.ok(await closedWithin(c, 1000), 'third connection over the cap is dropped');
    a.destroy();
    b.destroy();
    await new Promise((r) => setTimeout(r, 50));

    const qs = Array.from({ length: 5 }, (_, i) => query(`q${i}.example`, TYPE.A, { id: i }));
    const replies = await tcpQuery(d.port, qs, { localAddress: '127.0.0.20', timeoutMs: 1500 });
    assert.is(replies.length, 3, 'three answers, then the server ends the connection');
  } finally {
    await d.stop();
    await up.close();
  }
});

test('IPv6: served on [::1], IPv6 clients matched to their group', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(
    testConfig({
      upstreams: [up.port],
      groups: '  v6-students: { clients: ["::1/128"], block: [instagram] }\n  default: { block: [facebook] }',
    })
      .replace('listen: ["127.0.0.1:0"]', 'listen: ["127.0.0.1:0", "[::1]:0"]')
      .replace('allowed_clients: [', 'allowed_clients: ["::1/128", '),
    LISTS,
  );
  try {
    const v6 = d.addresses.find((a) => a.startsWith('[::1]'))!;
    const port6 = Number(v6.split(':').pop());
    const ask = (name: string) =>
      new Promise<Buffer>((resolve) => {
        const s = dgram.createSocket('udp6');
        s.on('message', (m) => (s.close(), resolve(m)));
        s.send(query(name), port6, '::1');
      });
    assert.is(header(await ask('www.instagram.com')).rcode, RCODE.NXDOMAIN, 'v6 group blocks instagram');
    assert.is(header(await ask('www.facebook.com')).rcode, RCODE.NOERROR, 'v6 group does not block facebook');
    const [tcp6] = await tcpQuery(port6, [query('instagram.com')], { host: '::1', localAddress: '::1' });
    assert.is(header(tcp6).rcode, RCODE.NXDOMAIN);
    assert.is(
      header((await udpQuery(d.port, query('www.facebook.com'), { localAddress: '127.0.0.30' }))!).rcode,
      RCODE.NXDOMAIN,
      'v4 default group',
    );
  } finally {
    await d.stop();
    await up.close();
  }
});

test('SIGHUP while a query is in flight: the query is still answered', async () => {
  const up = await startFakeUpstream((q) => ({ delayMs: 300, reply: answer(q) }));
  const d = await startDaemon(testConfig({ upstreams: [up.port], timeoutMs: 2000 }), LISTS);
  try {
    const pending = udpQuery(d.port, query('inflight.example'), { localAddress: '127.0.0.20' });
    await new Promise((r) => setTimeout(r, 50));
    d.child.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === 'reloaded');
    assert.is(header((await pending)!).rcode, RCODE.NOERROR);
  } finally {
    await d.stop();
    await up.close();
  }
});

test.run();
