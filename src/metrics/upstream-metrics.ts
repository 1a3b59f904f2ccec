import { Counter, Gauge, type Registry } from 'prom-client';
import type { UpstreamTransport } from '../upstream/transports.js';

/** What is known of one upstream's health: its last exchange. */
interface LastExchange {
  outcome: string;
  at: number;
}

/**
 * Each upstream's transport and health, per upstream (bounded: upstreams come from config). Health
 * is the last exchange's outcome; an upstream not asked yet counts as healthy unless its connection
 * is failing. Encrypted upstreams add their connections: open now, and made (new, resumed) or
 * refused (certificate/handshake) or failed.
 */
export class UpstreamMetrics {
  private readonly last = new Map<string, LastExchange>();

  constructor(registry: Registry, transports: () => UpstreamTransport[]) {
    const registers = [registry];
    const health = (t: UpstreamTransport) => this.healthy(t);
    new Gauge({
      name: 'webfilter_upstream_healthy',
      help: 'Whether the upstream answered its last exchange (1) or not (0), with its transport (udp, tls, https)',
      labelNames: ['upstream', 'transport'],
      registers,
      collect() {
        this.reset();
        for (const t of transports()) this.labels(t.spec.name, t.spec.transport).set(health(t) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'webfilter_upstream_connections',
      help: 'Open connections to an encrypted upstream (DoT, DoH)',
      labelNames: ['upstream', 'transport'],
      registers,
      collect() {
        this.reset();
        for (const t of transports()) if (t.stats) this.labels(t.spec.name, t.spec.transport).set(t.stats.open);
      },
    });
    new Counter({
      name: 'webfilter_upstream_connects_total',
      help: 'Connections to encrypted upstreams: new, resumed (TLS session resumption), tls_refused (certificate or handshake), failed',
      labelNames: ['upstream', 'transport', 'result'],
      registers,
      collect() {
        this.reset();
        for (const t of transports()) {
          if (!t.stats) continue;
          const l = (result: string) => ({ upstream: t.spec.name, transport: t.spec.transport, result });
          this.inc(l('new'), t.stats.connects - t.stats.resumed);
          this.inc(l('resumed'), t.stats.resumed);
          this.inc(l('tls_refused'), t.stats.tlsFailures);
          this.inc(l('failed'), t.stats.failures);
        }
      },
    });
  }

  /** One exchange with an upstream (wired beside the request counters). */
  onExchange = (upstream: string, outcome: string): void => {
    const e = this.last.get(upstream);
    if (e) {
      e.outcome = outcome;
      e.at = Date.now();
    } else this.last.set(upstream, { outcome, at: Date.now() });
  };

  /** Health of each upstream in use, for `webfilter status` (through /readyz). */
  describe(
    transports: UpstreamTransport[],
  ): { upstream: string; transport: string; healthy: boolean; last: string | null; error: string | null }[] {
    return transports.map((t) => ({
      upstream: t.spec.name,
      transport: t.spec.transport,
      healthy: this.healthy(t),
      last: this.last.get(t.spec.name)?.outcome ?? null,
      error: t.stats?.lastError ?? null,
    }));
  }

  private healthy(t: UpstreamTransport): boolean {
    const e = this.last.get(t.spec.name);
    if (e) return e.outcome === 'ok';
    return !t.stats || t.stats.tlsFailures + t.stats.failures === 0 || t.stats.open > 0;
  }
}
