import { Counter, Gauge, type Registry } from 'prom-client';
import { CHANNEL_NAMES } from './channel-names.js';
import { DELIVERY_RESULTS, type DeliveryResult } from './outbox.js';

/**
 * Metrics of the safeguarding alerts: deliveries per channel and result, messages waiting, and
 * signals lost to the alerting's bounds. Every (configured channel, result) series exists at 0 from
 * the start, so the WebfilterAlertsFailing rule sees the first failure.
 */
export class AlertMetrics {
  private readonly sent: Counter<'channel' | 'result'>;
  private queued: Record<string, number> = {};
  private droppedNow = 0;

  constructor(registry: Registry) {
    const registers = [registry];
    this.sent = new Counter({
      name: 'webfilter_alerts_sent_total',
      help: 'Alert messages by channel (email, webhook) and result: sent, failed (an attempt that will be retried), abandoned (given up)',
      labelNames: ['channel', 'result'],
      registers,
    });
    const self = this;
    new Gauge({
      name: 'webfilter_alerts_queued',
      help: 'Alert messages waiting to be delivered, by channel',
      labelNames: ['channel'],
      registers,
      collect() {
        this.reset();
        for (const [c, n] of Object.entries(self.queued)) this.labels(c).set(n);
      },
    });
    new Counter({
      name: 'webfilter_alerts_signals_dropped_total',
      help: 'Signals the alerting could not take (too many devices waiting at once); they are still in the evidence store',
      registers,
      collect() {
        this.reset();
        this.inc(self.droppedNow);
      },
    });
  }

  /** Makes every series of the configured channels exist (at 0 until counted). */
  initChannels(channels: readonly string[]): void {
    for (const c of channels) {
      if (!(CHANNEL_NAMES as readonly string[]).includes(c)) continue;
      for (const r of DELIVERY_RESULTS) this.sent.inc({ channel: c, result: r }, 0);
      this.queued[c] ??= 0;
    }
  }

  count(channel: string, result: DeliveryResult): void {
    this.sent.labels(channel, result).inc();
  }

  state(depths: Record<string, number>, dropped: number): void {
    this.queued = { ...depths };
    this.droppedNow = dropped;
  }
}
