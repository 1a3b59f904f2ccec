/**
 * The review console's thread: its own HTTP(S) server and its own SQLite connection, so no page,
 * query or password hash ever runs on the DNS thread. The main thread sends config updates and
 * the close request; this thread reports where it listens.
 */
import http from 'node:http';
import https from 'node:https';
import { parentPort, workerData } from 'node:worker_threads';
import type { Notification } from '../alerts/notifier.js';
import { formatHostPort, type HostPort } from '../config/host-port.js';
import type { LoadedConfig } from '../config/load.js';
import { loadStorage } from '../storage/open.js';
import type { StorageLocation } from '../storage/storage.js';
import { createLogger } from '../log.js';
import { createHandler } from './app.js';
import type { ConsoleEnv } from './context.js';
import { LoginLimiter } from './login-limiter.js';
import { parseProxies } from './client-address.js';
import { limitConnections, TIMEOUT_CHECK_MS } from './connection-limits.js';
import { ROUTES } from './routes.js';
import { SessionStore } from './sessions.js';

export interface ConsoleInit {
  listen: HostPort;
  tls: { cert: Buffer; key: Buffer } | null;
  storage: StorageLocation;
  loaded: LoadedConfig;
  logLevel: string;
}

export type ToConsole = { type: 'config'; loaded: LoadedConfig } | { type: 'close' };
export type FromConsole =
  | { type: 'listening'; address: string }
  | { type: 'failed'; error: string }
  | { type: 'closed' }
  /** A page asks the daemon to tell people something (alerts/notifier.ts), e.g. approvers of a request. */
  | { type: 'notify'; notification: Notification };

const limitsOf = (loaded: LoadedConfig) => ({
  idleMs: loaded.config.console.session_idle_minutes * 60_000,
  absoluteMs: loaded.config.console.session_max_hours * 3_600_000,
});

async function main(): Promise<void> {
  const init = workerData as ConsoleInit;
  const port = parentPort!;
  const log = createLogger(init.logLevel).child({ component: 'console' });
  const storage = await loadStorage(init.storage, 'write');
  try {
    await storage.open();
  } catch (e) {
    port.postMessage({ type: 'failed', error: (e as Error).message } satisfies FromConsole);
    return;
  }
  const env: ConsoleEnv = {
    storage,
    loaded: init.loaded,
    sessions: new SessionStore(limitsOf(init.loaded), storage.sessions),
    // Shared: one count for the whole trust in PostgreSQL (no console's memory is a way around it).
    logins: storage.signIns ?? new LoginLimiter(),
    proxies: parseProxies(init.loaded.config.console.trusted_proxies),
    secure: init.tls !== null,
    log,
    now: Date.now,
    notify: (notification) => port.postMessage({ type: 'notify', notification } satisfies FromConsole),
  };
  const handler = createHandler(ROUTES, env);
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void handler(req, res);
  const options = { connectionsCheckingInterval: TIMEOUT_CHECK_MS };
  const server = init.tls
    ? https.createServer({ ...options, cert: init.tls.cert, key: init.tls.key, minVersion: 'TLSv1.2' }, onRequest)
    : http.createServer(options, onRequest);
  const c = init.loaded.config.console;
  limitConnections(
    server,
    { total: c.max_connections, perAddress: c.max_connections_per_address, headersTimeoutMs: c.headers_timeout_ms },
    () => env.proxies,
  );
  server.once('error', (e) => port.postMessage({ type: 'failed', error: `console.listen: ${e.message}` } satisfies FromConsole));
  server.listen({ host: init.listen.host, port: init.listen.port }, () => {
    const a = server.address() as { port: number };
    port.postMessage({
      type: 'listening',
      address: formatHostPort({ host: init.listen.host, port: a.port }),
    } satisfies FromConsole);
  });
  port.on('message', (m: ToConsole) => {
    if (m.type === 'config') {
      env.loaded = m.loaded;
      env.proxies = parseProxies(m.loaded.config.console.trusted_proxies);
      env.sessions.setLimits(limitsOf(m.loaded));
    } else if (m.type === 'close') {
      server.close();
      server.closeAllConnections();
      void storage.close();
      port.postMessage({ type: 'closed' } satisfies FromConsole);
    }
  });
}

await main();
