/**
 * Ships this box's evidence to the shared store, on the evidence writer thread (never the DNS
 * thread): after batches are written and on a timer, the rows changed after each table's cursor go
 * to PostgreSQL in batches, one transaction each, and the cursor moves only once PostgreSQL has
 * committed. While the shared store is unreachable nothing is dropped: the rows wait in SQLite
 * (bounded by retention and the disk cap) and go when it answers again.
 */
import type { Retention } from '../storage/evidence.js';
import { SHIP_TABLES, shippingBacklog, type CentralRetentionResult, type ShippingStores } from '../storage/shipping.js';

const DAY_MS = 86_400_000;
/** The central retention is asked for at most this often by one filter (and runs once an hour trust-wide). */
const RETENTION_EVERY_MS = 3_600_000;
/** A run stops after this long (it goes on at the next), so two runs never overlap. */
const RETENTION_BUDGET_MS = 30 * 60_000;

/** How shipping stands (for metrics, `webfilter status` and the log). */
export interface ShippingState {
  backlogRows: number;
  lagSeconds: number;
  /** Rows shipped since the thread started. */
  shippedRows: number;
  /** Why the last attempt failed, null while shipping works. */
  error: string | null;
}

export interface ShipperOptions {
  stores: ShippingStores;
  version: string;
  /** Rows per PostgreSQL transaction. */
  batchRows: number;
  /** A pass at least this often (and a retry after a failure). */
  intervalMs: number;
  /**
   * Passes start at most this often: rows written meanwhile go together, and a collapsed row
   * counted again and again between two passes is shipped once (default 0: no pause; the daemon's is 1 s).
   */
  minGapMs?: number;
  /** How often this filter's backlog is recorded in the shared store (its `nodes` row). */
  reportMs: number;
  onState(s: ShippingState): void;
  /** Unshipped rows a retention purge is about to delete (logged: they never reach the centre). */
  onLost(rows: number): void;
  /** What a run of the central retention did, or why it failed (a run this filter made). */
  onRetention?(r: CentralRetentionResult | { error: string }): void;
  now?: () => number;
}

export class EvidenceShipper {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private failing: string | null = null;
  private shipped = 0;
  private lastReport = 0;
  private lastStart = -Infinity;
  private pending: NodeJS.Timeout | null = null;
  private retaining: Promise<void> | null = null;
  private lastRetention = -Infinity;
  private readonly now: () => number;

  constructor(private readonly o: ShipperOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => this.kick(true), this.o.intervalMs);
    this.kick(true);
  }

  /**
   * Asks for a pass (after a batch was written): one runs now, or again after the one under way.
   * While the shared store fails only the timer retries (`timer`), so a dead server is not asked
   * after every batch.
   */
  kick(timer = false): void {
    if (this.closed || (this.failing !== null && !timer)) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = this.lastStart + (this.o.minGapMs ?? 0) - this.now();
    if (wait > 0) {
      this.pending ??= setTimeout(() => {
        this.pending = null;
        this.kick(timer);
      }, wait);
      return;
    }
    this.run();
  }

  private run(): void {
    this.lastStart = this.now();
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** A pass now (after the one under way), resolved when it is done (and a retention run it began): for tools and tests. */
  async flush(): Promise<void> {
    await this.running;
    if (this.closed) return;
    this.run();
    await this.running;
    await this.retaining;
  }

  /** Counts (and reports) the rows not shipped yet that a purge at `now` with `retention` deletes. */
  beforePurge(now: number, retention: Retention): void {
    const n = this.o.stores.outbox.unshippedBefore(this.o.stores.cursors.values(), {
      blocked: now - retention.blocked_days * DAY_MS,
      signals: now - retention.signals_days * DAY_MS,
      access: now - retention.access_days * DAY_MS,
    });
    if (n > 0) this.o.onLost(n);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    await this.running;
    await this.retaining;
  }

  /**
   * After a pass that reached the shared store: the central retention, at most hourly, beside the
   * shipping (a first run over a year of rows may take minutes; the rows keep shipping meanwhile).
   */
  private retain(): void {
    const r = this.o.stores.retention;
    if (!r || this.retaining || this.closed || this.now() - this.lastRetention < RETENTION_EVERY_MS) return;
    const started = (this.lastRetention = this.now());
    this.retaining = r
      .runIfDue(started, () => this.closed || this.now() - started > RETENTION_BUDGET_MS)
      .then(
        (res) => {
          if (res) this.o.onRetention?.(res);
        },
        (e: Error) => {
          this.o.onRetention?.({ error: e.message });
        },
      )
      .finally(() => (this.retaining = null));
  }

  private async pass(): Promise<void> {
    const { stores, batchRows } = this.o;
    try {
      const cursors = stores.cursors.values();
      for (const table of SHIP_TABLES) {
        for (;;) {
          if (this.closed) return;
          const batch = stores.outbox.after(table, cursors[table], batchRows);
          if (batch.rows.length === 0) break;
          await stores.inbox.upsert(batch);
          stores.cursors.advance(table, batch.last);
          cursors[table] = batch.last;
          this.shipped += batch.rows.length;
          if (batch.rows.length < batchRows) break;
        }
      }
      this.failing = null;
      this.retain();
    } catch (e) {
      this.failing = (e as Error).message;
    }
    const state = this.state();
    this.o.onState(state);
    if (this.failing === null && this.now() - this.lastReport >= this.o.reportMs) {
      this.lastReport = this.now();
      await stores.inbox
        .report({ backlogRows: state.backlogRows, lagSeconds: state.lagSeconds, version: this.o.version })
        .catch(() => {});
    }
  }

  private state(): ShippingState {
    let backlog = { rows: 0, lagSeconds: 0 };
    try {
      backlog = shippingBacklog(this.o.stores, this.now());
    } catch (e) {
      this.failing ??= (e as Error).message;
    }
    return { backlogRows: backlog.rows, lagSeconds: backlog.lagSeconds, shippedRows: this.shipped, error: this.failing };
  }
}
