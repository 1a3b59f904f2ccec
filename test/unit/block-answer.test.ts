import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { parseQuery } from '../../src/dns/query.js';
import { inspectReply } from '../../src/dns/reply.js';
import { blockedAnswer, compileBlockResponse } from '../../src/pipeline/block-answer.js';
import { header, query } from '../helpers/wire-builder.js';

function answer(mode: string, qtype: number, edns = false) {
  const raw = query('www.facebook.com', qtype, { id: 11, edns: edns ? { do: false } : undefined });
  const q = parseQuery(raw);
  const { wire, response } = blockedAnswer(raw, q, compileBlockResponse(mode), 60);
  return {
    wire,
    response,
    h: header(wire),
    rdata: wire.subarray(q.questionEnd + 12, q.questionEnd + 12 + (qtype === TYPE.A ? 4 : 16)),
    facts: inspectReply(wire, q.questionEnd),
  };
}

test('nxdomain: NXDOMAIN with an SOA whose TTL and MINIMUM are blocking.ttl', () => {
  for (const t of [TYPE.A, TYPE.AAAA, TYPE.HTTPS, TYPE.TXT]) {
    const { h, facts, response } = answer('nxdomain', t);
    assert.equal([h.rcode, h.ancount, h.nscount, facts.negativeTtl, response], [RCODE.NXDOMAIN, 0, 1, 60, 'NXDOMAIN']);
  }
});

test('null: A → 0.0.0.0, AAAA → ::, anything else NODATA', () => {
  const a = answer('null', TYPE.A);
  assert.equal([a.h.rcode, a.h.ancount], [RCODE.NOERROR, 1]);
  assert.equal([...a.rdata], [0, 0, 0, 0]);
  assert.is(a.response, '0.0.0.0');
  const aaaa = answer('null', TYPE.AAAA);
  assert.equal([...aaaa.rdata], new Array(16).fill(0));
  assert.is(aaaa.response, '::');
  const https = answer('null', TYPE.HTTPS);
  assert.equal([https.h.rcode, https.h.ancount, https.h.nscount, https.response], [RCODE.NOERROR, 0, 1, 'NODATA']);
});

test('an address: answers its own family only', () => {
  const a = answer('192.0.2.10', TYPE.A);
  assert.equal([...a.rdata], [192, 0, 2, 10]);
  const aaaa = answer('192.0.2.10', TYPE.AAAA);
  assert.equal([aaaa.h.rcode, aaaa.h.ancount], [RCODE.NOERROR, 0]);
  const v6 = answer('2001:db8::10', TYPE.AAAA);
  assert.equal([...v6.rdata.subarray(14)], [0, 0x10]);
});

test('refused: REFUSED; every mode echoes OPT when the query had one', () => {
  assert.is(answer('refused', TYPE.A).h.rcode, RCODE.REFUSED);
  assert.is(answer('refused', TYPE.A).response, 'REFUSED');
  assert.is(answer('192.0.2.10', TYPE.A).response, '192.0.2.10');
  for (const mode of ['nxdomain', 'null', 'refused', '192.0.2.1']) {
    assert.is(answer(mode, TYPE.A, true).h.arcount, 1, mode);
    assert.is(answer(mode, TYPE.A, false).h.arcount, 0, mode);
  }
  assert.throws(() => compileBlockResponse('blackhole'), /not a block response/);
});

test.run();
