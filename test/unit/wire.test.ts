import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { WireError } from '../../src/dns/errors.js';
import { parseQuery } from '../../src/dns/query.js';
import { answersQuestion, inspectReply } from '../../src/dns/reply.js';
import {
  addressResponse,
  errorResponse,
  headerOnlyResponse,
  negativeResponse,
  truncatedResponse,
} from '../../src/dns/response.js';
import { header, query, questionEnd, reply, rr } from '../helpers/wire-builder.js';

function rcodeOf(fn: () => unknown): number | null | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof WireError) return e.rcode;
    throw e;
  }
}

test('parses header, lower-cased question and EDNS', () => {
  const q = parseQuery(query('WWW.FaceBook.COM', TYPE.AAAA, { id: 0x1234, edns: { udpSize: 4096, do: true } }));
  assert.is(q.id, 0x1234);
  assert.is(q.qname, 'www.facebook.com');
  assert.is(q.qtype, TYPE.AAAA);
  assert.is(q.qclass, 1);
  assert.equal(q.edns, { udpSize: 4096, version: 0, dnssecOk: true });
  assert.is(q.questionEnd, 12 + 18 + 4);
});

test('root query and no EDNS', () => {
  const q = parseQuery(query('.', TYPE.NS));
  assert.is(q.qname, '');
  assert.is(q.edns, null);
});

test('odd bytes in labels are escaped so they never match a list entry', () => {
  const msg = query('x.example', 1);
  // Turn label "x" into "." (0x2e): the name is `\..example`, not a subdomain match of anything.
  msg[13] = 0x2e;
  assert.is(parseQuery(msg).qname, '\\..example');
  msg[13] = 0x07;
  assert.is(parseQuery(msg).qname, '\\007.example');
  const script = query('<script>.example', 1);
  assert.is(parseQuery(script).qname, '<script>.example');
});

test('bad packets: dropped when unreadable, FORMERR or NOTIMP otherwise', () => {
  const good = query('example.com', 1, { id: 7 });
  assert.is(
    rcodeOf(() => parseQuery(Buffer.alloc(11))),
    null,
    'short header',
  );
  const resp = Buffer.from(good);
  resp[2] |= 0x80;
  assert.is(
    rcodeOf(() => parseQuery(resp)),
    null,
    'QR set',
  );
  const notify = Buffer.from(good);
  notify[2] |= 4 << 3;
  assert.is(
    rcodeOf(() => parseQuery(notify)),
    RCODE.NOTIMP,
    'opcode NOTIFY',
  );
  const noq = Buffer.from(good);
  noq.writeUInt16BE(0, 4);
  assert.is(
    rcodeOf(() => parseQuery(noq)),
    RCODE.FORMERR,
    'qdcount 0',
  );
  const twoq = Buffer.from(good);
  twoq.writeUInt16BE(2, 4);
  assert.is(
    rcodeOf(() => parseQuery(twoq)),
    RCODE.FORMERR,
    'qdcount 2',
  );
  assert.is(
    rcodeOf(() => parseQuery(good.subarray(0, good.length - 2))),
    RCODE.FORMERR,
    'truncated type/class',
  );
  assert.is(
    rcodeOf(() => parseQuery(good.subarray(0, 16))),
    RCODE.FORMERR,
    'truncated label',
  );
  const ptr = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
  assert.is(
    rcodeOf(() => parseQuery(ptr)),
    RCODE.FORMERR,
    'compression pointer in question',
  );
  const long = query('a'.repeat(63) + '.' + 'b'.repeat(63) + '.' + 'c'.repeat(63) + '.' + 'd'.repeat(61), 1);
  assert.is(
    rcodeOf(() => parseQuery(long)),
    'ok',
    '255-byte name is fine',
  );
  const tooLong = query('a'.repeat(63) + '.' + 'b'.repeat(63) + '.' + 'c'.repeat(63) + '.' + 'd'.repeat(62), 1);
  assert.is(
    rcodeOf(() => parseQuery(tooLong)),
    RCODE.FORMERR,
    '256-byte name',
  );
  const twoOpt = Buffer.concat([query('e.com', 1, { edns: {} }), query('x', 1, { edns: {} }).subarray(-11)]);
  twoOpt.writeUInt16BE(2, 10);
  assert.is(
    rcodeOf(() => parseQuery(twoOpt)),
    RCODE.FORMERR,
    'two OPT records',
  );
  const lyingAr = Buffer.from(good);
  lyingAr.writeUInt16BE(65535, 10);
  assert.is(
    rcodeOf(() => parseQuery(lyingAr)),
    RCODE.FORMERR,
    'arcount beyond the packet',
  );
  const an = Buffer.from(good);
  an.writeUInt16BE(1, 6);
  assert.is(
    rcodeOf(() => parseQuery(an)),
    RCODE.FORMERR,
    'answer records in a query',
  );
});

test('random and truncated packets only ever raise WireError', () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const base = query('www.example.com', 1, { edns: { options: [[10, Buffer.alloc(8)]] } });
  for (let i = 0; i < 20000; i++) {
    let msg: Buffer;
    if (i % 2 === 0) {
      msg = Buffer.from(base.subarray(0, Math.floor(rand() * base.length)));
    } else {
      msg = Buffer.from(base);
      for (let k = 0; k < 1 + rand() * 6; k++) msg[Math.floor(rand() * msg.length)] = Math.floor(rand() * 256);
    }
    const r = rcodeOf(() => parseQuery(msg));
    assert.ok(r === 'ok' || r === null || r === RCODE.FORMERR || r === RCODE.NOTIMP || r === RCODE.BADVERS);
  }
});

test('synthesised responses echo ID, question and OPT', () => {
  const raw = query('Blocked.Example', TYPE.A, { id: 99, edns: { do: true } });
  const q = parseQuery(raw);
  const nx = negativeResponse(raw, q, RCODE.NXDOMAIN, 60);
  const h = header(nx);
  assert.equal([h.id, h.qr, h.rcode, h.qdcount, h.ancount, h.nscount, h.arcount], [99, true, RCODE.NXDOMAIN, 1, 0, 1, 1]);
  assert.equal(nx.subarray(12, q.questionEnd), raw.subarray(12, q.questionEnd), 'question bytes, case kept');
  const facts = inspectReply(nx, q.questionEnd);
  assert.is(facts.negativeTtl, 60);
  assert.is(nx[nx.length - 11 + 7] & 0x80, 0x80, 'DO bit echoed');

  const a = addressResponse(raw, q, Buffer.from([0, 0, 0, 0]), 60);
  assert.is(header(a).ancount, 1);
  assert.equal(a.subarray(a.length - 11 - 4, a.length - 11), Buffer.from([0, 0, 0, 0]));

  const noEdns = query('x.example', TYPE.A, { id: 5 });
  const ref = errorResponse(noEdns, parseQuery(noEdns), RCODE.REFUSED);
  assert.is(ref.length, noEdns.length, 'REFUSED is never larger than the query');
  assert.is(header(ref).arcount, 0, 'no OPT when the query had none');

  const hdr = headerOnlyResponse(Buffer.concat([Buffer.from([1, 2, 1, 0]), Buffer.alloc(8, 0xff)]), RCODE.FORMERR);
  assert.equal([header(hdr).id, header(hdr).rcode, header(hdr).qdcount, hdr.length], [0x0102, RCODE.FORMERR, 0, 12]);
});

test('truncatedResponse keeps rcode, sets TC and drops the records', () => {
  const raw = query('big.example', TYPE.TXT, { id: 3 });
  const q = parseQuery(raw);
  const big = reply(raw, { answers: Array.from({ length: 10 }, () => rr.txt('big.example', 'x'.repeat(100))) });
  const t = truncatedResponse(raw, q, big);
  const h = header(t);
  assert.equal([h.tc, h.ancount, h.rcode, h.id], [true, 0, 0, 3]);
});

test('inspectReply finds TTLs (not OPT), min TTL and the SOA negative TTL', () => {
  const raw = query('example.com', TYPE.A, { edns: {} });
  const r = reply(raw, {
    answers: [rr.a('example.com', '192.0.2.1', 300), rr.a('example.com', '192.0.2.2', 200)],
    authority: [rr.soa('example.com', 900, 120)],
    edns: { options: [[10, Buffer.alloc(8)]] },
  });
  const f = inspectReply(r, questionEnd(raw));
  assert.is(f.ttlOffsets.length, 3);
  assert.is(f.minTtl, 200);
  assert.is(f.negativeTtl, 120);
  assert.is(f.answerCount, 2);
  for (const off of f.ttlOffsets) assert.ok([300, 200, 900].includes(r.readUInt32BE(off)));
  assert.throws(
    () => inspectReply(r.subarray(0, r.length - 3), questionEnd(raw)),
    (e: unknown) => e instanceof WireError,
  );
});

test('answersQuestion matches case-insensitively and rejects other questions', () => {
  const raw = query('Example.COM', TYPE.A);
  const qe = questionEnd(raw);
  assert.ok(answersQuestion(reply(query('example.com', TYPE.A)), raw, qe));
  assert.not.ok(answersQuestion(reply(query('example.org', TYPE.A)), raw, qe));
  assert.not.ok(answersQuestion(reply(query('example.com', TYPE.AAAA)), raw, qe));
  assert.not.ok(answersQuestion(query('example.com', TYPE.A), raw, qe), 'a query is not an answer');
});

test.run();
