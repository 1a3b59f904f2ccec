import { AlertsHost } from '../alerts/alerts-host.js';
import { pendingNotification } from '../requests/notify.js';
import { AnswerCache } from '../cache/answer-cache.js';
import { useTimezone } from '../time/zone.js';
import { formatHostPort } from '../config/host-port.js';
import { loadConfig } from '../config/load.js';
import { ConsoleHost } from '../console/console-host.js';
import { readTls } from '../console/tls-files.js';
import { EvidenceRecorder } from '../evidence/recorder.js';
import { writerInit } from '../evidence/settings.js';
import { ExceptionSet } from '../exceptions/exception-set.js';
import { IdentityHost } from '../identity/identity-host.js';
import { Subscriptions } from '../lists/subscriptions.js';
import { ListMetrics } from '../metrics/list-metrics.js';
import { Monitoring } from '../metrics/monitoring.js';
import { QueryStats } from '../observe/query-stats.js';
import { UpstreamStats } from '../observe/upstream-stats.js';
import { StatsLog } from '../observe/stats-log.js';
import { compilePolicy } from '../policy/compile.js';
import { dropPrivileges } from '../server/privileges.js';
import { QueryEdge } from '../server/query-edge.js';
import { RateLimiter } from '../server/rate-limiter.js';
import { UdpExchange } from '../upstream/udp-exchange.js';
import { UpstreamTransports } from '../upstream/transports.js';
import { UpstreamMetrics } from '../metrics/upstream-metrics.js';
import { VERSION } from '../version.js';
import { Daemon, type DaemonOptions } from './daemon.js';
import { Listeners, tcpLimitsOf, type DnsListeners } from './listeners.js';
import { OptionalPart } from './optional-part.js';
import { keepLastGood, reportLists, seriesLabels } from './policy-report.js';
import { WorkerPool, workerCount } from './worker-pool.js';
import type { ExceptionRecord } from '../storage/exceptions.js';
import { buildRuntime, type Shared } from './runtime.js';
import { RuntimeSwitch } from './runtime-switch.js';

/** How often the clients over their rate limit are logged. */
const RATE_LOG_MS = 60_000;
/** How long a failed start waits for queued evidence before giving up. */
const FLUSH_MS = 1500;

/**
 * Builds and starts the filter, in order: load config and lists, build the query path, bind every
 * DNS listener (port 53 may need root), start the monitoring and identity listeners, give up root,
 * then open the store (its files are created by and belong to the service user), fetch subscribed
 * lists and start the console. Returns the running daemon; throws ConfigError for an invalid config,
 * and leaves nothing running when a step fails.
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { log } = opts;
  const now = opts.now ?? Date.now;
  const startedAt = Date.now();
  const loaded = await loadConfig(opts.configFile, { resolvConf: opts.resolvConf });
  // Local time (retention's cron, "today", the console thread started below) is the school's.
  useTimezone(loaded.config.timezone);
  const compiled = await compilePolicy(loaded);
  log.level = loaded.config.log.level;

  const { cache: cacheConfig, database, retention } = loaded.config;
  const cache = new AnswerCache({
    maxEntries: cacheConfig.max_entries,
    maxTtl: cacheConfig.max_ttl,
    maxNegativeTtl: cacheConfig.max_negative_ttl,
  });
  const queryStats = new QueryStats();
  const upstreamStats = new UpstreamStats();
  const limiter = new RateLimiter(loaded.config.server.rate_limit);
  const exceptions = { current: ExceptionSet.EMPTY };
  // With server.workers > 1 the DNS workers answer queries; this process keeps everything else.
  const workers = workerCount(loaded.config.server.workers);
  let pool: WorkerPool | null = null;
  let exceptionRecords: ExceptionRecord[] | null = null;
  const recorder = new EvidenceRecorder({
    init: writerInit(loaded, startedAt),
    queueSize: database.queue_size,
    batchRows: database.batch_rows,
    flushMs: database.flush_ms,
    retention,
    log,
    onSignals: (signals) => monitoring.metrics.onSignals(signals),
    onStoreState: (ok, error) => monitoring.health.report('evidence', ok ? 'up' : 'down', ok ? loaded.databasePath : error),
    onSharedState: (error) =>
      monitoring.health.report('shared', error === null ? 'up' : 'down', error ?? 'the shared store takes the evidence'),
  });
  const monitoring = new Monitoring(
    {
      live: () => {
        const own = {
          queries: queryStats,
          upstreams: upstreamStats,
          cacheEntries: cache.size,
          cacheHits: cache.hits,
          cacheMisses: cache.misses,
          queueDepth: recorder.depth,
          dropped: recorder.dropped,
          writeErrors: recorder.writeErrors,
          rateLimited: limiter.limited,
        };
        if (!pool) return own;
        return pool.counts().then((c) => {
          // This process's own series first: those the config declares, and its readiness probes.
          const queries = new QueryStats();
          queries.add(queryStats.snapshot());
          queries.add(c.queries.snapshot());
          c.upstreams.add(upstreamStats.snapshot());
          return { ...own, ...c, queries, dropped: recorder.dropped + c.dropped };
        });
      },
      exceptionsActive: () => exceptions.current.activeCounts(Date.now()),
      shipping: () => recorder.shipping,
    },
    VERSION,
    log,
  );
  const identity = new IdentityHost(now, log);
  identity.registerMetrics(monitoring.metrics.registry);
  // Identity mappings survive a restart: a copy of every change goes to the store, and what was
  // kept comes back once the writer thread has read it.
  identity.service.onChange = (changes) => {
    recorder.saveIdentities(changes);
    pool?.broadcast({ t: 'identity-changes', changes });
  };
  recorder.onIdentities = (records) => {
    const n = identity.service.restore(records);
    if (n > 0) log.info({ mappings: n }, 'identity mappings restored from the store');
    if (n > 0) pool?.broadcast({ t: 'identities', all: [...identity.index.entries()] });
  };
  // Safeguarding alerts run in their own thread, fed by the evidence writer thread directly.
  const alerts = new AlertsHost(log, monitoring.metrics.registry);
  recorder.alertSource = () => {
    const port = alerts.newSourcePort();
    return port && alerts.immediate ? { port, immediate: alerts.immediate } : null;
  };
  alerts.onChange = () => recorder.refreshAlerts();
  const transports = new UpstreamTransports(new UdpExchange());
  const upstreamMetrics = new UpstreamMetrics(monitoring.metrics.registry, async () => ({
    transports: transports.all(),
    upstreams: upstreamStats,
  }));
  monitoring.upstreams = () => upstreamMetrics.describe();
  monitoring.lastUpstreamOk = () => upstreamStats.lastOk;
  // Approvers hear of a permission request waiting for them through the same channels.
  recorder.onPendingRequests = (requests) =>
    alerts.notify(pendingNotification(requests, runtimes.current.loaded.config.requests.notify_to));
  const shared: Shared = {
    cache,
    transports,
    onExchange: (upstream, outcome, seconds) => upstreamStats.exchange(upstream, outcome, seconds),
    exceptions,
    now,
    identities: identity.index,
  };
  reportLists(compiled, log, monitoring.metrics);
  monitoring.metrics.initSeries(seriesLabels(loaded, compiled), { queries: queryStats, upstreams: upstreamStats });
  const first = buildRuntime(loaded, compiled, shared);
  const edge = new QueryEdge(first.chain, queryStats, recorder, log, limiter);
  const runtimes = new RuntimeSwitch(first, shared, edge, monitoring.metrics, log);
  const stats = new StatsLog(log, opts.summaryIntervalMs ?? 300_000, () =>
    pool ? pool.counts().then((c) => c.queries.totals()) : queryStats.totals(),
  );
  recorder.exceptions.subscribe(
    (records) => {
      exceptions.current = new ExceptionSet(records);
      exceptionRecords = records;
      pool?.broadcast({ t: 'exceptions', records });
      log.info({ exceptions: records.map((r) => `${r.id}:${r.targetKind} ${r.target}`) }, 'exceptions updated');
    },
    (e) => log.error({ error: e.message }, 'cannot read exceptions from the database: keeping the ones in force'),
  );
  const listMetrics: ListMetrics = new ListMetrics(monitoring.metrics.registry, () => subscriptions.categoryStatus());
  const subscriptions: Subscriptions = new Subscriptions({
    log,
    onCopyChanged: (urls) => {
      void runtimes.recompileLists(urls);
      void pool?.recompileLists(urls);
    },
    onFetch: listMetrics.countFetch,
  });
  // Metrics cannot say which device is over its rate (no address labels): the log does, once a minute.
  const limitLog = setInterval(() => {
    const top = limiter.takeOffenders();
    if (top.length > 0) log.warn({ clients: top }, 'rate limit: clients over their limit in the last minute');
  }, RATE_LOG_MS);
  limitLog.unref();
  monitoring.metrics.onReload(true);

  monitoring.health.report('evidence', 'starting');
  if (loaded.config.shared) monitoring.health.report('shared', 'starting');
  monitoring.health.subscribe((states) => recorder.reportHealth(states));
  // The console and the metrics listener are optional parts: if one cannot start, DNS serves
  // without it while it is tried again (see optional-part.ts).
  const metricsListener = new OptionalPart<string>('metrics', monitoring.health, {
    start: () => monitoring.listen(runtimes.current.loaded.config.metrics, identity.routes),
    describe: (address) => `http://${address}/metrics`,
    close: async () => monitoring.closeListener(),
  });
  // The TLS key is read now, while root (if started as root) may still read it; a key that could
  // not be read then is read again at each retry (as the service user: a systemd credential, say).
  let tls: ReturnType<typeof readTls> = null;
  let tlsError: Error | null = null;
  try {
    tls = loaded.config.console.enabled ? readTls(loaded) : null;
  } catch (e) {
    tlsError = e as Error;
  }
  const consolePart = new OptionalPart<ConsoleHost>('console', monitoring.health, {
    start: () => {
      const current = runtimes.current.loaded;
      if (tlsError) tls = readTls(current);
      tlsError = null;
      return ConsoleHost.start(current, tls, log, alerts);
    },
    describe: (c) => `${c.https ? 'https' : 'http'}://${c.address}/`,
    watch: (c, failed) => c.watch(failed),
    close: (c) => c.close(),
  });
  if (!loaded.config.console.enabled) monitoring.health.report('console', 'off');
  if (!loaded.config.metrics.enabled) monitoring.health.report('metrics', 'off');

  let listeners: DnsListeners | null = null;
  try {
    if (workers > 1) {
      pool = await WorkerPool.start(workers, log, {
        onEvents: (batch) => recorder.addBatch(batch),
        state: () => ({ exceptions: exceptionRecords, identities: [...identity.index.entries()] }),
      });
      listeners = pool;
    } else {
      listeners = await Listeners.bind(
        loaded.listen,
        edge,
        tcpLimitsOf(() => runtimes.current.loaded.config.server),
        {
          // Outsiders are closed at accept: they would only be REFUSED, and must not hold a slot.
          admit: (address) => runtimes.current.directory.resolve(address).allowed,
          rejected: queryStats.onTcpRejected,
        },
        log,
      );
    }
    await identity.start(loaded);
    monitoring.startProbe(loaded.config.metrics, () => runtimes.current.forwarder);
    // Bound before root is given up, like the DNS listeners (its port may be privileged).
    if (loaded.config.metrics.enabled) await metricsListener.start();
    // Alert credentials (url_file) may be readable by root only: read before privileges go.
    await alerts.configure(loaded, { atStart: true });
    const ids = dropPrivileges(loaded.config.server);
    if (ids.dropped) log.info({ uid: ids.uid, gid: ids.gid }, 'switched to the unprivileged user');
    else if (ids.uid === 0) log.warn('running as root: set server.user, or run under the systemd unit');
    recorder.open();
    keepLastGood(loaded, log);
    // Fetching lists parses what a server on the internet sent: only once root is given up.
    await subscriptions.configure(loaded);
    // The console runs in its own thread with its own store connection: pages never block DNS.
    if (loaded.config.console.enabled) await consolePart.start();
  } catch (e) {
    subscriptions.stop();
    listeners?.close();
    shared.transports.close();
    clearInterval(limitLog);
    stats.stop();
    await metricsListener.close();
    monitoring.stop();
    await identity.close();
    await consolePart.close();
    await recorder.close(Date.now() + FLUSH_MS);
    await alerts.close();
    throw e;
  }
  log.info(
    {
      listen: listeners.addresses,
      workers: pool ? pool.size : 1,
      metrics: metricsListener.current,
      radius: identity.radiusAddresses,
      console: consolePart.current ? `${consolePart.current.https ? 'https' : 'http'}://${consolePart.current.address}/` : null,
      upstreams: loaded.upstreams.map((u) => u.name),
      zones: Object.fromEntries(loaded.zones.map((z) => [z.zone, z.servers.map(formatHostPort)])),
      groups: [...compiled.policy.groups.keys()],
    },
    'webfilter listening',
  );
  return new Daemon({
    opts,
    startedAt,
    runtimes,
    shared,
    queryStats,
    upstreamStats,
    edge,
    limiter,
    stats,
    limitLog,
    monitoring,
    recorder,
    subscriptions,
    identity,
    alerts,
    console: consolePart,
    metricsListener,
    listeners,
    pool,
  });
}
