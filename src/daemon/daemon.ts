import type { Logger } from 'pino';
import { useTimezone } from '../time/zone.js';
import type { AlertsHost } from '../alerts/alerts-host.js';
import type { Notifier } from '../alerts/notifier.js';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import type { ConsoleHost } from '../console/console-host.js';
import type { EvidenceRecorder } from '../evidence/recorder.js';
import { writerInit } from '../evidence/settings.js';
import type { IdentityHost } from '../identity/identity-host.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { Subscriptions } from '../lists/subscriptions.js';
import type { Monitoring } from '../metrics/monitoring.js';
import type { QueryStats } from '../observe/query-stats.js';
import type { UpstreamStats } from '../observe/upstream-stats.js';
import type { StatsLog } from '../observe/stats-log.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.js';
import type { QueryEdge } from '../server/query-edge.js';
import type { RateLimiter } from '../server/rate-limiter.js';
import { consoleChanged, listenChanged, upstreamsChanged } from './changes.js';
import type { DnsListeners } from './listeners.js';
import type { OptionalPart } from './optional-part.js';
import { keepLastGood, reportLists, seriesLabels } from './policy-report.js';
import type { WorkerPool } from './worker-pool.js';
import type { Runtime, Shared } from './runtime.js';
import type { RuntimeSwitch } from './runtime-switch.js';

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

/** Everything a running daemon is made of, built and started by startDaemon (start.ts). */
export interface DaemonParts {
  opts: DaemonOptions;
  startedAt: number;
  runtimes: RuntimeSwitch;
  shared: Shared;
  /** The per-query counters behind the metrics and the summary log. */
  queryStats: QueryStats;
  upstreamStats: UpstreamStats;
  edge: QueryEdge;
  /** Outlives reloads: a client's bucket is not refilled by a SIGHUP. */
  limiter: RateLimiter;
  stats: StatsLog;
  /** Logs the clients over their rate limit once a minute. */
  limitLog: NodeJS.Timeout;
  monitoring: Monitoring;
  recorder: EvidenceRecorder;
  subscriptions: Subscriptions;
  identity: IdentityHost;
  /** Safeguarding alerts (e-mail, webhook) in their own thread; also the notifier other features use. */
  alerts: AlertsHost;
  /** The review console: an optional part, retried while it cannot start. */
  console: OptionalPart<ConsoleHost>;
  /** The /metrics /healthz /readyz listener: likewise. */
  metricsListener: OptionalPart<string>;
  listeners: DnsListeners;
  /** The DNS worker processes (server.workers > 1), which are then the listeners; null in one process. */
  pool: WorkerPool | null;
}

/**
 * How long a stop waits for in-flight queries, then for the evidence queue: all under 7 s, inside
 * systemd's `TimeoutStopSec=10s` and docker's 10 s. The evidence budget covers a writer thread
 * still starting on a busy machine (its first batch waits for the database to open).
 */
const DRAIN_MS = 2500;
const FLUSH_MS = 4000;

/**
 * The running filter's lifecycle: `reload` swaps in a new config atomically, `stop` drains and
 * closes. It is handed its parts already started (start.ts), so nothing here is half built.
 */
export class Daemon {
  private stopping = false;

  constructor(private readonly p: DaemonParts) {}

  /** Bound DNS addresses, e.g. "127.0.0.1:5353" (the real port when the config said 0). */
  get addresses(): string[] {
    return this.p.listeners.addresses;
  }

  /** The runtime serving queries now. */
  get current(): Runtime {
    return this.p.runtimes.current;
  }

  /** Who is at which address (RADIUS accounting and the identity feed). */
  get identities(): IdentityService {
    return this.p.identity.service;
  }

  /**
   * Tells people through the configured alert channels (e-mail, webhook), queued with retries: for
   * features that need to notify someone (e.g. the approvers of a permission request).
   */
  get notifier(): Notifier {
    return this.p.alerts;
  }

  /** The evidence store's recorder (queue depth, drops, write errors). */
  get evidence(): EvidenceRecorder {
    return this.p.recorder;
  }

  /**
   * Re-reads config and lists and swaps them in. An invalid config is logged and the old one kept;
   * an unreadable list keeps its previous entries. Resolves true when the new config is in use.
   * Reloads run one at a time; a HUP during a reload waits for it and then reloads again.
   */
  reload(): Promise<boolean> {
    const { p } = this;
    const log = p.opts.log;
    return p.runtimes.serially(async () => {
      const old = p.runtimes.current;
      let loaded: LoadedConfig;
      let compiled: CompiledPolicy;
      try {
        loaded = await loadConfig(p.opts.configFile, { resolvConf: p.opts.resolvConf, requireLists: false });
        compiled = await compilePolicy(loaded, old.compiled.snapshots);
      } catch (e) {
        const problems = e instanceof ConfigError ? e.problems : [(e as Error).message];
        log.error({ problems }, 'reload rejected: keeping the previous config');
        p.monitoring.metrics.onReload(false);
        return false;
      }
      reportLists(compiled, log, p.monitoring.metrics);
      p.monitoring.metrics.initSeries(seriesLabels(loaded, compiled), { queries: p.queryStats, upstreams: p.upstreamStats });
      if (old.loaded.config.timezone !== loaded.config.timezone) {
        useTimezone(loaded.config.timezone);
        if (p.console)
          log.warn({ timezone: loaded.config.timezone }, 'timezone changed: restart the daemon for the console to show it');
      }
      if (listenChanged(old.loaded, loaded)) {
        log.warn({ listen: loaded.config.server.listen }, 'server.listen changed: restart the daemon to apply it');
      }
      // Cached answers came from the old upstream sets: a name now routed elsewhere must not keep them.
      if (upstreamsChanged(old.loaded, loaded)) p.shared.cache.clear();
      p.runtimes.swap(loaded, compiled);
      // DNS workers re-read the same files; one that cannot keeps its previous config and says why in the log.
      if (p.pool && !(await p.pool.reload())) {
        log.error('reload: a DNS worker kept the previous config (see its log lines)');
        p.monitoring.metrics.onReload(false);
        return false;
      }
      keepLastGood(loaded, log);
      p.limiter.configure(loaded.config.server.rate_limit);
      p.recorder.reconfigure(writerInit(loaded, p.startedAt), loaded.config.retention);
      p.monitoring.reconfigure(loaded.config.metrics);
      p.console.current?.reconfigure(loaded);
      await p.subscriptions.configure(loaded);
      await p.identity.reconfigure(loaded);
      await p.alerts.configure(loaded, { atStart: false });
      if (consoleChanged(old.loaded, loaded)) {
        log.warn(
          'console settings changed: session limits and trusted_proxies apply now; enabled, listen, tls, login_attempts and the connection limits need a restart',
        );
      }
      p.monitoring.metrics.onReload(true);
      log.level = loaded.config.log.level;
      log.info({ categories: compiled.reports.map((r) => `${r.category}:${r.entries}`) }, 'reloaded');
      return true;
    });
  }

  /** Stops listening, lets in-flight queries finish (up to 4 s), delivers queued events, closes. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { p } = this;
    p.subscriptions.stop();
    p.runtimes.stop();
    p.listeners.stopAccepting();
    const deadline = Date.now() + DRAIN_MS;
    while (p.edge.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // DNS workers drain by the same deadline, then hand over their last events and exit.
    await p.pool?.stopped(deadline + 500);
    await p.console.close();
    await p.identity.close();
    const unwritten = await p.recorder.close(Date.now() + FLUSH_MS);
    // After the writer: its last batch may still hand signals over.
    await p.alerts.close();
    await p.stats.report();
    p.stats.stop();
    clearInterval(p.limitLog);
    await p.metricsListener.close();
    p.monitoring.stop();
    p.listeners.close();
    p.shared.transports.close();
    p.opts.log.info({ unanswered: p.edge.inFlight, unwritten, dropped: p.recorder.dropped }, 'webfilter stopped');
  }
}
