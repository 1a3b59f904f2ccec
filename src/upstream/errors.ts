/** Why an upstream exchange failed; `outcome` is a low-cardinality label for logs and metrics. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly outcome: 'timeout' | 'servfail' | 'refused' | 'malformed' | 'network' | 'overload' | 'closed',
    /** Extended DNS Error options (RFC 8914) the upstream gave with its SERVFAIL or REFUSED, to relay. */
    readonly ede: Buffer | null = null,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}
