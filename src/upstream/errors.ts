/** Why an upstream exchange failed; `outcome` is a low-cardinality label for logs and metrics. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly outcome: 'timeout' | 'servfail' | 'refused' | 'malformed' | 'network' | 'overload' | 'closed',
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}
