import { randomInt } from 'node:crypto';
import http2 from 'node:http2';
import tls from 'node:tls';
import { answersQuestion } from '../dns/reply.js';
import { UpstreamError } from './errors.js';
import { ConnectBackoff, connectError, newStats, tlsOptions, type ConnectionStats, type TlsTarget } from './tls-client.js';

/** Largest DNS message (RFC 8484 §6 replies carry one message). */
const MAX_REPLY = 65_535;
const DNS_MESSAGE = 'application/dns-message';

/**
 * DNS over HTTPS to one upstream (RFC 8484): POSTs of `application/dns-message` on one long-lived
 * HTTP/2 connection (Node's http2), one stream per query. Each query keeps a random ID and the reply
 * must repeat it and the question, as over UDP. Idle connections close after `idleMs`; a new one
 * resumes the TLS session; a failed connection backs off like DoT's.
 */
export class DohExchange {
  private session: http2.ClientHttp2Session | null = null;
  private tlsSession: Buffer | null = null;
  private readonly backoff = new ConnectBackoff();
  readonly stats: ConnectionStats = newStats();
  mismatched = 0;
  private closed = false;
  private readonly authority: string;

  constructor(
    private readonly target: TlsTarget,
    private readonly path: string,
    private readonly name: string,
    private readonly idleMs = 15_000,
  ) {
    const host = target.tlsName ?? target.host;
    this.authority = `https://${host.includes(':') ? `[${host}]` : host}:${target.port}`;
  }

  exchange(query: Buffer, questionEnd: number, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new UpstreamError(`${this.name}: closed`, 'closed'));
    const blocked = this.backoff.blocked();
    if (blocked) return Promise.reject(blocked);
    const sent = Buffer.from(query);
    sent.writeUInt16BE(randomInt(0, 0x10000), 0);
    const session = this.session ?? this.connect(timeoutMs);
    return new Promise<Buffer>((resolve, reject) => {
      let settled = false;
      const finish = (e: Error | null, reply?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) {
          if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
          reject(e);
        } else resolve(reply!);
      };
      const timer = setTimeout(
        () => finish(new UpstreamError(`no DoH answer from ${this.name} within ${timeoutMs} ms`, 'timeout')),
        timeoutMs,
      );
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({
          ':method': 'POST',
          ':path': this.path,
          'content-type': DNS_MESSAGE,
          accept: DNS_MESSAGE,
          'content-length': sent.length,
        });
      } catch (e) {
        clearTimeout(timer);
        reject(new UpstreamError(`DoH to ${this.name}: ${(e as Error).message}`, 'network'));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let status = 0;
      let type = '';
      stream.on('response', (h) => {
        status = Number(h[':status']);
        type = String(h['content-type'] ?? '');
      });
      stream.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_REPLY) return finish(new UpstreamError(`DoH reply from ${this.name} larger than 64 KB`, 'malformed'));
        chunks.push(d);
      });
      stream.on('end', () => {
        if (status !== 200)
          return finish(new UpstreamError(`DoH to ${this.name}: HTTP ${status}`, status >= 500 ? 'servfail' : 'network'));
        if (!type.startsWith(DNS_MESSAGE))
          return finish(
            new UpstreamError(`DoH reply from ${this.name} is ${type || 'untyped'}, not ${DNS_MESSAGE}`, 'malformed'),
          );
        const reply = Buffer.concat(chunks);
        if (reply.length < 12 || reply.readUInt16BE(0) !== sent.readUInt16BE(0) || !answersQuestion(reply, sent, questionEnd)) {
          this.mismatched++;
          return finish(new UpstreamError(`DoH reply from ${this.name} does not match the query (ID or question)`, 'malformed'));
        }
        finish(null, reply);
      });
      // A stream fails before its session reports why (e.g. a refused certificate): look a tick later.
      const failed = (why: string) =>
        setImmediate(() => finish(this.backoff.blocked() ?? new UpstreamError(`DoH to ${this.name}: ${why}`, 'network')));
      stream.on('error', (e) => failed(e.message));
      stream.on('close', () => failed('stream closed before an answer'));
      stream.end(sent);
    });
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = null;
  }

  get lastError(): string | null {
    return this.backoff.lastError;
  }

  private connect(timeoutMs: number): http2.ClientHttp2Session {
    let secured = false;
    let socket: tls.TLSSocket | null = null;
    let handshake: NodeJS.Timeout | null = null;
    const session = http2.connect(this.authority, {
      createConnection: () => {
        socket = tls.connect(tlsOptions(this.target, this.tlsSession, ['h2']));
        socket.setNoDelay(true);
        socket.on('session', (s: Buffer) => (this.tlsSession = s));
        // A server that accepts TCP but never finishes the handshake counts as a failed connection.
        const s = socket;
        handshake = setTimeout(
          () => s.destroy(Object.assign(new Error(`no TLS handshake within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
          timeoutMs,
        );
        handshake.unref();
        socket.once('secureConnect', () => {
          if (handshake) clearTimeout(handshake);
          secured = true;
          this.stats.open++;
          this.stats.connects++;
          if (socket!.isSessionReused()) this.stats.resumed++;
          this.backoff.ok();
          this.stats.lastError = null;
        });
        return socket;
      },
    });
    this.session = session;
    session.unref();
    session.setTimeout(this.idleMs, () => session.close());
    const forget = () => {
      if (this.session === session) this.session = null;
    };
    session.on('goaway', forget);
    session.on('error', (e) => {
      if (handshake) clearTimeout(handshake);
      forget();
      if (secured) return;
      const err = connectError(e, `DoH to ${this.name}`, false);
      if (err.outcome === 'tls') {
        this.stats.tlsFailures++;
        this.tlsSession = null;
      } else this.stats.failures++;
      this.stats.lastError = err.message;
      this.backoff.fail(err);
    });
    session.on('close', () => {
      forget();
      if (secured) this.stats.open--;
      secured = false;
    });
    return session;
  }
}
