/** Values of the upstream `outcome` label (UpstreamError's outcomes and ok). */
export const OUTCOMES = ['ok', 'timeout', 'servfail', 'refused', 'malformed', 'network', 'overload', 'closed', 'tls'] as const;
/** Upper bounds (seconds) of webfilter_upstream_duration_seconds. */
export const UPSTREAM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const OUTCOME_INDEX = new Map<string, number>(OUTCOMES.map((o, i) => [o, i]));
const NB = UPSTREAM_BUCKETS.length + 1;

/** One upstream's exchange counts. */
export interface UpstreamCounts {
  /** [outcome index] */
  requests: Float64Array;
  /** Per bucket (not cumulative; the last above every bound), then the sum of seconds at [NB]. */
  duration: Float64Array;
  /** The last exchange's outcome ("" = none yet) and when (epoch ms). */
  lastOutcome: string;
  lastAt: number;
}

export interface UpstreamStatsSnapshot {
  upstreams: [string, UpstreamCounts][];
  lastOk: number;
}

/**
 * Exchanges with each upstream (webfilter_upstream_requests_total and _duration_seconds), the last
 * outcome of each (its health) and the time of the last good answer (readiness), in typed arrays
 * read at scrape time. Upstream names come from config, so the label set is bounded.
 */
export class UpstreamStats {
  private readonly byName = new Map<string, UpstreamCounts>();
  /** Epoch ms of the last good upstream answer (0 = never). */
  lastOk = 0;

  private counts(name: string): UpstreamCounts {
    let c = this.byName.get(name);
    if (c === undefined) {
      c = { requests: new Float64Array(OUTCOMES.length), duration: new Float64Array(NB + 1), lastOutcome: '', lastAt: 0 };
      this.byName.set(name, c);
    }
    return c;
  }

  /** Creates these upstreams' series at zero. */
  declare(names: readonly string[]): void {
    for (const n of names) this.counts(n);
  }

  /** One exchange with an upstream (from the forwarder). */
  exchange(upstream: string, outcome: string, seconds: number, now = Date.now()): void {
    const c = this.counts(upstream);
    c.requests[OUTCOME_INDEX.get(outcome) ?? OUTCOME_INDEX.get('network')!]++;
    let b = 0;
    while (b < UPSTREAM_BUCKETS.length && seconds > UPSTREAM_BUCKETS[b]) b++;
    c.duration[b]++;
    c.duration[NB] += seconds;
    c.lastOutcome = outcome;
    c.lastAt = now;
    if (outcome === 'ok') this.lastOk = now;
  }

  /** The last exchange with an upstream, or null before the first. */
  last(upstream: string): { outcome: string; at: number } | null {
    const c = this.byName.get(upstream);
    return c && c.lastOutcome !== '' ? { outcome: c.lastOutcome, at: c.lastAt } : null;
  }

  entries(): IterableIterator<[string, UpstreamCounts]> {
    return this.byName.entries();
  }

  snapshot(): UpstreamStatsSnapshot {
    return {
      upstreams: [...this.byName].map(([n, c]) => [n, { ...c, requests: c.requests.slice(), duration: c.duration.slice() }]),
      lastOk: this.lastOk,
    };
  }

  /** Adds another process's counts; the later "last exchange" wins. */
  add(s: UpstreamStatsSnapshot): void {
    for (const [name, src] of s.upstreams) {
      const c = this.counts(name);
      for (let i = 0; i < c.requests.length; i++) c.requests[i] += src.requests[i] ?? 0;
      for (let i = 0; i < c.duration.length; i++) c.duration[i] += src.duration[i] ?? 0;
      if (src.lastAt > c.lastAt) {
        c.lastAt = src.lastAt;
        c.lastOutcome = src.lastOutcome;
      }
    }
    if (s.lastOk > this.lastOk) this.lastOk = s.lastOk;
  }
}
