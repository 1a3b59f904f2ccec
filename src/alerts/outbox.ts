import type { AlertMessage } from './alert-message.js';
import type { AlertChannel } from './channels.js';
import type { Clock } from './clock.js';

/** What happened to one delivery attempt, for metrics and status. */
export type DeliveryResult = 'sent' | 'failed' | 'abandoned';
export const DELIVERY_RESULTS: readonly DeliveryResult[] = ['sent', 'failed', 'abandoned'];

export interface OutboxSettings {
  /** Messages waiting at most; a new one past it makes the oldest be abandoned. */
  maxQueue: number;
  /** First retry after this, doubling up to `maxRetryMs`. */
  firstRetryMs: number;
  maxRetryMs: number;
  /** A message still undelivered this long after it was made is abandoned. */
  giveUpMs: number;
}

export const OUTBOX_DEFAULTS: OutboxSettings = {
  maxQueue: 500,
  firstRetryMs: 5_000,
  maxRetryMs: 300_000,
  giveUpMs: 24 * 3_600_000,
};

export type DeliveryListener = (channel: string, result: DeliveryResult, m: AlertMessage, error?: string) => void;

/**
 * One channel's queue: messages are sent one at a time, in order; a failed attempt is retried after
 * a growing wait (5 s, 10 s, 20 s, … 5 min) so a mail server that is down for an hour gets every
 * message once it is back, in order, and a message is given up only after a day. Bounded: past
 * `maxQueue` the oldest message is abandoned (and counted).
 */
export class Outbox {
  private readonly queue: AlertMessage[] = [];
  private sending = false;
  private retryMs: number;
  private cancelRetry: (() => void) | null = null;
  private closed = false;

  constructor(
    readonly channel: AlertChannel,
    private readonly settings: OutboxSettings,
    private readonly clock: Clock,
    private readonly onResult: DeliveryListener,
  ) {
    this.retryMs = settings.firstRetryMs;
  }

  get depth(): number {
    return this.queue.length;
  }

  enqueue(m: AlertMessage): void {
    if (this.closed) return;
    if (this.queue.length >= this.settings.maxQueue) {
      // The one being sent (index 0) stays; the oldest waiting one goes.
      const i = this.sending ? 1 : 0;
      const [old] = this.queue.splice(i, 1);
      if (old) this.onResult(this.channel.name, 'abandoned', old, 'queue full');
    }
    this.queue.push(m);
    if (!this.sending && !this.cancelRetry) void this.pump();
  }

  /** Stops sending; what is still queued is returned (the caller logs it). */
  close(): AlertMessage[] {
    this.closed = true;
    this.cancelRetry?.();
    this.channel.close();
    return this.queue.splice(0);
  }

  private async pump(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0 && !this.closed) {
      const m = this.queue[0];
      if (this.clock.now() - m.createdAt > this.settings.giveUpMs) {
        this.queue.shift();
        this.onResult(this.channel.name, 'abandoned', m, 'undelivered for too long');
        continue;
      }
      try {
        await this.channel.send(m);
      } catch (e) {
        if (this.closed) break;
        this.onResult(this.channel.name, 'failed', m, (e as Error).message);
        const wait = this.retryMs;
        this.retryMs = Math.min(this.settings.maxRetryMs, this.retryMs * 2);
        this.sending = false;
        this.cancelRetry = this.clock.after(wait, () => {
          this.cancelRetry = null;
          void this.pump();
        });
        return;
      }
      this.queue.shift();
      this.retryMs = this.settings.firstRetryMs;
      this.onResult(this.channel.name, 'sent', m);
    }
    this.sending = false;
  }
}
