import type { UpstreamSpec } from '../config/upstream-spec.js';
import { DohExchange } from './doh-exchange.js';
import { DotExchange } from './dot-exchange.js';
import { tcpExchange } from './tcp-exchange.js';
import type { ConnectionStats } from './tls-client.js';
import type { UdpExchange } from './udp-exchange.js';

/**
 * One upstream as the Forwarder uses it, whatever carries the query: plain DNS (UDP, and TCP after a
 * truncated reply), DNS over TLS or DNS over HTTPS. `exchange` sends the query (the transport gives
 * it its own ID) and resolves with a reply whose ID and question match; the Forwarder then judges the
 * reply the same way for every transport.
 */
export interface UpstreamTransport {
  readonly spec: UpstreamSpec;
  exchange(query: Buffer, questionEnd: number, timeoutMs: number): Promise<Buffer>;
  /** Plain DNS only: the same query over TCP after a truncated (TC=1) UDP reply. */
  retryTruncated?(query: Buffer, questionEnd: number, timeoutMs: number): Promise<Buffer>;
  /** Connection counters (encrypted transports), or null for plain DNS. */
  readonly stats: ConnectionStats | null;
  close(): void;
}

class PlainTransport implements UpstreamTransport {
  readonly stats = null;
  constructor(
    readonly spec: UpstreamSpec & { transport: 'udp' },
    private readonly udp: UdpExchange,
  ) {}
  exchange(query: Buffer, questionEnd: number, timeoutMs: number): Promise<Buffer> {
    return this.udp.exchange(query, questionEnd, this.spec, timeoutMs);
  }
  retryTruncated(query: Buffer, questionEnd: number, timeoutMs: number): Promise<Buffer> {
    return tcpExchange(query, questionEnd, this.spec, timeoutMs);
  }
  close(): void {}
}

class SecureTransport implements UpstreamTransport {
  constructor(
    readonly spec: UpstreamSpec,
    private readonly client: DotExchange | DohExchange,
  ) {}
  get stats(): ConnectionStats {
    return this.client.stats;
  }
  exchange(query: Buffer, questionEnd: number, timeoutMs: number): Promise<Buffer> {
    return this.client.exchange(query, questionEnd, timeoutMs);
  }
  close(): void {
    this.client.close();
  }
}

/**
 * Every upstream's transport, kept across reloads so encrypted connections (and their TLS sessions)
 * outlive a SIGHUP: `use` returns the same transport for the same server, name and CA; `retain`
 * closes the ones the new config no longer names.
 */
export class UpstreamTransports {
  private readonly byKey = new Map<string, UpstreamTransport>();

  constructor(
    private readonly udp: UdpExchange,
    private readonly idleMs = 15_000,
  ) {}

  use(spec: UpstreamSpec, ca: string | null): UpstreamTransport {
    const key = `${spec.transport} ${spec.name} ${'tlsName' in spec ? spec.tlsName : ''} ${ca ?? ''}`;
    let t = this.byKey.get(key);
    if (!t) {
      if (spec.transport === 'udp') t = new PlainTransport(spec, this.udp);
      else {
        const target = { host: spec.host, port: spec.port, tlsName: spec.tlsName, ca };
        const client =
          spec.transport === 'tls'
            ? new DotExchange(target, spec.name, this.idleMs)
            : new DohExchange(target, spec.path, spec.name, this.idleMs);
        t = new SecureTransport(spec, client);
      }
      this.byKey.set(key, t);
    }
    return t;
  }

  /** Closes every transport not in `keep` (after a reload swapped in a config without them). */
  retain(keep: Iterable<UpstreamTransport>): void {
    const wanted = new Set(keep);
    for (const [key, t] of this.byKey) {
      if (wanted.has(t)) continue;
      t.close();
      this.byKey.delete(key);
    }
  }

  /** Every transport in use. */
  all(): UpstreamTransport[] {
    return [...this.byKey.values()];
  }

  /** Closes every transport and the UDP sockets. */
  close(): void {
    for (const t of this.byKey.values()) t.close();
    this.byKey.clear();
    this.udp.close();
  }
}
