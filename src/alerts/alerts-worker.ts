/**
 * The alerting thread: runs the AlertService off the DNS thread, so building messages, talking to a
 * mail server that hangs, or gathering the digest never delays a query. Signals arrive straight
 * from the evidence writer thread on a MessagePort (the DNS thread does not see them); the main
 * thread sends settings, notifications and requests, and receives delivery results for metrics.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createLogger } from '../log.js';
import type { AlertSignal } from './alert-signal.js';
import type { AlertSettings } from './alert-settings.js';
import { AlertService, type ChannelCheck } from './alert-service.js';
import { systemClock } from './clock.js';
import type { Notification } from './notifier.js';
import type { DeliveryResult } from './outbox.js';
import { digestData } from './digest-data.js';
import { loadStorage } from '../storage/open.js';
import type { StorageLocation } from '../storage/storage.js';

export interface AlertsInit {
  settings: AlertSettings;
  logLevel: string;
  /** The store: the digest reads the day from it; delivery state is kept in it for `webfilter status`. */
  storage: StorageLocation;
}

/** Main → alerts thread. */
export type ToAlerts =
  | { type: 'configure'; settings: AlertSettings }
  /** A port the evidence writer sends `AlertSignal[]` on (a new one after a writer restart). */
  | { type: 'source'; port: MessagePort }
  | { type: 'notify'; notification: Notification }
  | { type: 'test'; id: number }
  | { type: 'close' };

/** Alerts thread → main. */
export type FromAlerts =
  | { type: 'delivery'; channel: string; result: DeliveryResult; message: string; error?: string }
  | { type: 'state'; depths: Record<string, number>; dropped: number }
  | { type: 'tested'; id: number; results: ChannelCheck[] }
  | { type: 'closed'; unsent: number };

const init = workerData as AlertsInit;
const port = parentPort!;
const log = createLogger(init.logLevel).child({ component: 'alerts' });
const send = (m: FromAlerts) => port.postMessage(m);
let source: MessagePort | null = null;
const storage = await loadStorage(init.storage, 'write');
let storeFailing = false;

/** Store calls of the alerting never stop it: a failure is logged once until one succeeds again. */
function stored(p: Promise<unknown>): void {
  p.then(
    () => (storeFailing = false),
    (e) => {
      if (!storeFailing) log.error({ error: (e as Error).message }, 'alerts: cannot record delivery state in the store');
      storeFailing = true;
    },
  );
}

const channelsOf = (s: AlertSettings) => [s.email ? 'email' : '', s.webhook ? 'webhook' : ''].filter(Boolean);

const service = new AlertService(init.settings, {
  clock: systemClock,
  log,
  onResult: (channel, result, m, error) => {
    if (result === 'sent') log.info({ channel, type: m.type, subject: m.subject }, 'alert sent');
    else
      log.warn({ channel, type: m.type, result, error }, result === 'failed' ? 'alert not sent: will retry' : 'alert abandoned');
    send({ type: 'delivery', channel, result, message: m.type, error });
    const depths = service.depths();
    send({ type: 'state', depths, dropped: service.dropped });
    stored(storage.alertState.record(channel, result, Date.now(), depths[channel] ?? 0, error));
  },
  digestSource: (start, end) => digestData(storage, start, end),
  onDigest: (day) => stored(storage.alertState.setLastDigestDay(day, Date.now())),
});

/** (Re)arms the digest, sending today's at once if its time passed while the daemon was down. */
async function armDigest(settings: AlertSettings): Promise<void> {
  try {
    await storage.alertState.reset(channelsOf(settings), Date.now());
    service.scheduleDigest(await storage.alertState.lastDigestDay());
  } catch (e) {
    log.error({ error: (e as Error).message }, 'alerts: cannot read the digest state; the digest runs from its next time');
    service.scheduleDigest(null);
  }
}
void armDigest(init.settings);

port.on('message', async (m: ToAlerts) => {
  switch (m.type) {
    case 'configure':
      service.configure(m.settings);
      await armDigest(m.settings);
      break;
    case 'source':
      source?.close();
      source = m.port;
      source.on('message', (signals: AlertSignal[]) => {
        service.signals(signals);
        send({ type: 'state', depths: service.depths(), dropped: service.dropped });
      });
      break;
    case 'notify':
      service.notify(m.notification);
      break;
    case 'test':
      send({ type: 'tested', id: m.id, results: await service.test() });
      break;
    case 'close':
      source?.close();
      send({ type: 'closed', unsent: service.close() });
      await storage.close().catch(() => {});
      port.close();
      break;
  }
});
