import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Notifier } from '../alerts/notifier.js';
import { parseHostPort } from '../config/host-port.js';
import type { LoadedConfig } from '../config/load.js';
import type { ConsoleInit, FromConsole, ToConsole } from './console-worker.js';
import { storageLocation } from '../storage/open.js';
import { workerUrl } from '../worker-url.js';

/** The review console as the daemon sees it: a worker thread serving `console.listen`. */
export class ConsoleHost {
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    /** Where it listens, e.g. "127.0.0.1:8080". */
    readonly address: string,
    readonly https: boolean,
  ) {}

  /**
   * Starts the console's thread and waits until it listens (its TLS files already read: see
   * tls-files.ts). Rejects with a message naming the config key when it cannot start.
   * `notifier`: where the pages' notifications go (the daemon's alert channels).
   */
  static start(
    loaded: LoadedConfig,
    tls: { cert: Buffer; key: Buffer } | null,
    log: Logger,
    notifier?: Notifier,
  ): Promise<ConsoleHost> {
    const init: ConsoleInit = {
      listen: parseHostPort(loaded.config.console.listen, null),
      tls,
      storage: storageLocation(loaded),
      loaded,
      logLevel: loaded.config.log.level,
    };
    const worker = new Worker(workerUrl(import.meta.url, './console-worker.js'), { workerData: init });
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromConsole) => {
        if (m.type === 'listening') {
          worker.off('message', onMessage);
          worker.off('error', reject);
          worker.on('error', (e) => log.error({ err: e }, 'review console crashed'));
          worker.on('message', (n: FromConsole) => {
            if (n.type === 'notify' && !notifier?.notify(n.notification))
              log.info({ subject: n.notification.subject }, 'notification not sent: no alert channel is configured');
          });
          resolve(new ConsoleHost(worker, m.address, tls !== null));
        } else if (m.type === 'failed') {
          void worker.terminate();
          reject(new Error(m.error));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  /** Calls `failed` if the console's thread ends by itself (a crash), not when it is closed. */
  watch(failed: (e: Error) => void): void {
    this.worker.once('exit', (code) => {
      if (!this.closing) failed(new Error(`the console's thread stopped (exit code ${code})`));
    });
  }

  /** Hands a reloaded config to the console (groups, categories, exception rules, session limits). */
  reconfigure(loaded: LoadedConfig): void {
    this.worker.postMessage({ type: 'config', loaded } satisfies ToConsole);
  }

  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      this.worker.on('message', (m: FromConsole) => {
        if (m.type === 'closed') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    this.worker.postMessage({ type: 'close' } satisfies ToConsole);
    await closed;
    await this.worker.terminate();
  }
}
