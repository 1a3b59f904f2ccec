/**
 * A guard against one known defect of the PostgreSQL client (porsager/postgres 3.4.9, unchanged on
 * its master; upstream issues #1192, #1205, #1223): when a new connection is closed, reset or has
 * its statement cancelled while the driver fetches the server's array types — the first thing every
 * connection does — the driver drops that promise, and its rejection surfaces as an unhandled
 * rejection that no caller can catch. Node ends the process (or the worker thread) on one. An outage
 * of the shared store must never end a filter, so this process ignores exactly those rejections: an
 * error raised inside the driver's own code with a connection or server error. The caller's
 * statement fails or succeeds on its own terms and is reported as usual. Any other unhandled
 * rejection is raised as an uncaught exception, as Node would without this guard.
 */
const DRIVER_FILE = /[\\/]node_modules[\\/]postgres[\\/](?:src|cjs)[\\/]/;

let installed = false;
let ignored = 0;

/** True for a rejection raised by the driver itself about its connection (not by our code). */
export function isDriverConnectionRejection(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  // The driver marks the errors it hands to a statement with that statement's text (`query`); its
  // own errors carry its files in their stack. Our statements are all awaited (PostgresConnection).
  const fromDriver = 'query' in e || DRIVER_FILE.test(e.stack ?? '');
  const code = String((e as { code?: unknown }).code ?? '');
  const connectionCode = /^(CONNECTION_|CONNECT_TIMEOUT$|E[A-Z]+$)/.test(code);
  return fromDriver && (connectionCode || e.name === 'PostgresError');
}

/** How many such rejections this thread has ignored (for tests and the debug log). */
export function ignoredDriverRejections(): number {
  return ignored;
}

/** Installs the guard once per thread (each worker thread has its own `process` events). */
export function guardDriverRejections(): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (e) => {
    if (isDriverConnectionRejection(e)) {
      ignored++;
      return;
    }
    throw e;
  });
}
