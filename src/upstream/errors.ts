/**
 * Why an upstream exchange failed; `outcome` is a low-cardinality label for logs and metrics
 * (`tls`: an encrypted upstream's certificate or TLS handshake was refused).
 */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly outcome: 'timeout' | 'servfail' | 'refused' | 'malformed' | 'network' | 'overload' | 'closed' | 'tls',
    /** Extended DNS Error options (RFC 8914) the upstream gave with its SERVFAIL or REFUSED, to relay. */
    readonly ede: Buffer | null = null,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}
