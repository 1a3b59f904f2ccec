import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { DaemonMetrics, type LiveCounts } from '../../src/metrics/daemon-metrics.js';
import { QueryStats, RESULTS, resultIndex } from '../../src/observe/query-stats.js';
import { StatsLog } from '../../src/observe/stats-log.js';
import { UpstreamStats } from '../../src/observe/upstream-stats.js';

function live(queries: QueryStats, upstreams = new UpstreamStats()): LiveCounts {
  return {
    queries,
    upstreams,
    cacheEntries: 7,
    cacheHits: 5,
    cacheMisses: 2,
    rateLimited: 3,
    queueDepth: 0,
    dropped: 1,
    writeErrors: 0,
  };
}

function metrics(counts: () => LiveCounts): DaemonMetrics {
  return new DaemonMetrics({ live: counts, exceptionsActive: () => new Map() }, '0.0.0');
}

test('StatsLog summarises answers by kind since its last line and stays quiet when idle', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const q = new QueryStats();
  const stats = new StatsLog(log, 60_000, () => q.totals());
  assert.is(await stats.report(), null);
  const g = q.group('students');
  q.response(g, resultIndex('blocked'), 0.001);
  q.response(g, resultIndex('blocked'), 0.001);
  q.response(g, resultIndex('forwarded'), 0.01);
  q.response(g, resultIndex('servfail'), 0.5);
  q.dropped++;
  assert.equal(await stats.report(), { queries: 5, blocked: 2, forwarded: 1, error: 2 });
  assert.is(lines.length, 1);
  assert.is(lines[0].msg, 'query summary');
  assert.is(await stats.report(), null, 'only what happened since the last line');
  q.response(q.group('staff'), resultIndex('cached'), 0.0001);
  assert.equal(await stats.report(), { queries: 1, cached: 1 });
  stats.stop();
});

test('counts kept in arrays come out of /metrics as prom-client would format them', async () => {
  const q = new QueryStats();
  const up = new UpstreamStats();
  const m = metrics(() => live(q, up));
  m.initSeries(
    { groups: ['students'], categories: ['facebook'], upstreams: ['192.0.2.1:53'], signalKinds: ['tunnel'] },
    { queries: q, upstreams: up },
  );
  const g = q.group('students');
  q.query(g, 0, 1);
  q.query(g, 1, 65);
  q.query(g, 0, 99); // no label of its own: "other"
  q.response(g, resultIndex('blocked'), 0.0003);
  q.response(g, resultIndex('blocked'), 7);
  q.blocked(g, 'facebook');
  q.blocked(g, 'gambling'); // a category first seen now
  up.exchange('192.0.2.1:53', 'ok', 0.002);
  up.exchange('192.0.2.1:53', 'timeout', 2);
  q.onTcpRejected('slow_reader');
  const text = await m.registry.metrics();
  for (const line of [
    'webfilter_queries_total{protocol="udp",group="students",qtype="A"} 1',
    'webfilter_queries_total{protocol="tcp",group="students",qtype="HTTPS"} 1',
    'webfilter_queries_total{protocol="udp",group="students",qtype="other"} 1',
    'webfilter_queries_total{protocol="udp",group="none",qtype="A"} 0',
    'webfilter_responses_total{group="students",result="blocked"} 2',
    'webfilter_responses_total{group="none",result="formerr"} 0',
    'webfilter_blocked_total{group="students",category="facebook"} 1',
    'webfilter_blocked_total{group="students",category="gambling"} 1',
    'webfilter_request_duration_seconds_bucket{le="0.00025",result="blocked"} 0',
    'webfilter_request_duration_seconds_bucket{le="0.0005",result="blocked"} 1',
    'webfilter_request_duration_seconds_bucket{le="5",result="blocked"} 1',
    'webfilter_request_duration_seconds_bucket{le="+Inf",result="blocked"} 2',
    'webfilter_request_duration_seconds_sum{result="blocked"} 7.0003',
    'webfilter_request_duration_seconds_count{result="blocked"} 2',
    'webfilter_upstream_requests_total{upstream="192.0.2.1:53",outcome="ok"} 1',
    'webfilter_upstream_requests_total{upstream="192.0.2.1:53",outcome="timeout"} 1',
    'webfilter_upstream_duration_seconds_bucket{le="0.0025",upstream="192.0.2.1:53"} 1',
    'webfilter_upstream_duration_seconds_count{upstream="192.0.2.1:53"} 2',
    'webfilter_tcp_rejected_total{reason="slow_reader"} 1',
    'webfilter_cache_entries 7',
    'webfilter_cache_hits_total 5',
    'webfilter_rate_limited_total 3',
    'webfilter_log_dropped_total 1',
  ])
    assert.ok(text.includes(`${line}\n`), `missing ${line}`);
  assert.not.ok(text.includes('webfilter_blocked_total{group="none"'), 'no blocked series for refused clients');
  assert.is(RESULTS.length, q.group('students').responses.length);
});

test('one read of the sources serves a whole scrape; the next scrape reads again', async () => {
  const q = new QueryStats();
  let reads = 0;
  const m = metrics(() => (reads++, live(q)));
  await m.registry.metrics();
  assert.is(reads, 1);
  await new Promise((r) => setImmediate(r));
  await m.registry.metrics();
  assert.is(reads, 2);
});

test("a worker's snapshot adds into the primary's counts by label names, not positions", () => {
  const primary = new QueryStats();
  primary.declare(['staff', 'students'], ['social', 'gambling']);
  const worker = new QueryStats();
  worker.declare(['students'], ['gambling', 'social']);
  const g = worker.group('students');
  worker.query(g, 1, 28);
  worker.response(g, resultIndex('blocked'), 0.001);
  worker.blocked(g, 'social');
  worker.dropped = 4;
  worker.onTcpRejected('client_limit');
  // Sent through IPC with the advanced serialization (structured clone).
  const snap = structuredClone(worker.snapshot());
  primary.add(snap);
  primary.add(snap);
  const s = primary.group('students');
  assert.is(s.queries[1 * 15 + 1], 2, 'tcp AAAA');
  assert.is(s.responses[resultIndex('blocked')], 2);
  assert.is(s.blocked[primary.category('social')], 2);
  assert.is(s.blocked[primary.category('gambling')], 0);
  assert.is(primary.dropped, 8);
  assert.is(primary.tcpRejected[1], 2);
  assert.is(primary.totals().responses[resultIndex('blocked')], 2);
});

test.run();
