import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { typeName } from '../dns/constants.js';
import type { Observer, QueryEvent } from '../observe/query-event.js';
import type { CategoryReport } from '../policy/compile.js';
import { TCP_REJECT_REASONS, type TcpRejectReason } from '../server/tcp-server.js';

/** Query types that get their own label value; everything else is "other" (bounded cardinality). */
const QTYPES = ['A', 'AAAA', 'HTTPS', 'SVCB', 'CNAME', 'MX', 'TXT', 'PTR', 'SRV', 'NS', 'SOA', 'DS', 'DNSKEY', 'ANY'];
/** Values of the `result` label: answer kinds, with errors split by rcode. */
const RESULTS = [
  'forwarded',
  'cached',
  'blocked',
  'exception',
  'local',
  'refused',
  'upstream-refused',
  'servfail',
  'formerr',
  'notimp',
  'badvers',
];
/** Values of the upstream `outcome` label (UpstreamError's outcomes and ok). */
const OUTCOMES = ['ok', 'timeout', 'servfail', 'refused', 'malformed', 'network', 'overload', 'closed', 'tls'];
/** The `group` label of queries from refused clients and unreadable packets. */
const NO_GROUP = 'none';

/** What the config names: the label values whose series exist from the start. */
export interface SeriesLabels {
  groups: readonly string[];
  categories: readonly string[];
  upstreams: readonly string[];
  signalKinds: readonly string[];
}

/** Live values read at scrape time. */
export interface MetricSources {
  cacheEntries(): number;
  cacheHits(): number;
  cacheMisses(): number;
  queueDepth(): number;
  dropped(): number;
  writeErrors(): number;
  /** Queries dropped or refused by the per-client rate limit. */
  rateLimited(): number;
  /** Exceptions in force now, by group ("client" for address exceptions). */
  exceptionsActive(): Map<string, number>;
}

/**
 * Every webfilter metric, in one prom-client registry. Never labelled by client address or domain:
 * labels are groups, categories, kinds, qtypes (bounded) and upstreams, all from config.
 * Query events are counted through pre-bound label children found by map lookups (no label strings
 * are built per query), in the event bus's batches off the request path.
 */
export class DaemonMetrics implements Observer {
  readonly registry = new Registry();
  private readonly queries: Counter<'protocol' | 'group' | 'qtype'>;
  private readonly responses: Counter<'group' | 'result'>;
  private readonly blocked: Counter<'group' | 'category'>;
  private readonly signals: Counter<'group' | 'kind'>;
  private readonly duration: Histogram<'result'>;
  private readonly upstreamRequests: Counter<'upstream' | 'outcome'>;
  private readonly upstreamDuration: Histogram<'upstream'>;
  private readonly listEntries: Gauge<'category'>;
  private readonly listErrors: Counter<'category'>;
  private readonly reloads: Counter<'outcome'>;
  private readonly lastReload: Gauge;
  private readonly tcpRejected: Counter<'reason'>;
  // Pre-bound children, found by nested map lookups: [protocol][group][qtype index].
  private readonly queryChildren = new Map<string, Map<string, Counter.Internal[]>>();
  private readonly responseChildren = new Map<string, Map<string, Counter.Internal>>();
  private readonly blockedChildren = new Map<string, Map<string, Counter.Internal>>();
  private readonly durationChildren = new Map<string, Histogram.Internal<'result'>>();
  private readonly qtypeIndex = new Map<number, number>();
  /** Whether /readyz would answer 200 now (set by Monitoring, which owns readiness). */
  readiness: () => boolean = () => false;

  constructor(sources: MetricSources, version: string) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.queries = new Counter({
      name: 'webfilter_queries_total',
      help: 'DNS queries received (parsed), by transport, client group and query type',
      labelNames: ['protocol', 'group', 'qtype'],
      registers,
    });
    this.responses = new Counter({
      name: 'webfilter_responses_total',
      help: 'Answers sent, by client group and result',
      labelNames: ['group', 'result'],
      registers,
    });
    this.blocked = new Counter({
      name: 'webfilter_blocked_total',
      help: 'Blocked queries, by client group and category',
      labelNames: ['group', 'category'],
      registers,
    });
    this.signals = new Counter({
      name: 'webfilter_circumvention_signals_total',
      help: 'Circumvention signals recorded, by client group and kind',
      labelNames: ['group', 'kind'],
      registers,
    });
    this.duration = new Histogram({
      name: 'webfilter_request_duration_seconds',
      help: 'Time from receiving a query to sending its answer, by result',
      labelNames: ['result'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.upstreamRequests = new Counter({
      name: 'webfilter_upstream_requests_total',
      help: 'Exchanges with each upstream, by outcome',
      labelNames: ['upstream', 'outcome'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'webfilter_upstream_duration_seconds',
      help: 'Time each upstream took to answer (or fail)',
      labelNames: ['upstream'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    new Gauge({
      name: 'webfilter_cache_entries',
      help: 'Answers in the cache',
      registers,
      collect() {
        this.set(sources.cacheEntries());
      },
    });
    counterFrom('webfilter_cache_hits_total', 'Queries answered from the cache', sources.cacheHits, registers);
    counterFrom('webfilter_cache_misses_total', 'Allowed queries not in the cache', sources.cacheMisses, registers);
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
    new Gauge({
      name: 'webfilter_log_queue_depth',
      help: 'Events waiting for the evidence store',
      registers,
      collect() {
        this.set(sources.queueDepth());
      },
    });
    counterFrom('webfilter_log_dropped_total', 'Events dropped because the evidence queue was full', sources.dropped, registers);
    counterFrom(
      'webfilter_log_write_errors_total',
      'Failed evidence store writes (each retried)',
      sources.writeErrors,
      registers,
    );
    counterFrom(
      'webfilter_rate_limited_total',
      'Queries over the per-client rate limit (server.rate_limit), dropped or REFUSED',
      sources.rateLimited,
      registers,
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
    this.tcpRejected = new Counter({
      name: 'webfilter_tcp_rejected_total',
      help: 'TCP connections refused at accept (not_allowed, client_limit, max_connections) or closed because the client does not read its answers (slow_reader)',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of TCP_REJECT_REASONS) this.tcpRejected.inc({ reason }, 0);
    for (const r of RESULTS) this.duration.zero({ result: r });
    for (const o of ['success', 'failure']) this.reloads.inc({ outcome: o }, 0);
    QTYPES.forEach((t, i) => this.qtypeIndex.set(TYPE_NUMBER[t], i));
  }

  /**
   * Creates every labelled counter series the config can produce at 0 (called at start and after each
   * reload). A series that first appears at 1 has no earlier sample, so Prometheus's rate() and
   * increase() see no change: the first failed reload, or an upstream that has never answered since
   * start, would never fire their alerts. Bounded by config: groups × categories, kinds, qtypes.
   */
  initSeries(labels: SeriesLabels): void {
    const groups = [...labels.groups, NO_GROUP];
    for (const group of groups) {
      for (const protocol of ['udp', 'tcp'])
        for (const qtype of [...QTYPES, 'other']) this.queries.inc({ protocol, group, qtype }, 0);
      for (const result of RESULTS) this.responses.inc({ group, result }, 0);
      for (const kind of labels.signalKinds) this.signals.inc({ group, kind }, 0);
    }
    for (const group of labels.groups) for (const category of labels.categories) this.blocked.inc({ group, category }, 0);
    for (const upstream of labels.upstreams) {
      for (const outcome of OUTCOMES) this.upstreamRequests.inc({ upstream, outcome }, 0);
      this.upstreamDuration.zero({ upstream });
    }
  }

  /** Counts a batch of query events. */
  observe(events: readonly QueryEvent[]): void {
    for (const e of events) {
      if (e.kind === 'error' && e.reason === 'dropped') continue; // not a query, and nothing was sent
      const group = e.group || NO_GROUP;
      const result = e.kind === 'error' ? e.reason : e.kind;
      // FORMERR/NOTIMP packets had no readable question: they count as responses, not as queries.
      if (e.qtype !== 0 || e.qname !== '') this.queryChild(e.transport, group, e.qtype).inc();
      this.responseChild(group, result).inc();
      let d = this.durationChildren.get(result);
      if (!d) this.durationChildren.set(result, (d = this.duration.labels(result)));
      d.observe(e.duration);
      if (e.kind === 'blocked') this.blockedChild(group, e.reason).inc();
    }
  }

  /** A TCP connection refused or cut off (from the TCP listener). */
  onTcpRejected = (reason: TcpRejectReason): void => {
    this.tcpRejected.inc({ reason });
  };

  /** One exchange with an upstream (from the forwarder). */
  onExchange = (upstream: string, outcome: string, seconds: number): void => {
    this.upstreamRequests.labels(upstream, outcome).inc();
    this.upstreamDuration.labels(upstream).observe(seconds);
  };

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

  private queryChild(protocol: string, group: string, qtype: number): Counter.Internal {
    let byGroup = this.queryChildren.get(protocol);
    if (!byGroup) this.queryChildren.set(protocol, (byGroup = new Map()));
    let byType = byGroup.get(group);
    if (!byType) byGroup.set(group, (byType = []));
    const i = this.qtypeIndex.get(qtype) ?? QTYPES.length;
    return (byType[i] ??= this.queries.labels(protocol, group, i < QTYPES.length ? QTYPES[i] : 'other'));
  }

  private responseChild(group: string, result: string): Counter.Internal {
    let m = this.responseChildren.get(group);
    if (!m) this.responseChildren.set(group, (m = new Map()));
    let c = m.get(result);
    if (!c) m.set(result, (c = this.responses.labels(group, result)));
    return c;
  }

  private blockedChild(group: string, category: string): Counter.Internal {
    let m = this.blockedChildren.get(group);
    if (!m) this.blockedChildren.set(group, (m = new Map()));
    let c = m.get(category);
    if (!c) m.set(category, (c = this.blocked.labels(group, category)));
    return c;
  }
}

const TYPE_NUMBER: Record<string, number> = Object.fromEntries(
  Array.from({ length: 256 }, (_, n) => [typeName(n), n]).filter(([name]) => !String(name).startsWith('TYPE')),
);

/** A counter whose value is read from elsewhere at scrape time. */
function counterFrom(name: string, help: string, read: () => number, registers: Registry[]): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
