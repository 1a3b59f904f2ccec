import type http from 'node:http';
import type { Html } from './html.js';

/** Largest form body accepted (a form here is a few fields). */
const MAX_BODY = 64 * 1024;

/**
 * Headers on every console response: no scripts at all, styles only inline, no framing, no
 * caching (pages hold personal data), no referrer leaking a device name to another site.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
};

/**
 * The request's cookies. One that cannot be decoded (e.g. `wf_session=%E0%A4%A`, which a sibling
 * site on the same domain could set) is left out rather than failing the request: otherwise every
 * page would answer 500 until the cookie expired.
 */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    try {
      out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      // undecodable: ignored
    }
  }
  return out;
}

export class BodyTooLarge extends Error {}

/**
 * Reads an application/x-www-form-urlencoded body (at most 64 KB). A larger one (by its
 * Content-Length, or as it arrives) rejects with BodyTooLarge without reading further, so the
 * caller can answer 413 (and close the connection) instead of the client seeing it dropped.
 */
export function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return reject(new BodyTooLarge());
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      if (size > MAX_BODY) return;
      size += c.length;
      if (size > MAX_BODY) reject(new BodyTooLarge());
      else chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

export function sendHtml(
  res: http.ServerResponse,
  status: number,
  body: Html,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', ...headers });
  res.end(body.text);
}

/** 303 See Other: after a POST, and to the sign-in page. */
export function redirect(res: http.ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location, ...headers });
  res.end();
}

/** A download (export, report): served as an attachment so the browser saves it. */
export function sendDownload(res: http.ServerResponse, filename: string, contentType: string, body: string): void {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': contentType,
    'content-disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
  });
  res.end(body);
}

/** A cookie with the console's attributes: HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS. */
export function cookie(name: string, value: string, opts: { secure: boolean; maxAgeS?: number }): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'HttpOnly', 'SameSite=Strict', 'Path=/'];
  if (opts.secure) parts.push('Secure');
  if (opts.maxAgeS !== undefined) parts.push(`Max-Age=${opts.maxAgeS}`);
  return parts.join('; ');
}
