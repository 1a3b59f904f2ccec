/**
 * The evidence writer thread: owns the SQLite connection, so no database call (a lock wait, a slow
 * disk, a purge) can ever stall the DNS thread. Receives batches of query events, turns them into
 * rows and writes each batch in one transaction. A failed write keeps its rows and is retried here;
 * the main thread sends no new batch until this one is stored, so its bounded queue takes the strain.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeEvents } from './event-codec.js';
import { DeviceNames, type DeviceConfig } from './devices.js';
import { EvidenceProcessor, type ProcessorConfig } from './processor.js';
import type { Rows } from './rows.js';
import { currentExceptions, type ExceptionRecord } from '../exceptions/exception-store.js';
import { EvidenceStore, type Retention } from './store.js';

export interface WriterInit {
  dbPath: string;
  /** database.max_size_mb (0 = no cap). */
  maxSizeMb: number;
  processor: ProcessorConfig;
  devices: DeviceConfig;
  version: string;
  pid: number;
  startedAt: number;
}

/** Main → writer. */
export type ToWriter =
  /** `buffer` holds `count` events encoded by EventEncoder (transferred, not copied). */
  | { type: 'batch'; buffer: ArrayBuffer; count: number; dropped: number; writeErrors: number }
  | { type: 'purge'; now: number; retention: Retention }
  | { type: 'configure'; processor: ProcessorConfig; devices: DeviceConfig }
  | { type: 'close' };

/** Writer → main. */
export type FromWriter =
  | { type: 'written'; rows: number }
  | { type: 'signals'; signals: { grp: string; kind: string; count: number }[] }
  | { type: 'write-failed'; error: string; code: string }
  | { type: 'purged'; result: Record<string, number> }
  | { type: 'purge-failed'; error: string }
  | { type: 'exceptions'; records: ExceptionRecord[] }
  | { type: 'exceptions-failed'; error: string }
  | { type: 'closed'; unwritten: number };

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
const HEARTBEAT_MS = 10_000;

const init = workerData as WriterInit;
const port = parentPort!;
let devices = new DeviceNames(init.devices);
let processor = new EvidenceProcessor(init.processor, devices);
let store: EvidenceStore | null = null;
let held: Rows | null = null;
let retryMs = RETRY_MIN_MS;
let retryTimer: NodeJS.Timeout | null = null;
let counters = { dropped: 0, writeErrors: 0 };

const send = (m: FromWriter) => port.postMessage(m);
const count = (r: Rows) => r.blocked.length + r.signals.length + r.accessHourly.length + r.access.length;

function openStore(): EvidenceStore {
  store ??= EvidenceStore.open(init.dbPath, { maxSizeMb: init.maxSizeMb });
  return store;
}

/** Tries to store the held rows; on failure schedules a retry with backoff. */
function flushHeld(): boolean {
  if (!held) return true;
  try {
    openStore().write(held);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (store && /SQLITE_CORRUPT|SQLITE_NOTADB/.test(err.code ?? '')) {
      store.close();
      store = null;
    }
    send({ type: 'write-failed', error: err.message, code: err.code ?? 'ERROR' });
    retryTimer = setTimeout(() => {
      retryTimer = null;
      flushHeld();
    }, retryMs);
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    return false;
  }
  const rows = held;
  held = null;
  retryMs = RETRY_MIN_MS;
  send({ type: 'written', rows: count(rows) });
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

function heartbeat(): void {
  try {
    openStore().heartbeat({ pid: init.pid, version: init.version, startedAt: init.startedAt, now: Date.now(), ...counters });
  } catch {
    // The next write reports the problem; a heartbeat is not worth a second report.
  }
}

const beat = setInterval(heartbeat, HEARTBEAT_MS);

/**
 * Exceptions are written by the CLI through its own connection; PRAGMA data_version changes when
 * another connection commits, so polling it finds a change within EXCEPTIONS_POLL_MS.
 */
const EXCEPTIONS_POLL_MS = 250;
let dataVersion = -1;
let exceptionsFailing = false;
function pollExceptions(): void {
  try {
    const db = openStore().db;
    const v = db.pragma('data_version', { simple: true }) as number;
    if (v === dataVersion) return;
    const records = currentExceptions(db, Date.now());
    dataVersion = v;
    exceptionsFailing = false;
    send({ type: 'exceptions', records });
  } catch (e) {
    if (!exceptionsFailing) send({ type: 'exceptions-failed', error: (e as Error).message });
    exceptionsFailing = true;
  }
}
const poll = setInterval(pollExceptions, EXCEPTIONS_POLL_MS);

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
    counters = { dropped: m.dropped, writeErrors: m.writeErrors };
    const events = decodeEvents(m.buffer, m.count);
    // names_from_ptr: clients with no name are looked up first, so their rows carry it. Only this
    // thread waits (bounded by the zone servers' timeouts); the DNS thread's queue takes the strain.
    await devices.prepare(events.map((e) => e.client));
    held = processor.process(events);
    // Signals are counted when found (for metrics), whether or not the database takes them now.
    if (held.signals.length > 0) send({ type: 'signals', signals: summarise(held) });
    flushHeld();
  } else if (m.type === 'configure') {
    devices.close();
    devices = new DeviceNames(m.devices);
    processor = new EvidenceProcessor(m.processor, devices);
  } else if (m.type === 'purge') {
    try {
      send({ type: 'purged', result: { ...openStore().purge(m.now, m.retention) } });
    } catch (e) {
      send({ type: 'purge-failed', error: (e as Error).message });
    }
  } else if (m.type === 'close') {
    clearInterval(beat);
    clearInterval(poll);
    if (retryTimer) clearTimeout(retryTimer);
    // One last attempt for rows still held (e.g. the database was locked until now).
    const unwritten = flushHeld() ? 0 : count(held!);
    if (retryTimer) clearTimeout(retryTimer);
    heartbeat();
    store?.close();
    devices.close();
    send({ type: 'closed', unwritten });
    port.close();
  }
}

heartbeat();
pollExceptions();
