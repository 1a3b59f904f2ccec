/**
 * Waiting for a condition instead of sleeping a fixed time: the suite runs on busy 2-core machines,
 * where a thread (the evidence writer, the console) can take a second to start.
 */

/** Polls `fn` (sync or async) every 20 ms until it gives something truthy; throws naming `what` after `ms`. */
export async function until<T>(fn: () => T | Promise<T>, what: string, ms = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    let v: T | undefined;
    try {
      v = await fn();
    } catch {
      v = undefined; // e.g. the database file does not exist yet
    }
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
