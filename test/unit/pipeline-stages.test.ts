/**
 * The query path in-process: the real stages, built from a real config, run through compose() with
 * a fake last stage in place of the upstream (as CoreDNS tests a plugin with a fake ResponseWriter);
 * evaluate(), which the daemon and `check` share; validateException, which the CLI and the console
 * share. The end-to-end tests keep what needs the real process (sockets, threads, the database).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { AnswerCache } from '../../src/cache/answer-cache.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { parseQuery } from '../../src/dns/query.js';
import { inspectReply } from '../../src/dns/reply.js';
import { renderAnswer, storedAnswer } from '../../src/dns/relay.js';
import { ExceptionSet } from '../../src/exceptions/exception-set.js';
import { LockedNames } from '../../src/exceptions/locked-names.js';
import { ExceptionRequestError, validateException, type ExceptionRequest } from '../../src/exceptions/validate-exception.js';
import { IdentityIndex } from '../../src/identity/identity-index.js';
import { compileBlockResponse } from '../../src/pipeline/block-answer.js';
import { cacheStage } from '../../src/pipeline/cache-stage.js';
import { anyStage } from '../../src/pipeline/any-stage.js';
import { chainInspectionStage } from '../../src/pipeline/chain-inspection-stage.js';
import { clientStage } from '../../src/pipeline/client-stage.js';
import { policyStage, type ExceptionsHolder } from '../../src/pipeline/policy-stage.js';
import { safeSearchStage } from '../../src/pipeline/safe-search-stage.js';
import { compose, type Answer, type QueryContext, type Stage } from '../../src/pipeline/types.js';
import { ClientDirectory } from '../../src/policy/clients.js';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/compile.js';
import { safeSearchRewrites } from '../../src/safe-search/rewrites.js';
import type { ExceptionRecord } from '../../src/storage/exceptions.js';
import { evaluate } from '../../src/verdict/evaluate.js';
import { LISTS, tempDir, testConfig } from '../helpers/daemon-process.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const NOW = Date.UTC(2026, 10, 24, 10, 0, 0);
const HOUR = 3_600_000;
const STUDENT = '127.0.0.10';
const SIXTH = '127.0.0.20';

async function setup(extra = ''): Promise<{ loaded: LoadedConfig; compiled: CompiledPolicy }> {
  const dir = tempDir(LISTS);
  const file = path.join(dir, 'webfilter.yaml');
  writeFileSync(file, testConfig({ upstreams: [53], extra }));
  const loaded = await loadConfig(file);
  return { loaded, compiled: await compilePolicy(loaded) };
}

const record = (over: Partial<ExceptionRecord> = {}): ExceptionRecord => ({
  id: 1,
  targetKind: 'group',
  target: 'students',
  categories: ['instagram'],
  domains: [],
  startsAt: NOW - HOUR,
  expiresAt: NOW + HOUR,
  reason: 'Y9 project',
  approvedBy: 'Head',
  createdBy: 'ict',
  createdAt: NOW - HOUR,
  revokedAt: null,
  revokedBy: null,
  revokeReason: null,
  requestId: null,
  requestedBy: null,
  ...over,
});

/** The upstream, faked: answers every name with one A record (TTL 300), or as `answer` says; counts what it was asked. */
function fakeUpstream(answer?: (ctx: QueryContext) => Buffer): Stage & { asked: string[] } {
  const asked: string[] = [];
  const stage = (ctx: QueryContext): Answer => {
    asked.push(ctx.q.qname);
    const wire = answer ? answer(ctx) : reply(ctx.raw, { answers: [rr.a(ctx.q.qname, '192.0.2.1')] });
    const facts = inspectReply(wire, ctx.q.questionEnd, true);
    const stored = storedAnswer(wire, facts);
    return {
      wire: renderAnswer(stored, ctx.raw, ctx.q, ctx.ttlCap ?? 0x7fffffff),
      kind: 'forwarded',
      reason: '',
      stored,
      chain: facts.chain,
    };
  };
  return Object.assign(stage, { asked });
}

function chain(c: { loaded: LoadedConfig; compiled: CompiledPolicy }, exceptions: ExceptionsHolder, upstream: Stage) {
  const { policy, timetable } = c.compiled;
  const groups = policy.groups;
  const directory = new ClientDirectory(c.loaded.config, groups, groups.get('default')!);
  const block = compileBlockResponse(c.loaded.config.blocking.response);
  const now = () => NOW;
  const cache = new AnswerCache({ maxEntries: 100, maxTtl: 86_400, maxNegativeTtl: 3600 }, now);
  return compose([
    clientStage(directory, new IdentityIndex(), now),
    policyStage(policy, timetable, block, 60, exceptions, now),
    anyStage(),
    chainInspectionStage(policy, timetable, block, 60, exceptions),
    cacheStage(cache),
    upstream,
  ]);
}

const ask = async (next: ReturnType<typeof compose>, address: string, name: string, type: number = TYPE.A) => {
  const raw = query(name, type, { id: 7 });
  return next({ raw, transport: 'udp', address, q: parseQuery(raw) });
};

const ttlOfFirstAnswer = (wire: Buffer, qEnd: number) => inspectReply(wire, qEnd).minTtl;

test('compose() checks the stage order once: a stage that needs the client must follow the client stage', async () => {
  const c = await setup();
  const { policy, timetable } = c.compiled;
  const block = compileBlockResponse(c.loaded.config.blocking.response);
  const holder = { current: ExceptionSet.EMPTY };
  assert.throws(
    () => compose([policyStage(policy, timetable, block, 60, holder), fakeUpstream()]),
    /pipeline stage policy needs the client, which no stage before it gives/,
  );
  assert.throws(
    () => compose([chainInspectionStage(policy, timetable, block, 60, holder), fakeUpstream()]),
    /chain inspection needs the client/,
  );
  assert.throws(() => compose([safeSearchStage(new Map()), fakeUpstream()]), /safe search needs the client/);
  assert.ok(chain(c, holder, fakeUpstream()), 'the daemon’s order is accepted');
});

test('stages: an outsider is refused before any work, an ANY gets the RFC 8482 answer, neither reaches the upstream', async () => {
  const c = await setup();
  const up = fakeUpstream();
  const next = chain(c, { current: ExceptionSet.EMPTY }, up);
  const outsider = await ask(next, '127.0.0.99', 'www.bbc.co.uk');
  assert.equal([outsider.kind, outsider.reason, header(outsider.wire).rcode], ['refused', 'acl', RCODE.REFUSED]);
  const any = await ask(next, STUDENT, 'www.bbc.co.uk', TYPE.ANY);
  assert.equal([any.kind, any.reason], ['refused', 'any']);
  assert.equal(up.asked, []);
});

test('stages: a blocked name is answered here every time (never from the cache); an allowed one is asked once, then cached', async () => {
  const c = await setup();
  const up = fakeUpstream();
  const next = chain(c, { current: ExceptionSet.EMPTY }, up);
  for (let i = 0; i < 2; i++) {
    const a = await ask(next, STUDENT, 'www.facebook.com');
    assert.equal([a.kind, a.reason, a.entry, header(a.wire).id], ['blocked', 'facebook', 'facebook.com', 7]);
  }
  assert.is((await ask(next, SIXTH, 'www.facebook.com')).kind, 'forwarded', 'sixth-form do not block facebook');
  assert.is((await ask(next, STUDENT, 'www.facebook.com')).kind, 'blocked', 'the cached answer does not skip the block');
  assert.is((await ask(next, STUDENT, 'www.bbc.co.uk')).kind, 'forwarded');
  const hit = await ask(next, STUDENT, 'www.bbc.co.uk');
  assert.equal([hit.kind, header(hit.wire).ancount, header(hit.wire).id], ['cached', 1, 7]);
  assert.equal(up.asked, ['www.facebook.com', 'www.bbc.co.uk']);
});

test('stages: an exception lets a blocked category through, recorded as the exception, its TTL ending with it', async () => {
  const c = await setup();
  const holder = { current: new ExceptionSet([record({ expiresAt: NOW + 90_000 })]) };
  const next = chain(c, holder, fakeUpstream());
  const a = await ask(next, STUDENT, 'instagram.com');
  assert.equal([a.kind, a.reason, a.entry], ['exception', 'instagram', 'exception 1']);
  const qEnd = parseQuery(query('instagram.com')).questionEnd;
  assert.is(ttlOfFirstAnswer(a.wire, qEnd), 90, 'the TTL ends when the exception does');
  assert.is((await ask(next, STUDENT, 'facebook.com')).kind, 'blocked', 'a category the exception does not open');
});

test('stages: CNAME inspection blocks an allowed name whose answer leads to a blocked one, with the chain', async () => {
  const c = await setup();
  const up = fakeUpstream((ctx) =>
    reply(ctx.raw, { answers: [rr.cname(ctx.q.qname, 'www.facebook.com'), rr.a('www.facebook.com', '192.0.2.7')] }),
  );
  const next = chain(c, { current: ExceptionSet.EMPTY }, up);
  const a = await ask(next, STUDENT, 'cloak.example');
  assert.equal([a.kind, a.reason, a.via], ['blocked', 'facebook', 'cloak.example → www.facebook.com']);
  assert.is((await ask(next, SIXTH, 'cloak.example')).kind, 'cached', 'allowed for a group that does not block it');
});

test('safe search stage: the engine’s name becomes a CNAME to its safe endpoint plus the endpoint’s addresses, asked down the chain', async () => {
  const rewrites = safeSearchRewrites('strict');
  const [engine, target] = [...rewrites.entries()].find(([name]) => name === 'www.google.co.uk')!;
  const asked: string[] = [];
  const client = { allowed: true, group: { name: 'students', blockMask: 0n } } as unknown as QueryContext['client'];
  const give: Stage = (ctx, next) => {
    ctx.client = client;
    return next(ctx);
  };
  const next = compose([
    Object.assign(give, { facts: { name: 'test client', needs: [], gives: ['client' as const] } }),
    safeSearchStage(new Map([['students', rewrites]])),
    fakeUpstream((ctx) => {
      asked.push(ctx.q.qname);
      return reply(ctx.raw, { answers: [rr.a(ctx.q.qname, '216.239.38.120', 120)] });
    }),
  ]);
  const raw = query(engine, TYPE.A, { id: 9, edns: { do: true } });
  const a = await next({ raw, transport: 'udp', address: STUDENT, q: parseQuery(raw) });
  assert.equal(asked, [target]);
  const h = header(a.wire);
  assert.equal([a.reason, h.id, h.ancount, h.arcount, h.rcode], ['safe-search', 9, 2, 1, RCODE.NOERROR]);
  assert.ok(a.wire.includes(Buffer.from([216, 239, 38, 120])), 'the endpoint’s address');
  const other = query('www.bbc.co.uk', TYPE.A);
  assert.is((await next({ raw: other, transport: 'udp', address: STUDENT, q: parseQuery(other) })).kind, 'forwarded');
});

test('evaluate: the group’s block, exceptions by group, client and domain; locked categories never opened; only while in force', async () => {
  const c = await setup();
  const { policy } = c.compiled;
  const students = policy.groups.get('students')!;
  const decide = (set: ExceptionSet, name: string, at = NOW, address = STUDENT) => {
    const v = evaluate(policy, set, students, address, name, at);
    return v.decision.action === 'allow' ? 'allow' : v.exception ? `open:${v.opened!.name}` : `block:${v.decision.category.name}`;
  };
  const none = ExceptionSet.EMPTY;
  assert.is(decide(none, 'www.instagram.com'), 'block:instagram');
  assert.is(decide(none, 'www.bbc.co.uk'), 'allow');
  const byGroup = new ExceptionSet([record()]);
  assert.is(decide(byGroup, 'www.instagram.com'), 'open:instagram');
  assert.is(decide(byGroup, 'www.facebook.com'), 'block:facebook', 'not a category it opens');
  assert.is(decide(byGroup, 'www.instagram.com', NOW + 2 * HOUR), 'block:instagram', 'after it ends');
  assert.is(decide(byGroup, 'www.instagram.com', NOW - 2 * HOUR), 'block:instagram', 'before it starts');
  const byClient = new ExceptionSet([record({ targetKind: 'client', target: '127.0.0.10/32', categories: ['facebook'] })]);
  assert.is(decide(byClient, 'facebook.com'), 'open:facebook');
  assert.is(decide(byClient, 'facebook.com', NOW, '127.0.0.11'), 'block:facebook', 'another address of the group');
  const byDomain = new ExceptionSet([record({ categories: [], domains: ['fb.com'] })]);
  assert.is(decide(byDomain, 'www.fb.com'), 'open:facebook');
  assert.is(decide(byDomain, 'www.facebook.com'), 'block:facebook');
  const circumvention = new ExceptionSet([record({ categories: [], domains: ['use-application-dns.net'] })]);
  assert.is(decide(circumvention, 'use-application-dns.net'), 'block:doh-canary', 'a locked rule stays');
});

test('validateException: every problem named by its flag, nothing returned; a good request comes back normalised', async () => {
  const c = await setup();
  const locked = await LockedNames.load(c.loaded);
  const base: ExceptionRequest = {
    group: 'students',
    categories: ['instagram'],
    domains: [],
    for: '50m',
    reason: 'Y9 project',
    approvedBy: 'Head',
  };
  const problems = (over: Partial<ExceptionRequest>) => {
    try {
      validateException({ ...base, ...over }, c.loaded, NOW, locked);
    } catch (e) {
      assert.ok(e instanceof ExceptionRequestError);
      return (e as ExceptionRequestError).problems.join(' | ');
    }
    return 'accepted';
  };
  assert.match(problems({ client: '127.0.0.10' }), /give exactly one of --group G or --client/);
  assert.match(problems({ group: 'nobody' }), /--group "nobody": no such group/);
  assert.match(problems({ categories: ['knitting'] }), /--category "knitting": no such category/);
  assert.match(problems({ categories: ['doh-canary'] }), /circumvention rule: no exception may open it/);
  assert.match(
    problems({ categories: [], domains: ['use-application-dns.net'] }),
    /is blocked by the circumvention rule doh-canary/,
  );
  assert.match(problems({ categories: [], domains: ['not a domain'] }), /--domain "not a domain"/);
  assert.match(problems({ categories: [] }), /give at least one --category C or --domain D/);
  assert.match(problems({ for: '31d' }), /longer than exceptions\.max_duration \(30d\)/);
  assert.match(problems({ for: undefined, until: '09:00' }), /--until .* is in the past/);
  assert.match(problems({ until: '15:30' }), /give exactly one of --for DURATION .* or --until TIME/);
  assert.match(problems({ reason: '  ', approvedBy: '' }), /--reason is required.*\| --approved-by is required/);
  const ok = validateException(
    { ...base, domains: ['WWW.Example.COM.'], categories: ['instagram', 'instagram'] },
    c.loaded,
    NOW,
    locked,
  );
  assert.equal(ok, {
    targetKind: 'group',
    target: 'students',
    categories: ['instagram'],
    domains: ['www.example.com'],
    startsAt: NOW,
    expiresAt: NOW + 50 * 60_000,
    reason: 'Y9 project',
    approvedBy: 'Head',
  });
});

test.run();
