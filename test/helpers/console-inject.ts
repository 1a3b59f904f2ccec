/**
 * Runs one request through the console's handler in-process (as fastify's inject() does): a fake
 * request and response, no socket, no thread, no TLS. For the route table, roles, CSRF and pages;
 * what needs the real server (connection limits, TLS, the worker thread) stays end to end.
 */
import type http from 'node:http';
import { Readable } from 'node:stream';

export interface Injected {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

export interface InjectRequest {
  method?: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** A form body (POST), e.g. new URLSearchParams({...}).toString(). */
  body?: string;
  /** The peer address the socket would report. */
  ip?: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export function inject(handler: Handler, r: InjectRequest): Promise<Injected> {
  const req = Object.assign(Readable.from(r.body ? [Buffer.from(r.body)] : []), {
    method: r.method ?? 'GET',
    url: r.url,
    headers: { ...(r.body ? { 'content-length': String(Buffer.byteLength(r.body)) } : {}), ...(r.headers ?? {}) },
    socket: { remoteAddress: r.ip ?? '127.0.0.1' },
  }) as unknown as http.IncomingMessage;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    const res = {
      statusCode: 200,
      headersSent: false,
      setHeader(name: string, value: string | string[]) {
        headers[name.toLowerCase()] = value;
      },
      getHeader: (name: string) => headers[name.toLowerCase()],
      writeHead(status: number, h: Record<string, string | string[]> = {}) {
        res.statusCode = status;
        for (const [k, v] of Object.entries(h)) headers[k.toLowerCase()] = v;
        res.headersSent = true;
        return res;
      },
      end(body?: string | Buffer) {
        res.headersSent = true;
        resolve({ status: res.statusCode, headers, body: body === undefined ? '' : String(body) });
      },
    };
    handler(req, res as unknown as http.ServerResponse).catch(reject);
  });
}

/** The value of a cookie the response sets, or undefined. */
export function setCookie(res: Injected, name: string): string | undefined {
  const all = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const c = all.find((v) => v.startsWith(`${name}=`));
  return c ? decodeURIComponent(c.slice(name.length + 1).split(';')[0]) : undefined;
}
