import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AnswerCache } from '../../src/cache/answer-cache.js';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { parseQuery } from '../../src/dns/query.js';
import { inspectReply } from '../../src/dns/reply.js';
import { storedAnswer } from '../../src/dns/relay.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

function setup(limits = { maxEntries: 100, maxTtl: 86400, maxNegativeTtl: 3600 }) {
  let now = 1_000_000;
  const cache = new AnswerCache(limits, () => now);
  const store = (raw: Buffer, r: Buffer) => {
    const q = parseQuery(raw);
    cache.set(q, storedAnswer(r, inspectReply(r, q.questionEnd, true)));
  };
  const get = (raw: Buffer) => {
    const q = parseQuery(raw);
    return cache.get(q, raw);
  };
  return { cache, store, get, advance: (ms: number) => (now += ms) };
}

test('a hit carries the new ID, RD and question case; TTLs are capped at the entry lifetime and decremented', () => {
  const { store, get, advance, cache } = setup();
  const first = query('example.com', TYPE.A, { id: 1 });
  store(first, reply(first, { answers: [rr.a('example.com', '192.0.2.1', 300), rr.a('example.com', '192.0.2.2', 100)] }));
  advance(42_500);
  const second = query('EXAMPLE.com', TYPE.A, { id: 2, rd: false });
  const hit = get(second)!;
  assert.ok(hit);
  assert.is(header(hit).id, 2);
  assert.is(header(hit).rd, false);
  assert.equal(hit.subarray(12, 12 + 13), second.subarray(12, 12 + 13));
  const facts = inspectReply(hit, parseQuery(second).questionEnd);
  // Lifetime is the smallest TTL (100 s): no record claims to outlive the entry. 42.5 s have passed,
  // counted as 43: the upstream, asked now, would say 58 or 57 — never more than 57 is safe.
  assert.equal(
    facts.ttlOffsets.map((o) => hit.readUInt32BE(o)),
    [57, 57],
  );
  assert.equal([cache.hits, cache.misses], [1, 0]);
});

test('entries expire at the smallest TTL', () => {
  const { store, get, advance } = setup();
  const q = query('example.com');
  store(q, reply(q, { answers: [rr.a('example.com', '192.0.2.1', 300), rr.a('example.com', '192.0.2.2', 10)] }));
  advance(9_000);
  const last = get(q)!;
  assert.is(last.readUInt32BE(inspectReply(last, parseQuery(q).questionEnd).ttlOffsets[0]), 1);
  // 9.001 s is counted as 10: the TTL would be 0, so the entry is gone (never served with TTL 0).
  advance(1);
  assert.is(get(q), null);
});

test('negative answers are cached for min(SOA TTL, MINIMUM), never without an SOA (RFC 2308)', () => {
  const { store, get, advance } = setup();
  const nx = query('nope.example');
  store(nx, reply(nx, { rcode: RCODE.NXDOMAIN, authority: [rr.soa('example', 900, 30)] }));
  const nodata = query('example.com', TYPE.AAAA);
  store(nodata, reply(nodata, { authority: [rr.soa('example.com', 20, 600)] }));
  const bare = query('bare.example');
  store(bare, reply(bare, { rcode: RCODE.NXDOMAIN }));
  assert.is(header(get(nx)!).rcode, RCODE.NXDOMAIN);
  assert.ok(get(nodata));
  assert.is(get(bare), null);
  advance(20_000);
  assert.ok(get(nx));
  assert.is(get(nodata), null);
  advance(10_000);
  assert.is(get(nx), null);
});

test('SERVFAIL, REFUSED, truncated and zero-TTL replies are not cached', () => {
  const { store, get } = setup();
  for (const [name, opts] of [
    ['sf.example', { rcode: RCODE.SERVFAIL }],
    ['ref.example', { rcode: RCODE.REFUSED }],
    ['tc.example', { tc: true, answers: [rr.a('tc.example', '192.0.2.1')] }],
    ['zero.example', { answers: [rr.a('zero.example', '192.0.2.1', 0)] }],
  ] as const) {
    const q = query(name);
    store(q, reply(q, opts));
    assert.is(get(q), null, name);
  }
});

test('DO and CD queries have their own entries; EDNS alone shares the entry and gets its own OPT', () => {
  const { store, get } = setup();
  const plain = query('example.com');
  store(plain, reply(plain, { answers: [rr.a('example.com', '192.0.2.1')] }));
  assert.is(get(query('example.com', TYPE.A, { edns: { do: true } })), null);
  assert.is(get(query('example.com', TYPE.A, { cd: true })), null);
  assert.is(header(get(query('example.com'))!).arcount, 0);
  const withEdns = get(query('example.com', TYPE.A, { edns: { udpSize: 4096 } }))!;
  assert.is(header(withEdns).arcount, 1);
  const opt = withEdns.subarray(withEdns.length - 11);
  assert.equal([opt.readUInt16BE(1), opt.readUInt16BE(3), opt.readUInt32BE(5), opt.readUInt16BE(9)], [TYPE.OPT, 1232, 0, 0]);
});

test('max_ttl caps lifetime and the TTLs served', () => {
  const { store, get, advance } = setup({ maxEntries: 10, maxTtl: 60, maxNegativeTtl: 10 });
  const q = query('long.example');
  store(q, reply(q, { answers: [rr.a('long.example', '192.0.2.1', 86400)] }));
  const hit = get(q)!;
  const off = inspectReply(hit, parseQuery(q).questionEnd).ttlOffsets[0];
  assert.is(hit.readUInt32BE(off), 60);
  advance(60_000);
  assert.is(get(q), null);
});

test('bounded: least recently used entries go first', () => {
  const { store, get, cache } = setup({ maxEntries: 3, maxTtl: 86400, maxNegativeTtl: 3600 });
  const names = ['a.example', 'b.example', 'c.example', 'd.example'];
  const qs = names.map((n) => query(n));
  store(qs[0], reply(qs[0], { answers: [rr.a(names[0], '192.0.2.1')] }));
  store(qs[1], reply(qs[1], { answers: [rr.a(names[1], '192.0.2.1')] }));
  store(qs[2], reply(qs[2], { answers: [rr.a(names[2], '192.0.2.1')] }));
  assert.ok(get(qs[0])); // a is now the most recent
  store(qs[3], reply(qs[3], { answers: [rr.a(names[3], '192.0.2.1')] }));
  assert.is(cache.size, 3);
  assert.ok(get(qs[0]));
  assert.is(get(qs[1]), null, 'b was least recently used');
  cache.setLimits({ maxEntries: 1, maxTtl: 86400, maxNegativeTtl: 3600 });
  assert.is(cache.size, 1);
});

test('variants of a name are counted one by one; an expired one goes alone, an evicted name takes all of its', () => {
  const { store, get, cache, advance } = setup({ maxEntries: 4, maxTtl: 86400, maxNegativeTtl: 3600 });
  const a = query('v.example', TYPE.A);
  const aaaa = query('v.example', TYPE.AAAA);
  const https = query('v.example', TYPE.HTTPS);
  store(a, reply(a, { answers: [rr.a('v.example', '192.0.2.1', 10)] }));
  store(aaaa, reply(aaaa, { answers: [rr.aaaa('v.example', 300)] }));
  store(https, reply(https, { authority: [rr.soa('v.example', 300, 300)] }));
  assert.is(cache.size, 3);
  advance(10_000);
  assert.is(get(a), null, 'the A record expired');
  assert.is(cache.size, 2);
  assert.ok(get(aaaa), 'the other variants stay');
  assert.ok(get(https));
  // Two more names: the cache is over its bound. v.example was used, so w.example (never used) goes first.
  const w = query('w.example');
  const x = query('x.example');
  store(w, reply(w, { answers: [rr.a('w.example', '192.0.2.2')] }));
  store(x, reply(x, { answers: [rr.a('x.example', '192.0.2.3')] }));
  assert.is(cache.size, 4);
  const y = query('y.example');
  store(y, reply(y, { answers: [rr.a('y.example', '192.0.2.4')] }));
  assert.is(get(w), null, 'the oldest name not used since goes');
  assert.ok(get(aaaa));
  assert.is(cache.size, 4);
  // Now nothing is unused but y and x; two more: v.example (2 variants) is marked used again, x goes, then y.
  cache.setLimits({ maxEntries: 2, maxTtl: 86400, maxNegativeTtl: 3600 });
  assert.is(cache.size, 2);
  assert.ok(get(aaaa) && get(https), 'the used name kept both variants');
  assert.is(get(x), null);
});

test.run();
