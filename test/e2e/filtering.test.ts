/** End-to-end: the real daemon, a fake upstream, real UDP/TCP clients bound to 127.0.0.x. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import dns2 from 'dns2';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { inspectReply } from '../../src/dns/reply.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { tcpQuery, udpQuery } from '../helpers/dns-client.js';
import { header, optOf, query, questionEnd, reply, rr } from '../helpers/wire-builder.js';

const STUDENT = '127.0.0.10';
const SIXTH_FORM = '127.0.0.20';
const OTHER = '127.0.0.30'; // allowed, in no group → default group (blocks facebook only)
const OUTSIDER = '127.0.0.99';

const t = suite<{ up: FakeUpstream; d: DaemonProcess }>('filtering');

t.before(async (ctx) => {
  ctx.up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.80', 300)] }));
  ctx.d = await startDaemon(testConfig({ upstreams: [ctx.up.port] }), LISTS);
});

t.after(async (ctx) => {
  await ctx.d.stop();
  await ctx.up.close();
});

t('blocked domain and subdomain for a blocking group, over UDP and TCP', async ({ d, up }) => {
  const before = up.received.length;
  for (const name of [
    'facebook.com',
    'www.facebook.com',
    'Deep.Sub.FACEBOOK.com',
    'static.xx.fbcdn.net',
    'fb.com',
    'scontent.cdninstagram.com',
  ]) {
    const r = (await udpQuery(d.port, query(name, TYPE.A, { id: 4242 }), { localAddress: STUDENT }))!;
    const h = header(r);
    assert.is(h.id, 4242, name);
    assert.is(h.rcode, RCODE.NXDOMAIN, name);
    assert.is(h.nscount, 1, `${name}: SOA for negative caching`);
    const [tr] = await tcpQuery(d.port, [query(name, TYPE.AAAA)], { localAddress: STUDENT });
    assert.is(header(tr).rcode, RCODE.NXDOMAIN, `${name} over TCP`);
  }
  assert.is(up.received.length, before, 'blocked names never reach the upstream');
  const decoded = dns2.Packet.parse((await udpQuery(d.port, query('www.facebook.com'), { localAddress: STUDENT }))!);
  assert.is(decoded.questions[0].name, 'www.facebook.com');
  assert.is(decoded.authorities[0].type, dns2.Packet.TYPE.SOA);
});

t('the same domain resolves for a group that does not block it; other groups follow their own lists', async ({ d }) => {
  const six = (await udpQuery(d.port, query('www.facebook.com'), { localAddress: SIXTH_FORM }))!;
  assert.is(header(six).rcode, RCODE.NOERROR);
  assert.is(header(six).ancount, 1);
  const [sixTcp] = await tcpQuery(d.port, [query('www.instagram.com')], { localAddress: SIXTH_FORM });
  assert.is(header(sixTcp).rcode, RCODE.NOERROR);
  // default group blocks facebook but not instagram
  assert.is(header((await udpQuery(d.port, query('facebook.com'), { localAddress: OTHER }))!).rcode, RCODE.NXDOMAIN);
  assert.is(header((await udpQuery(d.port, query('instagram.com'), { localAddress: OTHER }))!).rcode, RCODE.NOERROR);
  // names that only look alike are not blocked
  assert.is(header((await udpQuery(d.port, query('notfacebook.com'), { localAddress: STUDENT }))!).rcode, RCODE.NOERROR);
});

t('outside allowed_clients: REFUSED over UDP, never larger than the query; TCP connections closed at once', async ({ d, up }) => {
  const before = up.received.length;
  const q = query('example.com', TYPE.A, { edns: {} });
  const r = (await udpQuery(d.port, q, { localAddress: OUTSIDER }))!;
  assert.is(header(r).rcode, RCODE.REFUSED);
  assert.ok(r.length <= q.length);
  // Over TCP an outsider never gets as far as a query: the connection is closed when accepted.
  const tr = await tcpQuery(d.port, [query('example.com')], { localAddress: OUTSIDER }).catch(() => []);
  assert.equal(tr, []);
  assert.is(up.received.length, before);
});

t(
  'upstream records are relayed intact (unknown type, HTTPS, RRSIG); header and OPT are built for the client',
  async ({ d, up }) => {
    const cookie = Buffer.from('0102030405060708a1a2a3a4a5a6a7a8', 'hex');
    let sent = null as Buffer | null;
    up.handler = (q) => {
      sent = reply(q, {
        aa: true,
        answers: [
          rr.a('relay.example', '192.0.2.7', 123),
          { name: 'relay.example', type: 65280, ttl: 77, data: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 0xff]) },
          { name: 'relay.example', type: TYPE.HTTPS, ttl: 77, data: Buffer.from('0001000001000302683200', 'hex') },
          { name: 'relay.example', type: TYPE.RRSIG, ttl: 77, data: Buffer.alloc(40, 7) },
        ],
        edns: {
          udpSize: 1232,
          do: true,
          options: [
            [10, cookie],
            [65001, Buffer.from('opaque')],
          ],
        },
      });
      return sent;
    };
    const q = query('Relay.Example', TYPE.A, { id: 0xbeef, edns: { do: true, options: [[10, cookie.subarray(0, 8)]] } });
    const r = (await udpQuery(d.port, q, { localAddress: SIXTH_FORM }))!;
    assert.ok(sent);
    const qe = questionEnd(q);
    const records = (m: Buffer) => m.subarray(qe, m.length - optOf(m)!.length);
    assert.equal(
      [header(r).id, header(r).aa, header(r).ancount],
      [0xbeef, false, 4],
      'our header: no AA, we are not the authority',
    );
    assert.equal(r.subarray(12, qe), q.subarray(12, qe), "the client's question bytes");
    assert.equal(records(r), records(sent!), 'every record byte is the upstream’s');
    const opt = (m: Buffer) => ({ udpSize: optOf(m)!.udpSize, do: optOf(m)!.do, options: [...optOf(m)!.options.keys()] });
    assert.equal(opt(r), { udpSize: 1232, do: true, options: [] }, 'our OPT: no cookie, no unknown option');
    const forwarded = up.received[up.received.length - 1].query;
    assert.equal(forwarded.subarray(12, qe), q.subarray(12, qe), 'the question went upstream as asked');
    assert.equal(
      opt(forwarded),
      { udpSize: 1232, do: true, options: [] },
      "the upstream query carries our OPT, not the client's",
    );
    assert.is.not(forwarded.readUInt16BE(0), 0xbeef, 'with a fresh ID');
    const tq = query('relay-tcp.example', TYPE.A, { edns: { do: true } });
    const [tr] = await tcpQuery(d.port, [tq], { localAddress: SIXTH_FORM });
    assert.equal(records(tr), records(sent!), 'same over TCP');
  },
);

t('cache hit does not ask the upstream again, and its TTL decreases', async ({ d, up }) => {
  up.handler = (q) => reply(q, { answers: [rr.a('cached.example', '192.0.2.9', 300)] });
  const before = up.received.length;
  const first = (await udpQuery(d.port, query('cached.example'), { localAddress: SIXTH_FORM }))!;
  const qe = questionEnd(first);
  const ttlAt = inspectReply(first, qe).ttlOffsets[0];
  assert.is(first.readUInt32BE(ttlAt), 300);
  await new Promise((r) => setTimeout(r, 1100));
  const second = (await udpQuery(d.port, query('CACHED.example', TYPE.A, { id: 77 }), { localAddress: STUDENT }))!;
  assert.is(up.received.length, before + 1, 'asked the upstream once');
  assert.is(header(second).id, 77);
  const ttl = second.readUInt32BE(ttlAt);
  assert.ok(ttl < 300 && ttl >= 298, `TTL ${ttl}`);
  assert.equal(second.subarray(12, qe), query('CACHED.example').subarray(12, qe), 'question echoed in the asker’s case');
});

t('a cached answer never skips a block: policy runs before the cache', async ({ d }) => {
  const six = (await udpQuery(d.port, query('m.facebook.com'), { localAddress: SIXTH_FORM }))!;
  assert.is(header(six).rcode, RCODE.NOERROR);
  const student = (await udpQuery(d.port, query('m.facebook.com'), { localAddress: STUDENT }))!;
  assert.is(header(student).rcode, RCODE.NXDOMAIN);
});

t('a UDP client gets TC=1 when the answer exceeds its limit; TCP gets it whole', async ({ d, up }) => {
  up.handler = (q, transport) =>
    transport === 'udp'
      ? reply(q, { tc: true })
      : reply(q, { answers: Array.from({ length: 12 }, (_, i) => rr.txt('big.example', `${i}`.padEnd(100, 'x'))) });
  const r = (await udpQuery(d.port, query('big.example', TYPE.TXT), { localAddress: SIXTH_FORM }))!;
  assert.is(header(r).tc, true);
  assert.is(header(r).ancount, 0);
  const [tr] = await tcpQuery(d.port, [query('big.example', TYPE.TXT)], { localAddress: SIXTH_FORM });
  assert.is(header(tr).tc, false);
  assert.is(header(tr).ancount, 12);
});

t('several pipelined queries on one TCP connection are all answered', async ({ d, up }) => {
  up.handler = (q) => reply(q, { answers: [rr.a('p', '192.0.2.1', 60)] });
  const qs = Array.from({ length: 20 }, (_, i) => query(`p${i}.example`, TYPE.A, { id: 1000 + i }));
  qs.push(query('facebook.com', TYPE.A, { id: 2000 }));
  const replies = await tcpQuery(d.port, qs, { localAddress: STUDENT });
  assert.is(replies.length, 21);
  const byId = new Map(replies.map((r) => [header(r).id, header(r).rcode]));
  for (let i = 0; i < 20; i++) assert.is(byId.get(1000 + i), RCODE.NOERROR);
  assert.is(byId.get(2000), RCODE.NXDOMAIN);
});

t('FORMERR for a malformed query with a readable header; NOTIMP for other opcodes', async ({ d }) => {
  const bad = query('example.com');
  bad.writeUInt16BE(2, 4);
  const r = (await udpQuery(d.port, bad, { localAddress: STUDENT }))!;
  assert.is(header(r).rcode, RCODE.FORMERR);
  assert.is(r.readUInt16BE(0), bad.readUInt16BE(0));
  const upd = query('example.com');
  upd[2] |= 5 << 3;
  assert.is(header((await udpQuery(d.port, upd, { localAddress: STUDENT }))!).rcode, RCODE.NOTIMP);
  assert.is(
    await udpQuery(d.port, Buffer.from([1, 2, 3]), { localAddress: STUDENT, timeoutMs: 300 }),
    null,
    'unreadable: dropped',
  );
});

t.run();
