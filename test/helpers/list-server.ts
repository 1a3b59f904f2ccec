/**
 * A real HTTPS server (Node's https, i.e. its http stack over TLS) on loopback that serves blocklists
 * the way a list publisher does: ETag and Last-Modified, 304 to a matching If-None-Match, gzip when
 * asked; and, when a test says so, errors, HTML pages, redirects or no answer at all.
 */
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';

export interface ListResponse {
  status?: number;
  body?: string;
  etag?: string;
  lastModified?: string;
  contentType?: string;
  /** Send the body gzip-compressed (Content-Encoding: gzip). */
  gzip?: boolean;
  /** For 3xx. */
  location?: string;
  /** Never answer (the client's timeout must fire). */
  hang?: boolean;
}

export interface ListServer {
  port: number;
  /** https://127.0.0.1:PORT/PATH */
  url(p: string): string;
  /** What PATH answers from now on. */
  set(p: string, r: ListResponse): void;
  /** Every request so far: path, status sent and the request headers. */
  requests: { path: string; status: number; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

export async function startListServer(tls: { cert: string; key: string }): Promise<ListServer> {
  const routes = new Map<string, ListResponse>();
  const requests: ListServer['requests'] = [];
  const sockets = new Set<{ destroy(): void }>();
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const p = (req.url ?? '/').split('?')[0];
    const r = routes.get(p) ?? { status: 404, body: 'not found' };
    const record = (status: number) => requests.push({ path: p, status, headers: req.headers });
    if (r.hang) return record(0);
    const status = r.status ?? 200;
    if (status === 200 && r.etag && req.headers['if-none-match'] === r.etag) {
      record(304);
      res.writeHead(304, { etag: r.etag });
      return res.end();
    }
    record(status);
    const headers: Record<string, string> = { 'content-type': r.contentType ?? 'text/plain; charset=utf-8' };
    if (r.etag) headers.etag = r.etag;
    if (r.lastModified) headers['last-modified'] = r.lastModified;
    if (r.location) headers.location = r.location;
    let body: Buffer = Buffer.from(r.body ?? '');
    if (r.gzip && /gzip/.test(String(req.headers['accept-encoding'] ?? ''))) {
      body = zlib.gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    res.writeHead(status, headers);
    res.end(body);
  });
  server.on('connection', (s: Duplex) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (p) => `https://127.0.0.1:${port}${p}`,
    set: (p, r) => routes.set(p, r),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
