/**
 * The evidence writer thread's retention purge. It is not awaited by the thread's message loop: the
 * store deletes a bounded batch at a time and, between steps, the batches of query events that keep
 * arriving are written first — a step goes on only once a short pause (long enough for the DNS
 * thread to hand over its next batch) has passed with none. One purge at a time; closing stops it
 * between steps.
 */
import type { EvidenceWriter, Retention } from '../storage/evidence.js';
import type { FromWriter } from './writer-messages.js';

/** Idle time the purge waits for between its steps. */
const PURGE_PAUSE_MS = 2;

class PurgeStopped extends Error {}

export class WriterPurge {
  private purging: Promise<void> | null = null;
  /** Batches handled so far: a purge step waits while they keep coming. */
  private batches = 0;
  private stopped = false;

  constructor(
    private readonly evidence: Pick<EvidenceWriter, 'purge'>,
    private readonly send: (m: FromWriter) => void,
    /** Called first (counting the rows never shipped that the purge deletes); a failure there is ignored. */
    private readonly before: (now: number, retention: Retention) => void,
  ) {}

  /** A batch of events arrived (the purge lets it go first). */
  batchArrived(): void {
    this.batches++;
  }

  /** Starts a purge unless one is under way (a second asked for meanwhile is not needed). */
  start(now: number, retention: Retention): void {
    this.purging ??= this.run(now, retention).finally(() => (this.purging = null));
  }

  /** Stops the purge under way between two steps, resolved when it has. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.purging;
  }

  private async run(now: number, retention: Retention): Promise<void> {
    const pause = async () => {
      for (;;) {
        const seen = this.batches;
        await new Promise((r) => setTimeout(r, PURGE_PAUSE_MS));
        if (this.stopped) throw new PurgeStopped();
        if (this.batches === seen) return;
      }
    };
    try {
      this.before(now, retention);
    } catch {
      // Counting is only for the log: the purge goes on.
    }
    try {
      this.send({ type: 'purged', result: { ...(await this.evidence.purge(now, retention, pause)) } });
    } catch (e) {
      if (!(e instanceof PurgeStopped)) this.send({ type: 'purge-failed', error: (e as Error).message });
    }
  }
}
