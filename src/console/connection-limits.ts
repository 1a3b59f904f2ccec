import type net from 'node:net';
import { canonicalAddress } from '../net/ip.js';
import type { Cidr } from '../net/cidr.js';
import { inNetworks } from './client-address.js';

export interface ConnectionLimits {
  /** Open connections at once (the console shares the daemon's file-descriptor table with DNS). */
  total: number;
  /** Open connections one address may hold (the school's reverse proxies are exempt). */
  perAddress: number;
  /** A request's headers must have arrived within this long of the connection or the last request. */
  headersTimeoutMs: number;
}

/** How often Node checks the header and request timeouts (its default, 30 s, would let them run long). */
export const TIMEOUT_CHECK_MS = 1000;

type ConsoleServer = net.Server & {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  handshakeTimeout?: number;
};

/**
 * Caps the console's connections: beyond `total`, or beyond `perAddress` from one address, a new
 * connection is closed at once. A connection whose first request's headers have not all arrived
 * within `headersTimeoutMs` is closed (Node's own headersTimeout only starts once bytes arrive, and
 * is checked every `connectionsCheckingInterval`: pass TIMEOUT_CHECK_MS); over TLS the handshake
 * gets the same time. Later requests on a kept-alive connection: keepAliveTimeout, headersTimeout.
 */
export function limitConnections(server: ConsoleServer, limits: ConnectionLimits, proxies: () => readonly Cidr[]): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  const tls = 'handshakeTimeout' in server;
  if (tls) server.handshakeTimeout = limits.headersTimeoutMs;
  const firstRequest = new WeakMap<net.Socket, NodeJS.Timeout>();
  server.on(tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    if (socket.destroyed) return;
    const timer = setTimeout(() => socket.destroy(), limits.headersTimeoutMs);
    timer.unref();
    firstRequest.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });
  server.on('request', (req: { socket: net.Socket }) => {
    clearTimeout(firstRequest.get(req.socket));
    firstRequest.delete(req.socket);
  });
  const open = new Map<string, number>();
  let count = 0;
  server.on('connection', (socket: net.Socket) => {
    const address = canonicalAddress(socket.remoteAddress ?? '');
    const mine = open.get(address) ?? 0;
    if (count >= limits.total || (mine >= limits.perAddress && !inNetworks(address, proxies()))) {
      socket.destroy();
      return;
    }
    count++;
    open.set(address, mine + 1);
    socket.once('close', () => {
      count--;
      const n = (open.get(address) ?? 1) - 1;
      if (n > 0) open.set(address, n);
      else open.delete(address);
    });
  });
}
