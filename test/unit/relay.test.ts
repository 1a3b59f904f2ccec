/** Unit: answers built per client — upstream query, stored form, per-client reply, error replies, UDP fitting, chains. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EDNS_OPTION, RCODE, TYPE } from '../../src/dns/constants.js';
import { WireError } from '../../src/dns/errors.js';
import { readWireName } from '../../src/dns/name.js';
import { parseQuery } from '../../src/dns/query.js';
import { inspectReply } from '../../src/dns/reply.js';
import { renderAnswer, storedAnswer, upstreamQuery } from '../../src/dns/relay.js';
import { errorResponse, fitUdp } from '../../src/dns/response.js';
import { header, optOf, query, questionEnd, reply, rr } from '../helpers/wire-builder.js';

const HOP_BY_HOP: [number, Buffer][] = [
  [EDNS_OPTION.NSID, Buffer.from('upstream-1')],
  [EDNS_OPTION.COOKIE, Buffer.from('0102030405060708aabbccddeeff0011', 'hex')],
  [EDNS_OPTION.TCP_KEEPALIVE, Buffer.from([0, 100])],
  [EDNS_OPTION.PADDING, Buffer.alloc(40)],
];
const EDE = Buffer.from([0, 18, ...Buffer.from('prohibited')]);

function parseError(msg: Buffer): WireError {
  try {
    parseQuery(msg);
  } catch (e) {
    if (e instanceof WireError) return e;
    throw e;
  }
  throw new Error('parsed');
}

test('error replies keep a readable question and a valid OPT (RFC 6891 §7); BADVERS for EDNS version 1', () => {
  const notify = query('www.example', TYPE.SOA, { id: 9, edns: { do: true } });
  notify[2] |= 4 << 3;
  const e1 = parseError(notify);
  assert.is(e1.rcode, RCODE.NOTIMP);
  const r1 = errorResponse(notify, e1.query!, e1.rcode!);
  assert.equal([header(r1).qdcount, header(r1).arcount, header(r1).rcode, header(r1).id], [1, 1, RCODE.NOTIMP, 9]);
  assert.is(optOf(r1)!.do, true, "the client's DO bit");
  assert.ok(r1.length <= notify.length, 'never larger than the query');

  const withAnswer = query('www.example', TYPE.A, { edns: {} });
  withAnswer.writeUInt16BE(1, 6);
  const withAnswerFull = Buffer.concat([
    withAnswer.subarray(0, questionEnd(withAnswer)),
    Buffer.from('c00c000100010000003c00047f000001', 'hex'),
    withAnswer.subarray(questionEnd(withAnswer)),
  ]);
  const e2 = parseError(withAnswerFull);
  assert.is(e2.rcode, RCODE.FORMERR);
  const r2 = errorResponse(withAnswerFull, e2.query!, e2.rcode!);
  assert.equal([header(r2).qdcount, header(r2).ancount, header(r2).arcount], [1, 0, 1], 'question and OPT, no answer');

  const twoOpt = Buffer.concat([query('e.example', 1, { edns: {} }), query('x', 1, { edns: {} }).subarray(-11)]);
  twoOpt.writeUInt16BE(2, 10);
  const e3 = parseError(twoOpt);
  assert.is(e3.rcode, RCODE.FORMERR);
  assert.equal(
    [header(errorResponse(twoOpt, e3.query!, e3.rcode!)).qdcount, header(errorResponse(twoOpt, e3.query!, e3.rcode!)).arcount],
    [1, 0],
    'no OPT: the query had no valid one',
  );

  const v1 = query('www.example', TYPE.A, { edns: {} });
  v1[v1.length - 11 + 6] = 1; // EDNS version 1
  const e4 = parseError(v1);
  assert.is(e4.rcode, RCODE.BADVERS);
  const r4 = errorResponse(v1, e4.query!, e4.rcode!);
  const opt = optOf(r4)!;
  assert.equal(
    [header(r4).rcode, opt.extRcode, opt.version, header(r4).qdcount],
    [0, 1, 0, 1],
    'BADVERS = 16: extended bits 1 in our version-0 OPT',
  );

  const unreadable = Buffer.from(query('www.example', TYPE.A, { id: 4 }));
  unreadable[12] = 0xc0; // compression pointer in the question
  const e5 = parseError(unreadable);
  assert.equal([e5.rcode, e5.query], [RCODE.FORMERR, null], 'no question to repeat: header only');
});

test('the upstream query: our own OPT (client DO, 1232, no options), RD and AD set, CD as asked', () => {
  const raw = query('WWW.Example', TYPE.A, {
    cd: true,
    rd: false,
    edns: { udpSize: 65535, do: true, options: [[EDNS_OPTION.CLIENT_SUBNET, Buffer.from('0001180a1400', 'hex')], ...HOP_BY_HOP] },
  });
  const q = parseQuery(raw);
  const up = upstreamQuery(raw, q);
  const h = header(up);
  assert.equal([h.rd, h.ad, h.cd, h.qdcount, h.arcount], [true, true, true, 1, 1]);
  assert.equal(up.subarray(12, q.questionEnd), raw.subarray(12, q.questionEnd));
  const opt = optOf(up)!;
  assert.equal([opt.udpSize, opt.do, opt.version, opt.options.size], [1232, true, 0, 0]);
  assert.is(up.length, q.questionEnd + 11);
  const plain = query('www.example', TYPE.A);
  assert.equal(optOf(upstreamQuery(plain, parseQuery(plain)))!.do, false, 'a client without EDNS: DO=0, still EDNS upstream');
});

test('stored form: the upstream OPT is gone (cookie, NSID, keepalive, padding), EDE kept; TTL offsets still point at TTLs', () => {
  const raw = query('www.example', TYPE.A, { edns: {} });
  const q = parseQuery(raw);
  const options: [number, Buffer][] = [...HOP_BY_HOP, [EDNS_OPTION.EDE, EDE]];
  const up = reply(raw, { ad: true, answers: [rr.a('www.example', '192.0.2.1', 300)], edns: { options } });
  // The OPT first in the additional section, before a glue record: the glue's TTL offset must move.
  const optLength = 11 + options.reduce((n, [, d]) => n + 4 + d.length, 0);
  const opt = up.subarray(up.length - optLength);
  const withGlue = reply(raw, {
    answers: [rr.a('www.example', '192.0.2.1', 300)],
    additional: [rr.a('ns.example', '192.0.2.53', 77)],
  });
  const glueLength = 12 + 10 + 4;
  const mixed = Buffer.concat([
    withGlue.subarray(0, withGlue.length - glueLength),
    opt,
    withGlue.subarray(withGlue.length - glueLength),
  ]);
  mixed.writeUInt16BE(2, 10);
  for (const wire of [up, mixed]) {
    const facts = inspectReply(wire, q.questionEnd, true);
    const stored = storedAnswer(wire, facts);
    assert.is(header(stored.body).arcount, header(wire).arcount - 1);
    assert.is(optOf(stored.body), null);
    assert.equal(stored.facts.ede, Buffer.concat([Buffer.from([0, 15, 0, EDE.length]), EDE]));
    assert.equal(
      stored.facts.ttlOffsets.map((o) => stored.body.readUInt32BE(o)),
      facts.ttlOffsets.map((o) => wire.readUInt32BE(o)),
    );
  }
});

test('per-client reply: its ID, RD, CD, question case and OPT; no AA; AD only for a client that set AD or DO', () => {
  const first = query('www.example', TYPE.A, { edns: {} });
  const up = reply(first, {
    aa: true,
    ad: true,
    answers: [rr.a('www.example', '192.0.2.1', 300)],
    edns: { options: [...HOP_BY_HOP, [EDNS_OPTION.EDE, EDE]] },
  });
  const stored = storedAnswer(up, inspectReply(up, questionEnd(first), true));
  const render = (raw: Buffer) => renderAnswer(stored, raw, parseQuery(raw), 0x7fffffff);

  const plain = render(query('WWW.EXAMPLE', TYPE.A, { id: 5, rd: false }));
  assert.equal(
    [header(plain).id, header(plain).rd, header(plain).aa, header(plain).ad, header(plain).arcount],
    [5, false, false, false, 0],
  );
  assert.is(plain.subarray(12, 25).toString('latin1').includes('WWW'), true, '0x20 case of the client');

  const adClient = render(query('www.example', TYPE.A, { ad: true }));
  assert.is(header(adClient).ad, true, 'AD=1 query: AD kept');
  const doClient = render(query('www.example', TYPE.A, { edns: { do: true, udpSize: 4096 } }));
  assert.is(header(doClient).ad, true, 'DO=1 query: AD kept');
  const ednsClient = render(query('www.example', TYPE.A, { edns: { options: [[EDNS_OPTION.NSID, Buffer.alloc(0)]] } }));
  assert.is(header(ednsClient).ad, false, 'neither AD nor DO: cleared');
  const opt = optOf(ednsClient)!;
  assert.equal([opt.udpSize, opt.do, [...opt.options.keys()]], [1232, false, [EDNS_OPTION.EDE]], 'our OPT: only the EDE');
  assert.is(optOf(doClient)!.do, true);

  // TTL cap (an exception ending sooner) applies to the copy, never to the stored answer.
  const capped = renderAnswer(stored, first, parseQuery(first), 42);
  assert.is(capped.readUInt32BE(inspectReply(capped, questionEnd(first)).ttlOffsets[0]), 42);
  assert.is(stored.body.readUInt32BE(stored.facts.ttlOffsets[0]), 300);
});

test('UDP fitting: whole when it fits; additional records dropped without TC when that is enough; else TC=1 with OPT', () => {
  const raw = query('big.example', TYPE.TXT, { edns: { udpSize: 65535 } });
  const q = parseQuery(raw);
  const small = reply(raw, { answers: [rr.txt('big.example', 'x')], edns: {} });
  assert.is(fitUdp(raw, q, small, 1232), small);
  const glue = reply(raw, {
    answers: [rr.txt('big.example', 'x'.repeat(200))],
    additional: Array.from({ length: 10 }, (_, i) => rr.txt(`g${i}.example`, 'y'.repeat(200))),
    edns: {},
  });
  const noGlue = fitUdp(raw, q, glue, 1232);
  assert.equal([header(noGlue).tc, header(noGlue).ancount, header(noGlue).arcount], [false, 1, 1]);
  assert.ok(optOf(noGlue), 'the OPT stays');
  const huge = reply(raw, {
    answers: Array.from({ length: 30 }, (_, i) => rr.txt('big.example', `${i}`.padEnd(200, 'z'))),
    edns: {},
  });
  const tc = fitUdp(raw, q, huge, 1232);
  assert.equal([header(tc).tc, header(tc).ancount, header(tc).arcount], [true, 0, 1]);
  assert.ok(tc.length <= 1232);
});

test('chain names: CNAME and DNAME owners and targets, HTTPS TargetName; compressed, lower-cased, once each, not the question', () => {
  const raw = query('Cloak.Example', TYPE.A);
  const qe = questionEnd(raw);
  const r = reply(raw, {
    answers: [
      rr.cname('cloak.example', 'Hop.Example'),
      rr.cname('hop.example', 'www.facebook.com'),
      rr.a('www.facebook.com', '192.0.2.66'),
      rr.dname('d.example', 'facebook.com'),
      rr.https('cloak.example', 1, 'www.facebook.com'),
      rr.https('cloak.example', 1, '.'),
    ],
  });
  assert.is(inspectReply(r, qe, true).chain, 'hop.example www.facebook.com d.example facebook.com');
  assert.is(inspectReply(r, qe).chain, '', 'only when asked');
  // A CNAME whose target is a compression pointer back to the question name's "example" label.
  const compressed = reply(raw, {
    answers: [{ name: 'cloak.example', type: TYPE.CNAME, ttl: 60, data: Buffer.from([3, 0x77, 0x77, 0x77, 0xc0, 18]) }],
  });
  assert.is(inspectReply(compressed, qe, true).chain, 'www.example');
  assert.is(inspectReply(reply(raw, { answers: [rr.a('cloak.example', '192.0.2.1')] }), qe, true).chain, '');
});

test('readWireName: pointers only backwards (no loops), escapes odd bytes', () => {
  const msg = Buffer.from([0, 0, 3, 0x41, 0x2e, 0x62, 0xc0, 0x06]); // "A.b" then a pointer to itself
  assert.throws(
    () => readWireName(msg, 2),
    (e: unknown) => e instanceof WireError,
  );
  const ok = Buffer.from([3, 0x41, 0x2e, 0x62, 0, 1, 0x01, 0xc0, 0]);
  assert.is(readWireName(ok, 0), 'a\\.b');
  assert.is(readWireName(ok, 5), '\\001.a\\.b');
});

test.run();
