import type { ComponentHealth, ComponentName } from '../metrics/component-health.js';

/** Waits between attempts to start a part that failed: doubling from the first to the last. */
const RETRY_FIRST_MS = 1000;
const RETRY_LAST_MS = 30_000;

export interface PartControl<T> {
  /** Starts the part; throws (with a message for people) when it cannot. */
  start(): Promise<T>;
  /** What the running part is, for the log and /readyz: e.g. "http://127.0.0.1:8080/". */
  describe(part: T): string;
  /** Calls `failed` if the running part stops by itself later (e.g. its thread crashed). */
  watch?(part: T, failed: (e: Error) => void): void;
  close(part: T): Promise<void>;
}

/**
 * A part DNS never depends on (the console, the metrics listener). Started once during start-up;
 * if that fails, or the part fails later, the failure is logged loudly, shown in the component
 * health, and the start is tried again and again with a growing wait — a port that is freed, or a
 * key made readable, is picked up without a restart.
 */
export class OptionalPart<T> {
  private running: T | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wait = RETRY_FIRST_MS;
  private closed = false;

  constructor(
    private readonly name: ComponentName,
    private readonly health: ComponentHealth,
    private readonly control: PartControl<T>,
  ) {
    health.report(name, 'starting');
  }

  /** The running part, or null while it is down. */
  get current(): T | null {
    return this.running;
  }

  /** The first attempt (awaited by the start-up, which carries on whatever its outcome). */
  async start(): Promise<void> {
    await this.attempt();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const part = this.running;
    this.running = null;
    if (part) await this.control.close(part);
  }

  private async attempt(): Promise<void> {
    this.timer = null;
    let part: T;
    try {
      part = await this.control.start();
    } catch (e) {
      this.failed(e as Error);
      return;
    }
    if (this.closed) {
      await this.control.close(part);
      return;
    }
    this.running = part;
    this.wait = RETRY_FIRST_MS;
    this.health.report(this.name, 'up', this.control.describe(part));
    this.control.watch?.(part, (e) => {
      if (this.running !== part) return;
      this.running = null;
      this.failed(e);
    });
  }

  private failed(e: Error): void {
    if (this.closed) return;
    this.health.report(this.name, 'down', e.message);
    this.timer = setTimeout(() => void this.attempt(), this.wait);
    this.timer.unref();
    this.wait = Math.min(RETRY_LAST_MS, this.wait * 2);
  }
}
