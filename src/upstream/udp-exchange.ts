import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { HostPort } from '../config/host-port.js';
import { canonicalAddress } from '../net/ip.js';
import { answersQuestion } from '../dns/reply.js';
import { UpstreamError } from './errors.js';

interface Pending {
  target: HostPort;
  query: Buffer;
  questionEnd: number;
  resolve: (reply: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface PooledSocket {
  socket: dgram.Socket;
  pending: Map<number, Pending>;
  uses: number;
  retired: boolean;
}

/** Sockets per address family; each is bound by the kernel to a random ephemeral port. */
const POOL_SIZE = 16;
/** A socket is replaced after this many queries, so source ports keep changing (anti-spoofing). */
const USES_PER_SOCKET = 200;

/**
 * Sends queries to upstreams over UDP from a rotating pool of randomly-bound sockets, each query with a
 * fresh random ID. A reply is accepted only if it comes from the address and port the query went to,
 * carries the query's ID and repeats its question; anything else is counted and ignored.
 */
export class UdpExchange {
  private readonly pools = new Map<4 | 6, PooledSocket[]>();
  /** Replies dropped because source, ID or question did not match: possible spoofing. */
  mismatched = 0;
  private closed = false;

  /** Sends `query` (copied; the copy gets a random ID) and resolves with the matching reply. */
  exchange(query: Buffer, questionEnd: number, target: HostPort, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new UpstreamError('upstream sockets closed', 'closed'));
    const ps = this.pick(target.family);
    let id = randomInt(0, 0x10000);
    while (ps.pending.has(id)) id = (id + 1) & 0xffff;
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    ps.uses++;
    if (ps.uses >= USES_PER_SOCKET) this.retire(ps, target.family);
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        ps.pending.delete(id);
        this.closeIfDone(ps);
        reject(new UpstreamError(`no answer from ${target.host} within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      ps.pending.set(id, { target, query: out, questionEnd, resolve, reject, timer });
      ps.socket.send(out, target.port, target.host, (err) => {
        if (!err) return;
        const p = ps.pending.get(id);
        if (!p) return;
        clearTimeout(p.timer);
        ps.pending.delete(id);
        this.closeIfDone(ps);
        reject(new UpstreamError(`send to ${target.host}: ${err.message}`, 'network'));
      });
    });
  }

  /** Closes every socket; pending exchanges fail. */
  close(): void {
    this.closed = true;
    for (const pool of this.pools.values()) {
      for (const ps of pool) {
        for (const p of ps.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new UpstreamError('upstream sockets closed', 'closed'));
        }
        ps.pending.clear();
        ps.socket.close();
      }
    }
    this.pools.clear();
  }

  private pick(family: 4 | 6): PooledSocket {
    let pool = this.pools.get(family);
    if (!pool) {
      pool = [];
      this.pools.set(family, pool);
    }
    if (pool.length < POOL_SIZE) {
      const ps = this.open(family);
      pool.push(ps);
      return ps;
    }
    return pool[randomInt(0, pool.length)];
  }

  private open(family: 4 | 6): PooledSocket {
    const socket = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    const ps: PooledSocket = { socket, pending: new Map(), uses: 0, retired: false };
    socket.on('message', (msg, rinfo) => this.onReply(ps, msg, rinfo));
    socket.on('error', () => {
      // A send error is reported per query through the send callback; errors here (e.g. ICMP
      // unreachable surfaced by the kernel) are not tied to a query and leave pending ones to time out.
    });
    socket.unref();
    return ps;
  }

  private onReply(ps: PooledSocket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12) {
      this.mismatched++;
      return;
    }
    const p = ps.pending.get(msg.readUInt16BE(0));
    if (
      !p ||
      rinfo.port !== p.target.port ||
      canonicalAddress(rinfo.address) !== canonicalAddress(p.target.host) ||
      !answersQuestion(msg, p.query, p.questionEnd)
    ) {
      this.mismatched++;
      return;
    }
    clearTimeout(p.timer);
    ps.pending.delete(msg.readUInt16BE(0));
    this.closeIfDone(ps);
    p.resolve(msg);
  }

  private retire(ps: PooledSocket, family: 4 | 6): void {
    const pool = this.pools.get(family)!;
    pool.splice(pool.indexOf(ps), 1);
    ps.retired = true;
  }

  private closeIfDone(ps: PooledSocket): void {
    if (ps.retired && ps.pending.size === 0) ps.socket.close();
  }
}
