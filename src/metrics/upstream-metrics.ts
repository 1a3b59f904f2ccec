import { Counter, Gauge, type Registry } from 'prom-client';
import type { UpstreamStats } from '../observe/upstream-stats.js';
import type { ConnectionStats } from '../upstream/tls-client.js';

/** One upstream transport as the metrics see it (with workers: its counts summed over them). */
export interface TransportView {
  spec: { name: string; transport: string };
  stats: ConnectionStats | null;
}

/** The upstreams' transports and exchange counts, read at scrape time. */
export interface UpstreamView {
  transports: TransportView[];
  upstreams: UpstreamStats;
}

/** Sums the same upstreams' transports of several processes (connections and connects add up). */
export function sumTransports(views: TransportView[][]): TransportView[] {
  const byKey = new Map<string, TransportView>();
  for (const list of views) {
    for (const t of list) {
      const key = `${t.spec.transport} ${t.spec.name}`;
      const have = byKey.get(key);
      if (!have) {
        byKey.set(key, { spec: t.spec, stats: t.stats ? { ...t.stats } : null });
      } else if (have.stats && t.stats) {
        have.stats.connects += t.stats.connects;
        have.stats.resumed += t.stats.resumed;
        have.stats.tlsFailures += t.stats.tlsFailures;
        have.stats.failures += t.stats.failures;
        have.stats.open += t.stats.open;
        have.stats.lastError = t.stats.lastError ?? have.stats.lastError;
      }
    }
  }
  return [...byKey.values()];
}

/**
 * Each upstream's transport and health, per upstream (bounded: upstreams come from config). Health
 * is the last exchange's outcome; an upstream not asked yet counts as healthy unless its connection
 * is failing. Encrypted upstreams add their connections: open now, and made (new, resumed) or
 * refused (certificate/handshake) or failed.
 */
export class UpstreamMetrics {
  constructor(
    registry: Registry,
    private readonly view: () => Promise<UpstreamView>,
  ) {
    const registers = [registry];
    new Gauge({
      name: 'webfilter_upstream_healthy',
      help: 'Whether the upstream answered its last exchange (1) or not (0), with its transport (udp, tls, https)',
      labelNames: ['upstream', 'transport'],
      registers,
      async collect() {
        const v = await view();
        this.reset();
        for (const t of v.transports) this.labels(t.spec.name, t.spec.transport).set(healthy(t, v.upstreams) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'webfilter_upstream_connections',
      help: 'Open connections to an encrypted upstream (DoT, DoH)',
      labelNames: ['upstream', 'transport'],
      registers,
      async collect() {
        const v = await view();
        this.reset();
        for (const t of v.transports) if (t.stats) this.labels(t.spec.name, t.spec.transport).set(t.stats.open);
      },
    });
    new Counter({
      name: 'webfilter_upstream_connects_total',
      help: 'Connections to encrypted upstreams: new, resumed (TLS session resumption), tls_refused (certificate or handshake), failed',
      labelNames: ['upstream', 'transport', 'result'],
      registers,
      async collect() {
        const v = await view();
        this.reset();
        for (const t of v.transports) {
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

  /** Health of each upstream in use, for `webfilter status` (through /readyz). */
  async describe(): Promise<
    { upstream: string; transport: string; healthy: boolean; last: string | null; error: string | null }[]
  > {
    const v = await this.view();
    return v.transports.map((t) => ({
      upstream: t.spec.name,
      transport: t.spec.transport,
      healthy: healthy(t, v.upstreams),
      last: v.upstreams.last(t.spec.name)?.outcome ?? null,
      error: t.stats?.lastError ?? null,
    }));
  }
}

function healthy(t: TransportView, upstreams: UpstreamStats): boolean {
  const e = upstreams.last(t.spec.name);
  if (e) return e.outcome === 'ok';
  return !t.stats || t.stats.tlsFailures + t.stats.failures === 0 || t.stats.open > 0;
}
