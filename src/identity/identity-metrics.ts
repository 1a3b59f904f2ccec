import { Counter, Gauge, type Registry } from 'prom-client';
import { FEED_OUTCOMES, type FeedOutcome } from './feed.js';
import { RADIUS_OUTCOMES, type RadiusCounts } from './radius-protocol.js';

/** Live values read at scrape time. */
export interface IdentityMetricSources {
  mappings(): { radius: number; feed: number };
  radius(): RadiusCounts | null;
  feed(): Record<FeedOutcome, number>;
}

/**
 * The identity metrics, in the daemon's registry. No user or address labels: sources and outcomes
 * only (bounded); `webfilter identity list` says who is where.
 */
export function registerIdentityMetrics(registry: Registry, s: IdentityMetricSources): void {
  const registers = [registry];
  new Gauge({
    name: 'webfilter_identity_mappings',
    help: 'Addresses with a known user now, by source (radius, feed)',
    labelNames: ['source'],
    registers,
    collect() {
      const m = s.mappings();
      this.labels('radius').set(m.radius);
      this.labels('feed').set(m.feed);
    },
  });
  new Counter({
    name: 'webfilter_radius_packets_total',
    help: 'RADIUS accounting packets received, by outcome (only "accepted" ones are answered)',
    labelNames: ['outcome'],
    registers,
    collect() {
      const c = s.radius();
      this.reset();
      for (const o of RADIUS_OUTCOMES) this.labels(o).inc(c?.[o] ?? 0);
    },
  });
  new Counter({
    name: 'webfilter_identity_feed_requests_total',
    help: 'POST /identity requests, by outcome',
    labelNames: ['outcome'],
    registers,
    collect() {
      const c = s.feed();
      this.reset();
      for (const o of FEED_OUTCOMES) this.labels(o).inc(c[o]);
    },
  });
}
