import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CategoryReport } from '../policy/compile.js';
import { TCP_REJECT_REASONS } from '../observe/query-stats.js';
import { registerComputedCounter, registerComputedHistogram, type HistogramSeries } from './array-metrics.js';
import { DURATION_BUCKETS, NO_GROUP, QTYPES, QTYPE_SLOTS, QueryStats, RESULTS } from '../observe/query-stats.js';
import { OUTCOMES, UPSTREAM_BUCKETS, UpstreamStats } from '../observe/upstream-stats.js';

/** What the config names: the label values whose series exist from the start. */
export interface SeriesLabels {
  groups: readonly string[];
  categories: readonly string[];
  upstreams: readonly string[];
  signalKinds: readonly string[];
}

/**
 * The counts the metrics read at scrape time. In one process these are the live objects; with
 * `server.workers` the primary sums its workers' counts into fresh ones for each scrape.
 */
export interface LiveCounts {
  queries: QueryStats;
  upstreams: UpstreamStats;
  cacheEntries: number;
  cacheHits: number;
  cacheMisses: number;
  /** Queries dropped or refused by the per-client rate limit. */
  rateLimited: number;
  /** Events waiting for the evidence store. */
  queueDepth: number;
  /** Events dropped because a queue on their way to the store was full. */
  dropped: number;
  writeErrors: number;
  /** With `server.workers` > 1: answers sent by each DNS worker (index → count); absent in one process. */
  workerAnswers?: number[];
}

/** Where the metrics read their values. */
export interface MetricSources {
  live(): LiveCounts | Promise<LiveCounts>;
  /** Exceptions in force now, by group ("client" for address exceptions). */
  exceptionsActive(): Map<string, number>;
  /** With `shared`: evidence rows not shipped yet and the age of the oldest (0 without `shared`). */
  shipping?(): { backlogRows: number; lagSeconds: number };
}

/**
 * Every webfilter metric, in one prom-client registry. Never labelled by client address or domain:
 * labels are groups, categories, kinds, qtypes (bounded) and upstreams, all from config.
 * The per-query families (queries, responses, blocked, request duration, upstream exchanges) are
 * counted in typed arrays on the DNS path (QueryStats, UpstreamStats) and formatted from them at
 * scrape time; the rest are prom-client's own metrics.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly signals: Counter<'group' | 'kind'>;
  private readonly listEntries: Gauge<'category'>;
  private readonly listErrors: Counter<'category'>;
  private readonly reloads: Counter<'outcome'>;
  private readonly lastReload: Gauge;
  /** The counts of the scrape under way: every metric of one scrape reads the same ones. */
  private scrape: Promise<LiveCounts> | null = null;
  /** Whether /readyz would answer 200 now (set by Monitoring, which owns readiness). */
  readiness: () => boolean = () => false;

  constructor(
    private readonly sources: MetricSources,
    version: string,
  ) {
    const registers = [this.registry];
    const registry = this.registry;
    collectDefaultMetrics({ register: this.registry });
    const live = () => this.live();
    registerComputedCounter(
      registry,
      'webfilter_queries_total',
      'DNS queries received (parsed), by transport, client group and query type',
      async () => querySeries((await live()).queries),
    );
    registerComputedCounter(registry, 'webfilter_responses_total', 'Answers sent, by client group and result', async () =>
      responseSeries((await live()).queries),
    );
    registerComputedCounter(registry, 'webfilter_blocked_total', 'Blocked queries, by client group and category', async () =>
      blockedSeries((await live()).queries),
    );
    this.signals = new Counter({
      name: 'webfilter_circumvention_signals_total',
      help: 'Circumvention signals recorded, by client group and kind',
      labelNames: ['group', 'kind'],
      registers,
    });
    registerComputedHistogram(
      registry,
      'webfilter_request_duration_seconds',
      'Time from receiving a query to sending its answer, by result',
      DURATION_BUCKETS,
      async () => durationSeries((await live()).queries),
    );
    registerComputedCounter(registry, 'webfilter_upstream_requests_total', 'Exchanges with each upstream, by outcome', async () =>
      upstreamSeries((await live()).upstreams),
    );
    registerComputedHistogram(
      registry,
      'webfilter_upstream_duration_seconds',
      'Time each upstream took to answer (or fail)',
      UPSTREAM_BUCKETS,
      async () => upstreamDurationSeries((await live()).upstreams),
    );
    registerComputedCounter(
      registry,
      'webfilter_worker_answers_total',
      'Answers sent by each DNS worker process (server.workers > 1 only): how evenly the kernel spreads queries',
      async () =>
        ((await live()).workerAnswers ?? []).map((n, i): [Record<string, string>, number] => [{ worker: String(i) }, n]),
    );
    gaugeFrom(registers, 'webfilter_cache_entries', 'Answers in the cache', async () => (await live()).cacheEntries);
    counterFrom(registers, 'webfilter_cache_hits_total', 'Queries answered from the cache', async () => (await live()).cacheHits);
    counterFrom(
      registers,
      'webfilter_cache_misses_total',
      'Allowed queries not in the cache',
      async () => (await live()).cacheMisses,
    );
    this.listEntries = new Gauge({
      name: 'webfilter_blocklist_entries',
      help: 'Entries loaded per category',
      labelNames: ['category'],
      registers,
    });
    this.listErrors = new Counter({
      name: 'webfilter_list_load_errors_total',
      help: 'List lines skipped and list files unreadable, per category',
      labelNames: ['category'],
      registers,
    });
    this.reloads = new Counter({
      name: 'webfilter_config_reload_total',
      help: 'Config reloads (SIGHUP), by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.lastReload = new Gauge({
      name: 'webfilter_last_reload_timestamp_seconds',
      help: 'When config and lists were last loaded successfully',
      registers,
    });
    gaugeFrom(
      registers,
      'webfilter_log_queue_depth',
      'Events waiting for the evidence store',
      async () => (await live()).queueDepth,
    );
    gaugeFrom(
      registers,
      'webfilter_shipping_backlog_rows',
      'Evidence rows written here and not yet in the shared store (0 without shared)',
      async () => this.sources.shipping?.().backlogRows ?? 0,
    );
    gaugeFrom(
      registers,
      'webfilter_shipping_lag_seconds',
      'Age of the oldest evidence change not yet in the shared store (0 when all is shipped or without shared)',
      async () => this.sources.shipping?.().lagSeconds ?? 0,
    );
    counterFrom(
      registers,
      'webfilter_log_dropped_total',
      'Events dropped because the evidence queue was full',
      async () => (await live()).dropped,
    );
    counterFrom(
      registers,
      'webfilter_log_write_errors_total',
      'Failed evidence store writes (each retried)',
      async () => (await live()).writeErrors,
    );
    counterFrom(
      registers,
      'webfilter_rate_limited_total',
      'Queries over the per-client rate limit (server.rate_limit), dropped or REFUSED',
      async () => (await live()).rateLimited,
    );
    new Gauge({
      name: 'webfilter_exceptions_active',
      help: 'Approved exceptions in force now, by group ("client" for exceptions given to an address)',
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        for (const [g, n] of sources.exceptionsActive()) this.labels(g).set(n);
      },
    });
    const metrics = this;
    new Gauge({
      name: 'webfilter_ready',
      help: '1 when /readyz answers 200 (config loaded, an upstream answered recently), else 0',
      registers,
      collect() {
        this.set(metrics.readiness() ? 1 : 0);
      },
    });
    const build = new Gauge({
      name: 'webfilter_build_info',
      help: 'Always 1; labels carry the version and Node.js version',
      labelNames: ['version', 'node'],
      registers,
    });
    build.labels(version, process.versions.node).set(1);
    registerComputedCounter(
      registry,
      'webfilter_tcp_rejected_total',
      'TCP connections refused at accept (not_allowed, client_limit, max_connections) or closed because the client does not read its answers (slow_reader)',
      async () => {
        const q = (await live()).queries;
        return TCP_REJECT_REASONS.map((reason, i): [Record<string, string>, number] => [{ reason }, q.tcpRejected[i]]);
      },
    );
    for (const o of ['success', 'failure']) this.reloads.inc({ outcome: o }, 0);
  }

  /** The counts for the scrape under way (one read of the sources per scrape, however many metrics). */
  private live(): Promise<LiveCounts> {
    if (this.scrape === null) {
      this.scrape = Promise.resolve(this.sources.live());
      const clear = () => setImmediate(() => (this.scrape = null));
      this.scrape.then(clear, clear);
    }
    return this.scrape;
  }

  /**
   * Creates every labelled counter series the config can produce at 0 (called at start and after each
   * reload). A series that first appears at 1 has no earlier sample, so Prometheus's rate() and
   * increase() see no change: the first failed reload, or an upstream that has never answered since
   * start, would never fire their alerts. Bounded by config: groups × categories, kinds, qtypes.
   * `stats` are the counters the labels are declared in (this process's).
   */
  initSeries(labels: SeriesLabels, stats: { queries: QueryStats; upstreams: UpstreamStats }): void {
    stats.queries.declare(labels.groups, labels.categories);
    stats.upstreams.declare(labels.upstreams);
    for (const group of [...labels.groups, NO_GROUP]) for (const kind of labels.signalKinds) this.signals.inc({ group, kind }, 0);
  }

  /** Signals the evidence writer found (rules and detectors). */
  onSignals = (signals: { grp: string; kind: string; count: number }[]): void => {
    for (const s of signals) this.signals.labels(s.grp || NO_GROUP, s.kind).inc(s.count);
  };

  /** After a (re)load: entries per category and list problems. */
  onLists(reports: CategoryReport[]): void {
    this.listEntries.reset();
    for (const r of reports) {
      this.listEntries.labels(r.category).set(r.entries);
      const errors = r.problems.length + r.unreadable.length;
      this.listErrors.labels(r.category).inc(errors);
    }
  }

  onReload(ok: boolean, at = Date.now()): void {
    this.reloads.labels(ok ? 'success' : 'failure').inc();
    if (ok) this.lastReload.set(at / 1000);
  }
}

type Series = [Record<string, string>, number];

function* querySeries(q: QueryStats): Iterable<Series> {
  for (const [group, g] of q.groups())
    for (let p = 0; p < 2; p++)
      for (let t = 0; t < QTYPE_SLOTS; t++)
        yield [
          { protocol: p === 0 ? 'udp' : 'tcp', group, qtype: t < QTYPES.length ? QTYPES[t] : 'other' },
          g.queries[p * QTYPE_SLOTS + t],
        ];
}

function* responseSeries(q: QueryStats): Iterable<Series> {
  for (const [group, g] of q.groups())
    for (let r = 0; r < RESULTS.length; r++) yield [{ group, result: RESULTS[r] }, g.responses[r]];
}

function* blockedSeries(q: QueryStats): Iterable<Series> {
  for (const [group, g] of q.groups()) {
    for (let c = 0; c < q.categories.length; c++) {
      const n = c < g.blocked.length ? g.blocked[c] : 0;
      // Refused clients are never blocked: no zero series for them.
      if (group !== NO_GROUP || n > 0) yield [{ group, category: q.categories[c] }, n];
    }
  }
}

function* durationSeries(q: QueryStats): Iterable<HistogramSeries> {
  const nb = DURATION_BUCKETS.length + 1;
  for (let r = 0; r < RESULTS.length; r++)
    yield { labels: { result: RESULTS[r] }, counts: q.durationBuckets.subarray(r * nb, (r + 1) * nb), sum: q.durationSums[r] };
}

function* upstreamSeries(u: UpstreamStats): Iterable<Series> {
  for (const [upstream, c] of u.entries())
    for (let o = 0; o < OUTCOMES.length; o++) yield [{ upstream, outcome: OUTCOMES[o] }, c.requests[o]];
}

function* upstreamDurationSeries(u: UpstreamStats): Iterable<HistogramSeries> {
  const nb = UPSTREAM_BUCKETS.length + 1;
  for (const [upstream, c] of u.entries())
    yield { labels: { upstream }, counts: c.duration.subarray(0, nb), sum: c.duration[nb] };
}

/** A counter whose value is read from elsewhere at scrape time. */
function counterFrom(registers: Registry[], name: string, help: string, read: () => Promise<number>): void {
  new Counter({
    name,
    help,
    registers,
    async collect() {
      const v = await read();
      this.reset();
      this.inc(v);
    },
  });
}

/** A gauge whose value is read at scrape time. */
function gaugeFrom(registers: Registry[], name: string, help: string, read: () => Promise<number>): void {
  new Gauge({
    name,
    help,
    registers,
    async collect() {
      this.set(await read());
    },
  });
}
