import type { Observer, QueryEvent } from './query-event.js';

/**
 * A bounded ring of query events between the request path and the observers (logging, metrics,
 * evidence store). Publishing is O(1) and never blocks: when the ring is full the event is dropped
 * and counted. Observers get batches on a later turn of the event loop, never during a query.
 */
export class EventBus {
  private readonly ring: (QueryEvent | undefined)[];
  private head = 0;
  private length = 0;
  private scheduled = false;
  private readonly observers: Observer[] = [];
  /** Events dropped because the ring was full. */
  dropped = 0;

  constructor(readonly capacity = 65_536) {
    this.ring = new Array(capacity);
  }

  subscribe(o: Observer): void {
    this.observers.push(o);
  }

  /** Events waiting for delivery. */
  get depth(): number {
    return this.length;
  }

  publish(ev: QueryEvent): void {
    if (this.length === this.capacity) {
      this.dropped++;
      return;
    }
    this.ring[(this.head + this.length) % this.capacity] = ev;
    this.length++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Delivers everything queued now (also called at shutdown). */
  flush(): void {
    this.scheduled = false;
    if (this.length === 0) return;
    const batch: QueryEvent[] = new Array(this.length);
    for (let i = 0; i < batch.length; i++) {
      const idx = (this.head + i) % this.capacity;
      batch[i] = this.ring[idx]!;
      this.ring[idx] = undefined;
    }
    this.head = (this.head + batch.length) % this.capacity;
    this.length = 0;
    for (const o of this.observers) o.observe(batch);
  }
}
