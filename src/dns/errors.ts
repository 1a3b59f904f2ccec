import type { ParsedQuery } from './parsed-query.js';

/**
 * A packet the server cannot serve. `rcode` is what the edge should answer with; `null` means the
 * packet is dropped without an answer (unreadable header, or a response sent to us). `query` holds
 * what could be read of it (the question, when readable, and the OPT, when valid), so the error
 * reply can repeat the question and carry an OPT (RFC 6891 §7); null when only the header was readable.
 */
export class WireError extends Error {
  constructor(
    message: string,
    readonly rcode: number | null,
    readonly query: ParsedQuery | null = null,
  ) {
    super(message);
    this.name = 'WireError';
  }
}
