import type dgram from 'node:dgram';
import type { Logger } from 'pino';
import { formatHostPort, type HostPort } from '../config/host-port.js';
import { startTcpServer, type TcpHooks, type TcpLimits, type TcpServer } from '../server/tcp-server.js';
import { startUdpServer } from '../server/udp-server.js';
import type { QueryEdge } from '../server/query-edge.js';
import type { Config } from '../config/schema.js';

/** The TCP limits of the `server` section in force (read at each connection, so a reload applies). */
export function tcpLimitsOf(server: () => Config['server']): () => TcpLimits {
  return () => {
    const s = server();
    return {
      idleTimeoutMs: s.tcp.idle_timeout_ms,
      maxConnections: s.tcp.max_connections,
      maxQueriesPerConnection: s.tcp.max_queries_per_connection,
      maxConnectionsPerClient: s.tcp.max_connections_per_client,
      readTimeoutMs: s.tcp.read_timeout_ms,
      maxUnsentBytes: s.tcp.max_unsent_bytes,
      ipv4Prefix: s.rate_limit.ipv4_prefix,
      ipv6Prefix: s.rate_limit.ipv6_prefix,
    };
  };
}

/** Where queries are taken in: this process's listeners, or (server.workers > 1) the DNS workers'. */
export interface DnsListeners {
  /** Bound addresses, e.g. "127.0.0.1:5353". */
  readonly addresses: string[];
  /** Stops taking new queries (those in flight are answered). */
  stopAccepting(): void;
  close(): void;
}

/** The DNS listeners: UDP and TCP on the same port for every `server.listen` address. */
export class Listeners implements DnsListeners {
  private accepting = true;

  private constructor(
    private readonly udp: dgram.Socket[],
    private readonly tcp: TcpServer[],
    /** Bound addresses, e.g. "127.0.0.1:5353" (the real port when the config said 0). */
    readonly addresses: string[],
  ) {}

  /**
   * Binds every address (port 0 picks a free port, the same for UDP and TCP) and hands each query
   * to `edge`; `hooks` admits TCP connections (allowed_clients) and counts the refused ones. Throws when an address cannot be bound; nothing stays bound then.
   */
  static async bind(
    addrs: HostPort[],
    edge: QueryEdge,
    limits: () => TcpLimits,
    hooks: TcpHooks,
    log: Logger,
  ): Promise<Listeners> {
    const onError = (e: Error) => log.error({ err: e }, 'listener error');
    const l = new Listeners([], [], []);
    const handler = (transport: 'udp' | 'tcp') => (msg: Buffer, address: string, reply: (wire: Buffer | null) => void) => {
      if (!l.accepting) return reply(null);
      edge.handle(msg, transport, address, reply);
    };
    try {
      for (const addr of addrs) {
        // [::] takes IPv4 too unless told otherwise; only do so when 0.0.0.0 isn't listened on the same port.
        const v6only = addr.family === 6 && addrs.some((a) => a.family === 4 && a.port === addr.port);
        // With port 0, UDP picks a free port and TCP takes the same one; retry if TCP finds it taken.
        for (let attempt = 0; ; attempt++) {
          const udp = await startUdpServer(addr, v6only, handler('udp'), onError);
          const port = udp.address().port;
          try {
            const tcp = await startTcpServer({ ...addr, port }, v6only, limits, handler('tcp'), hooks, onError);
            l.udp.push(udp);
            l.tcp.push(tcp);
            l.addresses.push(formatHostPort({ host: addr.host, port }));
            break;
          } catch (e) {
            udp.close();
            if (addr.port !== 0 || attempt >= 10 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
          }
        }
      }
    } catch (e) {
      l.close();
      throw e;
    }
    return l;
  }

  /** Stops taking TCP connections and answering new queries (a stop drains those in flight). */
  stopAccepting(): void {
    this.accepting = false;
    for (const t of this.tcp) t.server.close();
  }

  close(): void {
    for (const s of this.udp) s.close();
    for (const t of this.tcp) t.close();
  }
}
