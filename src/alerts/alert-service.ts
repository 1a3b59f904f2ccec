import type { Logger } from 'pino';
import type { AlertMessage } from './alert-message.js';
import type { AlertSignal } from './alert-signal.js';
import type { AlertSettings } from './alert-settings.js';
import { EmailChannel, WebhookChannel, type AlertChannel, type ChannelName } from './channels.js';
import type { Clock } from './clock.js';
import { localDay, nextDigestAt } from './digest-schedule.js';
import type { Notification } from './notifier.js';
import { Outbox, OUTBOX_DEFAULTS, type DeliveryListener, type OutboxSettings } from './outbox.js';
import { renderDeviceAlert, renderOverflow, renderTest, type RenderContext } from './render-alert.js';
import { renderDigest, type DigestData } from './render-digest.js';
import { SignalGrouper } from './signal-grouper.js';
import { timeFormat } from './zoned-format.js';

/** Gathers the digest's data for the local day [start, end) (see alerts/digest-data.ts). */
export type DigestSource = (start: number, end: number) => Promise<DigestData>;

export interface ServiceOptions {
  clock: Clock;
  log: Logger;
  onResult: DeliveryListener;
  /** Where the digest's data comes from; without one the digest is not scheduled. */
  digestSource?: DigestSource;
  /** Called after a digest was queued, with the local day's start (to remember it across restarts). */
  onDigest?: (dayStart: number) => void;
  outbox?: OutboxSettings;
  /** Channels to use instead of the configured ones (tests). */
  channels?: (s: AlertSettings) => AlertChannel[];
}

/** The result of sending one message straight to one channel (`webfilter alerts test`). */
export interface ChannelCheck {
  channel: ChannelName;
  target: string;
  ok: boolean;
  error?: string;
  ms: number;
}

export function makeChannels(s: AlertSettings): AlertChannel[] {
  const out: AlertChannel[] = [];
  if (s.email) out.push(new EmailChannel(s.email));
  if (s.webhook) out.push(new WebhookChannel(s.webhook));
  return out;
}

/**
 * The safeguarding alerting, in whichever thread runs it: signals in, grouped and capped
 * (SignalGrouper), rendered once, and queued on every channel's Outbox (retries with backoff); the
 * daily digest on its schedule; notifications from other features. Nothing here blocks: sending is
 * network I/O, and every queue is bounded.
 */
export class AlertService {
  private outboxes: Outbox[] = [];
  private readonly grouper: SignalGrouper;
  private cancelDigest: (() => void) | null = null;
  private cancelPrune: (() => void) | null = null;
  private ctx!: RenderContext;

  constructor(
    private settings: AlertSettings,
    private readonly opts: ServiceOptions,
  ) {
    this.grouper = new SignalGrouper(settings.grouper, opts.clock, {
      device: (a) => this.queue(renderDeviceAlert(a, this.ctx, opts.clock.now())),
      overflow: (held, more, cap) => this.queue(renderOverflow(held, more, cap, this.ctx, opts.clock.now())),
    });
    this.apply(settings);
    this.schedulePrune();
  }

  /** Applies new settings (a reload): channels are rebuilt; what was queued on a kept channel is carried over. */
  configure(settings: AlertSettings): void {
    const old = this.outboxes;
    this.apply(settings);
    for (const o of old) {
      const left = o.close();
      const same = this.outboxes.find((n) => n.channel.name === o.channel.name);
      for (const m of left) same?.enqueue(m);
    }
  }

  /** Signals the evidence writer found that alert at once. */
  signals(list: readonly AlertSignal[]): void {
    for (const s of list) this.grouper.add(s);
  }

  get dropped(): number {
    return this.grouper.dropped;
  }

  /** Messages waiting per channel. */
  depths(): Record<string, number> {
    return Object.fromEntries(this.outboxes.map((o) => [o.channel.name, o.depth]));
  }

  notify(n: Notification): boolean {
    if (this.outboxes.length === 0) return false;
    const link = n.link
      ? /^https?:\/\//.test(n.link)
        ? n.link
        : this.ctx.publicUrl
          ? `${this.ctx.publicUrl}${n.link}`
          : null
      : null;
    this.queue({
      type: 'notice',
      subject: n.subject,
      summary: n.text,
      sections: [],
      link: link ? { url: link, label: 'Open in the review console' } : null,
      footer: '',
      to: n.to,
      createdAt: this.opts.clock.now(),
    });
    return true;
  }

  /** Sends a test message on every channel now, without the queue, and says how each went. */
  async test(): Promise<ChannelCheck[]> {
    const channels = (this.opts.channels ?? makeChannels)(this.settings);
    const m = renderTest(this.ctx, this.opts.clock.now(), this.settings.host);
    const out = await Promise.all(
      channels.map(async (c): Promise<ChannelCheck> => {
        const t0 = Date.now();
        try {
          await c.send(m);
          this.opts.onResult(c.name, 'sent', m);
          return { channel: c.name, target: c.target, ok: true, ms: Date.now() - t0 };
        } catch (e) {
          this.opts.onResult(c.name, 'failed', m, (e as Error).message);
          return { channel: c.name, target: c.target, ok: false, error: (e as Error).message, ms: Date.now() - t0 };
        } finally {
          c.close();
        }
      }),
    );
    return out;
  }

  /** Gathers and queues the digest of the local day containing `at` (the schedule calls this). */
  async sendDigest(at = this.opts.clock.now()): Promise<AlertMessage | null> {
    if (!this.opts.digestSource) return null;
    const day = localDay(at, this.settings.timezone);
    const data = await this.opts.digestSource(day.start, Math.min(day.end, at + 1));
    const m = renderDigest(data, this.ctx, this.opts.clock.now());
    if (this.settings.digest?.to) m.to = this.settings.digest.to;
    this.queue(m);
    this.opts.onDigest?.(day.start);
    return m;
  }

  /**
   * Arms the digest at its next time. `missedSince`: the start of the last local day whose digest
   * was sent; when today's time has passed and today's was not sent (the daemon was down at 16:00),
   * it goes now.
   */
  scheduleDigest(lastSentDay: number | null = null): void {
    this.cancelDigest?.();
    this.cancelDigest = null;
    const d = this.settings.digest;
    if (!d || !this.opts.digestSource) return;
    const now = this.opts.clock.now();
    const today = localDay(now, this.settings.timezone);
    const todays = nextDigestAt(today.start - 1, d.at, d.days, this.settings.timezone);
    if (lastSentDay !== null && lastSentDay < today.start && todays < now && todays < today.end) {
      void this.runDigest(now);
      return;
    }
    const next = nextDigestAt(now, d.at, d.days, this.settings.timezone);
    this.cancelDigest = this.opts.clock.after(next - now, () => void this.runDigest(next));
  }

  /** Stops; returns the messages still unsent (the caller logs how many). */
  close(): number {
    this.cancelDigest?.();
    this.cancelPrune?.();
    this.grouper.stop();
    return this.outboxes.reduce((n, o) => n + o.close().length, 0);
  }

  private async runDigest(at: number): Promise<void> {
    try {
      await this.sendDigest(at);
    } catch (e) {
      this.opts.log.error({ err: (e as Error).message }, 'daily digest could not be gathered');
    }
    // The next one is armed from after this one's time, so a digest is never sent twice for a day.
    const d = this.settings.digest;
    if (!d) return;
    const now = Math.max(this.opts.clock.now(), at);
    const next = nextDigestAt(now, d.at, d.days, this.settings.timezone);
    this.cancelDigest = this.opts.clock.after(next - this.opts.clock.now(), () => void this.runDigest(next));
  }

  private schedulePrune(): void {
    this.cancelPrune = this.opts.clock.after(60_000, () => {
      this.grouper.prune();
      this.schedulePrune();
    });
  }

  private apply(settings: AlertSettings): void {
    this.settings = settings;
    this.ctx = { publicUrl: settings.publicUrl, time: timeFormat(settings.timezone) };
    this.grouper.configure(settings.grouper);
    const channels = (this.opts.channels ?? makeChannels)(settings);
    this.outboxes = channels.map((c) => new Outbox(c, this.opts.outbox ?? OUTBOX_DEFAULTS, this.opts.clock, this.opts.onResult));
  }

  private queue(m: AlertMessage): void {
    for (const o of this.outboxes) o.enqueue(m);
  }
}
