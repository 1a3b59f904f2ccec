/**
 * End-to-end: every answer is built for the client that asked, checked against real software —
 * Knot DNS serving the test zones (signed, with NSID and cookies where a test needs them), unbound
 * as webfilter's upstream, dig and kdig as clients. Issue 14, points 1–7, 9 and 10.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EDNS_OPTION, TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig } from '../helpers/daemon-process.js';
import { dig, kdig, readPrinted } from '../helpers/dig.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { startKnot } from '../helpers/knot.js';
import { BIG_TXT_RECORDS, startResolverStack, TEST_ZONES } from '../helpers/resolver-stack.js';
import { startUnbound } from '../helpers/unbound.js';
import { udpQuery } from '../helpers/dns-client.js';
import { header, optOf, query, reply, rr } from '../helpers/wire-builder.js';

const LISTS = { 'facebook.txt': 'facebook.com\n', 'instagram.txt': 'instagram.com\n' };
const config = (upstreams: number[]) => testConfig({ upstreams, timeoutMs: 2000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('1. NSID is never relayed: not to the asker, and not from the cache to another client (RFC 5001 §2.2)', async () => {
  const stack = await startResolverStack({ unboundNsid: 'ascii_upstream-unbound' });
  const d = await startDaemon(config([stack.unbound.port]), LISTS);
  try {
    // The upstream does answer NSID to whoever asks it (so the test below can fail).
    assert.ok(readPrinted(await kdig(stack.unbound.port, '+nsid', 'www.example')).ednsLines.includes('NSID'));
    const first = readPrinted(await kdig(d.port, '+nsid', '+cookie', '+padding=128', 'www.example'));
    assert.is(first.status, 'NOERROR');
    assert.equal(first.ednsLines, [], 'no NSID, cookie or padding for the asker either: we answer none of them');
    const second = readPrinted(await kdig(d.port, '+edns', 'www.example'));
    assert.equal(
      second.answers,
      first.answers.map(([o, , t, v]) => [o, second.answers[0][1], t, v]),
      'the cached answer',
    );
    assert.equal(second.ednsLines, [], "no NSID from another client's query (RFC 5001 §2.2)");
  } finally {
    await d.stop();
    await stack.stop();
  }
});

test('2. cookies, padding and keepalive are never relayed: two clients, one cache entry (RFC 7873, 7830, 7828)', async () => {
  // Knot answers cookies: the first client's server cookie must not reach the second client.
  const knot = await startKnot({ zones: { example: TEST_ZONES.example + '\n' }, cookies: true, nsid: 'knot' });
  const d2 = await startDaemon(config([knot.port]), LISTS);
  try {
    assert.ok(readPrinted(await dig(knot.port, '+norec', 'www.example')).ednsLines.includes('COOKIE'), 'knot does cookies');
    for (let i = 0; i < 2; i++) {
      const out = await dig(d2.port, 'www.example');
      assert.not.match(out, /COOKIE mismatch/);
      assert.is(readPrinted(out).status, 'NOERROR');
      assert.equal(readPrinted(out).ednsLines, [], `dig ${i + 1}: no COOKIE (we do not do server cookies)`);
    }
    assert.equal(
      readPrinted(await dig(d2.port, '+nocookie', 'www.example')).ednsLines,
      [],
      'no COOKIE to a query without one (RFC 7873 §5.2.1)',
    );
  } finally {
    await d2.stop();
    await knot.stop();
  }

  // An upstream that adds every hop-by-hop option unasked (and an EDE): only the EDE gets through.
  const up = await startFakeUpstream((q) =>
    reply(q, {
      answers: [rr.a('odd.example', '192.0.2.9', 300)],
      edns: {
        options: [
          [EDNS_OPTION.NSID, Buffer.from('up')],
          [EDNS_OPTION.COOKIE, Buffer.alloc(16, 1)],
          [EDNS_OPTION.TCP_KEEPALIVE, Buffer.from([0, 50])],
          [EDNS_OPTION.PADDING, Buffer.alloc(64)],
          [EDNS_OPTION.EDE, Buffer.from([0, 3])],
        ],
      },
    }),
  );
  const d3 = await startDaemon(config([up.port]), LISTS);
  try {
    for (let i = 0; i < 2; i++) {
      const r = (await udpQuery(d3.port, query('odd.example', TYPE.A, { edns: {} })))!;
      assert.equal([...optOf(r)!.options.keys()], [EDNS_OPTION.EDE], `${i ? 'cached' : 'fresh'}: only the EDE is relayed`);
    }
    const plain = (await udpQuery(d3.port, query('odd.example', TYPE.A)))!;
    assert.is(optOf(plain), null, 'no OPT for a client that sent none (RFC 6891 §7)');
  } finally {
    await d3.stop();
    await up.close();
  }
});

test('3. AD per client, both ways, through the cache (RFC 6840 §5.7-5.8)', async () => {
  const stack = await startResolverStack({ sign: true });
  const d = await startDaemon(config([stack.unbound.port]), LISTS);
  try {
    // www.example is cached by a client with AD=0 DO=0; a client with AD=1 still gets AD=1.
    assert.not.ok(readPrinted(await dig(d.port, '+noadflag', '+nodnssec', 'www.example')).flags.includes('ad'));
    assert.ok(readPrinted(await dig(d.port, '+adflag', '+nodnssec', 'www.example')).flags.includes('ad'), 'AD=1 client');
    assert.ok(readPrinted(await dig(d.port, '+noadflag', '+dnssec', 'www.example')).flags.includes('ad'), 'DO=1 client');
    // svc.example is cached by a client with AD=1; a client with AD=0 DO=0 gets AD=0.
    assert.ok(readPrinted(await dig(d.port, '+adflag', '+nodnssec', 'svc.example')).flags.includes('ad'));
    assert.not.ok(
      readPrinted(await dig(d.port, '+noadflag', '+nodnssec', 'svc.example')).flags.includes('ad'),
      'AD=0 DO=0 client',
    );
    // The unsigned zone is never AD.
    assert.not.ok(readPrinted(await dig(d.port, '+adflag', 'www.instagram.com')).flags.includes('ad'));
  } finally {
    await d.stop();
    await stack.stop();
  }
});

test('4. EDNS version 1 gets BADVERS, cached or not (RFC 6891 §6.1.3)', async () => {
  const stack = await startResolverStack({});
  const d = await startDaemon(config([stack.unbound.port]), LISTS);
  try {
    assert.is(readPrinted(await dig(d.port, 'www.example')).status, 'NOERROR');
    for (const name of ['www.example', 'hop1.example']) {
      const r = readPrinted(await dig(d.port, '+edns=1', '+noednsneg', name));
      assert.is(r.status, 'BADVERS', `${name}: ${r.text}`);
      assert.match(r.edns ?? '', /version: 0/, 'our OPT says version 0');
      assert.is(r.counts.query, 1);
    }
  } finally {
    await d.stop();
    await stack.stop();
  }
});

test('5. FORMERR and NOTIMP keep the question and an OPT (RFC 6891 §7)', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('www.example', '192.0.2.1')] }));
  const d = await startDaemon(config([up.port]), LISTS);
  try {
    const notimp = readPrinted(await dig(d.port, '+opcode=notify', 'www.example'));
    assert.equal([notimp.status, notimp.counts.query, notimp.counts.additional], ['NOTIMP', 1, 1]);
    // FORMERR: a query carrying an answer record (dig cannot send one: raw bytes).
    const q = query('www.example', TYPE.A, { id: 77, edns: { do: true } });
    const qEnd = q.length - 11;
    const bad = Buffer.concat([q.subarray(0, qEnd), Buffer.from('c00c000100010000003c0004c0000201', 'hex'), q.subarray(qEnd)]);
    bad.writeUInt16BE(1, 6);
    const r = (await udpQuery(d.port, bad))!;
    assert.equal([header(r).rcode, header(r).qdcount, header(r).ancount, header(r).id], [1, 1, 0, 77]);
    assert.is(optOf(r)!.do, true, 'an OPT with the query DO bit');
    assert.ok(r.length <= bad.length, 'never larger than the query');
  } finally {
    await d.stop();
    await up.close();
  }
});

test('6. all upstreams REFUSED → REFUSED with their EDE; a SERVFAIL relays its EDE (RFC 8914)', async () => {
  const started: { stop(): Promise<unknown> }[] = [];
  const start = async <T extends { stop(): Promise<unknown> }>(p: Promise<T>): Promise<T> => {
    const x = await p;
    started.unshift(x);
    return x;
  };
  try {
    const refusing = await start(startUnbound({ extra: ['ede: yes', 'access-control: 127.0.0.0/8 refuse'] }));
    const knot = await start(startKnot({ zones: { example: TEST_ZONES.example + '\n' } })); // refuses other zones
    const d = await start(startDaemon(config([refusing.port, knot.port]), LISTS));
    const r = readPrinted(await dig(d.port, 'www.bbc.co.uk'));
    assert.is(r.status, 'REFUSED');
    assert.match(r.text, /EDE: 18/, 'the refusing upstream said why');
    // One upstream refusing and one failing is a failure: SERVFAIL.
    const dead = await startFakeUpstream(() => null);
    started.unshift({ stop: () => dead.close() });
    const d2 = await start(startDaemon(config([refusing.port, dead.port]), LISTS));
    assert.is(readPrinted(await dig(d2.port, 'www.bbc.co.uk')).status, 'SERVFAIL');

    // A validating unbound with a wrong trust anchor: SERVFAIL for example., with an EDE saying why.
    const signed = await start(startKnot({ zones: { example: TEST_ZONES.example + '\n' }, sign: true }));
    const bogus = await start(
      startUnbound({
        stubs: { example: signed.at },
        trustAnchors: [
          '"example. DNSKEY 257 3 13 w8ZvAQnvHyZfsEHCaZs3/4Lvitb9aAzJYgoHSAqe6xH97WJTvbqKJZFN2C93C/0DaaSMTEqQkvPhRPxR2rmMZg=="',
        ],
        extra: ['ede: yes'],
      }),
    );
    const d3 = await start(startDaemon(config([bogus.port]), LISTS));
    const s = readPrinted(await dig(d3.port, 'www.example'));
    assert.is(s.status, 'SERVFAIL');
    assert.ok(s.ednsLines.includes('EDE'), s.text);
  } finally {
    for (const x of started) await x.stop();
  }
});

test("7. cached TTLs are never above the upstream's at the same moment, and never 0", async () => {
  const stack = await startResolverStack({});
  const d = await startDaemon(config([stack.unbound.port]), LISTS);
  try {
    const ttl = async (port: number) => readPrinted(await dig(port, 'www.example')).answers[0][1];
    await dig(d.port, 'www.example');
    // Sample across second boundaries: each time, ask unbound (its cache), then webfilter (ours).
    for (let i = 0; i < 8; i++) {
      await sleep(130 + ((i * 370) % 1000));
      // unbound first: webfilter is asked a moment later, so its TTL may be lower, never higher.
      const theirs = await ttl(stack.unbound.port);
      const ours = await ttl(d.port);
      assert.ok(ours <= theirs, `sample ${i}: webfilter ${ours} > unbound ${theirs}`);
      assert.ok(ours > 0);
    }
  } finally {
    await d.stop();
    await stack.stop();
  }
});

test('9. UDP replies are never above min(client EDNS size, 1232), 512 without EDNS: a 60 KB answer is TC=1, cached or not', async () => {
  const stack = await startResolverStack({});
  const d = await startDaemon(config([stack.unbound.port]), LISTS);
  try {
    for (const when of ['uncached', 'cached']) {
      const r = readPrinted(await kdig(d.port, '+bufsize=65535', '+ignore', 'big.example', 'TXT'));
      assert.ok(r.flags.includes('tc'), `${when}: TC=1`);
      assert.ok(r.size! <= 1232, `${when}: ${r.size} bytes`);
      assert.is(r.counts.answer, 0, 'cleanly truncated: no partial RRset');
    }
    const tcp = readPrinted(await kdig(d.port, '+tcp', 'big.example', 'TXT'));
    assert.is(tcp.counts.answer, BIG_TXT_RECORDS, 'whole over TCP');
    // Fetched over TCP (by the client and, upstream, by us) and cached: still not whole over UDP.
    const again = readPrinted(await kdig(d.port, '+bufsize=4096', '+ignore', 'big.example', 'TXT'));
    assert.equal([again.flags.includes('tc'), again.size! <= 1232], [true, true]);
    const noEdns = (await udpQuery(d.port, query('big.example', TYPE.TXT)))!;
    assert.equal([header(noEdns).tc, noEdns.length <= 512], [true, true], 'no EDNS: 512');
    const small = readPrinted(await kdig(d.port, '+bufsize=65535', 'www.example'));
    assert.equal([small.status, small.flags.includes('tc')], ['NOERROR', false], 'a small answer is whole');
  } finally {
    await d.stop();
    await stack.stop();
  }
});

test("10. the client's EDNS stays with the client: no Client Subnet upstream, our 1232 buffer, DO as asked", async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('www.example', '192.0.2.1')], edns: {} }));
  const d = await startDaemon(config([up.port]), LISTS);
  try {
    assert.is(
      readPrinted(await kdig(d.port, '+subnet=10.20.0.0/24', '+bufsize=65535', '+nsid', '+dnssec', 'www.example')).status,
      'NOERROR',
    );
    const sent = up.received[up.received.length - 1].query;
    const opt = optOf(sent)!;
    assert.equal([opt.udpSize, opt.do, [...opt.options.keys()]], [1232, true, []], 'our OPT, no client options');
    assert.is(header(sent).rd, true);
    await kdig(d.port, '+subnet=10.30.0.0/24', 'other.example');
    assert.equal([...optOf(up.received[up.received.length - 1].query)!.options.keys()], []);
  } finally {
    await d.stop();
    await up.close();
  }
});

test.run();
