import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { workerUrl } from '../worker-url.js';
import type { AccountingRecord, GroupAttribute } from './accounting.js';
import {
  RADIUS_OUTCOMES,
  type FromRadius,
  type NasClient,
  type RadiusCounts,
  type RadiusInit,
  type ToRadius,
} from './radius-protocol.js';

/**
 * The RADIUS accounting listener as the daemon sees it: a worker thread (radius-worker.ts) that
 * sends batches of verified accounting records, and its packet counts for the metrics.
 */
export class RadiusHost {
  /** Packets by outcome, as last reported by the worker. */
  counts: RadiusCounts = Object.fromEntries(RADIUS_OUTCOMES.map((o) => [o, 0])) as RadiusCounts;

  private constructor(
    private readonly worker: Worker,
    /** Bound addresses, e.g. "127.0.0.1:1813". */
    readonly addresses: string[],
  ) {}

  /** Starts the worker and resolves once every address is bound; rejects with the bind error. */
  static start(init: RadiusInit, onRecords: (records: AccountingRecord[]) => void, log: Logger): Promise<RadiusHost> {
    const worker = new Worker(workerUrl(import.meta.url, './radius-worker.js'), { workerData: init });
    return new Promise((resolve, reject) => {
      let host: RadiusHost | null = null;
      worker.on('message', (m: FromRadius) => {
        if (m.type === 'listening') {
          host = new RadiusHost(worker, m.addresses);
          resolve(host);
        } else if (m.type === 'failed') {
          void worker.terminate();
          reject(new Error(`identity.radius_accounting.listen: ${m.error}`));
        } else if (m.type === 'records' && host) {
          host.counts = m.counts;
          try {
            onRecords(m.records);
          } catch (e) {
            log.error({ err: e }, 'identity: could not apply RADIUS accounting');
          }
        } else if (m.type === 'counts' && host) {
          host.counts = m.counts;
        } else if (m.type === 'error') {
          log.error({ error: m.error }, 'RADIUS packet handling failed (packet dropped)');
        }
      });
      worker.once('error', (e) => {
        if (host) log.error({ err: e }, 'RADIUS accounting listener crashed');
        else reject(e);
      });
    });
  }

  /** New NAS secrets or group attribute after a reload (listen addresses need a restart). */
  configure(clients: NasClient[], groupAttribute: GroupAttribute): void {
    this.worker.postMessage({ type: 'configure', clients, groupAttribute } satisfies ToRadius);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      this.worker.on('message', (m: FromRadius) => {
        if (m.type === 'closed') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    this.worker.postMessage({ type: 'close' } satisfies ToRadius);
    await closed;
    await this.worker.terminate();
  }
}
