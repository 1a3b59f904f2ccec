/**
 * A real HTTP server (Node's http) standing in for a Teams, Slack or custom webhook endpoint: records
 * every request (path, headers, parsed JSON body) and answers with the next status of a script
 * (e.g. [500, 200]: fail once, then accept), then 200.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { until } from './wait.js';

export interface WebhookRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  requests: WebhookRequest[];
  /** Requests answered 2xx. */
  accepted(): WebhookRequest[];
  waitForAccepted(n: number, ms?: number): Promise<WebhookRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(statuses: number[] = [], path = '/hook/secret-token'): Promise<WebhookReceiver> {
  const script = [...statuses];
  const requests: WebhookRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      const status = script.shift() ?? 200;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'server error');
    });
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const port = (server.address() as AddressInfo).port;
  const accepted = () => requests.filter((r) => r.status >= 200 && r.status < 300);
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    accepted,
    waitForAccepted: (n, ms = 10_000) =>
      until(() => (accepted().length >= n ? accepted() : null), `${n} accepted webhook request(s)`, ms),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
