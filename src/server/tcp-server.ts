import net from 'node:net';
import type { HostPort } from '../config/host-port.js';
import { clientKey } from '../net/client-key.js';
import { canonicalAddress } from '../net/ip.js';
import type { TcpRejectReason } from '../observe/query-stats.js';
import { serveConnection, type ConnectionLimits } from './tcp-connection.js';
import type { DatagramHandler } from './udp-server.js';

export interface TcpLimits extends ConnectionLimits {
  maxConnections: number;
  /** Open connections one client may hold; a client is an address, or its network (see ipv4Prefix). */
  maxConnectionsPerClient: number;
  /** server.rate_limit's prefixes: 24 counts a whole /24 as one client for maxConnectionsPerClient. */
  ipv4Prefix: number;
  ipv6Prefix: number;
}

export interface TcpHooks {
  /** Whether the address may use this resolver at all (server.allowed_clients), asked at accept. */
  admit(address: string): boolean;
  /** A connection refused at accept, or closed because its client does not read its answers. */
  rejected(reason: TcpRejectReason): void;
}

/**
 * DNS over TCP (RFC 7766, §10 on resource limits). At accept: an address outside allowed_clients is
 * closed at once (it would only be REFUSED, and must not hold a connection slot meant for the
 * school's devices); then caps on open connections in total and per client. Each connection is then
 * served with bounded memory (tcp-connection.ts).
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
  hooks: TcpHooks,
  onError: (e: Error) => void,
): Promise<TcpServer> {
  const open = new Set<net.Socket>();
  const perClient = new Map<string, number>();
  const slowReader = () => hooks.rejected('slow_reader');
  // allowHalfOpen: a client may send its queries and then FIN; it still gets its answers.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    const l = limits();
    const raw = socket.remoteAddress ?? '';
    const address = raw.startsWith('::ffff:') ? canonicalAddress(raw) : raw;
    if (!hooks.admit(address)) {
      hooks.rejected('not_allowed');
      socket.destroy();
      return;
    }
    const key = clientKey(address, l.ipv4Prefix, l.ipv6Prefix);
    const held = perClient.get(key) ?? 0;
    if (held >= l.maxConnectionsPerClient) {
      hooks.rejected('client_limit');
      socket.destroy();
      return;
    }
    perClient.set(key, held + 1);
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      const n = (perClient.get(key) ?? 1) - 1;
      if (n <= 0) perClient.delete(key);
      else perClient.set(key, n);
    });
    serveConnection(socket, address, l, handler, slowReader);
  });
  server.maxConnections = limits().maxConnections;
  // Node closes connections beyond maxConnections itself, before the handler: count them here.
  server.on('drop', () => hooks.rejected('max_connections'));
  const close = () => {
    server.close();
    for (const s of open) s.destroy();
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Not exclusive: DNS workers (server.workers > 1) share the one listening socket the cluster primary binds.
    server.listen({ host: addr.host, port: addr.port, ipv6Only, exclusive: false }, () => {
      server.off('error', reject);
      server.on('error', onError);
      resolve({ server, close });
    });
  });
}
