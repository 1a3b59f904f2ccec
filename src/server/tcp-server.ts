import net from 'node:net';
import type { HostPort } from '../config/host-port.js';
import { canonicalAddress } from '../net/ip.js';
import type { DatagramHandler } from './udp-server.js';

export interface TcpLimits {
  idleTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
  maxQueriesPerConnection: number;
  /** A message that has begun arriving must be complete within this. */
  readTimeoutMs: number;
}

/** Largest number of queries one connection may have waiting for answers at once. */
const MAX_PIPELINED = 100;

/**
 * DNS over TCP (RFC 7766): 2-byte length framing, several queries per connection answered as they
 * complete (possibly out of order, §6.2.1.1), an idle timeout, a read timeout for a message that
 * trickles in (slowloris), and caps on open connections in total and per client address.
 */
export interface TcpServer {
  server: net.Server;
  /** Stops accepting, then closes every open connection (after in-flight answers were sent). */
  close(): void;
}

export function startTcpServer(
  addr: HostPort,
  ipv6Only: boolean,
  limits: () => TcpLimits,
  handler: DatagramHandler,
  onError: (e: Error) => void,
): Promise<TcpServer> {
  const open = new Set<net.Socket>();
  const perClient = new Map<string, number>();
  // allowHalfOpen: a client may send its queries and then FIN; it still gets its answers.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    const l = limits();
    const raw = socket.remoteAddress ?? '';
    const address = raw.startsWith('::ffff:') ? canonicalAddress(raw) : raw;
    const held = perClient.get(address) ?? 0;
    if (held >= l.maxConnectionsPerClient) {
      socket.destroy();
      return;
    }
    perClient.set(address, held + 1);
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      const n = (perClient.get(address) ?? 1) - 1;
      if (n <= 0) perClient.delete(address);
      else perClient.set(address, n);
    });
    serve(socket, address, l, handler);
  });
  server.maxConnections = limits().maxConnections;
  const close = () => {
    server.close();
    for (const s of open) s.destroy();
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: addr.host, port: addr.port, ipv6Only, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', onError);
      resolve({ server, close });
    });
  });
}

function serve(socket: net.Socket, address: string, limits: TcpLimits, handler: DatagramHandler): void {
  let buffered: Buffer = Buffer.alloc(0);
  // Runs while a message is partly received: the idle timeout alone would let a client keep a
  // connection by sending one byte at a time.
  let readTimer: NodeJS.Timeout | null = null;
  socket.on('close', () => {
    if (readTimer !== null) clearTimeout(readTimer);
  });
  let waiting = 0;
  let served = 0;
  let ending = false;
  socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  const reply = (wire: Buffer | null) => {
    waiting--;
    if (socket.destroyed) return;
    if (wire === null) {
      if (waiting === 0 && ending) socket.end();
      return;
    }
    const frame = Buffer.allocUnsafe(wire.length + 2);
    frame.writeUInt16BE(wire.length, 0);
    wire.copy(frame, 2);
    socket.write(frame);
    if (waiting === 0 && ending) socket.end();
    else if (waiting < MAX_PIPELINED && socket.isPaused()) socket.resume();
  };
  socket.on('data', (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const before = served;
    while (buffered.length >= 2 && !ending) {
      const len = buffered.readUInt16BE(0);
      if (len === 0) {
        socket.destroy(); // a zero-length message is not DNS
        return;
      }
      if (buffered.length < 2 + len) break;
      const msg = Buffer.from(buffered.subarray(2, 2 + len));
      buffered = buffered.subarray(2 + len);
      waiting++;
      served++;
      if (served >= limits.maxQueriesPerConnection) ending = true;
      handler(msg, address, reply);
      if (waiting >= MAX_PIPELINED) socket.pause();
    }
    if (readTimer !== null && (served > before || buffered.length === 0 || ending)) {
      clearTimeout(readTimer);
      readTimer = null;
    }
    if (readTimer === null && buffered.length > 0 && !ending) {
      readTimer = setTimeout(() => socket.destroy(), limits.readTimeoutMs);
      readTimer.unref();
    }
  });
  socket.on('end', () => {
    ending = true;
    if (waiting === 0) socket.end();
  });
}
