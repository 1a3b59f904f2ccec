import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError, type LoadedConfig } from '../config/load.js';
import { AlertMetrics } from './alert-metrics.js';
import { workerUrl } from '../worker-url.js';
import { storageLocation } from '../storage/open.js';
import type { StorageLocation } from '../storage/storage.js';
import { AlertSettingsError, readAlertSettings, type AlertSettings } from './alert-settings.js';
import type { ChannelCheck } from './alert-service.js';
import type { AlertsInit, FromAlerts, ToAlerts } from './alerts-worker.js';
import type { Notification, Notifier } from './notifier.js';

/**
 * The alerting's front on the main thread: starts the alerting thread when `alerts:` is configured
 * (and stops it when a reload removes it), hands the evidence writer a port to send it signals on,
 * passes settings and notifications, and counts deliveries in the metrics. It does no alerting work
 * itself: the DNS thread only relays a few small messages.
 */
export class AlertsHost implements Notifier {
  private worker: Worker | null = null;
  private settings: AlertSettings | null = null;
  private storage: StorageLocation | null = null;
  private readonly metrics: AlertMetrics;
  private closing = false;
  private tests = new Map<number, (r: ChannelCheck[]) => void>();
  private nextTest = 1;
  /**
   * Called when the evidence writer needs a new port (`newSourcePort`): the alerting thread started,
   * restarted or stopped, or the immediate kinds changed.
   */
  onChange: () => void = () => {};

  constructor(
    private readonly log: Logger,
    registry: Registry,
    private logLevel = 'info',
  ) {
    this.metrics = new AlertMetrics(registry);
  }

  /** The immediate kinds and severities the writer should hand over, or null when alerts are off. */
  get immediate(): string[] | null {
    return this.settings ? this.settings.immediate : null;
  }

  /**
   * Reads the settings (url_files included) and starts or reconfigures the thread. At start a bad
   * url_file is an error (thrown); on reload the running settings are kept and the problem logged.
   */
  async configure(loaded: LoadedConfig, opts: { atStart: boolean }): Promise<void> {
    let settings: AlertSettings | null;
    try {
      settings = await readAlertSettings(loaded);
    } catch (e) {
      if (!(e instanceof AlertSettingsError)) throw e;
      if (opts.atStart) throw new ConfigError(loaded.file, [e.message]);
      this.log.error({ error: (e as Error).message }, 'alerts: keeping the previous settings');
      return;
    }
    this.logLevel = loaded.config.log.level;
    this.storage = storageLocation(loaded);
    const was = this.settings;
    this.settings = settings;
    if (!settings) {
      if (this.worker) {
        await this.stopWorker();
        this.onChange();
        this.log.info('alerts turned off');
      }
      return;
    }
    this.metrics.initChannels([settings.email ? 'email' : '', settings.webhook ? 'webhook' : ''].filter(Boolean));
    if (!this.worker) return this.startWorker(settings);
    this.post({ type: 'configure', settings });
    if (JSON.stringify(was?.immediate) !== JSON.stringify(settings.immediate)) this.onChange();
    this.log.info({ channels: channelsOf(settings) }, 'alerts reconfigured');
  }

  /** A new port for the evidence writer (the old one, if any, stops being read). Null when alerts are off. */
  newSourcePort(): MessagePort | null {
    if (!this.worker) return null;
    const { port1, port2 } = new MessageChannel();
    this.post({ type: 'source', port: port2 }, [port2]);
    return port1;
  }

  notify(n: Notification): boolean {
    if (!this.worker) return false;
    this.post({ type: 'notify', notification: n });
    return true;
  }

  /** Sends a test message on every configured channel through the running thread. */
  test(): Promise<ChannelCheck[]> {
    if (!this.worker) return Promise.resolve([]);
    const id = this.nextTest++;
    return new Promise((resolve) => {
      this.tests.set(id, resolve);
      this.post({ type: 'test', id });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.stopWorker();
  }

  private startWorker(settings: AlertSettings): void {
    const init: AlertsInit = { settings, logLevel: this.logLevel, storage: this.storage! };
    const worker = new Worker(workerUrl(import.meta.url, './alerts-worker.js'), {
      workerData: init,
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    this.worker = worker;
    worker.on('message', (m: FromAlerts) => this.onMessage(m));
    worker.on('error', (e) => this.log.error({ err: e }, 'alerting thread crashed'));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (this.closing || !this.settings) return;
      this.log.error({ code }, 'alerting thread stopped: restarting it');
      setTimeout(() => {
        if (this.closing || !this.settings || this.worker) return;
        this.startWorker(this.settings);
      }, 1000).unref();
    });
    this.log.info(
      { channels: channelsOf(settings), immediate: settings.immediate, digest: settings.digest?.at ?? null },
      'alerts on',
    );
    this.onChange();
  }

  private async stopWorker(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    const unsent = await new Promise<number>((resolve) => {
      const t = setTimeout(() => resolve(-1), 1000);
      const onMsg = (m: FromAlerts) => {
        if (m.type !== 'closed') return;
        clearTimeout(t);
        resolve(m.unsent);
      };
      w.on('message', onMsg);
      w.postMessage({ type: 'close' } satisfies ToAlerts);
    });
    await w.terminate();
    if (unsent > 0)
      this.log.warn({ unsent }, 'alerts: messages still undelivered at stop (their signals are in the evidence store)');
  }

  private post(m: ToAlerts, transfer: MessagePort[] = []): void {
    this.worker?.postMessage(m, transfer);
  }

  private onMessage(m: FromAlerts): void {
    switch (m.type) {
      case 'delivery':
        this.metrics.count(m.channel, m.result);
        break;
      case 'state':
        this.metrics.state(m.depths, m.dropped);
        break;
      case 'tested':
        this.tests.get(m.id)?.(m.results);
        this.tests.delete(m.id);
        break;
      case 'closed':
        break;
    }
  }
}

function channelsOf(s: AlertSettings): string[] {
  return [s.email ? 'email' : '', s.webhook ? `webhook (${s.webhook.format})` : ''].filter(Boolean);
}
