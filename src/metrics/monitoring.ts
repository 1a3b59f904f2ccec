import type http from 'node:http';
import type { Logger } from 'pino';
import { parseHostPort } from '../config/host-port.js';
import type { Config } from '../config/schema.js';
import type { Forwarder } from '../upstream/forwarder.js';
import { DaemonMetrics, type MetricSources } from './daemon-metrics.js';
import { ComponentHealth, type ComponentStatus } from './component-health.js';
import { startMetricsServer, type Readiness } from './http-server.js';

/** `. IN NS` with RD: any recursive resolver can answer it; used to check upstreams when idle. */
const PROBE = Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
const PROBE_QUESTION_END = PROBE.length;
const PROBE_EVERY_MS = 5000;

/**
 * Metrics, the /metrics /healthz /readyz listener, and readiness: the daemon is ready when its
 * config and lists are loaded and an upstream answered within `metrics.upstream_fresh_seconds`. When
 * client traffic is too quiet to tell, an `. NS` probe goes to the upstreams.
 */
export class Monitoring implements Readiness {
  readonly metrics: DaemonMetrics;
  /** The optional parts' health (console, metrics listener, evidence store). */
  readonly health: ComponentHealth;
  /** Epoch ms of the last good upstream answer (0 = never); set by the daemon (its UpstreamStats). */
  lastUpstreamOk: () => number = () => 0;
  /** Where /metrics is served, e.g. "127.0.0.1:9253", or null when disabled. */
  address: string | null = null;
  private server: http.Server | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private freshMs = 60_000;
  /** Each upstream's transport and health, added to /readyz (set by the daemon). */
  upstreams: (() => Promise<unknown[]>) | null = null;

  constructor(
    sources: MetricSources,
    version: string,
    private readonly log: Logger,
  ) {
    this.metrics = new DaemonMetrics(sources, version);
    this.health = new ComponentHealth(this.metrics.registry, log);
    this.metrics.readiness = () => this.ready().ready;
  }

  /** Starts probing the upstreams when client traffic is too quiet to tell whether they answer. */
  startProbe(cfg: Config['metrics'], forwarder: () => Forwarder): void {
    this.freshMs = cfg.upstream_fresh_seconds * 1000;
    this.probeTimer = setInterval(() => this.probe(forwarder()), PROBE_EVERY_MS);
    this.probeTimer.unref();
    this.probe(forwarder());
  }

  /**
   * Starts the /metrics /healthz /readyz listener (with `post` routes, e.g. the identity feed).
   * Throws when it cannot listen; the daemon then carries on without it and tries again.
   */
  async listen(cfg: Config['metrics'], post: Record<string, http.RequestListener> = {}): Promise<string> {
    const { server, address } = await startMetricsServer(parseHostPort(cfg.listen, null), this.metrics.registry, this, post);
    this.server = server;
    this.address = address;
    return address;
  }

  /** Applies reloaded settings (the listen address needs a restart). */
  reconfigure(cfg: Config['metrics']): void {
    this.freshMs = cfg.upstream_fresh_seconds * 1000;
  }

  components(): { states: Record<string, ComponentStatus>; degraded: string[] } {
    return { states: this.health.snapshot(), degraded: this.health.degraded() };
  }

  ready(): { ready: true } | { ready: false; reason: string } {
    const lastOk = this.lastUpstreamOk();
    const age = Date.now() - lastOk;
    if (age <= this.freshMs) return { ready: true };
    const last = lastOk === 0 ? 'never' : `${Math.round(age / 1000)} s ago`;
    return { ready: false, reason: `no upstream has answered within ${this.freshMs / 1000} s (last good answer: ${last})` };
  }

  async details(): Promise<Record<string, unknown>> {
    return this.upstreams ? { upstreams: await this.upstreams() } : {};
  }

  /** Closes the listener (the probe goes on). */
  closeListener(): void {
    this.server?.close();
    this.server?.closeAllConnections();
    this.server = null;
    this.address = null;
  }

  stop(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.closeListener();
  }

  private probe(forwarder: Forwarder): void {
    if (this.probing || Date.now() - this.lastUpstreamOk() < this.freshMs / 2) return;
    this.probing = true;
    forwarder
      .forward(PROBE, PROBE_QUESTION_END)
      .catch((e: Error) => this.log.warn({ reason: e.message }, 'upstream probe failed'))
      .finally(() => (this.probing = false));
  }
}
