import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEncoder, decodeEvents } from '../../src/evidence/event-codec.js';
import type { QueryEvent } from '../../src/observe/query-event.js';
import { ANSWER_KINDS, type Answer, type QueryContext } from '../../src/pipeline/types.js';
import type { CategoryInfo } from '../../src/policy/categories.js';
import type { CompiledGroup } from '../../src/policy/policy.js';

function event(i: number): QueryEvent {
  return {
    at: 1_795_000_000_000 + i * 7.5,
    transport: i % 3 === 0 ? 'tcp' : 'udp',
    client: i % 2 ? `10.20.${i % 256}.${(i * 7) % 256}` : `fd00::${i.toString(16)}`,
    group: ['students', 'staff', 'Année 7', 'класс-9', '教室'][i % 5],
    qname: i % 11 === 0 ? 'x\\.y\\200.'.repeat(60) + 'example' : `www${i}.example.co.uk`,
    qtype: (i * 37) % 65536,
    kind: ANSWER_KINDS[i % ANSWER_KINDS.length],
    reason: i % 4 === 0 ? 'social-media' : '',
    entry: i % 4 === 0 ? 'instagram.com' : '',
    rcode: (i % 6) - 1,
    duration: i / 3,
    upstream: i % 2 ? '192.0.2.53:53' : '',
    response: i % 4 === 0 ? 'NXDOMAIN' : '',
    signal: i % 9 === 0 ? 'encrypted-dns' : '',
    recordBlocked: i % 5 !== 0,
    via: i % 7 === 0 ? `cloak${i}.example → hop.example → www.facebook.com` : '',
    user: i % 4 === 1 ? ['j.smith', 'SCHOOL\\k.jones', 'zoë.brontë@school.example'][i % 3] : '',
  };
}

test('events come back exactly as they went in, in order, across buffer growth', () => {
  const enc = new EventEncoder(64); // tiny, so it has to grow many times
  const events = Array.from({ length: 3000 }, (_, i) => event(i));
  for (const e of events) enc.add(e);
  assert.is(enc.count, 3000);
  const { buffer, count } = enc.take();
  assert.is(count, 3000);
  assert.equal(decodeEvents(buffer, count), events);
});

test('take starts a fresh batch, and a taken buffer stays intact while the next fills', () => {
  const enc = new EventEncoder();
  enc.add(event(1));
  enc.add(event(2));
  const first = enc.take();
  assert.is(enc.count, 0);
  assert.is(enc.size, 0);
  enc.add(event(3));
  const second = enc.take();
  assert.equal(decodeEvents(first.buffer, first.count), [event(1), event(2)]);
  assert.equal(decodeEvents(second.buffer, second.count), [event(3)]);
});

test('a batch with the wrong count is refused, not misread', () => {
  const enc = new EventEncoder();
  enc.add(event(1));
  enc.add(event(2));
  const { buffer } = enc.take();
  assert.throws(() => decodeEvents(buffer, 1), /bytes left after 1 events/);
});

test('an answer encoded straight from the edge reads back as the event it stands for', () => {
  const enc = new EventEncoder(64);
  const events: QueryEvent[] = [];
  for (let i = 0; i < 500; i++) {
    const e = event(i);
    const category =
      e.reason !== '' || e.signal !== '' || e.recordBlocked
        ? ({ name: e.reason, signal: e.signal || undefined, recordBlocked: e.recordBlocked } as unknown as CategoryInfo)
        : undefined;
    // What the edge has: the context (client, group, user, question) and the answer.
    const ctx = {
      raw: Buffer.alloc(0),
      transport: e.transport,
      address: e.client,
      q: { qname: e.qname, qtype: e.qtype },
      client: e.group === '' && e.user === '' ? undefined : { group: { name: e.group } as CompiledGroup, user: e.user || null },
    } as unknown as QueryContext;
    const a: Answer = {
      wire: Buffer.alloc(0),
      kind: e.kind,
      reason: e.reason,
      ...(e.entry ? { entry: e.entry } : {}),
      ...(e.upstream ? { upstream: e.upstream } : {}),
      ...(e.response ? { response: e.response } : {}),
      ...(e.via ? { via: e.via } : {}),
      ...(category ? { category } : {}),
    };
    enc.addAnswer(e.at, e.duration, ctx, a, e.rcode);
    events.push(e);
  }
  const { buffer, count } = enc.take();
  assert.equal(decodeEvents(buffer, count), events);
});

test.run();
