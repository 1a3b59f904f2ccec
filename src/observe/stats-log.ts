import type { Logger } from 'pino';
import type { Observer, QueryEvent } from './query-event.js';

/**
 * Counts answers by kind and writes one summary line to the log per interval (only when there was
 * traffic), so `journalctl -u webfilter` shows at a glance what the filter has been doing.
 */
export class StatsLog implements Observer {
  private counts = new Map<string, number>();
  private total = 0;
  private timer: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.report(), intervalMs);
    this.timer.unref();
  }

  observe(events: readonly QueryEvent[]): void {
    for (const e of events) this.counts.set(e.kind, (this.counts.get(e.kind) ?? 0) + 1);
    this.total += events.length;
  }

  /** Logs and resets the counters; returns what was logged (null when idle). */
  report(): Record<string, number> | null {
    if (this.total === 0) return null;
    const summary = { queries: this.total, ...Object.fromEntries(this.counts) };
    this.log.info(summary, 'query summary');
    this.counts = new Map();
    this.total = 0;
    return summary;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
