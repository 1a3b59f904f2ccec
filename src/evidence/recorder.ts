import { Worker, type MessagePort } from 'node:worker_threads';
import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { QueryLog } from '../observe/query-event.js';
import type { Answer, QueryContext } from '../pipeline/types.js';
import type { PartHealth, Retention } from '../storage/evidence.js';
import type { FromWriter, ToWriter, WriterInit } from './writer-messages.js';
import type { PermissionRequest } from '../storage/requests.js';
import type { ExceptionRecord, ExceptionsListener, ExceptionsRepository } from '../storage/exceptions.js';
import type { IdentityRecord, IdentityWrite } from '../storage/identities.js';
import { workerUrl } from '../worker-url.js';
import { EventEncoder } from './event-codec.js';
import type { ShippingState } from './shipper.js';

export interface RecorderOptions {
  init: WriterInit;
  queueSize: number;
  batchRows: number;
  flushMs: number;
  retention: Retention & { schedule: string };
  log: Logger;
  /** Called with each batch's signals (by group and kind), for metrics. */
  onSignals: (signals: { grp: string; kind: string; count: number }[]) => void;
  /** Called when the store starts or stops taking writes (with the error), for the component health. */
  onStoreState: (ok: boolean, error: string) => void;
  /**
   * With `shared`: after each shipping pass, null when the shared store took the rows, else why
   * not (the daemon shows it as the `shared` part: status degraded, DNS unaffected).
   */
  onSharedState?: (error: string | null) => void;
}

/** Identity changes held until the writer thread starts. */
const MAX_PENDING_IDENTITIES = 100_000;

/** The writer thread's old-generation limit (see start()). */
const WRITER_OLD_GENERATION_MB = 512;

/** At most this many waiting batches go to the writer as one (one transaction). */
const COALESCE_BATCHES = 8;

/** How often a growing drop count is logged. */
const DROP_LOG_MS = 10_000;

/**
 * The evidence store's front on the DNS thread: the QueryLog the server edge hands answered queries
 * to. It encodes them into a bounded queue of byte batches and hands those to the writer thread, one
 * batch at a time (batches from worker processes join the same queue: `addBatch`). When the writer is
 * stuck (database locked, disk full) the queue fills and further events are dropped and counted:
 * DNS answers never wait for the database. Also runs the daily retention purge (node-cron).
 */
export class EvidenceRecorder implements QueryLog {
  /** Encoded batches ready for the writer, oldest first, then the one being filled. */
  private ready: { buffer: ArrayBuffer; count: number }[] = [];
  private filling = new EventEncoder();
  private queued = 0;
  private worker: Worker | undefined;
  private busy = false;
  /** Events in the batch handed to the writer and not yet acknowledged (0 when not busy). */
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private closing: ((unwritten: number) => void) | null = null;
  private purgeTask: ScheduledTask;
  private lastDropLog = 0;
  private health: Record<string, PartHealth> = {};
  private loggedDropped = 0;
  /** Events dropped because the queue was full. */
  dropped = 0;
  /** Failed write attempts (each is retried). */
  writeErrors = 0;
  /** Rows stored so far. */
  written = 0;
  /** With `shared`: the evidence not shipped yet and how old its oldest change is (0 until known). */
  shipping: Pick<ShippingState, 'backlogRows' | 'lagSeconds'> = { backlogRows: 0, lagSeconds: 0 };
  private shippingError: string | null = null;
  /** Called once the writer has read the identity mappings kept from before a restart. */
  onIdentities: (records: IdentityRecord[]) => void = () => {};
  /**
   * Tells the approvers of pending permission requests (through the alert channels); true when it
   * was sent, false when it could not be (no channel): the writer hands them over again later.
   */
  onPendingRequests: (requests: PermissionRequest[]) => boolean = () => false;
  /** Identity changes made before the writer thread started, sent when it does. */
  private pendingIdentities: IdentityWrite[] = [];
  /**
   * The exceptions repository's change subscription, as the DNS thread gets it: the writer thread
   * subscribes to the store and relays each change here, so the main thread never reads the store.
   */
  readonly exceptions: Pick<ExceptionsRepository, 'subscribe'> = {
    subscribe: (listener, onError) => {
      const l = { listener, onError };
      this.exceptionListeners.add(l);
      if (this.lastExceptions) listener(this.lastExceptions);
      return () => this.exceptionListeners.delete(l);
    },
  };
  private readonly exceptionListeners = new Set<{ listener: ExceptionsListener; onError?: (e: Error) => void }>();
  private lastExceptions: ExceptionRecord[] | null = null;
  /**
   * A new port to the alerting thread and the kinds that alert at once, asked for each time the
   * writer starts (and by `refreshAlerts`); null while alerts are off.
   */
  alertSource: () => { port: MessagePort; immediate: string[] } | null = () => null;

  /**
   * Queues from now on; the writer thread (and so the database) starts with `open()`, which the
   * daemon calls once privileges are dropped, so the database is opened as the service user.
   */
  constructor(private opts: RecorderOptions) {
    this.purgeTask = schedule(opts.retention.schedule, () => this.purge(Date.now()), {
      name: 'webfilter-retention',
      noOverlap: true,
    });
  }

  /** Events waiting to be handed to the writer. */
  get depth(): number {
    return this.queued;
  }

  record(at: number, duration: number, ctx: QueryContext, a: Answer, rcode: number): void {
    // Refused clients and errors are counted by the metrics; the store keeps what was answered.
    if (a.kind === 'refused' || a.kind === 'error' || this.closing) return;
    if (this.queued >= this.opts.queueSize) {
      this.dropped++;
      this.logDrops();
      return;
    }
    this.filling.addAnswer(at, duration, ctx, a, rcode);
    this.queued++;
    if (this.filling.count >= this.opts.batchRows) {
      this.ready.push(this.filling.take());
      this.pump();
    } else if (!this.timer && !this.busy) this.timer = setTimeout(() => this.pump(), this.opts.flushMs);
  }

  /**
   * Queues a batch encoded elsewhere (a worker process's), whole, or drops and counts it when the
   * queue has no room for it.
   */
  addBatch(batch: { buffer: ArrayBuffer; count: number }): void {
    if (this.closing || batch.count === 0) return;
    if (this.queued + batch.count > this.opts.queueSize) {
      this.dropped += batch.count;
      this.logDrops();
      return;
    }
    this.ready.push(batch);
    this.queued += batch.count;
    if (this.depth >= this.opts.batchRows) this.pump();
    else if (!this.timer && !this.busy) this.timer = setTimeout(() => this.pump(), this.opts.flushMs);
  }

  /**
   * Applies reloaded settings: detector thresholds, access logging, device names and retention.
   * (A new database path needs a restart: the log says so.)
   */
  reconfigure(init: WriterInit, retention: Retention & { schedule: string }): void {
    if (init.storage.evidencePath !== this.opts.init.storage.evidencePath) {
      this.opts.log.warn({ path: init.storage.evidencePath }, 'database.path changed: restart the daemon to apply it');
    }
    this.opts.init = { ...init, storage: this.opts.init.storage };
    this.post({ type: 'configure', processor: init.processor, devices: init.devices });
    if (retention.schedule !== this.opts.retention.schedule) {
      void this.purgeTask.destroy();
      this.purgeTask = schedule(retention.schedule, () => this.purge(Date.now()), {
        name: 'webfilter-retention',
        noOverlap: true,
      });
    }
    this.opts.retention = retention;
  }

  /**
   * Keeps a copy of identity changes in the store (through the writer thread). Before the thread
   * starts they wait, bounded: the live map is the daemon's, and RADIUS refreshes what is lost.
   */
  saveIdentities(changes: IdentityWrite[]): void {
    if (this.worker) return this.post({ type: 'identities', changes });
    if (this.pendingIdentities.length + changes.length <= MAX_PENDING_IDENTITIES) this.pendingIdentities.push(...changes);
  }

  /** Hands the optional parts' health to the writer, which keeps it with the heartbeat (for `webfilter status`). */
  reportHealth(components: Record<string, PartHealth>): void {
    this.health = components;
    this.post({ type: 'health', components });
  }

  /** Asks the writer to purge rows past their retention now (the cron job does this daily). */
  purge(now: number): void {
    this.post({ type: 'purge', now, retention: this.opts.retention });
  }

  /**
   * Hands over everything queued, waits for it to be written (until `deadline`, epoch ms), and stops
   * the writer. Resolves with how many events or rows could not be stored.
   */
  async close(deadline: number): Promise<number> {
    void this.purgeTask.destroy();
    while (this.depth > 0 || this.busy) {
      if (Date.now() >= deadline) break;
      this.pump();
      await new Promise((r) => setTimeout(r, 5));
    }
    const left = this.depth;
    if (!this.worker) return left + this.inFlight;
    const unwritten = await new Promise<number>((resolve) => {
      const t = setTimeout(() => resolve(-1), Math.max(100, deadline - Date.now()));
      this.closing = (n) => {
        clearTimeout(t);
        resolve(n);
      };
      this.post({ type: 'close' });
    });
    // Timed out (-1): the writer is stopped with the batch it was handed still unacknowledged, so
    // those events count as unwritten too (they may have been committed; never say fewer were lost).
    const lost = unwritten < 0 ? this.inFlight : unwritten;
    await this.worker.terminate();
    this.logDrops(true);
    return left + lost;
  }

  /** Hands the writer a new port to the alerting thread (alerts turned on, off, or changed). */
  refreshAlerts(): void {
    if (!this.worker || this.closing) return;
    const a = this.alertSource();
    this.post({ type: 'alerts', port: a?.port ?? null, immediate: a?.immediate ?? [] }, a ? [a.port] : []);
  }

  /** Starts the writer thread; events queued before are written first. */
  open(): void {
    if (!this.worker) this.start();
    this.pump();
  }

  private start(): void {
    // A small young generation: the writer's garbage is per batch, and each MB here is resident.
    // An old-generation limit, far above what the writer holds (its id and open-row maps are bounded):
    // with none, V8 sizes a worker's heap from the machine's memory, and a busy writer's promoted
    // garbage grew its heap to 80 MB (15 MB live) before a full collection; with this limit V8
    // collects sooner and the heap stayed under 45 MB (bench/PROFILE.md, "Issue 21": peak RSS).
    this.worker = new Worker(workerUrl(import.meta.url, './writer-worker.js'), {
      workerData: this.opts.init,
      resourceLimits: { maxYoungGenerationSizeMb: 6, maxOldGenerationSizeMb: WRITER_OLD_GENERATION_MB },
    });
    this.worker.on('message', (m: FromWriter) => this.onMessage(m));
    if (this.pendingIdentities.length > 0) this.post({ type: 'identities', changes: this.pendingIdentities });
    this.pendingIdentities = [];
    this.refreshAlerts();
    this.post({ type: 'health', components: this.health });
    this.worker.on('error', (e) => this.opts.log.error({ err: e }, 'evidence writer crashed'));
    this.worker.on('exit', (code) => {
      if (this.closing) return;
      this.opts.log.error({ code }, 'evidence writer stopped: restarting it');
      this.opts.onStoreState(false, `the evidence writer's thread stopped (exit code ${code}): restarting it`);
      this.busy = false;
      this.inFlight = 0;
      setTimeout(() => this.start(), 1000).unref();
    });
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.busy || this.depth === 0 || !this.worker) return;
    // Behind (whole batches waiting): up to COALESCE_BATCHES of them go together and are written in
    // one transaction, so its fixed costs (the commit, the roll-ups' and device totals' upserts, one
    // per device of each batch) are paid once for them (bench/README.md, issue 25's writer rate).
    const batches = [this.ready.shift() ?? this.filling.take()];
    while (batches.length < COALESCE_BATCHES && this.ready.length > 0) batches.push(this.ready.shift()!);
    const count = batches.reduce((n, b) => n + b.count, 0);
    this.queued -= count;
    this.busy = true;
    this.inFlight = count;
    const buffers = batches.map((b) => b.buffer);
    const counts = batches.map((b) => b.count);
    this.post({ type: 'batch', buffers, counts, dropped: this.dropped, writeErrors: this.writeErrors }, buffers);
  }

  private post(m: ToWriter, transfer: (ArrayBuffer | MessagePort)[] = []): void {
    this.worker?.postMessage(m, transfer);
  }

  private onMessage(m: FromWriter): void {
    switch (m.type) {
      case 'written':
        this.busy = false;
        this.inFlight = 0;
        this.written += m.rows;
        if (this.depth > 0) {
          if (this.depth >= this.opts.batchRows || this.closing) this.pump();
          else if (!this.timer) this.timer = setTimeout(() => this.pump(), this.opts.flushMs);
        }
        break;
      case 'signals':
        this.opts.onSignals(m.signals);
        break;
      case 'store':
        this.opts.onStoreState(m.ok, m.error);
        break;
      case 'exceptions':
        this.lastExceptions = m.records;
        for (const l of this.exceptionListeners) l.listener(m.records);
        break;
      case 'identities':
        this.onIdentities(m.records);
        break;
      case 'identities-failed':
        this.opts.log.error({ error: m.error }, 'identity mappings: the store failed (the live ones are kept in memory)');
        break;
      case 'exceptions-failed':
        for (const l of this.exceptionListeners) l.onError?.(new Error(m.error));
        break;
      case 'requests-expired':
        for (const r of m.requests)
          this.opts.log.info({ request: r.id, group: r.group }, 'permission request expired unapproved');
        break;
      case 'requests-pending':
        // Told through the alert channels when they are configured; else handed again later.
        if (this.onPendingRequests(m.requests)) {
          this.post({ type: 'requests-announced', ids: m.requests.map((r) => r.id), at: Date.now() });
          this.opts.log.info({ requests: m.requests.map((r) => r.id) }, 'approvers told of pending permission requests');
        }
        break;
      case 'requests-failed':
        this.opts.log.error({ error: m.error }, 'cannot check pending permission requests: trying again');
        break;
      case 'write-failed':
        this.writeErrors++;
        // Once per failure streak is enough in the log; the count keeps growing.
        if (this.writeErrors === 1 || this.writeErrors % 50 === 0) {
          this.opts.log.error(
            { error: m.error, code: m.code, failures: this.writeErrors },
            'evidence store write failed: retrying',
          );
        }
        break;
      case 'shipping':
        this.shipping = { backlogRows: m.state.backlogRows, lagSeconds: m.state.lagSeconds };
        // Once per failure streak, and once when it works again.
        if (m.state.error !== null && this.shippingError === null)
          this.opts.log.warn(
            { error: m.state.error, backlog: m.state.backlogRows },
            'shipping evidence to the shared store failed: the rows wait here and go when it answers',
          );
        else if (m.state.error === null && this.shippingError !== null)
          this.opts.log.info({ backlog: m.state.backlogRows }, 'shipping evidence to the shared store works again');
        this.shippingError = m.state.error;
        this.opts.onSharedState?.(m.state.error);
        break;
      case 'shipping-lost':
        this.opts.log.error(
          { rows: m.rows },
          'retention purge deletes evidence rows that never reached the shared store (it was unreachable for longer than the retention)',
        );
        break;
      case 'central-retention':
        if ('error' in m.result)
          this.opts.log.error({ error: m.result.error }, 'shared store retention failed: tried again in an hour');
        else
          this.opts.log.info(
            { dropped: m.result.droppedPartitions, deleted: m.result.deletedRows },
            'shared store retention done',
          );
        break;
      case 'purged':
        this.opts.log.info({ deleted: m.result }, 'retention purge done');
        break;
      case 'purge-failed':
        this.opts.log.error({ error: m.error }, 'retention purge failed');
        break;
      case 'closed':
        this.closing?.(m.unwritten);
        break;
    }
  }

  private logDrops(force = false): void {
    const now = Date.now();
    if (this.dropped === this.loggedDropped || (!force && now - this.lastDropLog < DROP_LOG_MS)) return;
    this.opts.log.warn(
      { dropped: this.dropped, since_last: this.dropped - this.loggedDropped },
      'evidence queue full: events dropped',
    );
    this.loggedDropped = this.dropped;
    this.lastDropLog = now;
  }
}
