/** End-to-end: failover, parallel, SERVFAIL, TC→TCP, slow and flooding upstreams, anti-spoofing and in-flight bounds. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS } from '../helpers/daemon-process.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { tcpQuery, udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const CLIENT = { localAddress: '127.0.0.20', timeoutMs: 5000 };
const answer = (q: Buffer, ip = '192.0.2.1') => reply(q, { answers: [rr.a('x', ip, 60)] });

async function withDaemon(
  ups: FakeUpstream[],
  fn: (port: number) => Promise<void>,
  opts: { strategy?: string; timeoutMs?: number; maxInFlight?: number } = {},
) {
  const d = await startDaemon(testConfig({ upstreams: ups.map((u) => u.port), ...opts }), LISTS);
  try {
    await fn(d.port);
  } finally {
    await d.stop();
    await Promise.all(ups.map((u) => u.close()));
  }
}

test('upstream timeout → next upstream answers; all silent → SERVFAIL within timeout × upstreams', async () => {
  const silent = await startFakeUpstream(() => null);
  const good = await startFakeUpstream((q) => answer(q, '192.0.2.2'));
  const silent2 = await startFakeUpstream(() => null);
  await withDaemon([silent, good], async (port) => {
    const t0 = Date.now();
    const r = (await udpQuery(port, query('failover.example'), CLIENT))!;
    assert.is(header(r).rcode, RCODE.NOERROR);
    assert.ok(Date.now() - t0 >= 380, 'waited for the first upstream’s timeout');
    assert.is(silent.received.length, 1);
    assert.is(good.received.length, 1);
  });
  const silent3 = await startFakeUpstream(() => null);
  await withDaemon([silent2, silent3], async (port) => {
    const t0 = Date.now();
    const r = (await udpQuery(port, query('dead.example', TYPE.A, { edns: {} }), CLIENT))!;
    const ms = Date.now() - t0;
    assert.is(header(r).rcode, RCODE.SERVFAIL);
    assert.is(header(r).arcount, 1, 'OPT echoed on SERVFAIL');
    assert.ok(ms >= 780 && ms < 1500, `${ms} ms`);
    const [tr] = await tcpQuery(port, [query('dead2.example')], CLIENT);
    assert.is(header(tr).rcode, RCODE.SERVFAIL);
  });
});

test('SERVFAIL and REFUSED from an upstream make us try the next one', async () => {
  const sf = await startFakeUpstream((q) => reply(q, { rcode: RCODE.SERVFAIL }));
  const ref = await startFakeUpstream((q) => reply(q, { rcode: RCODE.REFUSED }));
  const good = await startFakeUpstream((q) => answer(q));
  await withDaemon([sf, ref, good], async (port) => {
    const r = (await udpQuery(port, query('retry.example'), CLIENT))!;
    assert.is(header(r).rcode, RCODE.NOERROR);
    assert.equal([sf.received.length, ref.received.length, good.received.length], [1, 1, 1]);
  });
});

test('NXDOMAIN from an upstream is a good answer, relayed (not retried)', async () => {
  const nx = await startFakeUpstream((q) => reply(q, { rcode: RCODE.NXDOMAIN, authority: [rr.soa('example', 60, 60)] }));
  const other = await startFakeUpstream((q) => answer(q));
  await withDaemon([nx, other], async (port) => {
    assert.is(header((await udpQuery(port, query('nx.example'), CLIENT))!).rcode, RCODE.NXDOMAIN);
    assert.is(other.received.length, 0);
  });
});

test('parallel strategy: the first good answer wins', async () => {
  const slow = await startFakeUpstream((q) => ({ delayMs: 300, reply: answer(q, '192.0.2.1') }));
  const fast = await startFakeUpstream((q) => answer(q, '192.0.2.2'));
  await withDaemon(
    [slow, fast],
    async (port) => {
      const t0 = Date.now();
      const r = (await udpQuery(port, query('par.example'), CLIENT))!;
      assert.ok(Date.now() - t0 < 250, 'did not wait for the slow one');
      assert.equal([...r.subarray(r.length - 4)], [192, 0, 2, 2]);
      assert.is(slow.received.length, 1, 'both were asked');
    },
    { strategy: 'parallel', timeoutMs: 1000 },
  );
});

test('TC=1 from the upstream is retried over TCP to the same upstream', async () => {
  const up = await startFakeUpstream((q, transport) => (transport === 'udp' ? reply(q, { tc: true }) : answer(q, '192.0.2.66')));
  await withDaemon([up], async (port) => {
    const r = (await udpQuery(port, query('tc.example'), CLIENT))!;
    assert.is(header(r).tc, false);
    assert.equal([...r.subarray(r.length - 4)], [192, 0, 2, 66]);
    assert.equal(
      up.received.map((x) => x.transport),
      ['udp', 'tcp'],
    );
  });
});

test('replies with a wrong ID, a different question or a malformed body are ignored', async () => {
  const up = await startFakeUpstream((q) => {
    const wrongId = answer(q, '6.6.6.6');
    wrongId.writeUInt16BE((q.readUInt16BE(0) + 1) & 0xffff, 0);
    const wrongQ = answer(query('evil.example', TYPE.A, { id: q.readUInt16BE(0) }), '6.6.6.7');
    return { raw: [wrongId, wrongQ, answer(q, '192.0.2.5')] };
  });
  await withDaemon([up], async (port) => {
    const r = (await udpQuery(port, query('spoof.example'), CLIENT))!;
    assert.equal([...r.subarray(r.length - 4)], [192, 0, 2, 5]);
  });
  const broken = await startFakeUpstream((q) => {
    const r = answer(q);
    r.writeUInt16BE(5, 6); // claims 5 answers, has 1
    return r;
  });
  await withDaemon([broken], async (port) => {
    assert.is(header((await udpQuery(port, query('broken.example'), CLIENT))!).rcode, RCODE.SERVFAIL);
  });
});

test('an answer from the wrong address is never accepted, even with the right ID and question', async () => {
  const spoofer = dgram.createSocket('udp4');
  await new Promise<void>((r) => spoofer.bind({ address: '127.0.0.2', port: 0 }, r));
  const up = await startFakeUpstream((q) => {
    const ports = up.received.map((x) => x.fromPort);
    spoofer.send(answer(q, '6.6.6.6'), ports[ports.length - 1], '127.0.0.1');
    return null; // the real upstream stays silent
  });
  await withDaemon([up], async (port) => {
    const r = (await udpQuery(port, query('target.example'), CLIENT))!;
    assert.is(header(r).rcode, RCODE.SERVFAIL, 'timed out rather than take the spoofed answer');
  });
  spoofer.close();
});

test('each upstream query gets a fresh random ID, and source ports vary', async () => {
  const up = await startFakeUpstream((q) => answer(q));
  await withDaemon([up], async (port) => {
    for (let i = 0; i < 40; i++) {
      await udpQuery(port, query(`n${i}.example`, TYPE.A, { id: 1 }), CLIENT);
    }
    const ids = new Set(up.received.map((x) => x.query.readUInt16BE(0)));
    const ports = new Set(up.received.map((x) => x.fromPort));
    assert.ok(ids.size >= 38, `${ids.size} distinct IDs of 40`);
    assert.ok(ports.size >= 8, `${ports.size} distinct source ports of 40`);
  });
});

test('in-flight upstream queries are bounded: beyond the bound, SERVFAIL at once', async () => {
  const slow = await startFakeUpstream((q) => ({ delayMs: 800, reply: answer(q) }));
  await withDaemon(
    [slow],
    async (port) => {
      const first = Array.from({ length: 3 }, (_, i) => udpQuery(port, query(`slow${i}.example`), CLIENT));
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      const over = (await udpQuery(port, query('over.example'), CLIENT))!;
      assert.is(header(over).rcode, RCODE.SERVFAIL);
      assert.ok(Date.now() - t0 < 300, 'answered quickly');
      for (const r of await Promise.all(first)) assert.is(header(r!).rcode, RCODE.NOERROR);
    },
    { timeoutMs: 2000, maxInFlight: 3 },
  );
});

test('a slow upstream (answers after the timeout): its late answer is never used; the next upstream answers', async () => {
  const slow = await startFakeUpstream((q) => ({ delayMs: 600, reply: answer(q, '6.6.6.6') }));
  const good = await startFakeUpstream((q) => ({ delayMs: 50, reply: answer(q, '192.0.2.9') }));
  await withDaemon([slow, good], async (port) => {
    const t0 = Date.now();
    const r = (await udpQuery(port, query('slow.example'), CLIENT))!;
    assert.is(header(r).rcode, RCODE.NOERROR);
    assert.equal([...r.subarray(r.length - 4)], [192, 0, 2, 9], 'the healthy upstream’s answer, not the late one');
    assert.ok(Date.now() - t0 < 400 * 2 + 300, 'within timeout × upstreams');
    // The late reply arrives while the second exchange runs and afterwards: it must not be cached either.
    await new Promise((res) => setTimeout(res, 400));
    const again = (await udpQuery(port, query('slow.example'), CLIENT))!;
    assert.equal([...again.subarray(again.length - 4)], [192, 0, 2, 9]);
  });
});

test('an upstream flooding replies (hundreds of wrong IDs around the right one) neither wins nor slows the answer', async () => {
  let sent = 0;
  const flood = await startFakeUpstream((q) => {
    const junk = Array.from({ length: 300 }, (_, i) => {
      const f = answer(q, '6.6.6.6');
      f.writeUInt16BE((q.readUInt16BE(0) + 1 + i) & 0xffff, 0);
      return f;
    });
    sent += junk.length;
    return { raw: [...junk.slice(0, 150), answer(q, '192.0.2.7'), ...junk.slice(150)] };
  });
  await withDaemon([flood], async (port) => {
    for (let i = 0; i < 10; i++) {
      const r = (await udpQuery(port, query(`flood${i}.example`), CLIENT))!;
      assert.is(header(r).rcode, RCODE.NOERROR);
      assert.equal([...r.subarray(r.length - 4)], [192, 0, 2, 7], `query ${i}: the genuine answer`);
    }
    assert.is(sent, 3000);
    // The daemon is still healthy after 3,000 unsolicited replies.
    const r = (await udpQuery(port, query('after-flood.example'), CLIENT))!;
    assert.is(header(r).rcode, RCODE.NOERROR);
  });
});

test.run();
