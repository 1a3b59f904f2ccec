import { randomInt } from 'node:crypto';
import tls from 'node:tls';
import { answersQuestion } from '../dns/reply.js';
import { UpstreamError } from './errors.js';
import { ConnectBackoff, connectError, newStats, tlsOptions, type ConnectionStats, type TlsTarget } from './tls-client.js';

interface Pending {
  /** The query as sent (with its ID), for matching the reply's question. */
  sent: Buffer;
  frame: Buffer;
  questionEnd: number;
  resolve: (reply: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  deadline: number;
  /** Already re-sent once after its connection closed unanswered. */
  resent: boolean;
}

interface Connection {
  socket: tls.TLSSocket;
  pending: Map<number, Pending>;
  secured: boolean;
  /** Bytes received that do not yet make a whole message. */
  buffered: Buffer;
  idle: NodeJS.Timeout | null;
  /** Queries timed out since the last answer on this connection (a silent connection is replaced). */
  timeouts: number;
}

/** A connection whose last three queries timed out with no answer between is replaced. */
const MAX_SILENT_TIMEOUTS = 3;

/**
 * DNS over TLS to one upstream (RFC 7858): one long-lived connection, queries pipelined on it with
 * distinct random IDs and answered in any order (RFC 7766), each reply accepted only if its ID and
 * question match what was sent on that connection. The connection is closed after `idleMs` without
 * queries and reopened on demand, resuming the TLS session; a failed connection backs off (queries
 * fail at once meanwhile, so failover moves on). Queries left unanswered when the server closes the
 * connection are sent once more on a new one. TC never happens here: messages are up to 64 KB.
 */
export class DotExchange {
  private conn: Connection | null = null;
  private session: Buffer | null = null;
  private readonly backoff = new ConnectBackoff();
  readonly stats: ConnectionStats = newStats();
  /** Replies whose ID or question matched nothing sent: possible spoofing, or a confused server. */
  mismatched = 0;
  private closed = false;

  constructor(
    private readonly target: TlsTarget,
    private readonly name: string,
    private readonly idleMs = 15_000,
  ) {}

  exchange(query: Buffer, questionEnd: number, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new UpstreamError(`${this.name}: closed`, 'closed'));
    const blocked = this.backoff.blocked();
    if (blocked) return Promise.reject(blocked);
    return new Promise<Buffer>((resolve, reject) => {
      const frame = Buffer.allocUnsafe(query.length + 2);
      frame.writeUInt16BE(query.length, 0);
      query.copy(frame, 2);
      const p: Pending = {
        sent: frame.subarray(2),
        frame,
        questionEnd,
        resolve,
        reject,
        timer: null as unknown as NodeJS.Timeout,
        deadline: Date.now() + timeoutMs,
        resent: false,
      };
      p.timer = setTimeout(() => this.expire(p), timeoutMs);
      this.send(p, timeoutMs);
    });
  }

  /** Closes the connection; queries waiting fail. */
  close(): void {
    this.closed = true;
    if (this.conn) this.drop(this.conn, new UpstreamError(`${this.name}: closed`, 'closed'), false);
  }

  /** Whether a connection is open now, and the last connection error. */
  get lastError(): string | null {
    return this.backoff.lastError;
  }

  private send(p: Pending, connectTimeoutMs: number): void {
    const c = this.conn ?? this.connect(connectTimeoutMs);
    let id = randomInt(0, 0x10000);
    while (c.pending.has(id)) id = (id + 1) & 0xffff;
    p.frame.writeUInt16BE(id, 2);
    c.pending.set(id, p);
    if (c.idle) {
      clearTimeout(c.idle);
      c.idle = null;
    }
    c.socket.write(p.frame);
  }

  private connect(timeoutMs: number): Connection {
    const socket = tls.connect(tlsOptions(this.target, this.session));
    const c: Connection = { socket, pending: new Map(), secured: false, buffered: Buffer.alloc(0), idle: null, timeouts: 0 };
    this.conn = c;
    socket.setNoDelay(true);
    socket.unref();
    // A server that accepts TCP but never finishes the handshake counts as a failed connection.
    const handshake = setTimeout(
      () => socket.destroy(Object.assign(new Error(`no TLS handshake within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    handshake.unref();
    socket.on('secureConnect', () => {
      clearTimeout(handshake);
      c.secured = true;
      this.stats.open++;
      this.stats.connects++;
      if (socket.isSessionReused()) this.stats.resumed++;
      this.backoff.ok();
      this.stats.lastError = null;
    });
    socket.on('session', (s: Buffer) => (this.session = s));
    socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
    socket.on('error', (e) => {
      clearTimeout(handshake);
      const err = connectError(e, `DoT to ${this.name}`, c.secured);
      if (!c.secured) {
        if (err.outcome === 'tls') this.stats.tlsFailures++;
        else this.stats.failures++;
        this.stats.lastError = err.message;
        this.backoff.fail(err);
        // A refused certificate is not retried on a new connection: it would be refused again.
        this.session = err.outcome === 'tls' ? null : this.session;
      }
      this.drop(c, err, c.secured);
    });
    socket.on('close', () =>
      this.drop(c, new UpstreamError(`DoT to ${this.name}: connection closed before an answer`, 'network'), c.secured),
    );
    return c;
  }

  private onData(c: Connection, chunk: Buffer): void {
    let buf = c.buffered.length === 0 ? chunk : Buffer.concat([c.buffered, chunk]);
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) break;
      const msg = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      const p = msg.length >= 12 ? c.pending.get(msg.readUInt16BE(0)) : undefined;
      if (!p || !answersQuestion(msg, p.sent, p.questionEnd)) {
        this.mismatched++;
        continue;
      }
      c.pending.delete(msg.readUInt16BE(0));
      c.timeouts = 0;
      clearTimeout(p.timer);
      p.resolve(Buffer.from(msg));
    }
    c.buffered = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    if (c.pending.size === 0 && !c.idle && this.conn === c) {
      c.idle = setTimeout(() => {
        if (c.pending.size === 0) this.drop(c, null, false);
      }, this.idleMs);
      c.idle.unref();
    }
  }

  private expire(p: Pending): void {
    const c = this.conn;
    p.reject(new UpstreamError(`no DoT answer from ${this.name} within the timeout`, 'timeout'));
    if (!c) return;
    for (const [id, q] of c.pending) if (q === p) c.pending.delete(id);
    if (c.secured && ++c.timeouts >= MAX_SILENT_TIMEOUTS) {
      this.drop(c, new UpstreamError(`DoT to ${this.name}: connection silent, replaced`, 'timeout'), true);
    }
  }

  /**
   * Ends a connection. Its unanswered queries are sent once more on a new connection when it had
   * been working (the server may close an idle or busy connection, RFC 7766 §6.2.3), else they fail.
   */
  private drop(c: Connection, err: UpstreamError | null, retry: boolean): void {
    if (this.conn === c) this.conn = null;
    if (c.idle) clearTimeout(c.idle);
    if (c.secured) {
      c.secured = false;
      this.stats.open--;
    }
    if (!c.socket.destroyed) c.socket.destroy();
    const waiting = [...c.pending.values()];
    c.pending.clear();
    for (const p of waiting) {
      if (retry && !p.resent && !this.closed && Date.now() < p.deadline && !this.backoff.blocked()) {
        p.resent = true;
        this.send(p, Math.max(50, p.deadline - Date.now()));
      } else {
        clearTimeout(p.timer);
        p.reject(err ?? new UpstreamError(`DoT to ${this.name}: closed`, 'closed'));
      }
    }
  }
}
