/**
 * DNS over TLS and DNS over HTTPS clients (src/upstream/dot-exchange.ts, doh-exchange.ts) against
 * Debian's unbound serving DoT (`tls-port`) and DoH (`https-port`, built with libnghttp2) with a
 * certificate from a test CA made by openssl: pipelining on one connection, certificate checks,
 * idle close with TLS session resumption, and reconnection after the server restarts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DohExchange } from '../../src/upstream/doh-exchange.js';
import { DotExchange } from '../../src/upstream/dot-exchange.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { TYPE } from '../../src/dns/constants.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { needTool } from '../helpers/tools.js';
import { startUnbound, type Unbound } from '../helpers/unbound.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import tls from 'node:tls';
import http2 from 'node:http2';
const netServer = net.createServer;
import net from 'node:net';

let ca: TestCa;
let cert: { certFile: string; keyFile: string };
let unbound: Unbound;

/** unbound answers any name under dot.example with 192.0.2.7 (a redirect zone), and nothing else. */
const ZONE = ['local-zone: "dot.example." redirect', 'local-data: "dot.example. 60 IN A 192.0.2.7"'];
const start = (ports?: Unbound['tlsPort'] extends number ? never : { port: number; tlsPort?: number; httpsPort?: number }) =>
  startUnbound({ tls: { ...cert, dot: true, doh: true }, extra: ZONE, ports });

test.before(async () => {
  ca = makeTestCa();
  cert = ca.issue('dns.test', { dns: ['dns.test'], ip: ['127.0.0.1'] });
  unbound = await start();
});
test.after(async () => {
  await unbound.stop();
  ca.remove();
});

const q = (name: string) => {
  const m = query(name, TYPE.A);
  return { m, end: m.length };
};
const target = (port: number, tlsName: string | null, withCa = true) => ({
  host: '127.0.0.1',
  port,
  tlsName,
  ca: withCa ? ca.certPem : null,
});

async function rejection(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (e) {
    return e as UpstreamError;
  }
  throw new Error('expected a rejection');
}

test('the DoT port speaks only TLS: plain DNS over TCP gets nothing (kdig)', () => {
  needTool('kdig');
  const plain = spawnSync(
    'kdig',
    ['@127.0.0.1', '-p', String(unbound.tlsPort), '+tcp', '+timeout=1', '+retry=0', 'www.dot.example'],
    {
      encoding: 'utf8',
    },
  );
  assert.not.match(plain.stdout, /192\.0\.2\.7/);
  const tls = spawnSync(
    'kdig',
    ['@127.0.0.1', '-p', String(unbound.tlsPort), '+tls', `+tls-ca=${ca.certFile}`, '+tls-hostname=dns.test', 'www.dot.example'],
    { encoding: 'utf8' },
  );
  assert.match(tls.stdout, /192\.0\.2\.7/);
});

test('DoT: 200 queries pipelined on one connection, answered out of order, each matched by ID and question', async () => {
  const dot = new DotExchange(target(unbound.tlsPort!, 'dns.test'), 'tls://dot');
  try {
    const names = Array.from({ length: 200 }, (_, i) => `n${i}.dot.example`);
    const replies = await Promise.all(names.map((n) => dot.exchange(q(n).m, q(n).end, 3000)));
    replies.forEach((r, i) => {
      assert.is(header(r).rcode, 0);
      assert.ok(r.includes(Buffer.from(`n${i}`)), 'the reply to each query is its own');
    });
    assert.is(dot.stats.connects, 1, 'one connection for all of them');
    assert.is(dot.mismatched, 0);
  } finally {
    dot.close();
  }
});

test('DoT: an idle connection closes, and the next one resumes the TLS session', async () => {
  const dot = new DotExchange(target(unbound.tlsPort!, 'dns.test'), 'tls://dot', 200);
  try {
    await dot.exchange(q('a.dot.example').m, q('a.dot.example').end, 3000);
    for (let i = 0; i < 100 && dot.stats.open > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.is(dot.stats.open, 0, 'closed when idle');
    await dot.exchange(q('b.dot.example').m, q('b.dot.example').end, 3000);
    assert.is(dot.stats.connects, 2);
    assert.is(dot.stats.resumed, 1, 'the second handshake resumed the first session');
  } finally {
    dot.close();
  }
});

test('DoT: a certificate for another name, or from an untrusted CA, is refused (outcome tls); then it fails fast', async () => {
  const wrong = new DotExchange(target(unbound.tlsPort!, 'other.test'), 'tls://wrong');
  const untrusted = new DotExchange(target(unbound.tlsPort!, 'dns.test', false), 'tls://untrusted');
  try {
    const e = await rejection(wrong.exchange(q('x.dot.example').m, q('x.dot.example').end, 3000));
    assert.is(e.outcome, 'tls');
    assert.match(e.message, /other\.test/);
    assert.is(wrong.stats.tlsFailures, 1);
    assert.is((await rejection(wrong.exchange(q('y.dot.example').m, q('y.dot.example').end, 3000))).outcome, 'tls');
    assert.is(wrong.stats.tlsFailures, 1, 'backing off: the second query failed at once, without a new handshake');
    const u = await rejection(untrusted.exchange(q('x.dot.example').m, q('x.dot.example').end, 3000));
    assert.is(u.outcome, 'tls');
    assert.match(u.message, /self[- ]signed|unable to (get|verify)|certificate/i);
  } finally {
    wrong.close();
    untrusted.close();
  }
});

test('DoH: answers over HTTP/2, 50 queries as streams of one connection; a wrong name is refused', async () => {
  const doh = new DohExchange(target(unbound.httpsPort!, 'dns.test'), '/dns-query', 'https://doh');
  const wrong = new DohExchange(target(unbound.httpsPort!, 'other.test'), '/dns-query', 'https://wrong');
  try {
    const names = Array.from({ length: 50 }, (_, i) => `h${i}.dot.example`);
    const replies = await Promise.all(names.map((n) => doh.exchange(q(n).m, q(n).end, 3000)));
    replies.forEach((r, i) => assert.ok(r.includes(Buffer.from(`h${i}`))));
    assert.is(doh.stats.connects, 1);
    const e = await rejection(wrong.exchange(q('x.dot.example').m, q('x.dot.example').end, 3000));
    assert.is(e.outcome, 'tls');
    assert.is(wrong.stats.tlsFailures, 1);
  } finally {
    doh.close();
    wrong.close();
  }
});

test('DoT and DoH reconnect after the server restarts', async () => {
  const dot = new DotExchange(target(unbound.tlsPort!, 'dns.test'), 'tls://dot');
  const doh = new DohExchange(target(unbound.httpsPort!, 'dns.test'), '/dns-query', 'https://doh');
  try {
    await dot.exchange(q('r1.dot.example').m, q('r1.dot.example').end, 3000);
    await doh.exchange(q('r1.dot.example').m, q('r1.dot.example').end, 3000);
    const ports = { port: unbound.port, tlsPort: unbound.tlsPort, httpsPort: unbound.httpsPort };
    await unbound.stop();
    const down = await rejection(dot.exchange(q('r2.dot.example').m, q('r2.dot.example').end, 1000));
    assert.ok(['network', 'timeout'].includes(down.outcome), down.message);
    unbound = await start(ports);
    let ok = false;
    for (let i = 0; i < 60 && !ok; i++) {
      ok = await Promise.all([
        dot.exchange(q(`r3-${i}.dot.example`).m, q(`r3-${i}.dot.example`).end, 1000),
        doh.exchange(q(`r3-${i}.dot.example`).m, q(`r3-${i}.dot.example`).end, 1000),
      ]).then(
        () => true,
        () => false,
      );
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ok, 'both answer again');
    assert.is(dot.stats.connects, 2);
    assert.is(doh.stats.connects, 2);
  } finally {
    dot.close();
    doh.close();
  }
});

/**
 * A hostile DoT server in the test (Node's tls, the test CA's certificate): `onQuery` decides, per
 * connection and query, what goes back — replies for other questions or IDs, silence, or a close.
 */
async function fakeDot(onQuery: (q: Buffer, conn: number, send: (m: Buffer) => void, close: () => void) => void) {
  let conns = 0;
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (s) => {
    const conn = ++conns;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + q.length);
        onQuery(
          Buffer.from(q),
          conn,
          (m) => s.write(Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])),
          () => s.destroy(),
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => conns,
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

test('DoT: a reply with an unknown ID or another question is ignored (counted); the matching one is taken', async () => {
  const server = await fakeDot((q, _conn, send) => {
    const other = query('evil.dot.example', TYPE.A, { id: q.readUInt16BE(0) });
    send(reply(other, { answers: [rr.a('evil.dot.example', '203.0.113.66')] })); // right ID, wrong question
    const wrongId = Buffer.from(reply(q, { answers: [rr.a('x', '203.0.113.67')] }));
    wrongId.writeUInt16BE(q.readUInt16BE(0) ^ 0x5555, 0);
    send(wrongId); // right question, unknown ID
    send(reply(q, { answers: [rr.a('x', '192.0.2.7')] }));
  });
  const dot = new DotExchange(target(server.port, 'dns.test'), 'tls://fake');
  try {
    const r = await dot.exchange(q('good.dot.example').m, q('good.dot.example').end, 2000);
    assert.ok(r.includes(Buffer.from([192, 0, 2, 7])));
    assert.not.ok(r.includes(Buffer.from([203, 0, 113])));
    assert.is(dot.mismatched, 2);
  } finally {
    dot.close();
    await server.close();
  }
});

test('DoT: queries left unanswered when the server closes a working connection are sent again on a new one', async () => {
  const server = await fakeDot((q, conn, send, close) => {
    if (conn === 1)
      close(); // e.g. the server's idle or per-connection limit
    else send(reply(q, { answers: [rr.a('x', '192.0.2.7')] }));
  });
  const dot = new DotExchange(target(server.port, 'dns.test'), 'tls://fake');
  try {
    const replies = await Promise.all(
      ['a', 'b', 'c'].map((n) => dot.exchange(q(`${n}.dot.example`).m, q(`${n}.dot.example`).end, 2000)),
    );
    assert.is(replies.length, 3);
    assert.is(server.connections(), 2);
  } finally {
    dot.close();
    await server.close();
  }
});

test('DoT: a server that accepts TCP but never completes TLS is a failed connection (then fails fast); a silent connection is replaced', async () => {
  const sockets = new Set<net.Socket>();
  const mute = netServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  const hung = new DotExchange(target((mute.address() as net.AddressInfo).port, 'dns.test'), 'tls://hung');
  // The first connection answers one query, then falls silent; the next ones answer everything.
  let answeredOnFirst = 0;
  const silentFirst = await fakeDot((qq, conn, send) => {
    if (conn > 1 || answeredOnFirst++ === 0) send(reply(qq, { answers: [rr.a('x', '192.0.2.7')] }));
  });
  const silent = new DotExchange(target(silentFirst.port, 'dns.test'), 'tls://silent');
  try {
    const e = await rejection(hung.exchange(q('h.dot.example').m, q('h.dot.example').end, 300));
    assert.is(e.outcome, 'timeout');
    for (let i = 0; i < 50 && hung.stats.failures === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.is(hung.stats.failures, 1, 'the handshake timeout counts as a failed connection');
    assert.is(
      (await rejection(hung.exchange(q('i.dot.example').m, q('i.dot.example').end, 300))).outcome,
      'network',
      'backing off',
    );

    await silent.exchange(q('s0.dot.example').m, q('s0.dot.example').end, 5000); // connected (a slow machine may take a while)
    for (const n of ['s1', 's2', 's3']) {
      assert.is((await rejection(silent.exchange(q(`${n}.dot.example`).m, q(`${n}.dot.example`).end, 200))).outcome, 'timeout');
    }
    const r = await silent.exchange(q('s4.dot.example').m, q('s4.dot.example').end, 5000);
    assert.ok(r.includes(Buffer.from([192, 0, 2, 7])), 'answered on a new connection');
    assert.is(silentFirst.connections(), 2);
  } finally {
    hung.close();
    silent.close();
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((r) => mute.close(() => r()));
    await silentFirst.close();
  }
});

test('DoH: a reply for another question is refused (counted), never relayed', async () => {
  const server = http2.createSecureServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) });
  server.on('stream', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      const sent = Buffer.concat(chunks);
      const other = query('evil.dot.example', TYPE.A, { id: sent.readUInt16BE(0) });
      stream.respond({ ':status': 200, 'content-type': 'application/dns-message' });
      stream.end(reply(other, { answers: [rr.a('evil.dot.example', '203.0.113.66')] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const doh = new DohExchange(target((server.address() as net.AddressInfo).port, 'dns.test'), '/dns-query', 'https://fake');
  try {
    const e = await rejection(doh.exchange(q('good.dot.example').m, q('good.dot.example').end, 2000));
    assert.is(e.outcome, 'malformed');
    assert.is(doh.mismatched, 1);
  } finally {
    doh.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test.run();
