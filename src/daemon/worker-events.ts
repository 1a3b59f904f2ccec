import type { QueryLog } from '../observe/query-event.js';
import type { Answer, QueryContext } from '../pipeline/types.js';
import { EventEncoder } from '../evidence/event-codec.js';
import type { FromWorker } from './worker-messages.js';

/**
 * A DNS worker's QueryLog: encodes each answered query into a batch (event-codec.ts, as the
 * single-process recorder does) and sends full batches — or, after `flushMs`, partial ones — to
 * the primary, whose evidence recorder queues them for the writer. Events not yet confirmed sent
 * are bounded by `queueSize`: beyond it they are dropped and counted (the channel never holds up
 * DNS, and never grows without bound if the primary stops reading).
 */
export class WorkerEvents implements QueryLog {
  private encoder = new EventEncoder();
  /** Events encoded or sent but not yet handed to the channel by the OS. */
  private unsent = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  dropped = 0;

  constructor(
    private readonly send: (m: FromWorker, done: () => void) => void,
    private readonly opts: { queueSize: number; batchRows: number; flushMs: number },
  ) {}

  record(at: number, duration: number, ctx: QueryContext, a: Answer, rcode: number): void {
    if (a.kind === 'refused' || a.kind === 'error' || this.closed) return;
    if (this.unsent >= this.opts.queueSize) {
      this.dropped++;
      return;
    }
    this.encoder.addAnswer(at, duration, ctx, a, rcode);
    this.unsent++;
    if (this.encoder.count >= this.opts.batchRows) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.opts.flushMs);
  }

  /** Sends what is encoded now; resolves once the channel has taken it. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.encoder.count === 0) return Promise.resolve();
    const batch = this.encoder.take();
    return new Promise((resolve) =>
      this.send({ t: 'events', buffer: batch.buffer, count: batch.count }, () => {
        this.unsent -= batch.count;
        resolve();
      }),
    );
  }

  /** Takes no more events; sends the last batch. */
  close(): Promise<void> {
    this.closed = true;
    return this.flush();
  }
}
