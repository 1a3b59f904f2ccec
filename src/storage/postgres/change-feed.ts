import type { PostgresConnection } from './connection.js';

/** How soon a failed catch-up is tried again (the store is down or paused). */
const RETRY_MS = 1000;

/**
 * Wakes a subscriber whenever the shared store may hold changes for its site: at once on a
 * notification (LISTEN), after every (re)connection, and on a safety poll (`poll_seconds`), since
 * notifications sent while a node was away are not replayed. `wake` does the catch-up (by change
 * number); runs never overlap. While the store cannot be reached it is tried every second; any
 * failure drops the listening connection too (a paused server leaves it open but dead), so the
 * first success after an outage listens afresh and catches up.
 */
export class ChangeFeed {
  private handle: { close(): Promise<void> } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly conn: PostgresConnection,
    private readonly channel: string,
    /** Only notifications with this payload wake (the site's own changes). */
    private readonly payload: string,
    private readonly wake: () => Promise<void>,
    private readonly events: { onError?: (e: Error) => void; onRecovered?: () => void } = {},
  ) {}

  start(): void {
    void this.run();
  }

  /** Wakes now (e.g. a change was made through this process). */
  poke(): void {
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    let ok = false;
    try {
      if (!this.handle) {
        this.handle = await this.conn.listen(
          this.channel,
          (p) => p === this.payload && void this.run(),
          () => {
            this.handle = null;
            void this.run();
          },
        );
      }
      await this.wake();
      ok = true;
      if (this.failing) this.events.onRecovered?.();
      this.failing = false;
    } catch (e) {
      if (!this.failing) this.events.onError?.(e as Error);
      this.failing = true;
      const h = this.handle;
      this.handle = null;
      await h?.close();
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      return this.run();
    }
    const ms = ok ? this.conn.location.postgres.poll_seconds * 1000 : RETRY_MS;
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref?.();
  }
}
