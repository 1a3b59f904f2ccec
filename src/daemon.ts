import type dgram from 'node:dgram';
import type { Logger } from 'pino';
import { AnswerCache } from './cache/answer-cache.js';
import { formatHostPort, type HostPort } from './config/host-port.js';
import { ConfigError, loadConfig, type LoadedConfig } from './config/load.js';
import { EvidenceRecorder } from './evidence/recorder.js';
import { writerInit } from './evidence/settings.js';
import type { SeriesLabels } from './metrics/daemon-metrics.js';
import { Monitoring } from './metrics/monitoring.js';
import { SIGNAL_KIND_NAMES } from './signals/kinds.js';
import { ExceptionSet } from './exceptions/exception-set.js';
import { EventBus } from './observe/event-bus.js';
import { VERSION } from './version.js';
import { StatsLog } from './observe/stats-log.js';
import { compilePolicy, type CompiledPolicy } from './policy/compile.js';
import { buildRuntime, type Runtime, type Shared } from './runtime.js';
import { QueryEdge } from './server/query-edge.js';
import { startTcpServer, type TcpServer } from './server/tcp-server.js';
import { startUdpServer } from './server/udp-server.js';
import { RateLimiter } from './server/rate-limiter.js';
import { dropPrivileges } from './server/privileges.js';
import { ConsoleHost } from './console/console-host.js';
import { serverSchema } from './config/schema.js';
import { UdpExchange } from './upstream/udp-exchange.js';
import { Subscriptions } from './lists/subscriptions.js';
import { ListMetrics } from './metrics/list-metrics.js';
import { isListUrl, displayUrl } from './lists/source.js';
import { formatDuration } from './time/duration.js';
import { IdentityHost } from './identity/identity-host.js';
import type { IdentityService } from './identity/identity-service.js';

export interface DaemonOptions {
  configFile: string;
  log: Logger;
  /** Default-upstream source, for tests. */
  resolvConf?: string;
  /** How often the query summary is logged. */
  summaryIntervalMs?: number;
  /** The policy's clock (schedules, exceptions); injectable for tests. */
  now?: () => number;
}

/** How long a stop waits for in-flight queries, then for the evidence queue (all under 5 s). */
const DRAIN_MS = 2500;
const FLUSH_MS = 1500;

/** How often the clients over their rate limit are logged. */
const RATE_LOG_MS = 60_000;

/**
 * The running filter: listeners on every `server.listen` address (UDP and TCP on the same port),
 * the current Runtime, and the observers. `reload` swaps the runtime atomically; `stop` drains.
 */
export class Daemon {
  private runtime!: Runtime;
  private edge!: QueryEdge;
  private readonly bus = new EventBus();
  private readonly shared: Shared;
  private readonly stats: StatsLog;
  private readonly limitLog: NodeJS.Timeout;
  private recorder!: EvidenceRecorder;
  private console: ConsoleHost | undefined;
  private readonly monitoring: Monitoring;
  /** Keeps subscribed lists (URLs in categories) current; a new copy swaps the policy like a reload. */
  private readonly subscriptions: Subscriptions;
  private readonly identity: IdentityHost;
  private readonly startedAt = Date.now();
  /** Outlives reloads: a client's bucket is not refilled by a SIGHUP. */
  private readonly limiter = new RateLimiter(serverSchema.parse({}).rate_limit);
  private readonly udpSockets: dgram.Socket[] = [];
  private readonly tcpServers: TcpServer[] = [];
  private stopping = false;
  private reloading: Promise<boolean> | null = null;
  /** Bound addresses, e.g. "127.0.0.1:5353" (the real port when the config said 0). */
  readonly addresses: string[] = [];

  private constructor(private readonly opts: DaemonOptions) {
    const cache = new AnswerCache({ maxEntries: 0, maxTtl: 0, maxNegativeTtl: 0 });
    this.monitoring = new Monitoring(
      {
        cacheEntries: () => cache.size,
        cacheHits: () => cache.hits,
        cacheMisses: () => cache.misses,
        queueDepth: () => this.bus.depth + (this.recorder?.depth ?? 0),
        dropped: () => this.bus.dropped + (this.recorder?.dropped ?? 0),
        writeErrors: () => this.recorder?.writeErrors ?? 0,
        rateLimited: () => this.limiter.limited,
        exceptionsActive: () => this.shared.exceptions.current.activeCounts(Date.now()),
      },
      VERSION,
      opts.log,
    );
    this.identity = new IdentityHost(opts.now ?? Date.now, opts.log);
    this.identity.registerMetrics(this.monitoring.metrics.registry);
    this.shared = {
      cache,
      udp: new UdpExchange(),
      onExchange: this.monitoring.onExchange,
      exceptions: { current: ExceptionSet.EMPTY },
      now: opts.now ?? Date.now,
      identities: this.identity.index,
    };
    this.stats = new StatsLog(opts.log, opts.summaryIntervalMs ?? 300_000);
    // Metrics cannot say which device is over its rate (no address labels): the log does, once a minute.
    this.limitLog = setInterval(() => {
      const top = this.limiter.takeOffenders();
      if (top.length > 0) opts.log.warn({ clients: top }, 'rate limit: clients over their limit in the last minute');
    }, RATE_LOG_MS);
    this.limitLog.unref();
    this.bus.subscribe(this.stats);
    this.bus.subscribe(this.monitoring.metrics);
    const listMetrics = new ListMetrics(this.monitoring.metrics.registry, () => this.subscriptions.categoryStatus());
    this.subscriptions = new Subscriptions({
      log: opts.log,
      onCopyChanged: (urls) => void this.recompileLists(urls),
      onFetch: listMetrics.countFetch,
    });
  }

  /** Loads the config and lists, binds every listener, and returns the running daemon. Throws ConfigError. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const d = new Daemon(opts);
    const loaded = await loadConfig(opts.configFile, { resolvConf: opts.resolvConf });
    const compiled = await compilePolicy(loaded);
    d.reportLists(compiled);
    d.monitoring.metrics.initSeries(seriesLabels(loaded, compiled));
    d.runtime = buildRuntime(loaded, compiled, d.shared);
    d.limiter.configure(loaded.config.server.rate_limit);
    d.edge = new QueryEdge(d.runtime.chain, d.bus, opts.log, d.limiter);
    opts.log.level = loaded.config.log.level;
    const { database, retention } = loaded.config;
    d.recorder = new EvidenceRecorder({
      init: writerInit(loaded, d.startedAt),
      queueSize: database.queue_size,
      batchRows: database.batch_rows,
      flushMs: database.flush_ms,
      retention,
      log: opts.log,
    });
    d.bus.subscribe(d.recorder);
    d.recorder.onSignals = d.monitoring.metrics.onSignals;
    d.recorder.exceptions.subscribe(
      (records) => {
        d.shared.exceptions.current = new ExceptionSet(records);
        opts.log.info({ exceptions: records.map((r) => `${r.id}:${r.targetKind} ${r.target}`) }, 'exceptions updated');
      },
      (e) => opts.log.error({ error: e.message }, 'cannot read exceptions from the database: keeping the ones in force'),
    );
    d.monitoring.metrics.onReload(true);
    try {
      // Order: bind every socket (port 53 may need root), then give up root, then open the
      // database, so its files are created by and belong to the service user.
      const tls = loaded.config.console.enabled ? ConsoleHost.readTls(loaded) : null;
      await d.listen(loaded.listen);
      await d.identity.start(loaded);
      await d.monitoring.start(loaded.config.metrics, () => d.runtime.forwarder, d.identity.routes);
      const ids = dropPrivileges(loaded.config.server);
      if (ids.dropped) opts.log.info({ uid: ids.uid, gid: ids.gid }, 'switched to the unprivileged user');
      else if (ids.uid === 0) opts.log.warn('running as root: set server.user, or run under the systemd unit');
      d.recorder.open();
      // Fetching lists parses what a server on the internet sent: only once root is given up.
      await d.subscriptions.configure(loaded);
      // The console runs in its own thread with its own database connection: pages never block DNS.
      if (loaded.config.console.enabled) d.console = await ConsoleHost.start(loaded, tls, opts.log);
    } catch (e) {
      d.subscriptions.stop();
      d.closeSockets();
      d.monitoring.stop();
      await d.identity.close();
      await d.console?.close();
      await d.recorder.close(Date.now() + FLUSH_MS);
      throw e;
    }
    opts.log.info(
      {
        listen: d.addresses,
        metrics: d.monitoring.address,
        radius: d.identity.radiusAddresses,
        console: d.console ? `${d.console.https ? 'https' : 'http'}://${d.console.address}/` : null,
        upstreams: loaded.upstreams.map(formatHostPort),
        zones: Object.fromEntries(loaded.zones.map((z) => [z.zone, z.servers.map(formatHostPort)])),
        groups: [...compiled.policy.groups.keys()],
      },
      'webfilter listening',
    );
    return d;
  }

  /** The runtime serving queries now. */
  get current(): Runtime {
    return this.runtime;
  }

  /** Who is at which address (RADIUS accounting and the identity feed). */
  get identities(): IdentityService {
    return this.identity.service;
  }

  /** The evidence store's recorder (queue depth, drops, write errors). */
  get evidence(): EvidenceRecorder {
    return this.recorder;
  }

  /**
   * Re-reads config and lists and swaps them in. An invalid config is logged and the old one kept;
   * an unreadable list keeps its previous entries. Resolves true when the new config is in use.
   */
  reload(): Promise<boolean> {
    // Reloads run one at a time; a HUP during a reload waits for it and then reloads again.
    const run = async (): Promise<boolean> => {
      const log = this.opts.log;
      let loaded: LoadedConfig;
      let compiled: CompiledPolicy;
      try {
        loaded = await loadConfig(this.opts.configFile, { resolvConf: this.opts.resolvConf, requireLists: false });
        compiled = await compilePolicy(loaded, this.runtime.compiled.snapshots);
      } catch (e) {
        const problems = e instanceof ConfigError ? e.problems : [(e as Error).message];
        log.error({ problems }, 'reload rejected: keeping the previous config');
        this.monitoring.metrics.onReload(false);
        return false;
      }
      this.reportLists(compiled);
      this.monitoring.metrics.initSeries(seriesLabels(loaded, compiled));
      const old = this.runtime.loaded;
      if (JSON.stringify(old.listen) !== JSON.stringify(loaded.listen)) {
        log.warn({ listen: loaded.config.server.listen }, 'server.listen changed: restart the daemon to apply it');
      }
      // Cached answers came from the old upstream sets: a name now routed elsewhere must not keep them.
      if (JSON.stringify([old.upstreams, old.zones]) !== JSON.stringify([loaded.upstreams, loaded.zones]))
        this.shared.cache.clear();
      this.runtime = buildRuntime(loaded, compiled, this.shared);
      this.edge.setChain(this.runtime.chain);
      this.limiter.configure(loaded.config.server.rate_limit);
      this.recorder.reconfigure(writerInit(loaded, this.startedAt), loaded.config.retention);
      this.monitoring.reconfigure(loaded.config.metrics);
      this.console?.reconfigure(loaded);
      await this.subscriptions.configure(loaded);
      await this.identity.reconfigure(loaded);
      if (JSON.stringify(old.config.console) !== JSON.stringify(loaded.config.console)) {
        log.warn(
          'console settings changed: session limits and trusted_proxies apply now; enabled, listen, tls, login_attempts and the connection limits need a restart',
        );
      }
      this.monitoring.metrics.onReload(true);
      log.level = loaded.config.log.level;
      log.info({ categories: compiled.reports.map((r) => `${r.category}:${r.entries}`) }, 'reloaded');
      return true;
    };
    const next = (this.reloading ?? Promise.resolve(true)).then(run, run);
    this.reloading = next;
    return next;
  }

  /**
   * Compiles the current config with the subscribed lists' newly stored copies and swaps the policy
   * in atomically, as a reload does (one at a time with reloads). On failure the running policy stays.
   */
  private recompileLists(urls: string[]): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      if (this.stopping) return false;
      const loaded = this.runtime.loaded;
      let compiled: CompiledPolicy;
      try {
        compiled = await compilePolicy(loaded, this.runtime.compiled.snapshots);
      } catch (e) {
        this.opts.log.error({ err: (e as Error).message }, 'new list copies not applied: keeping the running policy');
        return false;
      }
      this.reportLists(compiled);
      this.runtime = buildRuntime(loaded, compiled, this.shared);
      this.edge.setChain(this.runtime.chain);
      this.opts.log.info({ urls: urls.map(displayUrl) }, 'lists updated: new policy in use');
      return true;
    };
    const next = (this.reloading ?? Promise.resolve(true)).then(run, run);
    this.reloading = next;
    return next;
  }

  /** Stops listening, lets in-flight queries finish (up to 4 s), delivers queued events, closes. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.subscriptions.stop();
    for (const t of this.tcpServers) t.server.close();
    const deadline = Date.now() + DRAIN_MS;
    while (this.edge.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.bus.flush();
    await this.console?.close();
    await this.identity.close();
    const unwritten = await this.recorder.close(Date.now() + FLUSH_MS);
    this.stats.report();
    this.stats.stop();
    clearInterval(this.limitLog);
    this.monitoring.stop();
    this.closeSockets();
    this.opts.log.info({ unanswered: this.edge.inFlight, unwritten, dropped: this.recorder.dropped }, 'webfilter stopped');
  }

  private closeSockets(): void {
    for (const s of this.udpSockets) s.close();
    for (const t of this.tcpServers) t.close();
    this.shared.udp.close();
  }

  private handler = (msg: Buffer, address: string, reply: (wire: Buffer | null) => void, transport: 'udp' | 'tcp') => {
    if (this.stopping) return reply(null);
    this.edge.handle(msg, transport, address, reply);
  };

  private async listen(addrs: HostPort[]): Promise<void> {
    const onError = (e: Error) => this.opts.log.error({ err: e }, 'listener error');
    const limits = () => ({
      idleTimeoutMs: this.runtime.loaded.config.server.tcp.idle_timeout_ms,
      maxConnections: this.runtime.loaded.config.server.tcp.max_connections,
      maxQueriesPerConnection: this.runtime.loaded.config.server.tcp.max_queries_per_connection,
      maxConnectionsPerClient: this.runtime.loaded.config.server.tcp.max_connections_per_client,
      readTimeoutMs: this.runtime.loaded.config.server.tcp.read_timeout_ms,
    });
    for (const addr of addrs) {
      // [::] takes IPv4 too unless told otherwise; only do so when 0.0.0.0 isn't listened on the same port.
      const v6only = addr.family === 6 && addrs.some((a) => a.family === 4 && a.port === addr.port);
      // With port 0, UDP picks a free port and TCP takes the same one; retry if TCP finds it taken.
      for (let attempt = 0; ; attempt++) {
        const udp = await startUdpServer(addr, v6only, (m, a, r) => this.handler(m, a, r, 'udp'), onError);
        const port = udp.address().port;
        try {
          const tcp = await startTcpServer({ ...addr, port }, v6only, limits, (m, a, r) => this.handler(m, a, r, 'tcp'), onError);
          this.udpSockets.push(udp);
          this.tcpServers.push(tcp);
          this.addresses.push(formatHostPort({ host: addr.host, port }));
          break;
        } catch (e) {
          udp.close();
          if (addr.port !== 0 || attempt >= 10 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        }
      }
    }
  }

  private reportLists(compiled: CompiledPolicy): void {
    const log = this.opts.log;
    this.monitoring.metrics.onLists(compiled.reports);
    for (const r of compiled.reports) {
      for (const u of r.unreadable) {
        if (isListUrl(u.file)) continue; // subscriptions report their own state (below)
        log.error({ category: r.category, file: u.file, error: u.error }, 'list unreadable: keeping its previous entries');
      }
      for (const [url, state] of r.subscriptions) {
        if (!state?.body)
          log.warn({ category: r.category, url: displayUrl(url) }, 'subscribed list not fetched yet: not enforced until it is');
        else {
          const age = state.fetched_at === null ? 'unknown' : formatDuration(Date.now() - state.fetched_at);
          log.info(
            { category: r.category, url: displayUrl(url), entries: state.entries, copy_age: age },
            'subscribed list copy loaded',
          );
        }
      }
      for (const p of r.problems.slice(0, 20)) {
        log.warn({ category: r.category, at: `${p.file}:${p.line}`, line: p.text, reason: p.reason }, 'list line skipped');
      }
      if (r.problems.length > 20) log.warn({ category: r.category, more: r.problems.length - 20 }, 'more list lines skipped');
      log.info({ category: r.category, entries: r.entries }, 'list loaded');
    }
  }
}

/** The label values the config can produce, for the metrics' series that exist from the start. */
function seriesLabels(loaded: LoadedConfig, compiled: CompiledPolicy): SeriesLabels {
  return {
    groups: [...compiled.policy.groups.keys()],
    categories: compiled.policy.categories,
    upstreams: loaded.upstreams.map(formatHostPort),
    signalKinds: SIGNAL_KIND_NAMES,
  };
}
