import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventBus } from '../../src/observe/event-bus.js';
import type { QueryEvent } from '../../src/observe/query-event.js';
import { StatsLog } from '../../src/observe/stats-log.js';
import { pino } from 'pino';

const ev = (kind: QueryEvent['kind'], qname = 'x.example'): QueryEvent => ({
  at: 0,
  transport: 'udp',
  client: '10.0.0.1',
  group: 'students',
  qname,
  qtype: 1,
  kind,
  reason: '',
  entry: '',
  rcode: 0,
  duration: 0.001,
  upstream: '',
  response: '',
  signal: '',
  recordBlocked: false,
  via: '',
  user: '',
});

test('a full bus drops and counts instead of growing; observers get batches later, in order', async () => {
  const bus = new EventBus(3);
  const seen: string[] = [];
  bus.subscribe({ observe: (evs) => seen.push(...evs.map((e) => e.qname)) });
  for (let i = 0; i < 5; i++) bus.publish(ev('forwarded', `n${i}`));
  assert.is(bus.depth, 3);
  assert.is(bus.dropped, 2);
  assert.equal(seen, [], 'nothing delivered during the publishing turn');
  await new Promise((r) => setImmediate(r));
  assert.equal(seen, ['n0', 'n1', 'n2']);
  bus.publish(ev('cached', 'n5'));
  bus.flush();
  assert.equal(seen, ['n0', 'n1', 'n2', 'n5']);
});

test('StatsLog summarises answers by kind and stays quiet when idle', () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const stats = new StatsLog(log, 60_000);
  assert.is(stats.report(), null);
  stats.observe([ev('blocked'), ev('blocked'), ev('forwarded')]);
  assert.equal(stats.report(), { queries: 3, blocked: 2, forwarded: 1 });
  assert.is(lines.length, 1);
  assert.is(lines[0].msg, 'query summary');
  assert.is(stats.report(), null);
  stats.stop();
});

test.run();
