/**
 * Property-based fuzzing of the wire code (fast-check, fixed seed so a failure reproduces): the query
 * parser, the reply walker, the cache's TTL patching and the server edge take any bytes without an
 * exception other than WireError, and what they produce stays inside the packet.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import pino from 'pino';
import { AnswerCache } from '../../src/cache/answer-cache.js';
import { RCODE } from '../../src/dns/constants.js';
import { WireError } from '../../src/dns/errors.js';
import { parseQuery } from '../../src/dns/query.js';
import { answersQuestion, inspectReply } from '../../src/dns/reply.js';
import { storedAnswer } from '../../src/dns/relay.js';
import { anyResponse, errorResponse, negativeResponse } from '../../src/dns/response.js';
import { QueryStats } from '../../src/observe/query-stats.js';
import { QueryEdge } from '../../src/server/query-edge.js';
import { RateLimiter } from '../../src/server/rate-limiter.js';
import { query, reply, rr } from '../helpers/wire-builder.js';

const SEED = 20261124;
const RUNS = 4000;
const params = { seed: SEED, numRuns: RUNS };

/** A label of 1-20 letters/digits/hyphens. */
const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,19}$/);
const name = fc.array(label, { minLength: 1, maxLength: 6 }).map((ls) => ls.join('.'));
const qtype = fc.constantFrom(1, 28, 65, 64, 5, 16, 15, 12, 33, 2, 6, 255, 0, 65535);
const validQuery = fc
  .record({
    name,
    qtype,
    edns: fc.option(fc.record({ udpSize: fc.integer({ min: 0, max: 65535 }), do: fc.boolean() }), { nil: undefined }),
  })
  .map((r) => query(r.name, r.qtype, { edns: r.edns }));

type Mutation = (b: Buffer) => Buffer;
/** The ways a packet gets broken: bit flips, truncation, huge counts, pointer loops, oversized labels, bad OPT, junk. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.array(fc.nat(), { minLength: 1, maxLength: 8 }).map((ps): Mutation => (b) => {
    const c = Buffer.from(b);
    for (const p of ps) c[p % c.length] ^= 1 << (p % 8);
    return c;
  }),
  fc.nat().map(
    (n): Mutation =>
      (b) =>
        b.subarray(0, n % (b.length + 1)),
  ),
  fc.tuple(fc.constantFrom(4, 6, 8, 10), fc.constantFrom(0, 2, 0xffff, 0x8000)).map(([at, v]): Mutation => (b) => {
    const c = Buffer.from(b);
    if (c.length >= at + 2) c.writeUInt16BE(v, at);
    return c;
  }),
  // A compression pointer to itself or backwards into the header: a loop or garbage.
  fc.constantFrom(0xc00c, 0xc000, 0xc00d, 0xffff).map((p): Mutation => (b) => {
    const c = Buffer.from(b);
    if (c.length >= 14) c.writeUInt16BE(p, 12);
    return c;
  }),
  fc.integer({ min: 64, max: 255 }).map((len): Mutation => (b) => {
    const c = Buffer.from(b);
    if (c.length > 12) c[12] = len; // a label length no name may have
    return c;
  }),
  fc.uint8Array({ minLength: 0, maxLength: 40 }).map(
    (junk): Mutation =>
      (b) =>
        Buffer.concat([b, Buffer.from(junk)]),
  ),
  // An OPT record that lies about its length, or a second OPT.
  fc
    .constantFrom(Buffer.from('0000290200000000000005', 'hex'), Buffer.from('0000290200000000000000', 'hex'))
    .map((opt): Mutation => (b) => {
      const c = Buffer.concat([b, opt]);
      if (c.length >= 12) c.writeUInt16BE((c.readUInt16BE(10) + 1) & 0xffff, 10);
      return c;
    }),
);
const mutated = fc
  .tuple(validQuery, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([q, ms]) => ms.reduce((b, m) => m(b), q));
const packet = fc.oneof(
  mutated,
  fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
);

test('parseQuery: any bytes → a query inside the packet, or a WireError; never anything else', () => {
  fc.assert(
    fc.property(packet, (buf) => {
      let q;
      try {
        q = parseQuery(buf);
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        return;
      }
      assert.ok(q.questionEnd <= buf.length);
      assert.ok(q.qname.length <= 253, 'a name of at most 253 characters');
      assert.not.match(q.qname, /[A-Z]/, 'lower-cased');
      assert.ok(q.qtype >= 0 && q.qtype <= 0xffff);
    }),
    params,
  );
});

test('answers synthesised for any parseable query parse back, and REFUSED is never larger than the query', () => {
  fc.assert(
    fc.property(packet, (buf) => {
      let q;
      try {
        q = parseQuery(buf);
      } catch {
        return;
      }
      const refused = errorResponse(buf, q, RCODE.REFUSED);
      assert.ok(refused.length <= buf.length, `REFUSED ${refused.length} > query ${buf.length}`);
      for (const r of [refused, anyResponse(buf, q, 3600), negativeResponse(buf, q, RCODE.NXDOMAIN, 60)]) {
        assert.ok(answersQuestion(r, buf, q.questionEnd));
        inspectReply(r, q.questionEnd); // well-formed: walks without throwing
      }
    }),
    params,
  );
});

const upstreamReply = fc
  .tuple(name, fc.array(fc.ipV4(), { minLength: 0, maxLength: 4 }), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([n, ips, ttl]) => {
    const q = query(n, 1, { id: 7 });
    return { q, r: reply(q, { answers: ips.map((ip) => rr.a(n, ip, ttl)) }) };
  });

test('upstream replies: any mutation is rejected (WireError) or walked inside the packet; cached copies patch TTLs in bounds', () => {
  let t = 0;
  const cache = new AnswerCache({ maxEntries: 100, maxTtl: 86_400, maxNegativeTtl: 3600 }, () => t);
  fc.assert(
    fc.property(upstreamReply, fc.array(mutation, { minLength: 0, maxLength: 3 }), fc.nat(100_000), ({ q, r }, ms, later) => {
      const bad = ms.reduce((b, m) => m(b), r);
      const pq = parseQuery(q);
      if (!answersQuestion(bad, q, pq.questionEnd)) return;
      let facts;
      try {
        facts = inspectReply(bad, pq.questionEnd, true);
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        return;
      }
      for (const off of facts.ttlOffsets) assert.ok(off + 4 <= bad.length);
      const stored = storedAnswer(bad, facts);
      cache.set(pq, stored);
      t += later;
      const hit = cache.get(pq, q);
      if (hit) assert.is(hit.length, stored.body.length);
    }),
    params,
  );
});

test('the server edge: any packet gets at most one reply, never a throw', () => {
  const log = pino({ level: 'silent' });
  const limiter = new RateLimiter({ qps: 0, burst: 1, ipv4_prefix: 32, ipv6_prefix: 128, action: 'drop', max_clients: 10 });
  const edge = new QueryEdge(
    () => ({ wire: Buffer.alloc(0), kind: 'forwarded', reason: '' }),
    new QueryStats(),
    { record: () => {} },
    log,
    limiter,
  );
  // The chain throws for some packets: the edge must turn that into SERVFAIL, not an exception.
  let n = 0;
  edge.setChain((ctx) => {
    if (n++ % 2) throw new Error('stage failed');
    return { wire: errorResponse(ctx.raw, ctx.q, RCODE.NOERROR), kind: 'forwarded', reason: 'test' };
  });
  fc.assert(
    fc.property(packet, fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'), (buf, transport) => {
      let replies = 0;
      edge.handle(buf, transport, '10.0.0.1', (wire) => {
        replies++;
        if (wire) assert.ok(wire.length >= 12);
      });
      assert.ok(replies <= 1);
    }),
    params,
  );
});

test.run();
