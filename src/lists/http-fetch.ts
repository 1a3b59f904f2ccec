import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { VERSION } from '../version.js';

/** How to fetch a subscribed list. */
export interface FetchSettings {
  maxBytes: number;
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM), added to Node's public roots; null for the public roots only. */
  ca: string | null;
}

export type FetchOutcome =
  | { status: 'not-modified' }
  | { status: 'ok'; text: string; etag: string | null; lastModified: string | null; contentType: string; finalUrl: string };

/** A fetch that gave no list; `timeout` tells a timeout from any other failure (metrics). */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly timeout = false,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

const MAX_REDIRECTS = 5;

/**
 * GETs a list over HTTPS: conditional when validators are given (304 → not-modified), gzip accepted,
 * at most `maxBytes` after decompression, the whole exchange within `timeoutMs`, up to 5 redirects and
 * only to https:// URLs. Certificates are always verified. Throws FetchError saying what went wrong.
 */
export async function fetchList(
  url: string,
  settings: FetchSettings,
  validators: { etag?: string | null; lastModified?: string | null } = {},
): Promise<FetchOutcome> {
  const deadline = Date.now() + settings.timeoutMs;
  const ca = settings.ca ? [...tls.rootCertificates, settings.ca] : undefined;
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'https:') throw new FetchError(`redirected to ${current.protocol}// (only https is followed)`);
    const res = await request(current, ca, validators, deadline, settings.timeoutMs);
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      res.resume();
      const location = res.headers.location;
      if (!location) throw new FetchError(`HTTP ${status} without a Location`);
      if (hop >= MAX_REDIRECTS) throw new FetchError(`more than ${MAX_REDIRECTS} redirects`);
      current = new URL(location, current);
      continue;
    }
    if (status === 304) {
      res.resume();
      return { status: 'not-modified' };
    }
    if (status !== 200) {
      res.resume();
      throw new FetchError(`HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
    }
    const text = await readBody(res, settings.maxBytes, deadline, settings.timeoutMs);
    return {
      status: 'ok',
      text,
      etag: header(res, 'etag'),
      lastModified: header(res, 'last-modified'),
      contentType: header(res, 'content-type') ?? '',
      finalUrl: current.toString(),
    };
  }
}

function header(res: IncomingMessage, name: string): string | null {
  const v = res.headers[name];
  return typeof v === 'string' ? v : null;
}

function request(
  url: URL,
  ca: string[] | undefined,
  validators: { etag?: string | null; lastModified?: string | null },
  deadline: number,
  timeoutMs: number,
): Promise<IncomingMessage> {
  const headers: Record<string, string> = {
    'user-agent': `webfilter/${VERSION} (list subscription)`,
    'accept-encoding': 'gzip',
    accept: 'text/plain, */*;q=0.5',
  };
  if (validators.etag) headers['if-none-match'] = validators.etag;
  if (validators.lastModified) headers['if-modified-since'] = validators.lastModified;
  return new Promise((resolve, reject) => {
    // agent: false — one connection per fetch, closed after it (a fetch every few hours keeps nothing open).
    const req = https.get(url, { headers, ca, agent: false }, resolve);
    const timer = setTimeout(
      () => req.destroy(new FetchError(`no complete answer within ${timeoutMs} ms`, true)),
      Math.max(0, deadline - Date.now()),
    );
    req.on('response', () => clearTimeout(timer));
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e instanceof FetchError ? e : new FetchError(e.message));
    });
  });
}

function readBody(res: IncomingMessage, maxBytes: number, deadline: number, timeoutMs: number): Promise<string> {
  const length = Number(res.headers['content-length']);
  const gzip = /\bgzip\b/i.test(String(res.headers['content-encoding'] ?? ''));
  if (!gzip && length > maxBytes) {
    res.destroy();
    return Promise.reject(new FetchError(`larger than the ${maxBytes / 1_048_576} MB cap (${length} bytes)`));
  }
  const stream = gzip ? res.pipe(zlib.createGunzip()) : res;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      res.destroy();
      stream.destroy();
      reject(e);
    };
    const timer = setTimeout(
      () => fail(new FetchError(`no complete answer within ${timeoutMs} ms`, true)),
      deadline - Date.now(),
    );
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) return fail(new FetchError(`larger than the ${maxBytes / 1_048_576} MB cap`));
      chunks.push(c);
    });
    stream.on('error', (e) => fail(new FetchError(`${gzip ? 'gzip body: ' : ''}${e.message}`)));
    res.on('aborted', () => fail(new FetchError('connection closed before the end of the list')));
    stream.on('end', () => {
      if (done) return;
      if (!gzip && Number.isFinite(length) && size < length) return fail(new FetchError(`got ${size} of ${length} bytes`));
      done = true;
      clearTimeout(timer);
      let text = Buffer.concat(chunks).toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      resolve(text);
    });
  });
}
