import http from 'node:http';
import { formatHostPort, type HostPort } from '../config/host-port.js';
import type { Registry } from 'prom-client';
import type { ComponentStatus } from './component-health.js';

/** Whether the daemon can serve: config and lists loaded, an upstream answered recently. */
export interface Readiness {
  ready(): { ready: true } | { ready: false; reason: string };
  /** More for /readyz's JSON (e.g. each upstream's transport and health, for `webfilter status`). */
  details?(): Promise<Record<string, unknown>>;
  /** The optional parts (console, metrics, evidence store): DNS serves whatever their state. */
  components(): { states: Record<string, ComponentStatus>; degraded: string[] };
}

/** Event-loop lag above this makes /healthz fail: the process is alive but not responsive. */
const MAX_LAG_MS = 2000;

/**
 * The monitoring listener: `/metrics` (Prometheus text format), `/healthz` (alive, event loop
 * responsive) and `/readyz` (ready to serve: 200, with status "degraded" and what is down when an
 * optional part is; 503 with a JSON reason when DNS cannot serve), plus the POST routes given (the
 * identity feed).
 */
export async function startMetricsServer(
  addr: HostPort,
  registry: Registry,
  readiness: Readiness,
  post: Record<string, http.RequestListener> = {},
): Promise<{ server: http.Server; address: string }> {
  let lag = 0;
  let expected = Date.now() + 500;
  const lagTimer = setInterval(() => {
    lag = Math.max(0, Date.now() - expected);
    expected = Date.now() + 500;
  }, 500);
  lagTimer.unref();

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && Object.hasOwn(post, url)) return post[url](req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    if (url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (e: Error) => json(res, 500, { error: e.message }),
      );
    } else if (url === '/healthz') {
      json(res, lag > MAX_LAG_MS ? 503 : 200, { status: lag > MAX_LAG_MS ? 'event loop stalled' : 'ok', event_loop_lag_ms: lag });
    } else if (url === '/readyz') {
      const r = readiness.ready();
      const { states, degraded } = readiness.components();
      (readiness.details?.() ?? Promise.resolve({})).then(
        (more) =>
          r.ready
            ? json(res, 200, { status: degraded.length ? 'degraded' : 'ready', degraded, components: states, ...more })
            : json(res, 503, { status: 'not ready', reason: r.reason, degraded, components: states, ...more }),
        (e: Error) => json(res, 500, { error: e.message }),
      );
    } else {
      json(res, 404, { error: 'not found', endpoints: ['/metrics', '/healthz', '/readyz'] });
    }
  });
  server.on('close', () => clearInterval(lagTimer));
  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error) => {
      clearInterval(lagTimer);
      reject(e);
    };
    server.once('error', failed);
    server.listen({ host: addr.host, port: addr.port }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const bound = server.address() as { port: number };
  return { server, address: formatHostPort({ host: addr.host, port: bound.port }) };
}
