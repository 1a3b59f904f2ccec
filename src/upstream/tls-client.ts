import tls from 'node:tls';
import { parseIp } from '../net/ip.js';
import { UpstreamError } from './errors.js';

/** What a TLS connection to an encrypted upstream needs: where, which name to verify, which CAs. */
export interface TlsTarget {
  host: string;
  port: number;
  /** The certificate name (and SNI); null = the certificate must carry `host`, the address. */
  tlsName: string | null;
  /** Extra trusted CA certificates (PEM) beside Node's public roots (`upstream.tls_ca`), or null. */
  ca: string | null;
}

/**
 * Options for `tls.connect`: the certificate is always verified (`rejectUnauthorized` cannot be
 * turned off from config) against the configured name, or against the address when there is none.
 * SNI carries the name (never an address, RFC 6066). `session` resumes an earlier TLS session.
 */
export function tlsOptions(t: TlsTarget, session: Buffer | null, alpn?: string[]): tls.ConnectionOptions {
  const name = t.tlsName ?? t.host;
  return {
    host: t.host,
    port: t.port,
    servername: parseIp(name) ? undefined : name,
    ca: t.ca ? [...tls.rootCertificates, t.ca] : undefined,
    rejectUnauthorized: true,
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
    minVersion: 'TLSv1.2',
    session: session ?? undefined,
    ALPNProtocols: alpn,
  };
}

/** A failure to connect: "tls" when the certificate or handshake was refused, else "network". */
export function connectError(e: Error, what: string, secured: boolean): UpstreamError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  // Certificate checks and TLS alerts have codes (ERR_TLS_CERT_ALTNAME_INVALID, DEPTH_ZERO_SELF_SIGNED_CERT,
  // UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ERR_SSL_…); a refused or silent connection does not.
  const tlsFailure = !secured && (/^ERR_(TLS|SSL)_/.test(code) || /CERT|SIGNATURE|SELF_SIGNED|UNABLE_TO_|ALTNAME/.test(code));
  return tlsFailure
    ? new UpstreamError(`${what}: TLS refused (${code || e.message}): ${e.message}`, 'tls')
    : new UpstreamError(`${what}: ${e.message}`, 'network');
}

/**
 * Reconnect back-off for one upstream: after a failed connection, new queries fail at once (so
 * failover moves on without waiting) until 200 ms has passed, doubling per failure up to 5 s.
 */
export class ConnectBackoff {
  private failures = 0;
  private until = 0;
  private last: UpstreamError | null = null;

  /** The error to fail with now, or null when a connection may be tried. */
  blocked(now = Date.now()): UpstreamError | null {
    return now < this.until ? this.last : null;
  }

  fail(e: UpstreamError, now = Date.now()): void {
    this.failures++;
    this.last = e;
    this.until = now + Math.min(5000, 200 * 2 ** Math.min(this.failures - 1, 5));
  }

  ok(): void {
    this.failures = 0;
    this.until = 0;
    this.last = null;
  }

  get lastError(): string | null {
    return this.last?.message ?? null;
  }
}

/** Counters of one encrypted upstream's connections, for metrics and `webfilter status`. */
export interface ConnectionStats {
  /** Connections established: new TLS sessions, and resumed ones. */
  connects: number;
  resumed: number;
  /** Connection attempts that failed: certificate/handshake refused, and other failures. */
  tlsFailures: number;
  failures: number;
  /** Connections open now. */
  open: number;
  lastError: string | null;
}

export function newStats(): ConnectionStats {
  return { connects: 0, resumed: 0, tlsFailures: 0, failures: 0, open: 0, lastError: null };
}
