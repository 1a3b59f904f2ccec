/**
 * The evidence writer thread: owns the daemon's connection to the store, so no storage call (a lock
 * wait, a slow disk, a purge) can ever stall the DNS thread. Receives batches of query events, turns
 * them into rows and writes each batch in one transaction. A failed write keeps its rows and is
 * retried here; the main thread sends no new batch until this one is stored, so its bounded queue
 * takes the strain. It also relays the exceptions repository's changes to the main thread.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { alertSignals, ImmediateFilter } from '../alerts/alert-signal.js';
import { decodeEvents } from './event-codec.js';
import { DeviceNames } from './devices.js';
import { EvidenceProcessor } from './processor.js';
import type { PartHealth, Rows } from '../storage/evidence.js';
import { loadStorage } from '../storage/open.js';
import { startRequestHousekeeping } from '../requests/housekeeping.js';
import type { EvidenceShipper } from './shipper.js';
import type { FromWriter, ToWriter, WriterInit } from './writer-messages.js';
import { WriterPurge } from './writer-purge.js';
import { startShipping } from './writer-shipping.js';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
const HEARTBEAT_MS = 10_000;

const init = workerData as WriterInit;
const port = parentPort!;
const storage = await loadStorage(init.storage, 'write');
let devices = new DeviceNames(init.devices);
let processor = new EvidenceProcessor(init.processor, devices);
let held: Rows | null = null;
let retryMs = RETRY_MIN_MS;
let retryTimer: NodeJS.Timeout | null = null;
let counters = { dropped: 0, writeErrors: 0 };
let alerts: { port: MessagePort; filter: ImmediateFilter } | null = null;
let components: Record<string, PartHealth> = {};
let shipper: EvidenceShipper | null = null;

const send = (m: FromWriter) => port.postMessage(m);

let storeOk: boolean | null = null;
/** Tells the main thread when the store starts or stops taking writes (the evidence component's health). */
function storeState(ok: boolean, error = ''): void {
  if (ok === storeOk) return;
  storeOk = ok;
  send({ type: 'store', ok, error });
}
const count = (r: Rows) => r.blocked.length + r.signals.length + r.accessHourly.length + r.access.length;

/** Tries to store the held rows; on failure schedules a retry with backoff. */
async function flushHeld(): Promise<boolean> {
  if (!held) return true;
  try {
    await storage.evidence.write(held);
  } catch (e) {
    const err = e as Error & { code?: string };
    send({ type: 'write-failed', error: err.message, code: err.code ?? 'ERROR' });
    storeState(false, err.message);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void flushHeld();
    }, retryMs);
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    return false;
  }
  const rows = held;
  held = null;
  retryMs = RETRY_MIN_MS;
  storeState(true);
  send({ type: 'written', rows: count(rows) });
  shipper?.kick();
  return true;
}

function summarise(rows: Rows): { grp: string; kind: string; count: number }[] {
  const by = new Map<string, { grp: string; kind: string; count: number }>();
  for (const s of rows.signals) {
    const k = `${s.grp}\u0000${s.kind}`;
    const cur = by.get(k) ?? { grp: s.grp, kind: s.kind, count: 0 };
    cur.count += 1;
    by.set(k, cur);
  }
  return [...by.values()];
}

const purge = new WriterPurge(storage.evidence, send, (now, retention) => shipper?.beforePurge(now, retention));

async function heartbeat(): Promise<void> {
  try {
    await storage.evidence.heartbeat({
      pid: init.pid,
      version: init.version,
      startedAt: init.startedAt,
      now: Date.now(),
      ...counters,
      components,
    });
    // Rows still held mean writes fail even if this small one got through (e.g. a size cap).
    if (!held) storeState(true);
  } catch (e) {
    // Not logged here (a failing write is, with its retries): only the store's state changes.
    storeState(false, (e as Error).message);
  }
}

const beat = setInterval(() => void heartbeat(), HEARTBEAT_MS);
let unsubscribe = () => {};
let housekeeping: ReturnType<typeof startRequestHousekeeping> | null = null;

// Messages are handled one after another: a batch may wait for PTR lookups (names_from_ptr), and a
// configure, purge or close that arrives meanwhile must not overtake it.
let handling: Promise<void> = Promise.resolve();
port.on('message', (m: ToWriter) => {
  // A failure here is a bug: it ends the thread as an uncaught error did before (the recorder restarts it).
  handling = handling
    .then(() => handle(m))
    .catch((e) =>
      process.nextTick(() => {
        throw e;
      }),
    );
});

async function handle(m: ToWriter): Promise<void> {
  if (m.type === 'batch') {
    purge.batchArrived();
    counters = { dropped: m.dropped, writeErrors: m.writeErrors };
    const events =
      m.buffers.length === 1
        ? decodeEvents(m.buffers[0], m.counts[0])
        : m.buffers.flatMap((b, i) => decodeEvents(b, m.counts[i]));
    // names_from_ptr: clients with no name are looked up first, so their rows carry it. Only this
    // thread waits (bounded by the zone servers' timeouts); the DNS thread's queue takes the strain.
    await devices.lookUpNames(events.map((e) => e.client));
    const rows = processor.process(events);
    held = rows;
    // Signals are counted when found (for metrics), whether or not the store takes them now.
    if (rows.signals.length > 0) send({ type: 'signals', signals: summarise(rows) });
    // The alerting thread gets the ones that alert at once, before the write: a locked database
    // must not hold back an alert.
    if (alerts && rows.signals.length > 0) {
      const found = alertSignals(rows.signals, alerts.filter);
      if (found.length > 0) alerts.port.postMessage(found);
    }
    await flushHeld();
  } else if (m.type === 'health') {
    components = m.components;
    // At once while the store works; a failing one (e.g. locked) would hold up the writes behind it.
    if (storeOk !== false) await heartbeat();
  } else if (m.type === 'configure') {
    devices.close();
    devices = new DeviceNames(m.devices);
    processor = new EvidenceProcessor(m.processor, devices);
  } else if (m.type === 'identities') {
    try {
      await storage.identities.apply(m.changes);
    } catch (e) {
      send({ type: 'identities-failed', error: (e as Error).message });
    }
  } else if (m.type === 'alerts') {
    alerts?.port.close();
    alerts = m.port ? { port: m.port, filter: new ImmediateFilter(m.immediate) } : null;
  } else if (m.type === 'requests-announced') {
    await housekeeping?.announced(m.ids, m.at).catch((e: Error) => send({ type: 'requests-failed', error: e.message }));
  } else if (m.type === 'purge') {
    // Not awaited: the batches that arrive meanwhile are written between its steps (writer-purge.ts).
    purge.start(m.now, m.retention);
  } else if (m.type === 'close') {
    await purge.stop();
    await shipper?.close();
    clearInterval(beat);
    unsubscribe();
    housekeeping?.stop();
    if (retryTimer) clearTimeout(retryTimer);
    // One last attempt for rows still held (e.g. the database was locked until now).
    const unwritten = (await flushHeld()) ? 0 : count(held!);
    if (retryTimer) clearTimeout(retryTimer);
    await heartbeat();
    await storage.close();
    devices.close();
    alerts?.port.close();
    send({ type: 'closed', unwritten });
    port.close();
  }
}

await heartbeat();
// With `shared`, the evidence written here is shipped to PostgreSQL from this thread.
shipper = startShipping(storage, init.version, send);
// Identity mappings survive a restart: the ones that have not lapsed go back to the DNS thread.
try {
  await storage.identities.purge(Date.now());
  send({ type: 'identities', records: await storage.identities.live(Date.now()) });
} catch (e) {
  send({ type: 'identities-failed', error: (e as Error).message });
}
// The daemon's policy learns of exception changes through this thread: the main thread never waits on the store.
unsubscribe = storage.exceptions.subscribe(
  (records) => send({ type: 'exceptions', records }),
  (e) => send({ type: 'exceptions-failed', error: e.message }),
);
// Pending permission requests past their start expire here (recorded at the time they fell due);
// new ones go to the main thread, which tells the approvers through the alert channels.
housekeeping = startRequestHousekeeping(storage.requests, {
  expired: (rs) => send({ type: 'requests-expired', requests: rs.map((r) => ({ id: r.id, group: r.group })) }),
  pending: (rs) => send({ type: 'requests-pending', requests: rs }),
  failed: (e) => send({ type: 'requests-failed', error: e.message }),
});
